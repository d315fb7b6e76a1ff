import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  toPublicComment,
  type Ban,
  type ModeratedComment,
  type ModeratedHeld,
  type RemovedBy,
} from '../../shared/moderation.ts';
import type { NativeArticle, NativeComment } from '../../shared/import-export.ts';
import { LIMITS, type ArticleId, type Comment } from '../../shared/schemas.ts';
import {
  ClientIdHeldError,
  ParentNotFoundError,
  StoreUnavailableError,
  type ArticleSettings,
  type ChangePage,
  type ChangeResult,
  type CommentRecord,
  type ImportBatchResult,
  type ImportedCommentRecord,
  type CommentStore,
  type CreateResult,
  type NewCommentRecord,
  type PageRequest,
  type PageResult,
  type RepliesRequest,
  type RepliesResult,
  type StoredModerationSettings,
  type SubmitOptions,
  type SubmitResult,
} from './port.ts';
import { MIGRATIONS } from './migrations.ts';
import {
  outboxRowsFor,
  attemptError,
  leaseEnd,
  newClaim,
  toAttempt,
  toOutboxItem,
  toOutboxStats,
  toWebhook,
  type AttemptRow,
  type NotifyTargets,
  type OutboxRowData,
  type StatsRow,
  type WebhookRow,
  type OutboxAttemptRecord,
  type OutboxItem,
  type OutboxRow,
  type OutboxSettlement,
  type OutboxStats,
  type WebhookRecord,
} from './outbox.ts';
import type { ReportedComment } from '../../shared/reports.ts';
import {
  nextReview,
  reportedComment,
  reportedChange,
  REVIEW_COLUMNS,
  reviewValues,
  roundOf,
  type ReportOutcome,
  type ReportReasonRow,
  type ReportRecord,
  type ReviewRow,
} from './reports.ts';
import type { WebhookEvent } from '../../shared/notifications.ts';
import {
  EXPORT_ARTICLES_SQL,
  EXPORT_SOURCE_COLUMNS,
  NO_TOKEN_HASH,
  toBan,
  toComment,
  toHeld,
  toModerated,
  toNative,
  toNativeArticle,
  toNativeHeld,
  keptSeqs,
  repeatedPost,
  storedComment,
  storedHeld,
  toArticleSettings,
  toFlag,
  toModerationSettings,
  type BanRow,
  type CommentRow,
  type ExportArticleRow,
  type ExportHeldRow,
  type ExportRow,
  type HeldRow,
} from './rows.ts';
import { assemblePage, changePage, countsOf, moreAfter, pageTops, topsStart } from './paging.ts';
import {
  SUBSCRIPTION_SQL,
  ownReply,
  replyMailValues,
  subscriptionValues,
  toReplyToMail,
  toSubscription,
  type NewReply,
  type ReplyMailOptions,
  type ReplyRow,
  type ReplyToMail,
  type SubscriberRow,
  type ReplySubscription,
  type SubscribeWith,
  type SubscriptionRow,
} from './subscriptions.ts';
import { ERASED_NAME, MEMBER_SQL, memberValues, toMemberRecord, type MemberRecord, type MemberRow } from './members.ts';

/** Milliseconds a statement waits for another connection's lock before failing with SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 1000;

/** SQLite result codes (and their extended forms, `CODE_…`) that mean the database cannot serve us right now. */
const UNAVAILABLE_CODES: readonly string[] = [
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
  'SQLITE_FULL',
];

const COMMENT_COLUMNS =
  'id, article_id, parent_id, root_id, author_name, body, created_at, edited_at, status, seq, created_seq, likes, removed_by, original_body, author_key, member_sub, member_profile';
const HELD_COLUMNS =
  'id, article_id, parent_id, author_name, body, created_at, author_key, hold_reason, member_sub, member_profile';
const prefixedColumns = (alias: string): string =>
  COMMENT_COLUMNS.split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ');

/** A comment as a parent of a new reply: where it hangs and how deep it is. */
interface ParentRow {
  id: string;
  parent_id: string | null;
  root_id: string | null;
  depth: number;
}

interface CountRow {
  article_id: string;
  n: number;
}

interface GateRow {
  locked: number | null;
  premoderated: number | null;
  banned: number;
}

type Statement<Params extends unknown[], Result = unknown> = Database.Statement<Params, Result>;

/** A post waiting for its group commit. */
interface PendingSubmit {
  input: NewCommentRecord;
  options: SubmitOptions;
  resolve: (result: SubmitResult) => void;
  reject: (error: unknown) => void;
}

/** What became of one post of a group, told to it once the group committed. */
type GroupOutcome = { ok: true; result: SubmitResult } | { ok: false; error: unknown };

/** Most posts in one group commit, so one group holds the write lock for a few milliseconds at most. */
const MAX_GROUP_COMMIT = 256;

function isUnavailableSqliteError(error: unknown): boolean {
  if (!(error instanceof Database.SqliteError)) return false;
  const code = error.code;
  return UNAVAILABLE_CODES.some((c) => code === c || code.startsWith(`${c}_`));
}

function isUnavailable(error: unknown, db: Database.Database): boolean {
  // better-sqlite3 reports use of a closed connection as a TypeError.
  return isUnavailableSqliteError(error) || (error instanceof TypeError && !db.open);
}

function toStoreError(error: unknown, db: Database.Database): unknown {
  return isUnavailable(error, db) ? new StoreUnavailableError('SQLite database unavailable', { cause: error }) : error;
}

/** How long start-up keeps retrying a database another process holds locked (it may be migrating it). */
const OPEN_RETRY_MS = 10_000;

/** Blocks the thread; only used between open attempts at start-up, before anything is served. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * openDatabase, retried while the file is busy or locked: instances starting together on a new
 * shared file contend for the WAL switch and the migrations, and SQLite does not always run the busy
 * handler for those locks. Other failures, and a lock that outlasts OPEN_RETRY_MS, are thrown.
 */
function openDatabaseWithRetries(path: string): Database.Database {
  const deadline = Date.now() + OPEN_RETRY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return openDatabase(path);
    } catch (error) {
      const code = error instanceof Database.SqliteError ? error.code : '';
      const contended = /^SQLITE_(BUSY|LOCKED|PROTOCOL)/.test(code);
      if (contended && Date.now() < deadline) {
        sleepSync(Math.min(50 * attempt, 500));
        continue;
      }
      if (contended || isUnavailableSqliteError(error)) {
        throw new StoreUnavailableError(
          `Cannot open SQLite database ${path} (${code || 'unknown error'}, attempt ${attempt})`,
          { cause: error },
        );
      }
      throw error;
    }
  }
}

/**
 * Opens the database file, applies pragmas and pending migrations. `BEGIN IMMEDIATE` around the
 * migrations makes two processes opening the same file at once apply each migration exactly once.
 */
function openDatabase(path: string): Database.Database {
  const inMemory = path === ':memory:' || path === '';
  if (!inMemory && !path.startsWith('file:')) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  try {
    db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: Database.Database): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    const current = db.prepare<[], number | null>('SELECT MAX(version) FROM schema_migrations').pluck().get() ?? 0;
    const record = db.prepare<[number, string]>('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      db.exec(migration.sqlite);
      record.run(migration.version, new Date().toISOString());
    }
  }).immediate();
}

/**
 * The default CommentStore: one SQLite file, shared safely by several processes on one host.
 *
 * Every write runs in a `BEGIN IMMEDIATE` transaction, so writers are serialised by SQLite's
 * write lock and the per-article seq counter (`articles.last_seq`) is read and bumped atomically
 * with the row it numbers. Reads that combine several queries run in one read transaction and so
 * see one snapshot. A lock held longer than {@link SQLITE_BUSY_TIMEOUT_MS}, an I/O failure or a
 * closed connection surfaces as StoreUnavailableError; calls block the event loop for at most
 * that long.
 */
export class SqliteCommentStore implements CommentStore {
  readonly path: string;
  readonly #db: Database.Database;

  readonly #selectById: Statement<[string], CommentRow>;
  readonly #selectTokenHash: Statement<[string], string>;
  readonly #selectByClientId: Statement<[string, string], CommentRow & { author_token_hash: string }>;
  readonly #selectHeldByClientId: Statement<[string, string], HeldRow & { author_token_hash: string }>;
  readonly #selectParent: Statement<[string, string], ParentRow>;
  readonly #bumpSeq: Statement<[string], number>;
  readonly #insert: Statement<
    [
      string,
      string,
      string | null,
      string | null,
      string,
      string,
      string,
      number,
      number,
      string | null,
      string,
      string | null,
      number,
      string | null,
      string | null,
    ]
  >;
  readonly #insertHeld: Statement<
    [
      string,
      string,
      string | null,
      string,
      string,
      string,
      string | null,
      string,
      string | null,
      string | null,
      string | null,
      string | null,
    ]
  >;
  readonly #countVisibleBy: Statement<[string, number], number>;
  readonly #selectLastSeq: Statement<[string], number>;
  readonly #selectTopNewest: Statement<[string, number, number], CommentRow>;
  readonly #selectTopOldest: Statement<[string, number, number], CommentRow>;
  readonly #selectTopLiked: Statement<[string, number, number], CommentRow>;
  readonly #selectThreadReplies: Statement<[string, string, number, number], CommentRow>;
  readonly #countThreadReplies: Statement<[string, string, number], number>;
  readonly #selectTop: Statement<[string, string], { id: string }>;
  readonly #selectChanges: Statement<[string, number, number], CommentRow>;
  readonly #selectCounts = new Map<number, Statement<string[], CountRow>>();
  readonly #ping: Statement<[], number>;
  readonly #updateBody: Statement<[string, string, number, string]>;
  readonly #updateRemoved: Statement<[string | null, RemovedBy, number, string]>;
  readonly #eraseKeptBody: Statement<[string]>;
  readonly #updateRestored: Statement<[number, string]>;
  readonly #insertReaction: Statement<[string, string]>;
  readonly #deleteReaction: Statement<[string, string]>;
  readonly #updateLikes: Statement<[number, number, string]>;
  readonly #selectReaderLikes: Statement<[string, string], string>;
  readonly #selectHeld: Statement<[string], HeldRow & { client_id: string | null; author_token_hash: string }>;
  readonly #selectHeldList: Statement<[number], HeldRow>;
  readonly #deleteHeld: Statement<[string]>;
  readonly #upsertBan: Statement<[string, string, string | null, string, string | null]>;
  readonly #selectBans: Statement<[string], BanRow>;
  readonly #deleteBan: Statement<[string]>;
  readonly #selectGate: Statement<[string, string, string | null, string], GateRow>;
  readonly #selectSettings: Statement<[string], { locked: number; premoderated: number }>;
  readonly #upsertSettings: Statement<[{ articleId: string; locked: number | null; premoderated: number | null }]>;
  readonly #selectFeed: Statement<[number], CommentRow>;
  readonly #selectArticleFeed: Statement<[string, number], CommentRow>;

  readonly #submitTx: Database.Transaction<(input: NewCommentRecord, options: SubmitOptions) => SubmitResult>;
  readonly #groupSubmitTx: Database.Transaction<(group: readonly PendingSubmit[], outcomes: GroupOutcome[]) => void>;
  /** Posts waiting for the next group commit (see submit). */
  #pendingSubmits: PendingSubmit[] = [];
  /** Group commits so far and the posts they carried (tests read it to see posts share transactions). */
  readonly groupCommits = { groups: 0, posts: 0 };
  readonly #pageTx: Database.Transaction<(articleId: string, request: PageRequest) => PageResult>;
  readonly #repliesTx: Database.Transaction<
    (articleId: string, rootId: string, request: RepliesRequest) => RepliesResult | null
  >;
  readonly #changesTx: Database.Transaction<(articleId: string, since: number, limit: number) => ChangePage>;
  readonly #editTx: Database.Transaction<
    (id: string, body: string, editedAt: string, notify: NotifyTargets | undefined) => ChangeResult | null
  >;
  readonly #removeTx: Database.Transaction<
    (id: string, by: RemovedBy, notify: NotifyTargets | undefined) => ChangeResult | null
  >;
  readonly #restoreTx: Database.Transaction<(id: string, notify: NotifyTargets | undefined) => ChangeResult | null>;
  readonly #likeTx: Database.Transaction<(id: string, readerId: string, liked: boolean) => ChangeResult | null>;
  readonly #reportTx: Database.Transaction<
    (input: ReportRecord, threshold: number, notify: NotifyTargets | undefined) => ReportOutcome | null
  >;
  readonly #approveTx: Database.Transaction<
    (id: string, notify: NotifyTargets | undefined, replyMail: ReplyMailOptions | undefined) => ModeratedComment | null
  >;
  readonly #settingsTx: Database.Transaction<(articleId: string, patch: Partial<ArticleSettings>) => ArticleSettings>;
  /** Statements of the rarely used import and export paths, prepared on first use. */
  readonly #lazy = new Map<string, Statement<unknown[], unknown>>();

  /** Opens (creating the file and its directory if missing) and migrates the database at `path`; `:memory:` works. */
  constructor(path: string) {
    this.path = path;
    const db = openDatabaseWithRetries(path);
    this.#db = db;

    this.#selectById = db.prepare(`SELECT ${COMMENT_COLUMNS} FROM comments WHERE id = ?`);
    this.#selectTokenHash = db.prepare<[string], string>('SELECT author_token_hash FROM comments WHERE id = ?').pluck();
    this.#selectByClientId = db.prepare(
      `SELECT ${COMMENT_COLUMNS}, author_token_hash FROM comments WHERE article_id = ? AND client_id = ?`,
    );
    this.#selectHeldByClientId = db.prepare(
      `SELECT ${HELD_COLUMNS}, author_token_hash FROM held_comments WHERE article_id = ? AND client_id = ?`,
    );
    this.#selectParent = db.prepare(
      'SELECT id, parent_id, root_id, depth FROM comments WHERE article_id = ? AND id = ?',
    );
    this.#bumpSeq = db
      .prepare<[string], number>(
        `INSERT INTO articles (article_id, last_seq) VALUES (?, 1)
         ON CONFLICT (article_id) DO UPDATE SET last_seq = articles.last_seq + 1
         RETURNING last_seq`,
      )
      .pluck();
    this.#insert = db.prepare(
      `INSERT INTO comments
         (id, article_id, parent_id, root_id, author_name, body, created_at, edited_at, status, seq, created_seq, client_id, author_token_hash, author_key, depth, member_sub, member_profile)
       VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 'visible', ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#insertHeld = db.prepare(
      `INSERT INTO held_comments (id, article_id, parent_id, author_name, body, created_at, client_id, author_token_hash, author_key, hold_reason, member_sub, member_profile)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#countVisibleBy = db
      .prepare<[string, number], number>(
        "SELECT COUNT(*) FROM (SELECT 1 FROM comments WHERE author_key = ? AND status = 'visible' LIMIT ?)",
      )
      .pluck();
    this.#selectLastSeq = db.prepare<[string], number>('SELECT last_seq FROM articles WHERE article_id = ?').pluck();
    this.#selectTopNewest = db.prepare(
      `SELECT ${COMMENT_COLUMNS} FROM comments
       WHERE article_id = ? AND parent_id IS NULL AND created_seq < ?
       ORDER BY created_seq DESC LIMIT ?`,
    );
    this.#selectTopOldest = db.prepare(
      `SELECT ${COMMENT_COLUMNS} FROM comments
       WHERE article_id = ? AND parent_id IS NULL AND created_seq > ?
       ORDER BY created_seq ASC LIMIT ?`,
    );
    this.#selectTopLiked = db.prepare(
      `SELECT ${COMMENT_COLUMNS} FROM comments
       WHERE article_id = ? AND parent_id IS NULL
       ORDER BY likes DESC, created_seq DESC LIMIT ? OFFSET ?`,
    );
    // The first replies of one thread after a cursor, and how many there are (comments_replies_idx).
    this.#selectThreadReplies = db.prepare(
      `SELECT ${COMMENT_COLUMNS} FROM comments
       WHERE article_id = ? AND root_id = ? AND created_seq > ?
       ORDER BY created_seq ASC LIMIT ?`,
    );
    this.#countThreadReplies = db
      .prepare<[string, string, number], number>(
        'SELECT COUNT(*) FROM comments WHERE article_id = ? AND root_id = ? AND created_seq > ?',
      )
      .pluck();
    this.#selectTop = db.prepare('SELECT id FROM comments WHERE article_id = ? AND id = ? AND parent_id IS NULL');
    this.#selectChanges = db.prepare(
      `SELECT ${COMMENT_COLUMNS} FROM comments WHERE article_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?`,
    );
    this.#ping = db.prepare<[], number>('SELECT 1').pluck();
    this.#updateBody = db.prepare('UPDATE comments SET body = ?, edited_at = ?, seq = ? WHERE id = ?');
    // A moderator's removal keeps the body (first parameter); an author's passes NULL and erases it.
    this.#updateRemoved = db.prepare(
      "UPDATE comments SET status = 'removed', original_body = ?, body = '', removed_by = ?, seq = ? WHERE id = ?",
    );
    this.#eraseKeptBody = db.prepare('UPDATE comments SET original_body = NULL WHERE id = ?');
    this.#updateRestored = db.prepare(
      "UPDATE comments SET status = 'visible', body = original_body, original_body = NULL, removed_by = NULL, seq = ? WHERE id = ?",
    );
    this.#insertReaction = db.prepare(
      'INSERT INTO reactions (comment_id, reader_id) VALUES (?, ?) ON CONFLICT DO NOTHING',
    );
    this.#deleteReaction = db.prepare('DELETE FROM reactions WHERE comment_id = ? AND reader_id = ?');
    this.#updateLikes = db.prepare('UPDATE comments SET likes = likes + ?, seq = ? WHERE id = ?');
    this.#selectReaderLikes = db
      .prepare<[string, string], string>(
        `SELECT r.comment_id FROM reactions r JOIN comments c ON c.id = r.comment_id
         WHERE r.reader_id = ? AND c.article_id = ? ORDER BY c.created_seq ASC`,
      )
      .pluck();
    this.#selectHeld = db.prepare(
      `SELECT ${HELD_COLUMNS}, client_id, author_token_hash FROM held_comments WHERE id = ?`,
    );
    this.#selectHeldList = db.prepare(
      `SELECT ${HELD_COLUMNS} FROM held_comments ORDER BY created_at ASC, id ASC LIMIT ?`,
    );
    this.#deleteHeld = db.prepare('DELETE FROM held_comments WHERE id = ?');
    this.#upsertBan = db.prepare(
      `INSERT INTO bans (author_key, author_name, reason, created_at, expires_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (author_key) DO UPDATE SET author_name = excluded.author_name, reason = excluded.reason,
         created_at = excluded.created_at, expires_at = excluded.expires_at`,
    );
    this.#selectBans = db.prepare(
      'SELECT author_key, author_name, reason, created_at, expires_at FROM bans WHERE expires_at IS NULL OR expires_at > ? ORDER BY created_at DESC, author_key',
    );
    this.#deleteBan = db.prepare('DELETE FROM bans WHERE author_key = ?');
    this.#selectGate = db.prepare(
      `SELECT
         (SELECT locked FROM article_settings WHERE article_id = ?) AS locked,
         (SELECT premoderated FROM article_settings WHERE article_id = ?) AS premoderated,
         EXISTS (SELECT 1 FROM bans WHERE author_key = ? AND (expires_at IS NULL OR expires_at > ?)) AS banned`,
    );
    this.#selectSettings = db.prepare('SELECT locked, premoderated FROM article_settings WHERE article_id = ?');
    this.#upsertSettings = db.prepare(
      `INSERT INTO article_settings (article_id, locked, premoderated) VALUES (@articleId, COALESCE(@locked, 0), COALESCE(@premoderated, 0))
       ON CONFLICT (article_id) DO UPDATE SET locked = COALESCE(@locked, locked), premoderated = COALESCE(@premoderated, premoderated)`,
    );
    this.#selectFeed = db.prepare(
      `SELECT ${COMMENT_COLUMNS} FROM comments ORDER BY created_at DESC, created_seq DESC LIMIT ?`,
    );
    this.#selectArticleFeed = db.prepare(
      `SELECT ${COMMENT_COLUMNS} FROM comments WHERE article_id = ? ORDER BY created_at DESC, created_seq DESC LIMIT ?`,
    );

    this.#submitTx = db.transaction((input: NewCommentRecord, options: SubmitOptions) =>
      this.#submitInTransaction(input, options),
    );
    this.#groupSubmitTx = db.transaction((group: readonly PendingSubmit[], outcomes: GroupOutcome[]) =>
      this.#submitGroupInTransaction(group, outcomes),
    );
    this.#pageTx = db.transaction((articleId: string, request: PageRequest) =>
      this.#pageInTransaction(articleId, request),
    );
    this.#repliesTx = db.transaction((articleId: string, rootId: string, request: RepliesRequest) =>
      this.#repliesInTransaction(articleId, rootId, request),
    );
    this.#changesTx = db.transaction((articleId: string, since: number, limit: number) =>
      this.#changesInTransaction(articleId, since, limit),
    );
    this.#editTx = db.transaction((id: string, body: string, editedAt: string, notify: NotifyTargets | undefined) =>
      this.#notified(this.#editInTransaction(id, body, editedAt), 'comment.updated', notify),
    );
    this.#removeTx = db.transaction((id: string, by: RemovedBy, notify: NotifyTargets | undefined) =>
      this.#notified(this.#removeInTransaction(id, by), 'comment.removed', notify),
    );
    this.#restoreTx = db.transaction((id: string, notify: NotifyTargets | undefined) =>
      this.#notified(this.#restoreInTransaction(id), 'comment.updated', notify),
    );
    this.#reportTx = db.transaction((input: ReportRecord, threshold: number, notify: NotifyTargets | undefined) =>
      this.#reportInTransaction(input, threshold, notify),
    );
    this.#likeTx = db.transaction((id: string, readerId: string, liked: boolean) =>
      this.#likeInTransaction(id, readerId, liked),
    );
    this.#approveTx = db.transaction(
      (id: string, notify: NotifyTargets | undefined, replyMail: ReplyMailOptions | undefined) => {
        const approved = this.#approveInTransaction(id);
        if (approved) this.#enqueue(notify, 'comment.created', { comment: approved });
        if (approved) this.#queueReplyMails(approved.parentId, approved, replyMail);
        return approved;
      },
    );
    this.#settingsTx = db.transaction((articleId: string, patch: Partial<ArticleSettings>) => {
      this.#upsertSettings.run({ articleId, locked: toFlag(patch.locked), premoderated: toFlag(patch.premoderated) });
      return this.#settingsOf(articleId);
    });
  }

  async create(input: NewCommentRecord): Promise<CreateResult> {
    const result = await this.submit(input, { hold: false, gate: false });
    if (result.kind === 'held') throw new ClientIdHeldError(result.held);
    if (result.kind === 'refused') throw new Error('An ungated submit was refused');
    return { comment: toPublicComment(result.comment), created: result.created };
  }

  /**
   * Group commit: posts that reach the store in the same turn of the event loop (under load, those
   * whose requests were read together; idle, a post alone) share one `BEGIN IMMEDIATE` transaction,
   * flushed on the next `setImmediate`, so nothing waits on a timer. Each post runs in its own
   * savepoint, in arrival order: it takes the next seq of its article after the posts before it, and
   * a post that fails rolls back its own savepoint (its seq too, so seqs stay gapless) and gets its
   * own error while the others commit. Each answer is given only after the group committed; a failed
   * commit fails every post of the group. Its outbox rows are written inside its savepoint, as before.
   */
  submit(input: NewCommentRecord, options: SubmitOptions): Promise<SubmitResult> {
    return new Promise((resolve, reject) => {
      if (!this.#db.open) {
        reject(new StoreUnavailableError('SQLite store is closed'));
        return;
      }
      this.#pendingSubmits.push({ input, options, resolve, reject });
      if (this.#pendingSubmits.length === 1) setImmediate(() => this.#flushSubmits());
    });
  }

  /** Commits the posts waiting for the next group (see submit); close() calls it too. */
  #flushSubmits(): void {
    while (this.#pendingSubmits.length > 0) {
      const group = this.#pendingSubmits.splice(0, MAX_GROUP_COMMIT);
      const outcomes: GroupOutcome[] = [];
      try {
        this.#guard(() => this.#groupSubmitTx.immediate(group, outcomes));
        this.groupCommits.groups += 1;
        this.groupCommits.posts += group.length;
      } catch (error) {
        for (const post of group) post.reject(error);
        continue;
      }
      group.forEach((post, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) post.resolve(outcome.result);
        else post.reject(toStoreError(outcome.error, this.#db));
      });
    }
  }

  /** One group's posts, each in a savepoint (a transaction function called inside another is one). */
  #submitGroupInTransaction(group: readonly PendingSubmit[], outcomes: GroupOutcome[]): void {
    for (const post of group) {
      try {
        outcomes.push({ ok: true, result: this.#submitTx(post.input, post.options) });
      } catch (error) {
        // Some failures (a full disk, I/O) make SQLite roll back the whole transaction: then nothing of
        // the group is stored, and every post must fail rather than the rest run outside a transaction.
        if (!this.#db.inTransaction) throw error;
        outcomes.push({ ok: false, error });
      }
    }
  }

  async get(id: string): Promise<Comment | null> {
    return this.#guard(() => {
      const row = this.#selectById.get(id);
      return row ? toComment(row) : null;
    });
  }

  async getRecord(id: string): Promise<CommentRecord | null> {
    return this.#guard(() =>
      this.#db
        .transaction(() => {
          const row = this.#selectById.get(id);
          const authorTokenHash = this.#selectTokenHash.get(id);
          return row && authorTokenHash !== undefined ? { comment: toModerated(row), authorTokenHash } : null;
        })
        .deferred(),
    );
  }

  async edit(id: string, body: string, editedAt: string, notify?: NotifyTargets): Promise<ChangeResult | null> {
    return this.#guard(() => this.#editTx.immediate(id, body, editedAt, notify));
  }

  async remove(id: string, by: RemovedBy, notify?: NotifyTargets): Promise<ChangeResult | null> {
    return this.#guard(() => this.#removeTx.immediate(id, by, notify));
  }

  async restore(id: string, notify?: NotifyTargets): Promise<ChangeResult | null> {
    return this.#guard(() => this.#restoreTx.immediate(id, notify));
  }

  async setLike(commentId: string, readerId: string, liked: boolean): Promise<ChangeResult | null> {
    return this.#guard(() => this.#likeTx.immediate(commentId, readerId, liked));
  }

  async readerLikes(articleId: ArticleId, readerId: string): Promise<string[]> {
    return this.#guard(() => this.#selectReaderLikes.all(readerId, articleId));
  }

  async report(input: ReportRecord, threshold: number, notify?: NotifyTargets): Promise<ReportOutcome | null> {
    return this.#guard(() => this.#reportTx.immediate(input, threshold, notify));
  }

  async reportedComments(limit: number): Promise<ReportedComment[]> {
    return this.#guard(() =>
      this.#db
        .transaction(() =>
          this.#prepared<[number], ReviewRow>(
            `SELECT ${REVIEW_COLUMNS} FROM report_reviews WHERE state <> 'closed'
             ORDER BY opened_at, comment_id LIMIT ?`,
          )
            .all(limit)
            .flatMap((review) => this.#reportedEntry(review) ?? []),
        )
        .deferred(),
    );
  }

  async reportedComment(id: string): Promise<ReportedComment | null> {
    return this.#guard(() =>
      this.#db
        .transaction(() => {
          const review = this.#prepared<[string], ReviewRow>(
            `SELECT ${REVIEW_COLUMNS} FROM report_reviews WHERE comment_id = ?`,
          ).get(id);
          return review ? this.#reportedEntry(review) : null;
        })
        .deferred(),
    );
  }

  async closeReports(id: string, kept: boolean): Promise<boolean> {
    return this.#guard(() => this.#closeReview(id, kept));
  }

  async heldList(limit: number): Promise<ModeratedHeld[]> {
    return this.#guard(() => this.#selectHeldList.all(limit).map(toHeld));
  }

  async getHeld(id: string): Promise<ModeratedHeld | null> {
    return this.#guard(() => {
      const row = this.#selectHeld.get(id);
      return row ? toHeld(row) : null;
    });
  }

  async moderationSettings(): Promise<StoredModerationSettings | null> {
    return this.#guard(() => {
      const row = this.#prepared<[], { version: number; settings: string; updated_at: string }>(
        'SELECT version, settings, updated_at FROM moderation_settings WHERE id = 1',
      ).get();
      return row ? toModerationSettings(row) : null;
    });
  }

  async saveModerationSettings(settings: string, updatedAt: string): Promise<number> {
    return this.#guard(() =>
      this.#prepared<[string, string], number>(
        `INSERT INTO moderation_settings (id, version, settings, updated_at) VALUES (1, 1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET version = moderation_settings.version + 1, settings = excluded.settings,
       updated_at = excluded.updated_at RETURNING version`,
      )
        .pluck()
        .get(settings, updatedAt)!,
    );
  }

  async visibleCommentsBy(authorKey: string, atLeast: number): Promise<number> {
    return this.#guard(() => this.#countVisibleBy.get(authorKey, atLeast) ?? 0);
  }

  async approve(id: string, notify?: NotifyTargets, replyMail?: ReplyMailOptions): Promise<ModeratedComment | null> {
    return this.#guard(() => this.#approveTx.immediate(id, notify, replyMail));
  }

  async reject(id: string): Promise<boolean> {
    return this.#guard(() => this.#deleteHeld.run(id).changes > 0);
  }

  async addBan(ban: Ban): Promise<Ban> {
    return this.#guard(() => {
      this.#upsertBan.run(ban.authorKey, ban.authorName, ban.reason, ban.createdAt, ban.expiresAt);
      return { ...ban };
    });
  }

  async bans(now: string): Promise<Ban[]> {
    return this.#guard(() => this.#selectBans.all(now).map(toBan));
  }

  async removeBan(authorKey: string): Promise<boolean> {
    return this.#guard(() => this.#deleteBan.run(authorKey).changes > 0);
  }

  async articleSettings(articleId: ArticleId): Promise<ArticleSettings> {
    return this.#guard(() => this.#settingsOf(articleId));
  }

  async setArticleSettings(articleId: ArticleId, patch: Partial<ArticleSettings>): Promise<ArticleSettings> {
    return this.#guard(() => this.#settingsTx.immediate(articleId, patch));
  }

  async feed(options: { limit: number; articleId?: ArticleId }): Promise<ModeratedComment[]> {
    return this.#guard(() =>
      (options.articleId === undefined
        ? this.#selectFeed.all(options.limit)
        : this.#selectArticleFeed.all(options.articleId, options.limit)
      ).map(toModerated),
    );
  }

  /**
   * Top-level comments ordered by created_seq (descending for `newest`), or by likes for `top`, each
   * followed by every comment of its thread (replies at any depth) in created_seq order. For
   * `newest`/`oldest`, `cursor` is exclusive: the next page starts strictly after the last top-level
   * comment of the previous one, so walking `next` visits every thread exactly once even while new
   * comments arrive. For `top` it is an offset.
   */
  async page(articleId: ArticleId, request: PageRequest): Promise<PageResult> {
    return this.#guard(() => this.#pageTx.deferred(articleId, request));
  }

  async replies(articleId: ArticleId, rootId: string, request: RepliesRequest): Promise<RepliesResult | null> {
    return this.#guard(() => this.#repliesTx.deferred(articleId, rootId, request));
  }

  async changesSince(articleId: ArticleId, since: number, limit: number): Promise<ChangePage> {
    return this.#guard(() => this.#changesTx.deferred(articleId, since, limit));
  }

  async lastSeq(articleId: ArticleId): Promise<number> {
    return this.#guard(() => this.#selectLastSeq.get(articleId) ?? 0);
  }

  async counts(articleIds: readonly ArticleId[]): Promise<Record<ArticleId, number>> {
    return this.#guard(() => {
      const unique = [...new Set(articleIds)];
      return countsOf(unique, unique.length === 0 ? [] : this.#countsStatement(unique.length).all(...unique));
    });
  }

  async importComments(
    articleId: ArticleId,
    records: readonly ImportedCommentRecord[],
    options: { keepSeq?: { lastSeq: number } } = {},
  ): Promise<ImportBatchResult> {
    return this.#guard(() =>
      this.#db.transaction(() => this.#importInTransaction(articleId, records, options.keepSeq)).immediate(),
    );
  }

  async reorderByTime(articleId: ArticleId): Promise<void> {
    this.#guard(() =>
      this.#prepared(
        `WITH ordered AS (
           SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, created_seq, id) AS n FROM comments WHERE article_id = ?
         )
         UPDATE comments SET created_seq = ordered.n FROM ordered
         WHERE comments.id = ordered.id AND comments.created_seq <> ordered.n`,
      ).run(articleId),
    );
  }

  async existingIds(ids: readonly string[]): Promise<Set<string>> {
    return this.#guard(() => {
      const found = new Set<string>();
      const exists = this.#prepared<[string, string]>(
        'SELECT EXISTS (SELECT 1 FROM comments WHERE id = ?) OR EXISTS (SELECT 1 FROM held_comments WHERE id = ?)',
      ).pluck();
      for (const id of ids) if (exists.get(id, id) === 1) found.add(id);
      return found;
    });
  }

  async exportArticles(): Promise<NativeArticle[]> {
    return this.#guard(() => this.#prepared<[], ExportArticleRow>(EXPORT_ARTICLES_SQL).all().map(toNativeArticle));
  }

  async exportComments(articleId: ArticleId, afterCreatedSeq: number, limit: number): Promise<NativeComment[]> {
    return this.#guard(() =>
      this.#prepared<[string, number, number], ExportRow>(
        `SELECT ${prefixedColumns('c')}, ${EXPORT_SOURCE_COLUMNS} FROM comments c
         LEFT JOIN import_sources s ON s.comment_id = c.id
         WHERE c.article_id = ? AND c.created_seq > ? ORDER BY c.created_seq LIMIT ?`,
      )
        .all(articleId, afterCreatedSeq, limit)
        .map(toNative),
    );
  }

  async exportHeld(after: { createdAt: string; id: string } | null, limit: number): Promise<NativeComment[]> {
    return this.#guard(() =>
      this.#prepared<[string, string, number], ExportHeldRow>(
        `SELECT ${HELD_COLUMNS.split(', ')
          .map((c) => `h.${c}`)
          .join(', ')}, ${EXPORT_SOURCE_COLUMNS} FROM held_comments h
         LEFT JOIN import_sources s ON s.comment_id = h.id
         WHERE (h.created_at, h.id) > (?, ?) ORDER BY h.created_at, h.id LIMIT ?`,
      )
        .all(after?.createdAt ?? '', after?.id ?? '', limit)
        .map(toNativeHeld),
    );
  }

  async putImportJob(id: string, updatedAt: string, data: string): Promise<void> {
    this.#guard(() =>
      this.#prepared<[string, string, string]>(
        `INSERT INTO import_jobs (id, updated_at, data) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, data = excluded.data`,
      ).run(id, updatedAt, data),
    );
  }

  async getImportJob(id: string): Promise<string | null> {
    return this.#guard(
      () => this.#prepared<[string], string>('SELECT data FROM import_jobs WHERE id = ?').pluck().get(id) ?? null,
    );
  }

  async saveMember(member: MemberRecord, nameKey: string, now: string): Promise<MemberRecord> {
    const row = this.#guard(() =>
      this.#db
        .transaction(() => {
          this.#prepared(MEMBER_SQL.sqlite.upsert).run(...memberValues(member, nameKey, now));
          return this.#prepared<[string], MemberRow>(MEMBER_SQL.sqlite.get).get(member.sub);
        })
        .immediate(),
    );
    if (row === undefined) throw new Error(`Member ${member.sub} was not saved`);
    return toMemberRecord(row);
  }

  async memberNameTaken(nameKey: string): Promise<boolean> {
    return this.#guard(() => this.#prepared<[string], number>(MEMBER_SQL.sqlite.nameTaken).get(nameKey) !== undefined);
  }

  async exportMembers(): Promise<MemberRecord[]> {
    return this.#guard(() => this.#prepared<[], MemberRow>(MEMBER_SQL.sqlite.all).all().map(toMemberRecord));
  }

  async getMember(sub: string): Promise<MemberRecord | null> {
    return this.#guard(() => {
      const row = this.#prepared<[string], MemberRow>(MEMBER_SQL.sqlite.get).get(sub);
      return row === undefined ? null : toMemberRecord(row);
    });
  }

  async memberComments(sub: string): Promise<{ comments: ModeratedComment[]; held: ModeratedHeld[] }> {
    return this.#guard(() => ({
      comments: this.#prepared<[string], CommentRow>(
        `SELECT ${COMMENT_COLUMNS} FROM comments WHERE member_sub = ? ORDER BY created_at, id`,
      )
        .all(sub)
        .map(toModerated),
      held: this.#prepared<[string], HeldRow>(
        `SELECT ${HELD_COLUMNS} FROM held_comments WHERE member_sub = ? ORDER BY created_at, id`,
      )
        .all(sub)
        .map(toHeld),
    }));
  }

  async eraseMember(sub: string): Promise<void> {
    this.#guard(() =>
      this.#db
        .transaction(() => {
          for (const sql of MEMBER_SQL.sqlite.erase) {
            const statement = this.#prepared(sql);
            if (sql.includes('@name')) statement.run({ sub, name: ERASED_NAME });
            else statement.run({ sub });
          }
        })
        .immediate(),
    );
  }

  async keepSecret(name: string, candidate: string): Promise<string> {
    // BEGIN IMMEDIATE: one writer at a time across processes, so every instance reads the first secret written.
    const kept = this.#guard(() =>
      this.#db
        .transaction(() => {
          this.#prepared<[string, string, string]>(
            'INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING',
          ).run(name, candidate, new Date().toISOString());
          return this.#prepared<[string], string>('SELECT value FROM secrets WHERE name = ?').pluck().get(name);
        })
        .immediate(),
    );
    if (kept === undefined) throw new Error(`Secret ${name} was not kept`);
    return kept;
  }

  async addWebhook(webhook: WebhookRecord): Promise<void> {
    this.#guard(() =>
      this.#prepared('INSERT INTO webhooks (id, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?)').run(
        webhook.id,
        webhook.url,
        JSON.stringify(webhook.events),
        webhook.secret,
        webhook.createdAt,
      ),
    );
  }

  async webhooks(): Promise<WebhookRecord[]> {
    return this.#guard(() =>
      this.#prepared<[], WebhookRow>('SELECT id, url, events, secret, created_at FROM webhooks ORDER BY created_at, id')
        .all()
        .map(toWebhook),
    );
  }

  async removeWebhook(id: string): Promise<boolean> {
    return this.#guard(() =>
      this.#db
        .transaction(() => {
          this.#prepared("DELETE FROM outbox WHERE target = ? AND kind = 'webhook' AND status = 'pending'").run(id);
          return this.#prepared('DELETE FROM webhooks WHERE id = ?').run(id).changes > 0;
        })
        .immediate(),
    );
  }

  async enqueueOutbox(row: OutboxRow): Promise<boolean> {
    return this.#guard(
      () =>
        this.#prepared(
          `INSERT INTO outbox (id, kind, target, type, payload, created_at, status, next_at)
           VALUES (?, ?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT (id) DO NOTHING`,
        ).run(row.id, row.kind, row.target, row.type, row.payload, row.createdAt, row.createdAt).changes > 0,
    );
  }

  async claimOutbox(now: string, limit: number, leaseMs: number): Promise<OutboxItem[]> {
    const until = leaseEnd(now, leaseMs);
    return this.#guard(() =>
      this.#db
        .transaction(() => {
          const due = this.#prepared<[string, number], OutboxRowData>(
            `SELECT id, kind, target, type, payload, created_at, attempts FROM outbox
             WHERE status = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?`,
          ).all(now, limit);
          const take = this.#prepared<[string, string, string]>(
            'UPDATE outbox SET claim = ?, next_at = ? WHERE id = ?',
          );
          return due.map((row) => {
            const claim = newClaim();
            take.run(claim, until, row.id);
            return toOutboxItem(row, claim);
          });
        })
        .immediate(),
    );
  }

  async settleOutbox(id: string, claim: string, settlement: OutboxSettlement): Promise<boolean> {
    return this.#guard(() =>
      this.#db
        .transaction(() => {
          const row = this.#prepared<[string, string], { target: string; type: string; attempts: number }>(
            "SELECT target, type, attempts FROM outbox WHERE id = ? AND claim = ? AND status = 'pending'",
          ).get(id, claim);
          if (!row) return false;
          const attempt = row.attempts + 1;
          const error = attemptError(settlement);
          this.#prepared(
            `INSERT INTO outbox_attempts (outbox_id, target, type, attempt, at, outcome, status, error)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          ).run(id, row.target, row.type, attempt, settlement.at, settlement.outcome, settlement.status, error);
          if (settlement.outcome === 'retry')
            this.#prepared('UPDATE outbox SET attempts = ?, next_at = ?, claim = NULL WHERE id = ?').run(
              attempt,
              settlement.nextAt,
              id,
            );
          else
            this.#prepared('UPDATE outbox SET attempts = ?, status = ?, settled_at = ?, claim = NULL WHERE id = ?').run(
              attempt,
              settlement.outcome,
              settlement.at,
              id,
            );
          return true;
        })
        .immediate(),
    );
  }

  async outboxAttempts(target: string, limit: number): Promise<OutboxAttemptRecord[]> {
    return this.#guard(() =>
      this.#prepared<[string, number], AttemptRow>(
        `SELECT outbox_id, type, attempt, at, outcome, status, error FROM outbox_attempts
         WHERE target = ? ORDER BY at DESC, attempt DESC LIMIT ?`,
      )
        .all(target, limit)
        .map(toAttempt),
    );
  }

  async outboxStats(): Promise<OutboxStats> {
    return this.#guard(() => {
      const row = this.#prepared<[], StatsRow>(
        `SELECT (SELECT COUNT(*) FROM outbox WHERE status = 'pending') AS queued,
                (SELECT COUNT(*) FROM outbox WHERE status = 'failed') AS failed,
                (SELECT MIN(created_at) FROM outbox WHERE status = 'pending') AS oldest`,
      ).get();
      return toOutboxStats(row);
    });
  }

  async pruneOutbox(before: string): Promise<number> {
    return this.#guard(() =>
      this.#db
        .transaction(() => {
          this.#prepared('DELETE FROM outbox_attempts WHERE at < ?').run(before);
          return this.#prepared("DELETE FROM outbox WHERE status <> 'pending' AND settled_at < ?").run(before).changes;
        })
        .immediate(),
    );
  }

  async getSubscription(id: string): Promise<ReplySubscription | null> {
    return this.#guard(() => {
      const row = this.#prepared<[string], SubscriptionRow>(SUBSCRIPTION_SQL.sqlite.get).get(id);
      return row ? toSubscription(row) : null;
    });
  }

  async confirmSubscription(id: string, now: string): Promise<ReplySubscription | null> {
    return this.#guard(() =>
      this.#db
        .transaction(() => {
          this.#prepared(SUBSCRIPTION_SQL.sqlite.confirm).run(now, id, now);
          const row = this.#prepared<[string], SubscriptionRow>(SUBSCRIPTION_SQL.sqlite.get).get(id);
          return row?.status === 'confirmed' ? toSubscription(row) : null;
        })
        .immediate(),
    );
  }

  async unsubscribe(id: string): Promise<ReplySubscription | null> {
    return this.#guard(() =>
      this.#db
        .transaction(() => {
          const row = this.#prepared<[string], SubscriptionRow>(SUBSCRIPTION_SQL.sqlite.get).get(id);
          if (!row) return null;
          this.#prepared(SUBSCRIPTION_SQL.sqlite.deleteMail).run(id);
          this.#prepared(SUBSCRIPTION_SQL.sqlite.delete).run(id);
          return toSubscription(row);
        })
        .immediate(),
    );
  }

  async newReplies(
    subscription: { articleId: string; commentId: string },
    afterSeq: number,
    limit: number,
  ): Promise<ReplyToMail[]> {
    const { articleId, commentId } = subscription;
    return this.#guard(() =>
      this.#prepared<unknown[], ReplyRow>(SUBSCRIPTION_SQL.sqlite.newReplies)
        .all(articleId, commentId, commentId, commentId, afterSeq, limit)
        .map(toReplyToMail),
    );
  }

  async markMailed(id: string, seq: number, at: string): Promise<void> {
    this.#guard(() => this.#prepared(SUBSCRIPTION_SQL.sqlite.markMailed).run(seq, at, id, seq));
  }

  async countMail(addressKey: string, day: string, cap: number): Promise<boolean> {
    return this.#guard(() => this.#prepared(SUBSCRIPTION_SQL.sqlite.countMail).run(addressKey, day, cap).changes > 0);
  }

  async pruneSubscriptions(now: string): Promise<number> {
    return this.#guard(() =>
      this.#db
        .transaction(() => {
          this.#prepared(SUBSCRIPTION_SQL.sqlite.pruneCounts).run(now.slice(0, 10));
          return this.#prepared(SUBSCRIPTION_SQL.sqlite.pruneExpired).run(now).changes;
        })
        .immediate(),
    );
  }

  async ping(): Promise<void> {
    this.#guard(() => this.#ping.get());
  }

  /** Idempotent. Commits a group still waiting for its turn first; every later call rejects with StoreUnavailableError. */
  async close(): Promise<void> {
    if (this.#db.open) this.#flushSubmits();
    if (this.#db.open) this.#db.close();
  }

  #submitInTransaction(input: NewCommentRecord, options: SubmitOptions): SubmitResult {
    const { gate = true, notify, subscribe } = options;
    let hold = options.hold;
    if (input.clientId !== null) {
      const repeated = repeatedPost(
        this.#selectByClientId.get(input.articleId, input.clientId),
        this.#selectHeldByClientId.get(input.articleId, input.clientId),
      );
      if (repeated) return repeated;
    }
    const authorKey = input.authorKey ?? null;
    const member = { member_sub: input.memberSub ?? null, member_profile: input.memberProfile ?? null };
    if (gate) {
      const row = this.#selectGate.get(input.articleId, input.articleId, authorKey, input.createdAt);
      if (row?.banned === 1) return { kind: 'refused', reason: 'banned' };
      if (row?.locked === 1) return { kind: 'refused', reason: 'locked' };
      if (row?.premoderated === 1) hold = true;
    }
    const parent = input.parentId === null ? null : this.#attachTo(input.articleId, input.parentId);
    const parentId = parent?.id ?? null;
    if (hold) {
      this.#insertHeld.run(
        input.id,
        input.articleId,
        parentId,
        input.authorName,
        input.body,
        input.createdAt,
        input.clientId,
        input.authorTokenHash,
        authorKey,
        input.holdReason ?? null,
        member.member_sub,
        member.member_profile,
      );
      const held = storedHeld(input, parentId);
      this.#enqueue(notify, 'comment.held', { held });
      this.#subscribe(subscribe);
      return { kind: 'held', held, created: true, authorTokenHash: input.authorTokenHash };
    }
    const seq = this.#nextSeq(input.articleId);
    this.#insert.run(
      input.id,
      input.articleId,
      parentId,
      parent === null ? null : (parent.root_id ?? parent.id),
      input.authorName,
      input.body,
      input.createdAt,
      seq,
      seq,
      input.clientId,
      input.authorTokenHash,
      authorKey,
      parent === null ? 0 : parent.depth + 1,
      member.member_sub,
      member.member_profile,
    );
    const comment = storedComment(input, parentId, seq);
    this.#enqueue(notify, 'comment.created', { comment });
    this.#subscribe(subscribe);
    this.#queueReplyMails(parentId, { authorKey, memberSub: member.member_sub }, options.replyMail);
    return { kind: 'stored', comment, created: true, authorTokenHash: input.authorTokenHash };
  }

  /** Queues the e-mails of the subscribers to `parentId` for a reply just stored, inside its transaction. */
  #queueReplyMails(parentId: string | null, reply: NewReply, replyMail: ReplyMailOptions | undefined): void {
    if (parentId === null || replyMail === undefined) return;
    const now = new Date();
    for (const subscriber of this.#prepared<[string], SubscriberRow>(SUBSCRIPTION_SQL.sqlite.subscribersOf).all(
      parentId,
    )) {
      if (ownReply(subscriber, reply)) continue;
      const claims = this.#prepared<[string], string | null>(SUBSCRIPTION_SQL.sqlite.pendingMail)
        .pluck()
        .all(subscriber.id);
      const values = replyMailValues(subscriber, claims, now, replyMail);
      if (values !== null) this.#prepared(SUBSCRIPTION_SQL.sqlite.insertMail).run(...values);
    }
  }

  /** Writes a new post's reply e-mail subscription and its confirmation e-mail, inside the post's transaction. */
  #subscribe(subscribe: SubscribeWith | undefined): void {
    if (subscribe === undefined) return;
    this.#prepared(SUBSCRIPTION_SQL.sqlite.insert).run(...subscriptionValues(subscribe.subscription));
    const row = subscribe.confirmation;
    if (row !== null)
      this.#prepared(
        `INSERT INTO outbox (id, kind, target, type, payload, created_at, status, next_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)`,
      ).run(row.id, row.kind, row.target, row.type, row.payload, row.createdAt, row.createdAt);
  }

  /** A change's outcome, with its notifications written when it changed something. */
  #notified(result: ChangeResult | null, type: WebhookEvent, notify: NotifyTargets | undefined): ChangeResult | null {
    if (result?.changed) this.#enqueue(notify, type, { comment: result.comment });
    return result;
  }

  /** Writes the outbox rows of a change, inside its transaction; nothing at all without targets. */
  #enqueue(notify: NotifyTargets | undefined, type: WebhookEvent, change: Parameters<typeof outboxRowsFor>[2]): void {
    if (notify === undefined || notify.length === 0) return;
    const now = new Date().toISOString();
    const insert = this.#prepared<[string, string, string, string, string, string, string]>(
      `INSERT INTO outbox (id, kind, target, type, payload, created_at, status, next_at)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)`,
    );
    for (const row of outboxRowsFor(notify, type, change, now))
      insert.run(row.id, row.kind, row.target, row.type, row.payload, row.createdAt, row.createdAt);
  }

  #editInTransaction(id: string, body: string, editedAt: string): ChangeResult | null {
    const row = this.#selectById.get(id);
    if (!row) return null;
    if (row.status !== 'visible') return { comment: toModerated(row), changed: false };
    this.#updateBody.run(body, editedAt, this.#nextSeq(row.article_id), id);
    return this.#changed(id);
  }

  #removeInTransaction(id: string, by: RemovedBy): ChangeResult | null {
    const row = this.#selectById.get(id);
    if (!row) return null;
    // Any removal settles a review: there is nothing left for readers to report or moderators to keep.
    this.#closeReview(id, false);
    if (row.status === 'visible') {
      this.#updateRemoved.run(by === 'moderator' ? row.body : null, by, this.#nextSeq(row.article_id), id);
      return this.#changed(id);
    }
    // The author's wish to be forgotten outranks a moderator's chance to restore.
    if (by === 'author' && row.original_body !== null) this.#eraseKeptBody.run(id);
    return { comment: toModerated(this.#selectById.get(id) ?? row), changed: false };
  }

  #restoreInTransaction(id: string): ChangeResult | null {
    const row = this.#selectById.get(id);
    if (!row) return null;
    if (row.status !== 'removed' || row.removed_by !== 'moderator' || row.original_body === null)
      return { comment: toModerated(row), changed: false };
    this.#updateRestored.run(this.#nextSeq(row.article_id), id);
    this.#closeReview(id, true);
    return this.#changed(id);
  }

  /** Closes an open or hidden review (no seq); `kept`: a moderator kept the comment. False when none was open. */
  #closeReview(id: string, kept: boolean): boolean {
    return (
      this.#prepared<[number, string]>(
        "UPDATE report_reviews SET state = 'closed', kept = MAX(kept, ?) WHERE comment_id = ? AND state <> 'closed'",
      ).run(kept ? 1 : 0, id).changes > 0
    );
  }

  #reportInTransaction(
    input: ReportRecord,
    threshold: number,
    notify: NotifyTargets | undefined,
  ): ReportOutcome | null {
    const row = this.#selectById.get(input.commentId);
    if (!row) return null;
    if (row.status !== 'visible') return { comment: toModerated(row), created: false, hidden: false };
    const previous = this.#prepared<[string], ReviewRow>(
      `SELECT ${REVIEW_COLUMNS} FROM report_reviews WHERE comment_id = ?`,
    ).get(input.commentId);
    const inserted = this.#prepared<[string, string, string, string | null, number, string]>(
      `INSERT INTO reports (comment_id, reader_id, reason, note, round, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    ).run(input.commentId, input.readerId, input.reason, input.note, roundOf(previous), input.createdAt).changes;
    if (inserted === 0) return { comment: toModerated(row), created: false, hidden: false };
    const { review, hide } = nextReview(previous, input, row.article_id, threshold);
    this.#prepared<ReturnType<typeof reviewValues>>(
      `INSERT INTO report_reviews (${REVIEW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (comment_id) DO UPDATE SET state = excluded.state, kept = excluded.kept, round = excluded.round,
       reports = excluded.reports, opened_at = excluded.opened_at, last_at = excluded.last_at`,
    ).run(...reviewValues(review));
    let comment = toModerated(row);
    if (hide) {
      this.#updateRemoved.run(row.body, 'moderator', this.#nextSeq(row.article_id), input.commentId);
      comment = this.#changed(input.commentId).comment;
      this.#enqueue(notify, 'comment.removed', { comment });
    }
    this.#enqueue(notify, 'comment.reported', reportedChange(comment, input, review));
    return { comment, created: true, hidden: hide };
  }

  #reportedEntry(review: ReviewRow): ReportedComment | null {
    const row = this.#selectById.get(review.comment_id);
    if (!row) return null;
    const reports = this.#prepared<[string, number], ReportReasonRow>(
      'SELECT reason, note FROM reports WHERE comment_id = ? AND round = ? ORDER BY created_at DESC, reader_id',
    ).all(review.comment_id, review.round);
    return reportedComment(review, toModerated(row), reports);
  }

  #likeInTransaction(id: string, readerId: string, liked: boolean): ChangeResult | null {
    const row = this.#selectById.get(id);
    if (!row) return null;
    // Decided inside the write: a like racing a removal never lands on the removed comment.
    if (liked && row.status !== 'visible') return { comment: toModerated(row), changed: false };
    const changes = liked
      ? this.#insertReaction.run(id, readerId).changes
      : this.#deleteReaction.run(id, readerId).changes;
    if (changes === 0) return { comment: toModerated(row), changed: false };
    this.#updateLikes.run(liked ? 1 : -1, this.#nextSeq(row.article_id), id);
    return this.#changed(id);
  }

  #approveInTransaction(id: string): ModeratedComment | null {
    const held = this.#selectHeld.get(id);
    if (!held) return null;
    // Comments are never deleted and held_comments.parent_id references comments: the parent exists.
    const parent = held.parent_id === null ? null : this.#attachTo(held.article_id, held.parent_id);
    this.#deleteHeld.run(id);
    const seq = this.#nextSeq(held.article_id);
    this.#insert.run(
      held.id,
      held.article_id,
      parent?.id ?? null,
      parent === null ? null : (parent.root_id ?? parent.id),
      held.author_name,
      held.body,
      held.created_at,
      seq,
      seq,
      held.client_id,
      held.author_token_hash,
      held.author_key,
      parent === null ? 0 : parent.depth + 1,
      held.member_sub,
      held.member_profile,
    );
    const row = this.#selectById.get(id);
    if (!row) throw new Error('Approved comment not found after insert');
    return toModerated(row);
  }

  #importInTransaction(
    articleId: string,
    records: readonly ImportedCommentRecord[],
    keepSeq: { lastSeq: number } | undefined,
  ): ImportBatchResult {
    const exists = this.#prepared<[string, string]>(
      'SELECT EXISTS (SELECT 1 FROM comments WHERE id = ?) OR EXISTS (SELECT 1 FROM held_comments WHERE id = ?)',
    ).pluck();
    const seqTaken = this.#prepared<[string, number]>(
      'SELECT 1 FROM comments WHERE article_id = ? AND seq = ?',
    ).pluck();
    const insertComment = this.#prepared(
      `INSERT INTO comments
         (id, article_id, parent_id, root_id, author_name, body, created_at, edited_at, status, seq, created_seq,
          client_id, author_token_hash, author_key, likes, removed_by, original_body, depth, member_sub, member_profile)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertSource = this.#prepared(
      'INSERT INTO import_sources (source_format, source_id, comment_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    );
    if (keepSeq) {
      this.#prepared(
        `INSERT INTO articles (article_id, last_seq) VALUES (?, ?)
         ON CONFLICT (article_id) DO UPDATE SET last_seq = MAX(articles.last_seq, excluded.last_seq)`,
      ).run(articleId, keepSeq.lastSeq);
    }
    const result: ImportBatchResult = { inserted: 0, existing: [], orphaned: [], lastSeq: 0 };
    let maxKeptSeq = 0;
    for (const record of records) {
      if (exists.get(record.id, record.id) === 1) {
        result.existing.push(record.id);
        continue;
      }
      // Imports keep their tree as it was (no nesting cap): a later reply to a deep one attaches higher up.
      const parent = record.parentId === null ? null : this.#selectParent.get(articleId, record.parentId);
      if (parent === undefined) {
        result.orphaned.push(record.id);
        continue;
      }
      const rootId = parent === null ? null : (parent.root_id ?? parent.id);
      if (record.status === 'held') {
        this.#insertHeld.run(
          record.id,
          articleId,
          record.parentId,
          record.authorName,
          record.body,
          record.createdAt,
          null,
          NO_TOKEN_HASH,
          record.authorKey,
          null,
          record.memberSub ?? null,
          record.memberProfile ?? null,
        );
      } else {
        const kept = keptSeqs(record, keepSeq, (seq) => seqTaken.get(articleId, seq) !== undefined);
        const seq = kept?.seq ?? this.#nextSeq(articleId);
        if (kept) maxKeptSeq = Math.max(maxKeptSeq, seq);
        insertComment.run(
          record.id,
          articleId,
          record.parentId,
          rootId,
          record.authorName,
          record.body,
          record.createdAt,
          record.editedAt,
          record.status,
          seq,
          kept?.createdSeq ?? seq,
          NO_TOKEN_HASH,
          record.authorKey,
          record.likes,
          record.removedBy,
          record.originalBody,
          parent === null ? 0 : parent.depth + 1,
          record.memberSub ?? null,
          record.memberProfile ?? null,
        );
      }
      if (record.source) insertSource.run(record.source.format, record.source.id, record.id);
      result.inserted += 1;
    }
    if (keepSeq && maxKeptSeq > 0) {
      // A kept seq is never above the head (the exporter's header says so; a file that disagrees still yields a consistent head).
      this.#prepared('UPDATE articles SET last_seq = MAX(last_seq, ?) WHERE article_id = ?').run(maxKeptSeq, articleId);
    }
    result.lastSeq = this.#selectLastSeq.get(articleId) ?? 0;
    return result;
  }

  /** A statement of the import and export paths, prepared once. */
  #prepared<P extends unknown[] = unknown[], R = unknown>(sql: string): Statement<P, R> {
    let statement = this.#lazy.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#lazy.set(sql, statement);
    }
    return statement as unknown as Statement<P, R>;
  }

  #nextSeq(articleId: string): number {
    const seq = this.#bumpSeq.get(articleId);
    if (seq === undefined) throw new Error('Seq upsert returned no row');
    return seq;
  }

  #changed(id: string): ChangeResult {
    const row = this.#selectById.get(id);
    if (!row) throw new Error(`Comment ${id} vanished inside its transaction`);
    return { comment: toModerated(row), changed: true };
  }

  #settingsOf(articleId: string): ArticleSettings {
    return toArticleSettings(this.#selectSettings.get(articleId));
  }

  #pageInTransaction(articleId: string, request: PageRequest): PageResult {
    const lastSeq = this.#selectLastSeq.get(articleId) ?? 0;
    const start = topsStart(request);
    const { tops, next } = pageTops(
      request.order === 'top'
        ? this.#selectTopLiked.all(articleId, request.limit + 1, start)
        : (request.order === 'newest' ? this.#selectTopNewest : this.#selectTopOldest).all(
            articleId,
            start,
            request.limit + 1,
          ),
      request,
      start,
    );
    const page = assemblePage(
      tops,
      (topId, limit) => this.#selectThreadReplies.all(articleId, topId, 0, limit),
      (topId) => this.#countThreadReplies.get(articleId, topId, 0) ?? 0,
    );
    return { lastSeq, comments: page.comments, next, moreReplies: page.moreReplies };
  }

  #repliesInTransaction(articleId: string, rootId: string, request: RepliesRequest): RepliesResult | null {
    if (this.#selectTop.get(articleId, rootId) === undefined) return null;
    const lastSeq = this.#selectLastSeq.get(articleId) ?? 0;
    const after = request.after === null ? 0 : Number(request.after);
    const rows = this.#selectThreadReplies.all(articleId, rootId, after, request.limit);
    const last = rows.at(-1);
    const count =
      rows.length < request.limit || !last
        ? 0
        : (this.#countThreadReplies.get(articleId, rootId, last.created_seq) ?? 0);
    return { lastSeq, comments: rows.map(toComment), more: moreAfter(last, count, after) };
  }

  /**
   * The comment a reply to `parentId` hangs from: the parent itself, or when it is at LIMITS.depthMax
   * (or deeper: imported, or stored before the cap) its deepest ancestor above that depth. Undefined
   * parent: ParentNotFoundError.
   */
  #attachTo(articleId: string, parentId: string): ParentRow {
    let parent = this.#selectParent.get(articleId, parentId);
    if (!parent) throw new ParentNotFoundError(parentId);
    while (parent.depth >= LIMITS.depthMax && parent.parent_id !== null) {
      const above = this.#selectParent.get(articleId, parent.parent_id);
      if (!above) break;
      parent = above;
    }
    return parent;
  }

  #changesInTransaction(articleId: string, since: number, limit: number): ChangePage {
    const lastSeq = this.#selectLastSeq.get(articleId) ?? 0;
    return changePage(lastSeq, this.#selectChanges.all(articleId, since, limit + 1), limit);
  }

  /** One statement per distinct list length (bounded by the caller's limit on article ids). */
  #countsStatement(size: number): Statement<string[], CountRow> {
    let statement = this.#selectCounts.get(size);
    if (!statement) {
      const placeholders = Array.from({ length: size }, () => '?').join(', ');
      statement = this.#db.prepare<string[], CountRow>(
        `SELECT article_id, COUNT(*) AS n FROM comments
         WHERE status = 'visible' AND article_id IN (${placeholders})
         GROUP BY article_id`,
      );
      this.#selectCounts.set(size, statement);
    }
    return statement;
  }

  /** Runs `fn`, turning failures of the database itself into StoreUnavailableError; other errors pass through. */
  #guard<T>(fn: () => T): T {
    if (!this.#db.open) throw new StoreUnavailableError('SQLite store is closed');
    try {
      return fn();
    } catch (error) {
      throw toStoreError(error, this.#db);
    }
  }
}

/** Opens (creating if missing) and migrates the SQLite store at `path`. */
export function openSqliteStore(path: string): SqliteCommentStore {
  return new SqliteCommentStore(path);
}

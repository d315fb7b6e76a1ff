import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ArticleId, Comment, CommentStatus } from '../../shared/schemas.ts';
import {
  ParentNotFoundError,
  StoreUnavailableError,
  type ChangePage,
  type CommentStore,
  type CreateResult,
  type NewCommentRecord,
  type PageRequest,
  type PageResult,
} from './port.ts';
import { MIGRATIONS } from './migrations.ts';

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

const COMMENT_COLUMNS = 'id, article_id, parent_id, root_id, author_name, body, created_at, edited_at, status, seq, created_seq';

interface CommentRow {
  id: string;
  article_id: string;
  parent_id: string | null;
  root_id: string | null;
  author_name: string;
  body: string;
  created_at: string;
  edited_at: string | null;
  /** Guaranteed by the CHECK constraint. */
  status: CommentStatus;
  seq: number;
  created_seq: number;
}

interface CountRow {
  article_id: string;
  n: number;
}

type Statement<Params extends unknown[], Result = unknown> = Database.Statement<Params, Result>;

function toComment(row: CommentRow): Comment {
  return {
    id: row.id,
    articleId: row.article_id,
    parentId: row.parent_id,
    author: { name: row.author_name },
    body: row.body,
    createdAt: row.created_at,
    editedAt: row.edited_at,
    status: row.status,
    seq: row.seq,
    likes: 0,
  };
}

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
  readonly #selectByClientId: Statement<[string, string], CommentRow>;
  readonly #selectParent: Statement<[string, string], { id: string; root_id: string | null }>;
  readonly #updateTokenHash: Statement<[string, string]>;
  readonly #bumpSeq: Statement<[string], number>;
  readonly #insert: Statement<
    [string, string, string | null, string | null, string, string, string, number, number, string | null, string]
  >;
  readonly #selectLastSeq: Statement<[string], number>;
  readonly #selectTopNewest: Statement<[string, number, number], CommentRow>;
  readonly #selectTopOldest: Statement<[string, number, number], CommentRow>;
  readonly #selectReplies: Statement<[string, string, number, number], CommentRow>;
  readonly #selectChanges: Statement<[string, number, number], CommentRow>;
  readonly #selectCounts = new Map<number, Statement<string[], CountRow>>();
  readonly #ping: Statement<[], number>;

  readonly #createTx: Database.Transaction<(input: NewCommentRecord) => CreateResult>;
  readonly #pageTx: Database.Transaction<(articleId: string, request: PageRequest) => PageResult>;
  readonly #changesTx: Database.Transaction<(articleId: string, since: number, limit: number) => ChangePage>;

  /** Opens (creating the file and its directory if missing) and migrates the database at `path`; `:memory:` works. */
  constructor(path: string) {
    this.path = path;
    let db: Database.Database;
    try {
      db = openDatabase(path);
    } catch (error) {
      throw isUnavailableSqliteError(error) ? new StoreUnavailableError(`Cannot open SQLite database ${path}`, { cause: error }) : error;
    }
    this.#db = db;

    this.#selectById = db.prepare(`SELECT ${COMMENT_COLUMNS} FROM comments WHERE id = ?`);
    this.#selectByClientId = db.prepare(`SELECT ${COMMENT_COLUMNS} FROM comments WHERE article_id = ? AND client_id = ?`);
    this.#selectParent = db.prepare('SELECT id, root_id FROM comments WHERE article_id = ? AND id = ?');
    this.#updateTokenHash = db.prepare('UPDATE comments SET author_token_hash = ? WHERE id = ?');
    this.#bumpSeq = db
      .prepare<[string], number>(
        `INSERT INTO articles (article_id, last_seq) VALUES (?, 1)
         ON CONFLICT (article_id) DO UPDATE SET last_seq = articles.last_seq + 1
         RETURNING last_seq`,
      )
      .pluck();
    this.#insert = db.prepare(
      `INSERT INTO comments
         (id, article_id, parent_id, root_id, author_name, body, created_at, edited_at, status, seq, created_seq, client_id, author_token_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 'visible', ?, ?, ?, ?)`,
    );
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
    // The tops of one page are exactly the top-level comments whose created_seq lies in [low, high].
    this.#selectReplies = db.prepare(
      `SELECT ${COMMENT_COLUMNS} FROM comments
       WHERE article_id = ? AND root_id IN (
         SELECT id FROM comments WHERE article_id = ? AND parent_id IS NULL AND created_seq BETWEEN ? AND ?
       )
       ORDER BY created_seq ASC`,
    );
    this.#selectChanges = db.prepare(
      `SELECT ${COMMENT_COLUMNS} FROM comments WHERE article_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?`,
    );
    this.#ping = db.prepare<[], number>('SELECT 1').pluck();

    this.#createTx = db.transaction((input: NewCommentRecord) => this.#createInTransaction(input));
    this.#pageTx = db.transaction((articleId: string, request: PageRequest) => this.#pageInTransaction(articleId, request));
    this.#changesTx = db.transaction((articleId: string, since: number, limit: number) =>
      this.#changesInTransaction(articleId, since, limit),
    );
  }

  async create(input: NewCommentRecord): Promise<CreateResult> {
    return this.#guard(() => this.#createTx.immediate(input));
  }

  async get(id: string): Promise<Comment | null> {
    return this.#guard(() => {
      const row = this.#selectById.get(id);
      return row ? toComment(row) : null;
    });
  }

  /**
   * Top-level comments ordered by created_seq (descending for `newest`), each followed by every
   * comment of its thread (replies at any depth) in created_seq order. `cursor` is exclusive: the
   * next page starts strictly after the last top-level comment of the previous one, so walking
   * `next` visits every thread exactly once even while new comments arrive.
   */
  async page(articleId: ArticleId, request: PageRequest): Promise<PageResult> {
    return this.#guard(() => this.#pageTx.deferred(articleId, request));
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
      const counts: Record<ArticleId, number> = {};
      for (const id of unique) counts[id] = 0;
      if (unique.length === 0) return counts;
      for (const row of this.#countsStatement(unique.length).all(...unique)) counts[row.article_id] = row.n;
      return counts;
    });
  }

  async ping(): Promise<void> {
    this.#guard(() => this.#ping.get());
  }

  /** Idempotent. Every later call rejects with StoreUnavailableError. */
  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  #createInTransaction(input: NewCommentRecord): CreateResult {
    if (input.clientId !== null) {
      const existing = this.#selectByClientId.get(input.articleId, input.clientId);
      if (existing) {
        this.#updateTokenHash.run(input.authorTokenHash, existing.id);
        return { comment: toComment(existing), created: false };
      }
    }
    let rootId: string | null = null;
    if (input.parentId !== null) {
      const parent = this.#selectParent.get(input.articleId, input.parentId);
      if (!parent) throw new ParentNotFoundError(input.parentId);
      rootId = parent.root_id ?? parent.id;
    }
    const seq = this.#bumpSeq.get(input.articleId);
    if (seq === undefined) throw new Error('Seq upsert returned no row');
    this.#insert.run(
      input.id,
      input.articleId,
      input.parentId,
      rootId,
      input.authorName,
      input.body,
      input.createdAt,
      seq,
      seq,
      input.clientId,
      input.authorTokenHash,
    );
    return {
      comment: {
        id: input.id,
        articleId: input.articleId,
        parentId: input.parentId,
        author: { name: input.authorName },
        body: input.body,
        createdAt: input.createdAt,
        editedAt: null,
        status: 'visible',
        seq,
        likes: 0,
      },
      created: true,
    };
  }

  #pageInTransaction(articleId: string, request: PageRequest): PageResult {
    const lastSeq = this.#selectLastSeq.get(articleId) ?? 0;
    const newest = request.order === 'newest';
    const after = request.cursor === null ? (newest ? Number.MAX_SAFE_INTEGER : 0) : Number(request.cursor);
    const rows = (newest ? this.#selectTopNewest : this.#selectTopOldest).all(articleId, after, request.limit + 1);
    const tops = rows.slice(0, request.limit);
    const first = tops[0];
    const last = tops[tops.length - 1];
    if (first === undefined || last === undefined) return { lastSeq, comments: [], next: null };

    const low = Math.min(first.created_seq, last.created_seq);
    const high = Math.max(first.created_seq, last.created_seq);
    const repliesByRoot = new Map<string, Comment[]>();
    for (const row of this.#selectReplies.all(articleId, articleId, low, high)) {
      if (row.root_id === null) continue;
      const thread = repliesByRoot.get(row.root_id);
      if (thread) thread.push(toComment(row));
      else repliesByRoot.set(row.root_id, [toComment(row)]);
    }
    const comments: Comment[] = [];
    for (const top of tops) comments.push(toComment(top), ...(repliesByRoot.get(top.id) ?? []));
    return { lastSeq, comments, next: rows.length > request.limit ? String(last.created_seq) : null };
  }

  #changesInTransaction(articleId: string, since: number, limit: number): ChangePage {
    const lastSeq = this.#selectLastSeq.get(articleId) ?? 0;
    const rows = this.#selectChanges.all(articleId, since, limit + 1);
    if (rows.length > limit) return { lastSeq, comments: [], reset: true };
    return { lastSeq, comments: rows.map(toComment), reset: false };
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

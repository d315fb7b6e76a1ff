import { DatabaseError, Pool, type PoolClient, type PoolConfig, type QueryConfig } from 'pg';
import {
  toPublicComment,
  type Ban,
  type ModeratedComment,
  type ModeratedHeld,
  type RemovedBy,
} from '../../shared/moderation.ts';
import type { NativeArticle, NativeComment } from '../../shared/import-export.ts';
import { LIMITS, type ArticleId, type Comment } from '../../shared/schemas.ts';
import { MIGRATIONS } from './migrations.ts';
import {
  SUBSCRIPTION_SQL,
  ownReply,
  replyMailValues,
  subscriptionValues,
  toReplyToMail,
  toSubscription,
  type ReplyMailOptions,
  type ReplyRow,
  type ReplyToMail,
  type SubscriberRow,
  type ReplySubscription,
  type SubscribeWith,
  type SubscriptionRow,
} from './subscriptions.ts';
import { ERASED_NAME, MEMBER_SQL, memberValues, toMemberRecord, type MemberRecord, type MemberRow } from './members.ts';
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
  type OutboxAttemptRecord,
  type OutboxItem,
  type OutboxRow,
  type OutboxRowData,
  type OutboxSettlement,
  type OutboxStats,
  type StatsRow,
  type WebhookRecord,
  type WebhookRow,
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

/** The few log methods the store needs; a pino logger fits. */
export interface PostgresStoreLogger {
  warn(obj: object, msg: string): void;
}

export interface PostgresStoreOptions {
  /** `postgres://user@host:port/database`; query parameters such as `?options=-c%20search_path%3Dx` are honoured. */
  connectionString: string;
  /** Schema to work in (sets `search_path`); it must exist. Default: the server's search_path. */
  schema?: string;
  /** Most connections the pool opens (default 10). */
  poolMax?: number;
  /** Longest wait for a connection, new or from the pool, before the call fails as unavailable (default 2000). */
  connectTimeoutMs?: number;
  /** Server-side bound on one statement (default 3000). */
  statementTimeoutMs?: number;
  /** Client-side bound on one query, which also catches a silently dead connection (default 3500). */
  queryTimeoutMs?: number;
  /** Shown in pg_stat_activity (default `live-comments`). */
  applicationName?: string;
  /** Where idle-connection errors are reported; they never throw. */
  logger?: PostgresStoreLogger;
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/** Lock key namespace for migrations; the schema name is mixed in so schemas migrate independently. */
const MIGRATION_LOCK_NAMESPACE = 'live-comments:migrations:';
/** Migrations may rewrite tables: they get far more than one statement's usual budget. */
const MIGRATION_STATEMENT_TIMEOUT = '60s';
/**
 * The client's wait for each statement of a migration or a renumbering: beyond the server's 60 s, so
 * the server's timeout decides (a client-side timeout would abandon a statement the server still runs,
 * and the pool's `query_timeout`, a post's budget, would fail a migration that takes a few seconds).
 */
const LONG_QUERY_TIMEOUT_MS = 65_000;

/** A statement waited for up to LONG_QUERY_TIMEOUT_MS (pg reads `query_timeout` per query; its types do not list it). */
function longQuery(text: string, values: unknown[] = []): QueryConfig {
  const config: QueryConfig & { query_timeout: number } = { text, values, query_timeout: LONG_QUERY_TIMEOUT_MS };
  return config;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** SQLSTATEs that mean the database cannot serve us right now (as opposed to a bug or bad input). */
const UNAVAILABLE_SQLSTATES = new Set([
  '57014', // query_canceled: statement_timeout fired
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, recovery)
  '57P04', // database_dropped
  '55P03', // lock_not_available
  '25P03', // idle_in_transaction_session_timeout
  '40001', // serialization_failure: transient, a retry succeeds
  '40P01', // deadlock_detected: transient, a retry succeeds
]);
/** SQLSTATE classes: 08 connection exception, 53 insufficient resources (53300 too many connections, disk full, out of memory). */
const UNAVAILABLE_SQLSTATE_CLASSES = ['08', '53'];
/** Socket-level failures reaching or talking to the server. */
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);
/** What pg and pg-pool say when a connection could not be made or was lost (they carry no code). */
const UNAVAILABLE_MESSAGES =
  /timeout exceeded when trying to connect|Connection terminated|Query read timeout|connection error and is not queryable|Cannot use a pool after calling end|Client was closed and is not queryable|Connection timeout/i;

/**
 * True when `error` means the database is unreachable, overloaded or going away: the caller should
 * answer `unavailable` and let the client retry. Looks through `cause` and AggregateError members
 * (a host name with several addresses fails with one error per address).
 */
export function isUnavailablePgError(error: unknown, depth = 0): boolean {
  if (depth > 4 || typeof error !== 'object' || error === null) return false;
  if (error instanceof StoreUnavailableError) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_NODE_CODES.has(code)) return true;
    if (error instanceof DatabaseError && UNAVAILABLE_SQLSTATE_CLASSES.includes(code.slice(0, 2))) return true;
  }
  if (error instanceof Error && UNAVAILABLE_MESSAGES.test(error.message)) return true;
  if (error instanceof AggregateError && error.errors.some((e: unknown) => isUnavailablePgError(e, depth + 1)))
    return true;
  return isUnavailablePgError((error as { cause?: unknown }).cause, depth + 1);
}

function toStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  return isUnavailablePgError(error)
    ? new StoreUnavailableError('PostgreSQL database unavailable', { cause: error })
    : error;
}

const COLUMNS = [
  'id',
  'article_id',
  'parent_id',
  'root_id',
  'author_name',
  'body',
  'created_at',
  'edited_at',
  'status',
  'seq',
  'created_seq',
  'likes',
  'removed_by',
  'original_body',
  'author_key',
  'member_sub',
  'member_profile',
];
const COMMENT_COLUMNS = COLUMNS.join(', ');
const prefixed = (alias: string): string => COLUMNS.map((c) => `${alias}.${c}`).join(', ');
const HELD_COLUMNS =
  'id, article_id, parent_id, author_name, body, created_at, author_key, hold_reason, member_sub, member_profile';

/**
 * The posting gate as columns, read in the statement that writes (so in its snapshot): whether the
 * parent exists, whether the clientId is already used in the other table, and (with $10 gate on)
 * whether the article is locked or pre-moderated and the author key banned at $6.
 */
const gateColumns = (duplicateTable: 'comments' | 'held_comments'): string => `
    ($3::text IS NULL OR EXISTS (SELECT 1 FROM comments WHERE article_id = $2 AND id = $3::text)) AS parent_found,
    ($7::text IS NOT NULL AND EXISTS (SELECT 1 FROM ${duplicateTable} WHERE article_id = $2 AND client_id = $7::text)) AS duplicate,
    ($10::boolean AND EXISTS (SELECT 1 FROM article_settings WHERE article_id = $2 AND locked = 1)) AS locked,
    ($10::boolean AND EXISTS (SELECT 1 FROM article_settings WHERE article_id = $2 AND premoderated = 1)) AS premoderated,
    ($10::boolean AND EXISTS (SELECT 1 FROM bans WHERE author_key = $9::text AND (expires_at IS NULL OR expires_at > $6))) AS banned`;

/** Something other than pre-moderation stops the post: a used clientId, the lock, a ban, a missing parent. */
function blocked(gate: GateRow): boolean {
  return gate.duplicate || gate.locked || gate.banned || !gate.parent_found;
}

/**
 * The comment a reply hangs from (see the CommentStore port): `up` walks from the named parent towards
 * its top while the comment reached is at LIMITS.depthMax or deeper (one step at most, but for trees
 * imported or stored before the cap), and `parent` is where the walk stopped. Needs WITH RECURSIVE.
 */
const attachTo = (start: string): string => `
  up AS (
    ${start}
    UNION ALL
    SELECT c.id, c.parent_id, c.root_id, c.depth FROM comments c JOIN up ON c.id = up.parent_id
    WHERE up.depth >= ${LIMITS.depthMax}
  ), parent AS (
    SELECT id, root_id, depth FROM up WHERE depth < ${LIMITS.depthMax}
  )`;
const ATTACH_NEW_REPLY = attachTo(
  'SELECT id, parent_id, root_id, depth FROM comments WHERE article_id = $2 AND id = $3::text',
);

/** What a posting statement read about the article: why it did not write, when it did not. */
interface GateRow {
  parent_found: boolean;
  /** The clientId is used in the other table (held for CREATE_SQL, stored for HOLD_SQL). */
  duplicate: boolean;
  locked: boolean;
  premoderated: boolean;
  banned: boolean;
}

/**
 * One statement, so one implicit transaction and one snapshot: the gate is read, and only when it is
 * open the upsert on `articles` takes the article's row lock and holds it until commit, so writers of
 * one article are serialised and the seq they get is the order they commit in. The row always comes
 * back with the gate's columns, so a post that was not stored is told why from the same snapshot it
 * was decided on (a moderator's unlock committing meanwhile cannot turn it into "no parent"). A
 * repeated clientId fails the insert on its unique key, which rolls the seq back. So the common post
 * stays one round trip.
 *
 * $1 id, $2 article_id, $3 parent_id, $4 author_name, $5 body, $6 created_at, $7 client_id, $8 author_token_hash, $9 author_key, $10 gate,
 * $11 member_sub, $12 member_profile.
 */
const CREATE_SQL = `
  WITH RECURSIVE gate AS (
    SELECT ${gateColumns('held_comments')}
  ), ${ATTACH_NEW_REPLY}, bump AS (
    INSERT INTO articles AS a (article_id, last_seq)
    SELECT $2, 1 FROM gate
    WHERE parent_found AND NOT duplicate AND NOT locked AND NOT premoderated AND NOT banned
    ON CONFLICT (article_id) DO UPDATE SET last_seq = a.last_seq + 1
    RETURNING last_seq
  ), created AS (
    INSERT INTO comments
      (id, article_id, parent_id, root_id, author_name, body, created_at, edited_at, status, seq, created_seq, client_id, author_token_hash, author_key, depth, member_sub, member_profile)
    SELECT $1, $2, (SELECT id FROM parent), (SELECT COALESCE(root_id, id) FROM parent), $4, $5, $6, NULL, 'visible',
      bump.last_seq, bump.last_seq, $7, $8, $9, COALESCE((SELECT depth + 1 FROM parent), 0), $11::text, $12::text
    FROM bump
    RETURNING seq, parent_id
  )
  SELECT gate.*, created.seq, created.parent_id FROM gate LEFT JOIN created ON true`;

/**
 * A held post: no seq, so no lock on the article; the gate is read in the same statement, as in
 * CREATE_SQL (without pre-moderation, which is why it is held). The parameters of CREATE_SQL, and $13 hold_reason.
 */
const HOLD_SQL = `
  WITH RECURSIVE gate AS (
    SELECT ${gateColumns('comments')}
  ), ${ATTACH_NEW_REPLY}, held AS (
    INSERT INTO held_comments (id, article_id, parent_id, author_name, body, created_at, client_id, author_token_hash, author_key, hold_reason, member_sub, member_profile)
    SELECT $1, $2, (SELECT id FROM parent), $4, $5, $6, $7::text, $8, $9, $13::text, $11::text, $12::text FROM gate
    WHERE parent_found AND NOT duplicate AND NOT locked AND NOT banned
    RETURNING ${HELD_COLUMNS}
  )
  SELECT gate.*, held.* FROM gate LEFT JOIN held ON true`;

/** The post whose clientId was used before, with the token hash stored for it (a repeat never replaces it). */
const DUPLICATE_SQL = `SELECT ${COMMENT_COLUMNS}, author_token_hash FROM comments WHERE article_id = $1 AND client_id = $2`;
const HELD_DUPLICATE_SQL = `SELECT ${HELD_COLUMNS}, author_token_hash FROM held_comments WHERE article_id = $1 AND client_id = $2`;

/** PostgreSQL's names for `UNIQUE (article_id, client_id)` of migrations 1 and 2. */
const CLIENT_ID_CONSTRAINT = 'comments_article_id_client_id_key';
const HELD_CLIENT_ID_CONSTRAINT = 'held_comments_article_id_client_id_key';

/**
 * Changes to one existing comment are single statements built the same way: `target` locks the
 * comment row (FOR NO KEY UPDATE, re-checking its condition on the newest version after any wait),
 * then `bump` takes the article's next seq (and its row lock, held to commit: seq order stays commit
 * order), then the update writes the newest version. When the condition does not hold, nothing is
 * written and no seq is taken (the caller reads the comment to tell "unknown" from "unchanged").
 * Every writer locks a comment before its article, and creates lock only the article, so no two
 * writers wait on each other in a cycle.
 */
function changeSql(condition: string, set: string, alsoWith = ''): string {
  return `
  WITH target AS (
    SELECT id, article_id FROM comments WHERE id = $1 AND ${condition} FOR NO KEY UPDATE
  ), bump AS (
    INSERT INTO articles AS a (article_id, last_seq)
    SELECT article_id, 1 FROM target
    ON CONFLICT (article_id) DO UPDATE SET last_seq = a.last_seq + 1
    RETURNING last_seq
  )${alsoWith}
  UPDATE comments SET ${set}, seq = bump.last_seq FROM bump WHERE comments.id = $1
  RETURNING ${prefixed('comments')}`;
}

/** $1 id, $2 body, $3 edited_at. */
const EDIT_SQL = changeSql("status = 'visible'", 'body = $2, edited_at = $3');
/** $1 id, $2 'author' | 'moderator': a moderator's removal keeps the body (SET reads the old row), an author's erases it. */
const REMOVE_SQL = changeSql(
  "status = 'visible'",
  "status = 'removed', original_body = CASE WHEN $2::text = 'moderator' THEN comments.body END, body = '', removed_by = $2::text",
  // Any removal settles a review (reader reports); a removal of a removed comment runs CLOSE_REVIEW_SQL.
  `, closed AS (
    UPDATE report_reviews SET state = 'closed' WHERE comment_id = $1 AND state <> 'closed' AND EXISTS (SELECT 1 FROM target)
  )`,
);
/** $1 id, $2 kept (0/1): closes an open or hidden review with no seq. */
const CLOSE_REVIEW_SQL =
  "UPDATE report_reviews SET state = 'closed', kept = GREATEST(kept, $2::int) WHERE comment_id = $1 AND state <> 'closed'";
/** $1 id. The author's wish to be forgotten outranks a moderator's chance to restore; nothing public changes, so no seq. */
const ERASE_KEPT_BODY_SQL = "UPDATE comments SET original_body = NULL WHERE id = $1 AND status = 'removed'";
/** $1 id. */
const RESTORE_SQL = changeSql(
  "status = 'removed' AND removed_by = 'moderator' AND original_body IS NOT NULL",
  "status = 'visible', body = comments.original_body, original_body = NULL, removed_by = NULL",
  // A restore is a moderator keeping the comment: its review closes as kept.
  `, closed AS (
    UPDATE report_reviews SET state = 'closed', kept = 1 WHERE comment_id = $1 AND state <> 'closed' AND EXISTS (SELECT 1 FROM target)
  )`,
);

/** Reports run as a short transaction after REPORT_LOCK_SQL, like likes: racing reports queue on the row, so one hides it. */
const REPORT_LOCK_SQL = `SELECT ${COMMENT_COLUMNS} FROM comments WHERE id = $1 FOR NO KEY UPDATE`;
const REVIEW_GET_SQL = `SELECT ${REVIEW_COLUMNS} FROM report_reviews WHERE comment_id = $1`;
const REPORT_INSERT_SQL = `
  INSERT INTO reports (comment_id, reader_id, reason, note, round, created_at) VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT DO NOTHING`;
const REVIEW_UPSERT_SQL = `
  INSERT INTO report_reviews (${REVIEW_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (comment_id) DO UPDATE SET state = excluded.state, kept = excluded.kept, round = excluded.round,
  reports = excluded.reports, opened_at = excluded.opened_at, last_at = excluded.last_at`;
/** $1 id, $2 seq: out of view as by a moderator (body kept for restore). */
const REPORT_HIDE_SQL = `
  UPDATE comments SET status = 'removed', original_body = body, body = '', removed_by = 'moderator', seq = $2
  WHERE id = $1 RETURNING ${COMMENT_COLUMNS}`;
const REVIEW_QUEUE_SQL = `
  SELECT ${REVIEW_COLUMNS} FROM report_reviews WHERE state <> 'closed' ORDER BY opened_at, comment_id LIMIT $1`;
const REPORT_REASONS_SQL =
  'SELECT reason, note FROM reports WHERE comment_id = $1 AND round = $2 ORDER BY created_at DESC, reader_id';

/**
 * Likes run as a short transaction (LIKE_LOCK_SQL first): a statement's snapshot is taken before it
 * waits for a lock, so a single statement could miss the reaction a concurrent call of the same
 * reader just committed. Inside the transaction each statement after the lock sees it.
 */
const LIKE_LOCK_SQL = 'SELECT article_id, status FROM comments WHERE id = $1 FOR NO KEY UPDATE';
const LIKE_INSERT_SQL = 'INSERT INTO reactions (comment_id, reader_id) VALUES ($1, $2) ON CONFLICT DO NOTHING';
const LIKE_DELETE_SQL = 'DELETE FROM reactions WHERE comment_id = $1 AND reader_id = $2';
const BUMP_SQL = `
  INSERT INTO articles AS a (article_id, last_seq) VALUES ($1, 1)
  ON CONFLICT (article_id) DO UPDATE SET last_seq = a.last_seq + 1
  RETURNING last_seq`;
const LIKE_UPDATE_SQL = `UPDATE comments SET likes = likes + $2, seq = $3 WHERE id = $1 RETURNING ${COMMENT_COLUMNS}`;

/**
 * Approval in one statement: the held row is deleted (a concurrent approve or reject of the same id
 * finds it gone and does nothing), the article's next seq is taken, and the comment is stored with
 * the held comment's id, createdAt, clientId, token hash and author key.
 */
const APPROVE_SQL = `
  WITH RECURSIVE h AS (
    DELETE FROM held_comments WHERE id = $1
    RETURNING id, article_id, parent_id, author_name, body, created_at, client_id, author_token_hash, author_key, member_sub, member_profile
  ), ${attachTo('SELECT c.id, c.parent_id, c.root_id, c.depth FROM comments c JOIN h ON c.id = h.parent_id')}, bump AS (
    INSERT INTO articles AS a (article_id, last_seq)
    SELECT article_id, 1 FROM h
    ON CONFLICT (article_id) DO UPDATE SET last_seq = a.last_seq + 1
    RETURNING last_seq
  )
  INSERT INTO comments
    (id, article_id, parent_id, root_id, author_name, body, created_at, edited_at, status, seq, created_seq, client_id, author_token_hash, author_key, depth, member_sub, member_profile)
  SELECT h.id, h.article_id, (SELECT id FROM parent), (SELECT COALESCE(root_id, id) FROM parent), h.author_name, h.body, h.created_at, NULL, 'visible',
    bump.last_seq, bump.last_seq, h.client_id, h.author_token_hash, h.author_key, COALESCE((SELECT depth + 1 FROM parent), 0), h.member_sub, h.member_profile
  FROM h, bump
  RETURNING ${COMMENT_COLUMNS}`;

const REJECT_SQL = 'DELETE FROM held_comments WHERE id = $1';
const HELD_LIST_SQL = `SELECT ${HELD_COLUMNS} FROM held_comments ORDER BY created_at ASC, id ASC LIMIT $1`;
const VISIBLE_BY_SQL = `SELECT COUNT(*)::int AS n FROM (SELECT 1 FROM comments WHERE author_key = $1 AND status = 'visible' LIMIT $2) v`;
const HELD_GET_SQL = `SELECT ${HELD_COLUMNS} FROM held_comments WHERE id = $1`;
const RECORD_SQL = `SELECT ${COMMENT_COLUMNS}, author_token_hash FROM comments WHERE id = $1`;
const READER_LIKES_SQL = `
  SELECT r.comment_id FROM reactions r JOIN comments c ON c.id = r.comment_id
  WHERE r.reader_id = $1 AND c.article_id = $2 ORDER BY c.created_seq ASC`;
const UPSERT_BAN_SQL = `
  INSERT INTO bans (author_key, author_name, reason, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (author_key) DO UPDATE SET author_name = excluded.author_name, reason = excluded.reason,
    created_at = excluded.created_at, expires_at = excluded.expires_at`;
const BANS_SQL = `
  SELECT author_key, author_name, reason, created_at, expires_at FROM bans
  WHERE expires_at IS NULL OR expires_at > $1 ORDER BY created_at DESC, author_key`;
const DELETE_BAN_SQL = 'DELETE FROM bans WHERE author_key = $1';
const KEEP_SECRET_SQL =
  'INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING';
const SECRET_SQL = 'SELECT value FROM secrets WHERE name = $1';
const SETTINGS_SQL = 'SELECT locked, premoderated FROM article_settings WHERE article_id = $1';
const UPSERT_SETTINGS_SQL = `
  INSERT INTO article_settings AS s (article_id, locked, premoderated) VALUES ($1, COALESCE($2::int, 0), COALESCE($3::int, 0))
  ON CONFLICT (article_id) DO UPDATE SET locked = COALESCE($2::int, s.locked), premoderated = COALESCE($3::int, s.premoderated)
  RETURNING locked, premoderated`;
const FEED_SQL = `SELECT ${COMMENT_COLUMNS} FROM comments ORDER BY created_at DESC, created_seq DESC LIMIT $1`;
const ARTICLE_FEED_SQL = `SELECT ${COMMENT_COLUMNS} FROM comments WHERE article_id = $1 ORDER BY created_at DESC, created_seq DESC LIMIT $2`;

/**
 * The head and the changes in one statement, so one snapshot: because seq order is commit order
 * (see CREATE_SQL), a snapshot holds exactly the seqs 1..last_seq, and a reader never sees seq N+1
 * without N. At least one row comes back; with no changes its comment columns are NULL.
 */
const CHANGES_SQL = `
  SELECT h.last_seq AS head_seq, ${prefixed('c')}
  FROM (SELECT COALESCE((SELECT last_seq FROM articles WHERE article_id = $1), 0) AS last_seq) h
  LEFT JOIN LATERAL (
    SELECT ${COMMENT_COLUMNS} FROM comments WHERE article_id = $1 AND seq > $2::bigint ORDER BY seq ASC LIMIT $3
  ) c ON true
  ORDER BY c.seq ASC`;

const LAST_SEQ_SQL = 'SELECT last_seq FROM articles WHERE article_id = $1';
const GET_SQL = `SELECT ${COMMENT_COLUMNS} FROM comments WHERE id = $1`;
const COUNTS_SQL = `
  SELECT article_id, COUNT(*)::int AS n FROM comments
  WHERE status = 'visible' AND article_id = ANY($1::text[])
  GROUP BY article_id`;
const TOPS_NEWEST_SQL = `
  SELECT ${COMMENT_COLUMNS} FROM comments
  WHERE article_id = $1 AND parent_id IS NULL AND created_seq < $2::bigint
  ORDER BY created_seq DESC LIMIT $3`;
const TOPS_OLDEST_SQL = `
  SELECT ${COMMENT_COLUMNS} FROM comments
  WHERE article_id = $1 AND parent_id IS NULL AND created_seq > $2::bigint
  ORDER BY created_seq ASC LIMIT $3`;
const TOPS_LIKED_SQL = `
  SELECT ${COMMENT_COLUMNS} FROM comments
  WHERE article_id = $1 AND parent_id IS NULL
  ORDER BY likes DESC, created_seq DESC LIMIT $2 OFFSET $3`;
/**
 * The first replies of each listed thread in one statement ($2 the tops' ids, $3 replies per thread),
 * each thread read from comments_replies_idx by its created_seq.
 */
const THREAD_REPLIES_SQL = `
  SELECT r.* FROM unnest($2::text[]) AS t(id)
  CROSS JOIN LATERAL (
    SELECT ${COMMENT_COLUMNS} FROM comments
    WHERE article_id = $1 AND root_id = t.id ORDER BY created_seq ASC LIMIT $3
  ) r`;
const THREAD_COUNTS_SQL = `
  SELECT root_id, COUNT(*)::int AS n FROM comments WHERE article_id = $1 AND root_id = ANY($2::text[]) GROUP BY root_id`;
const TOP_SQL = 'SELECT id FROM comments WHERE article_id = $1 AND id = $2 AND parent_id IS NULL';
const REPLIES_AFTER_SQL = `
  SELECT ${COMMENT_COLUMNS} FROM comments
  WHERE article_id = $1 AND root_id = $2 AND created_seq > $3::bigint ORDER BY created_seq ASC LIMIT $4`;
const REPLIES_COUNT_SQL =
  'SELECT COUNT(*)::int AS n FROM comments WHERE article_id = $1 AND root_id = $2 AND created_seq > $3::bigint';

/**
 * An import batch locks the article's row first (taking or creating it, and raising its last_seq for a
 * native restore), so seqs are taken under the same lock posts take; the batch's rows are then written
 * with one statement per table from a JSON array.
 */
const IMPORT_LOCK_SQL = `
  INSERT INTO articles AS a (article_id, last_seq) VALUES ($1, $2)
  ON CONFLICT (article_id) DO UPDATE SET last_seq = GREATEST(a.last_seq, EXCLUDED.last_seq)
  RETURNING last_seq`;
const IMPORT_EXISTING_SQL = `
  SELECT id FROM comments WHERE id = ANY($1::text[]) UNION ALL SELECT id FROM held_comments WHERE id = ANY($1::text[])`;
const IMPORT_PARENTS_SQL = 'SELECT id, root_id, depth FROM comments WHERE article_id = $1 AND id = ANY($2::text[])';
const IMPORT_SEQS_TAKEN_SQL = 'SELECT seq FROM comments WHERE article_id = $1 AND seq = ANY($2::int[])';
const IMPORT_COMMENTS_SQL = `
  INSERT INTO comments
    (id, article_id, parent_id, root_id, author_name, body, created_at, edited_at, status, seq, created_seq,
     client_id, author_token_hash, author_key, likes, removed_by, original_body, depth, member_sub, member_profile)
  SELECT id, article_id, parent_id, root_id, author_name, body, created_at, edited_at, status, seq, created_seq,
    NULL, '${NO_TOKEN_HASH}', author_key, likes, removed_by, original_body, depth, member_sub, member_profile
  FROM jsonb_to_recordset($1::jsonb) AS x(id text, article_id text, parent_id text, root_id text, author_name text,
    body text, created_at text, edited_at text, status text, seq int, created_seq int, author_key text, likes int,
    removed_by text, original_body text, depth int, member_sub text, member_profile text)`;
const IMPORT_HELD_SQL = `
  INSERT INTO held_comments (id, article_id, parent_id, author_name, body, created_at, client_id, author_token_hash, author_key, member_sub, member_profile)
  SELECT id, article_id, parent_id, author_name, body, created_at, NULL, '${NO_TOKEN_HASH}', author_key, member_sub, member_profile
  FROM jsonb_to_recordset($1::jsonb) AS x(id text, article_id text, parent_id text, author_name text, body text,
    created_at text, author_key text, member_sub text, member_profile text)`;
const IMPORT_SOURCES_SQL = `
  INSERT INTO import_sources (source_format, source_id, comment_id)
  SELECT source_format, source_id, comment_id FROM jsonb_to_recordset($1::jsonb) AS x(source_format text, source_id text, comment_id text)
  ON CONFLICT DO NOTHING`;
const SET_LAST_SEQ_SQL = 'UPDATE articles SET last_seq = $2 WHERE article_id = $1';
const REORDER_SQL = `
  UPDATE comments c SET created_seq = o.n
  FROM (SELECT id, row_number() OVER (ORDER BY created_at, created_seq, id) AS n FROM comments WHERE article_id = $1) o
  WHERE c.id = o.id AND c.created_seq <> o.n`;
/**
 * A comment's import source (at most one: imported ids derive from format and source id), looked up by
 * index for each exported row. A plain LEFT JOIN let the planner hash-join the whole import_sources
 * table for every page of every article (a bulk import leaves its statistics stale): exporting 98,000
 * imported comments took 76 s on PostgreSQL against 3 s on SQLite.
 */
const SOURCE_OF = (alias: string) =>
  `SELECT source_format, source_id FROM import_sources WHERE comment_id = ${alias}.id LIMIT 1`;
const EXPORT_COMMENTS_SQL = `
  SELECT ${prefixed('c')}, ${EXPORT_SOURCE_COLUMNS} FROM comments c
  LEFT JOIN LATERAL (${SOURCE_OF('c')}) s ON true
  WHERE c.article_id = $1 AND c.created_seq > $2 ORDER BY c.created_seq LIMIT $3`;
const EXPORT_HELD_SQL = `
  SELECT h.id, h.article_id, h.parent_id, h.author_name, h.body, h.created_at, h.author_key, h.member_sub, h.member_profile,
    ${EXPORT_SOURCE_COLUMNS}
  FROM held_comments h LEFT JOIN LATERAL (${SOURCE_OF('h')}) s ON true
  WHERE (h.created_at, h.id) > ($1, $2) ORDER BY h.created_at, h.id LIMIT $3`;
const PUT_JOB_SQL = `
  INSERT INTO import_jobs (id, updated_at, data) VALUES ($1, $2, $3)
  ON CONFLICT (id) DO UPDATE SET updated_at = EXCLUDED.updated_at, data = EXCLUDED.data`;
const OUTBOX_INSERT_SQL = `
  INSERT INTO outbox (id, kind, target, type, payload, created_at, status, next_at)
  VALUES ($1, $2, $3, $4, $5, $6, 'pending', $6)`;
/**
 * $1 now, $2 lease end, $3 limit, $4 claim token. Rows another claimer holds locked are skipped, and a
 * claimed row is not due again before $2: two claimers never hold one row at once.
 */
const OUTBOX_CLAIM_SQL = `
  UPDATE outbox SET claim = $4, next_at = $2
  WHERE id IN (
    SELECT id FROM outbox WHERE status = 'pending' AND next_at <= $1
    ORDER BY next_at, id LIMIT $3 FOR UPDATE SKIP LOCKED
  )
  RETURNING id, kind, target, type, payload, created_at, attempts`;
/**
 * Settles a claimed row and records the attempt, in one statement; nothing when the claim is not the
 * row's any more. $1 id, $2 claim, $3 status after, $4 next_at after, $5 settled_at, $6 at, $7 outcome,
 * $8 HTTP status, $9 error.
 */
const OUTBOX_SETTLE_SQL = `
  WITH settled AS (
    UPDATE outbox SET attempts = attempts + 1, status = $3, next_at = $4, settled_at = $5, claim = NULL
    WHERE id = $1 AND claim = $2 AND status = 'pending'
    RETURNING id, target, type, attempts
  )
  INSERT INTO outbox_attempts (outbox_id, target, type, attempt, at, outcome, status, error)
  SELECT id, target, type, attempts, $6, $7, $8, $9 FROM settled
  RETURNING outbox_id`;
const OUTBOX_STATS_SQL = `
  SELECT (SELECT COUNT(*)::int FROM outbox WHERE status = 'pending') AS queued,
         (SELECT COUNT(*)::int FROM outbox WHERE status = 'failed') AS failed,
         (SELECT MIN(created_at) FROM outbox WHERE status = 'pending') AS oldest`;

/** Tries of an import batch that lost a race on a comment id to a concurrent import (the retry finds it stored). */
const IMPORT_ATTEMPTS = 3;

/**
 * The scale-out CommentStore: PostgreSQL through a pg Pool, shared by any number of instances.
 *
 * Invariants (on top of the CommentStore port):
 * - `create`, edits, removals, restores and approvals are single statements (see CREATE_SQL,
 *   changeSql, APPROVE_SQL), likes a short transaction; each holds the article's row lock from taking
 *   its seq to commit, so per article seq order is commit order, and every snapshot holds a gapless
 *   prefix 1..N of the article's seqs.
 * - Reads that combine several queries run in one snapshot (a single statement, or a
 *   REPEATABLE READ READ ONLY transaction for `page`).
 * - Every wait is bounded: getting a connection by `connectTimeoutMs`, a statement by
 *   `statementTimeoutMs` (server) and `queryTimeoutMs` (client). Failures that mean the database
 *   is unreachable or overloaded surface as StoreUnavailableError; an idle connection's error is
 *   logged and the connection dropped, never thrown.
 * - Migrations run at open under a transaction-scoped advisory lock, so instances starting
 *   together apply each one exactly once.
 */
export class PostgresCommentStore implements CommentStore {
  readonly #pool: Pool;
  #closed = false;
  #closing: Promise<void> | null = null;

  private constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** Connects, applies pending migrations and returns the store; an unreachable database rejects with StoreUnavailableError. */
  static async open(options: PostgresStoreOptions): Promise<PostgresCommentStore> {
    if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema))
      throw new Error(`Invalid schema name ${JSON.stringify(options.schema)}`);
    const statementTimeout = options.statementTimeoutMs ?? 3000;
    const config: PoolConfig = {
      connectionString: options.connectionString,
      max: options.poolMax ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
      statement_timeout: statementTimeout,
      query_timeout: options.queryTimeoutMs ?? statementTimeout + 500,
      // A connection left inside a transaction (a crashed request) must not hold row locks for long.
      idle_in_transaction_session_timeout: 10_000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: options.applicationName ?? 'live-comments',
      ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
    };
    const pool = new Pool(config);
    const logger = options.logger;
    let suppressed = 0;
    let lastLog = Number.NEGATIVE_INFINITY;
    // An idle connection that breaks (server restart, network) is removed by the pool; without this
    // listener the 'error' event would crash the process.
    pool.on('error', (err) => {
      const now = Date.now();
      if (now - lastLog < 5000) {
        suppressed += 1;
        return;
      }
      lastLog = now;
      logger?.warn({ err, suppressed }, 'idle PostgreSQL connection failed; it was dropped from the pool');
      suppressed = 0;
    });
    const store = new PostgresCommentStore(pool);
    try {
      await store.#migrate();
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw toStoreError(error);
    }
    return store;
  }

  async create(input: NewCommentRecord): Promise<CreateResult> {
    const result = await this.submit(input, { hold: false, gate: false });
    if (result.kind === 'held') throw new ClientIdHeldError(result.held);
    if (result.kind === 'refused') throw new Error('An ungated submit was refused');
    return { comment: toPublicComment(result.comment), created: result.created };
  }

  async submit(input: NewCommentRecord, options: SubmitOptions): Promise<SubmitResult> {
    const { notify, subscribe, replyMail } = options;
    const mayQueueReplyMails = replyMail !== undefined && input.parentId !== null;
    const gate = options.gate ?? true;
    const params = [
      input.id,
      input.articleId,
      input.parentId,
      input.authorName,
      input.body,
      input.createdAt,
      input.clientId,
      input.authorTokenHash,
      input.authorKey ?? null,
      gate,
      input.memberSub ?? null,
      input.memberProfile ?? null,
    ];
    return this.#guard(async () => {
      // A held clientId that is gone by the time it is looked up (rejected meanwhile) makes the post new again: decide afresh.
      for (let attempt = 1; ; attempt++) {
        // With receivers to notify or a subscription, the post and its outbox rows commit together (a
        // transaction); without, the post stays one statement.
        const outcome =
          (notify === undefined || notify.length === 0) && subscribe === undefined && !mayQueueReplyMails
            ? await this.#submitOnce(input, params, options.hold, this.#pool)
            : await this.#inTransaction('BEGIN', async (client) => {
                const result = await this.#submitOnce(input, params, options.hold, client);
                if (result === 'again' || !('created' in result) || !result.created) return result;
                if (result.kind === 'held') await enqueue(client, notify, 'comment.held', { held: result.held });
                else await enqueue(client, notify, 'comment.created', { comment: result.comment });
                if (subscribe !== undefined) await writeSubscription(client, subscribe);
                if (result.kind === 'stored') await queueReplyMails(client, result.comment, replyMail);
                return result;
              });
        if (outcome !== 'again') return outcome;
        if (attempt === 3) throw new Error(`clientId ${input.clientId} kept changing tables while posting`);
      }
    });
  }

  /** One round of `submit`: store (or hold) in one statement, and when nothing was written, say why from its snapshot. */
  async #submitOnce(
    input: NewCommentRecord,
    params: unknown[],
    hold: boolean,
    db: Pool | PoolClient,
  ): Promise<SubmitResult | 'again'> {
    let gate: GateRow | null = null;
    try {
      if (!hold) {
        const row = (await db.query<GateRow & { seq: number | null; parent_id: string | null }>(CREATE_SQL, params))
          .rows[0];
        if (!row) throw new Error('Comment insert returned no row');
        if (row.seq !== null) return this.#created(input, row.seq, row.parent_id);
        gate = row;
      }
      // Held because the caller says so, or because the article was pre-moderated (and nothing else stopped it).
      if (gate === null || (gate.premoderated && !blocked(gate))) {
        const row = (await db.query<GateRow & Partial<HeldRow>>(HOLD_SQL, [...params, input.holdReason ?? null]))
          .rows[0];
        if (!row) throw new Error('Held insert returned no row');
        if (row.id != null)
          return { kind: 'held', held: toHeld(row as HeldRow), created: true, authorTokenHash: input.authorTokenHash };
        gate = row;
      }
    } catch (error) {
      const constraint = error instanceof DatabaseError && error.code === '23505' ? error.constraint : undefined;
      if (input.clientId === null || (constraint !== CLIENT_ID_CONSTRAINT && constraint !== HELD_CLIENT_ID_CONSTRAINT))
        throw error;
      // The same clientId committed meanwhile (a concurrent retry): answer with that post.
      return (await this.#findDuplicate(input.articleId, input.clientId)) ?? 'again';
    }
    // Nothing written. A retry of an accepted post is never refused, so look for it first.
    if (input.clientId !== null) {
      const duplicate = await this.#findDuplicate(input.articleId, input.clientId);
      if (duplicate) return duplicate;
      if (gate.duplicate) return 'again';
    }
    if (gate.banned) return { kind: 'refused', reason: 'banned' };
    if (gate.locked) return { kind: 'refused', reason: 'locked' };
    if (input.parentId !== null && !gate.parent_found) throw new ParentNotFoundError(input.parentId);
    throw new Error('Posting statement wrote nothing and gave no reason');
  }

  /** The stored post; `parentId` is the parent it was attached to (see attachTo). */
  #created(input: NewCommentRecord, seq: number, parentId: string | null): SubmitResult {
    return {
      kind: 'stored',
      comment: storedComment(input, parentId, seq),
      created: true,
      authorTokenHash: input.authorTokenHash,
    };
  }

  async get(id: string): Promise<Comment | null> {
    return this.#guard(async () => {
      const row = (await this.#pool.query<CommentRow>(GET_SQL, [id])).rows[0];
      return row ? toComment(row) : null;
    });
  }

  async getRecord(id: string): Promise<CommentRecord | null> {
    return this.#guard(async () => {
      const row = (await this.#pool.query<CommentRow & { author_token_hash: string }>(RECORD_SQL, [id])).rows[0];
      return row ? { comment: toModerated(row), authorTokenHash: row.author_token_hash } : null;
    });
  }

  async edit(id: string, body: string, editedAt: string, notify?: NotifyTargets): Promise<ChangeResult | null> {
    return this.#change(id, EDIT_SQL, [id, body, editedAt], 'comment.updated', notify);
  }

  async remove(id: string, by: RemovedBy, notify?: NotifyTargets): Promise<ChangeResult | null> {
    const result = await this.#change(id, REMOVE_SQL, [id, by], 'comment.removed', notify);
    // Removing a removed comment (one reports hid, say) still settles its review.
    if (result && !result.changed) await this.closeReports(id, false);
    if (result && !result.changed && by === 'author' && result.comment.originalBody !== null) {
      await this.#guard(() => this.#pool.query(ERASE_KEPT_BODY_SQL, [id]));
      return { comment: { ...result.comment, originalBody: null }, changed: false };
    }
    return result;
  }

  async restore(id: string, notify?: NotifyTargets): Promise<ChangeResult | null> {
    return this.#change(id, RESTORE_SQL, [id], 'comment.updated', notify);
  }

  async setLike(commentId: string, readerId: string, liked: boolean): Promise<ChangeResult | null> {
    return this.#guard(() =>
      this.#inTransaction('BEGIN', async (client) => {
        const locked = (await client.query<{ article_id: string; status: string }>(LIKE_LOCK_SQL, [commentId])).rows[0];
        if (locked === undefined) return null;
        const articleId = locked.article_id;
        // The row is locked and read after any wait: a like racing a removal never lands on the removed comment.
        const written =
          liked && locked.status !== 'visible'
            ? 0
            : ((await client.query(liked ? LIKE_INSERT_SQL : LIKE_DELETE_SQL, [commentId, readerId])).rowCount ?? 0);
        if (written === 0) {
          const row = (await client.query<CommentRow>(GET_SQL, [commentId])).rows[0];
          if (!row) throw new Error(`Comment ${commentId} vanished while locked`);
          return { comment: toModerated(row), changed: false };
        }
        const seq = (await client.query<{ last_seq: number }>(BUMP_SQL, [articleId])).rows[0]?.last_seq;
        if (seq === undefined) throw new Error('Seq upsert returned no row');
        const row = (await client.query<CommentRow>(LIKE_UPDATE_SQL, [commentId, liked ? 1 : -1, seq])).rows[0];
        if (!row) throw new Error(`Comment ${commentId} vanished while locked`);
        return { comment: toModerated(row), changed: true };
      }),
    );
  }

  async readerLikes(articleId: ArticleId, readerId: string): Promise<string[]> {
    return this.#guard(async () =>
      (await this.#pool.query<{ comment_id: string }>(READER_LIKES_SQL, [readerId, articleId])).rows.map(
        (row) => row.comment_id,
      ),
    );
  }

  async report(input: ReportRecord, threshold: number, notify?: NotifyTargets): Promise<ReportOutcome | null> {
    return this.#guard(() =>
      this.#inTransaction('BEGIN', async (client) => {
        const row = (await client.query<CommentRow>(REPORT_LOCK_SQL, [input.commentId])).rows[0];
        if (row === undefined) return null;
        // The row is locked and read after any wait: a report racing a removal or another report sees it.
        if (row.status !== 'visible') return { comment: toModerated(row), created: false, hidden: false };
        const previous = (await client.query<ReviewRow>(REVIEW_GET_SQL, [input.commentId])).rows[0];
        const inserted = (
          await client.query(REPORT_INSERT_SQL, [
            input.commentId,
            input.readerId,
            input.reason,
            input.note,
            roundOf(previous),
            input.createdAt,
          ])
        ).rowCount;
        if (!inserted) return { comment: toModerated(row), created: false, hidden: false };
        const { review, hide } = nextReview(previous, input, row.article_id, threshold);
        await client.query(REVIEW_UPSERT_SQL, reviewValues(review));
        let comment = toModerated(row);
        if (hide) {
          const seq = (await client.query<{ last_seq: number }>(BUMP_SQL, [row.article_id])).rows[0]?.last_seq;
          if (seq === undefined) throw new Error('Seq upsert returned no row');
          const hidden = (await client.query<CommentRow>(REPORT_HIDE_SQL, [input.commentId, seq])).rows[0];
          if (!hidden) throw new Error(`Comment ${input.commentId} vanished while locked`);
          comment = toModerated(hidden);
          await enqueue(client, notify, 'comment.removed', { comment });
        }
        await enqueue(client, notify, 'comment.reported', reportedChange(comment, input, review));
        return { comment, created: true, hidden: hide };
      }),
    );
  }

  async reportedComments(limit: number): Promise<ReportedComment[]> {
    return this.#guard(() =>
      this.#inSnapshot(async (client) => {
        const reviews = (await client.query<ReviewRow>(REVIEW_QUEUE_SQL, [limit])).rows;
        const entries: ReportedComment[] = [];
        for (const review of reviews) {
          const entry = await this.#reportedEntry(client, review);
          if (entry) entries.push(entry);
        }
        return entries;
      }),
    );
  }

  async reportedComment(id: string): Promise<ReportedComment | null> {
    return this.#guard(() =>
      this.#inSnapshot(async (client) => {
        const review = (await client.query<ReviewRow>(REVIEW_GET_SQL, [id])).rows[0];
        return review ? this.#reportedEntry(client, review) : null;
      }),
    );
  }

  async closeReports(id: string, kept: boolean): Promise<boolean> {
    return this.#guard(async () => ((await this.#pool.query(CLOSE_REVIEW_SQL, [id, kept ? 1 : 0])).rowCount ?? 0) > 0);
  }

  async #reportedEntry(client: PoolClient, review: ReviewRow): Promise<ReportedComment | null> {
    const row = (await client.query<CommentRow>(GET_SQL, [review.comment_id])).rows[0];
    if (!row) return null;
    const reports = (await client.query<ReportReasonRow>(REPORT_REASONS_SQL, [review.comment_id, review.round])).rows;
    return reportedComment(review, toModerated(row), reports);
  }

  async heldList(limit: number): Promise<ModeratedHeld[]> {
    return this.#guard(async () => (await this.#pool.query<HeldRow>(HELD_LIST_SQL, [limit])).rows.map(toHeld));
  }

  async getHeld(id: string): Promise<ModeratedHeld | null> {
    return this.#guard(async () => {
      const row = (await this.#pool.query<HeldRow>(HELD_GET_SQL, [id])).rows[0];
      return row ? toHeld(row) : null;
    });
  }

  async moderationSettings(): Promise<StoredModerationSettings | null> {
    return this.#guard(async () => {
      const row = (
        await this.#pool.query<{ version: number; settings: string; updated_at: string }>(
          'SELECT version, settings, updated_at FROM moderation_settings WHERE id = 1',
        )
      ).rows[0];
      return row ? toModerationSettings(row) : null;
    });
  }

  async saveModerationSettings(settings: string, updatedAt: string): Promise<number> {
    return this.#guard(async () => {
      const row = (
        await this.#pool.query<{ version: number }>(
          `INSERT INTO moderation_settings (id, version, settings, updated_at) VALUES (1, 1, $1, $2)
       ON CONFLICT (id) DO UPDATE SET version = moderation_settings.version + 1, settings = excluded.settings,
       updated_at = excluded.updated_at RETURNING version`,
          [settings, updatedAt],
        )
      ).rows[0];
      if (!row) throw new Error('Saving the moderation settings returned no row');
      return row.version;
    });
  }

  async visibleCommentsBy(authorKey: string, atLeast: number): Promise<number> {
    return this.#guard(
      async () => (await this.#pool.query<{ n: number }>(VISIBLE_BY_SQL, [authorKey, atLeast])).rows[0]?.n ?? 0,
    );
  }

  async approve(id: string, notify?: NotifyTargets, replyMail?: ReplyMailOptions): Promise<ModeratedComment | null> {
    if ((notify !== undefined && notify.length > 0) || replyMail !== undefined)
      return this.#guard(() =>
        this.#inTransaction('BEGIN', async (client) => {
          const row = (await client.query<CommentRow>(APPROVE_SQL, [id])).rows[0];
          if (!row) return null;
          const comment = toModerated(row);
          await enqueue(client, notify, 'comment.created', { comment });
          await queueReplyMails(client, comment, replyMail);
          return comment;
        }),
      );
    return this.#guard(async () => {
      const row = (await this.#pool.query<CommentRow>(APPROVE_SQL, [id])).rows[0];
      return row ? toModerated(row) : null;
    });
  }

  async reject(id: string): Promise<boolean> {
    return this.#guard(async () => ((await this.#pool.query(REJECT_SQL, [id])).rowCount ?? 0) > 0);
  }

  async addBan(ban: Ban): Promise<Ban> {
    return this.#guard(async () => {
      await this.#pool.query(UPSERT_BAN_SQL, [ban.authorKey, ban.authorName, ban.reason, ban.createdAt, ban.expiresAt]);
      return { ...ban };
    });
  }

  async bans(now: string): Promise<Ban[]> {
    return this.#guard(async () => (await this.#pool.query<BanRow>(BANS_SQL, [now])).rows.map(toBan));
  }

  async removeBan(authorKey: string): Promise<boolean> {
    return this.#guard(async () => ((await this.#pool.query(DELETE_BAN_SQL, [authorKey])).rowCount ?? 0) > 0);
  }

  async articleSettings(articleId: ArticleId): Promise<ArticleSettings> {
    return this.#guard(async () => {
      const row = (await this.#pool.query<{ locked: number; premoderated: number }>(SETTINGS_SQL, [articleId])).rows[0];
      return toArticleSettings(row);
    });
  }

  async setArticleSettings(articleId: ArticleId, patch: Partial<ArticleSettings>): Promise<ArticleSettings> {
    return this.#guard(async () => {
      const row = (
        await this.#pool.query<{ locked: number; premoderated: number }>(UPSERT_SETTINGS_SQL, [
          articleId,
          toFlag(patch.locked),
          toFlag(patch.premoderated),
        ])
      ).rows[0];
      return toArticleSettings(row);
    });
  }

  async feed(options: { limit: number; articleId?: ArticleId }): Promise<ModeratedComment[]> {
    return this.#guard(async () => {
      const result =
        options.articleId === undefined
          ? await this.#pool.query<CommentRow>(FEED_SQL, [options.limit])
          : await this.#pool.query<CommentRow>(ARTICLE_FEED_SQL, [options.articleId, options.limit]);
      return result.rows.map(toModerated);
    });
  }

  /** Same paging rules as the SQLite store: an exclusive created_seq cursor (so walking `next` visits each thread once), an offset for `top`. */
  async page(articleId: ArticleId, request: PageRequest): Promise<PageResult> {
    return this.#guard(() =>
      this.#inSnapshot(async (client) => {
        const lastSeq = (await client.query<{ last_seq: number }>(LAST_SEQ_SQL, [articleId])).rows[0]?.last_seq ?? 0;
        const start = topsStart(request);
        const read =
          request.order === 'top'
            ? client.query<CommentRow>(TOPS_LIKED_SQL, [articleId, request.limit + 1, start])
            : client.query<CommentRow>(request.order === 'newest' ? TOPS_NEWEST_SQL : TOPS_OLDEST_SQL, [
                articleId,
                start,
                request.limit + 1,
              ]);
        const { tops, next } = pageTops((await read).rows, request, start);
        if (tops.length === 0) return { lastSeq, comments: [], next, moreReplies: {} };
        const ids = tops.map((top) => top.id);
        const replies = (await client.query<CommentRow>(THREAD_REPLIES_SQL, [articleId, ids, LIMITS.repliesPerThread]))
          .rows;
        const counts = (await client.query<{ root_id: string; n: number }>(THREAD_COUNTS_SQL, [articleId, ids])).rows;
        const byThread = new Map<string, CommentRow[]>();
        for (const reply of replies) {
          const thread = byThread.get(reply.root_id ?? '');
          if (thread) thread.push(reply);
          else byThread.set(reply.root_id ?? '', [reply]);
        }
        const total = new Map(counts.map((row) => [row.root_id, row.n]));
        const page = assemblePage(
          tops,
          (topId, limit) => (byThread.get(topId) ?? []).slice(0, limit),
          (topId) => total.get(topId) ?? 0,
        );
        return { lastSeq, comments: page.comments, next, moreReplies: page.moreReplies };
      }),
    );
  }

  async replies(articleId: ArticleId, rootId: string, request: RepliesRequest): Promise<RepliesResult | null> {
    return this.#guard(() =>
      this.#inSnapshot(async (client) => {
        if ((await client.query(TOP_SQL, [articleId, rootId])).rows.length === 0) return null;
        const lastSeq = (await client.query<{ last_seq: number }>(LAST_SEQ_SQL, [articleId])).rows[0]?.last_seq ?? 0;
        const after = request.after === null ? 0 : Number(request.after);
        const rows = (await client.query<CommentRow>(REPLIES_AFTER_SQL, [articleId, rootId, after, request.limit]))
          .rows;
        const last = rows.at(-1);
        const count =
          rows.length < request.limit || !last
            ? 0
            : ((await client.query<{ n: number }>(REPLIES_COUNT_SQL, [articleId, rootId, last.created_seq])).rows[0]
                ?.n ?? 0);
        return { lastSeq, comments: rows.map(toComment), more: moreAfter(last, count, after) };
      }),
    );
  }

  async changesSince(articleId: ArticleId, since: number, limit: number): Promise<ChangePage> {
    return this.#guard(async () => {
      const rows = (
        await this.#pool.query<{ head_seq: number } & { [K in keyof CommentRow]: CommentRow[K] | null }>(CHANGES_SQL, [
          articleId,
          since,
          limit + 1,
        ])
      ).rows;
      const lastSeq = rows[0]?.head_seq ?? 0;
      const comments = rows.filter((row): row is { head_seq: number } & CommentRow => row.id !== null);
      return changePage(lastSeq, comments, limit);
    });
  }

  async lastSeq(articleId: ArticleId): Promise<number> {
    return this.#guard(
      async () => (await this.#pool.query<{ last_seq: number }>(LAST_SEQ_SQL, [articleId])).rows[0]?.last_seq ?? 0,
    );
  }

  async counts(articleIds: readonly ArticleId[]): Promise<Record<ArticleId, number>> {
    return this.#guard(async () => {
      const unique = [...new Set(articleIds)];
      const rows =
        unique.length === 0
          ? []
          : (await this.#pool.query<{ article_id: string; n: number }>(COUNTS_SQL, [unique])).rows;
      return countsOf(unique, rows);
    });
  }

  async importComments(
    articleId: ArticleId,
    records: readonly ImportedCommentRecord[],
    options: { keepSeq?: { lastSeq: number } } = {},
  ): Promise<ImportBatchResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#guard(() =>
          this.#inTransaction('BEGIN', (client) => importBatch(client, articleId, records, options.keepSeq)),
        );
      } catch (error) {
        const lostRace = error instanceof DatabaseError && error.code === '23505';
        if (!lostRace || attempt >= IMPORT_ATTEMPTS) throw error;
      }
    }
  }

  async reorderByTime(articleId: ArticleId): Promise<void> {
    await this.#guard(() =>
      this.#inTransaction('BEGIN', async (client) => {
        // Renumbering a long thread touches every row of it: allow more than one post's statement budget.
        await client.query("SET LOCAL statement_timeout = '60s'");
        await client.query(longQuery(REORDER_SQL, [articleId]));
      }),
    );
  }

  async existingIds(ids: readonly string[]): Promise<Set<string>> {
    return this.#guard(
      async () =>
        new Set((await this.#pool.query<{ id: string }>(IMPORT_EXISTING_SQL, [ids])).rows.map((row) => row.id)),
    );
  }

  async exportArticles(): Promise<NativeArticle[]> {
    return this.#guard(async () =>
      (await this.#pool.query<ExportArticleRow>(EXPORT_ARTICLES_SQL)).rows.map(toNativeArticle),
    );
  }

  async exportComments(articleId: ArticleId, afterCreatedSeq: number, limit: number): Promise<NativeComment[]> {
    return this.#guard(async () =>
      (await this.#pool.query<ExportRow>(EXPORT_COMMENTS_SQL, [articleId, afterCreatedSeq, limit])).rows.map(toNative),
    );
  }

  async exportHeld(after: { createdAt: string; id: string } | null, limit: number): Promise<NativeComment[]> {
    return this.#guard(async () =>
      (
        await this.#pool.query<ExportHeldRow>(EXPORT_HELD_SQL, [after?.createdAt ?? '', after?.id ?? '', limit])
      ).rows.map(toNativeHeld),
    );
  }

  async putImportJob(id: string, updatedAt: string, data: string): Promise<void> {
    await this.#guard(() => this.#pool.query(PUT_JOB_SQL, [id, updatedAt, data]));
  }

  async getImportJob(id: string): Promise<string | null> {
    return this.#guard(
      async () =>
        (await this.#pool.query<{ data: string }>('SELECT data FROM import_jobs WHERE id = $1', [id])).rows[0]?.data ??
        null,
    );
  }

  async saveMember(member: MemberRecord, nameKey: string, now: string): Promise<MemberRecord> {
    return this.#guard(async () => {
      // Two statements: the SELECT after the upsert sees a newer profile another instance committed meanwhile.
      await this.#pool.query(MEMBER_SQL.postgres.upsert, memberValues(member, nameKey, now));
      const row = (await this.#pool.query<MemberRow>(MEMBER_SQL.postgres.get, [member.sub])).rows[0];
      if (row === undefined) throw new Error(`Member ${member.sub} was not saved`);
      return toMemberRecord(row);
    });
  }

  async memberNameTaken(nameKey: string): Promise<boolean> {
    return this.#guard(
      async () => ((await this.#pool.query(MEMBER_SQL.postgres.nameTaken, [nameKey])).rowCount ?? 0) > 0,
    );
  }

  async exportMembers(): Promise<MemberRecord[]> {
    return this.#guard(async () =>
      (await this.#pool.query<MemberRow>(MEMBER_SQL.postgres.all)).rows.map(toMemberRecord),
    );
  }

  async getMember(sub: string): Promise<MemberRecord | null> {
    return this.#guard(async () => {
      const row = (await this.#pool.query<MemberRow>(MEMBER_SQL.postgres.get, [sub])).rows[0];
      return row === undefined ? null : toMemberRecord(row);
    });
  }

  async memberComments(sub: string): Promise<{ comments: ModeratedComment[]; held: ModeratedHeld[] }> {
    return this.#guard(async () => {
      const [comments, held] = await Promise.all([
        this.#pool.query<CommentRow>(
          `SELECT ${COMMENT_COLUMNS} FROM comments WHERE member_sub = $1 ORDER BY created_at, id`,
          [sub],
        ),
        this.#pool.query<HeldRow>(
          `SELECT ${HELD_COLUMNS} FROM held_comments WHERE member_sub = $1 ORDER BY created_at, id`,
          [sub],
        ),
      ]);
      return { comments: comments.rows.map(toModerated), held: held.rows.map(toHeld) };
    });
  }

  async eraseMember(sub: string): Promise<void> {
    await this.#guard(() =>
      this.#inTransaction('BEGIN', async (client) => {
        for (const sql of MEMBER_SQL.postgres.erase)
          await client.query(sql, sql.includes('$2') ? [sub, ERASED_NAME] : [sub]);
      }),
    );
  }

  async keepSecret(name: string, candidate: string): Promise<string> {
    return this.#guard(async () => {
      // Two statements, not one: a statement's snapshot would miss a row a concurrent instance committed
      // while this INSERT waited on it. The SELECT after sees it.
      await this.#pool.query(KEEP_SECRET_SQL, [name, candidate, new Date().toISOString()]);
      const value = (await this.#pool.query<{ value: string }>(SECRET_SQL, [name])).rows[0]?.value;
      if (value === undefined) throw new Error(`Secret ${name} was not kept`);
      return value;
    });
  }

  async getSubscription(id: string): Promise<ReplySubscription | null> {
    return this.#guard(async () => {
      const row = (await this.#pool.query<SubscriptionRow>(SUBSCRIPTION_SQL.postgres.get, [id])).rows[0];
      return row ? toSubscription(row) : null;
    });
  }

  async confirmSubscription(id: string, now: string): Promise<ReplySubscription | null> {
    return this.#guard(async () => {
      // Two statements: the SELECT after the UPDATE sees a confirmation a concurrent click committed.
      await this.#pool.query(SUBSCRIPTION_SQL.postgres.confirm, [now, id, now]);
      const row = (await this.#pool.query<SubscriptionRow>(SUBSCRIPTION_SQL.postgres.get, [id])).rows[0];
      return row?.status === 'confirmed' ? toSubscription(row) : null;
    });
  }

  async unsubscribe(id: string): Promise<ReplySubscription | null> {
    return this.#guard(() =>
      this.#inTransaction('BEGIN', async (client) => {
        const row = (await client.query<SubscriptionRow>(`${SUBSCRIPTION_SQL.postgres.get} FOR UPDATE`, [id])).rows[0];
        if (!row) return null;
        await client.query(SUBSCRIPTION_SQL.postgres.deleteMail, [id]);
        await client.query(SUBSCRIPTION_SQL.postgres.delete, [id]);
        return toSubscription(row);
      }),
    );
  }

  async newReplies(
    subscription: { articleId: string; commentId: string },
    afterSeq: number,
    limit: number,
  ): Promise<ReplyToMail[]> {
    const { articleId, commentId } = subscription;
    return this.#guard(async () =>
      (
        await this.#pool.query<ReplyRow>(SUBSCRIPTION_SQL.postgres.newReplies, [
          articleId,
          commentId,
          commentId,
          commentId,
          afterSeq,
          limit,
        ])
      ).rows.map(toReplyToMail),
    );
  }

  async markMailed(id: string, seq: number, at: string): Promise<void> {
    await this.#guard(() => this.#pool.query(SUBSCRIPTION_SQL.postgres.markMailed, [seq, at, id, seq]));
  }

  async countMail(addressKey: string, day: string, cap: number): Promise<boolean> {
    return this.#guard(
      async () =>
        ((await this.#pool.query(SUBSCRIPTION_SQL.postgres.countMail, [addressKey, day, cap])).rowCount ?? 0) > 0,
    );
  }

  async pruneSubscriptions(now: string): Promise<number> {
    return this.#guard(async () => {
      await this.#pool.query(SUBSCRIPTION_SQL.postgres.pruneCounts, [now.slice(0, 10)]);
      return (await this.#pool.query(SUBSCRIPTION_SQL.postgres.pruneExpired, [now])).rowCount ?? 0;
    });
  }

  async ping(): Promise<void> {
    await this.#guard(() => this.#pool.query('SELECT 1'));
  }

  async addWebhook(webhook: WebhookRecord): Promise<void> {
    await this.#guard(() =>
      this.#pool.query('INSERT INTO webhooks (id, url, events, secret, created_at) VALUES ($1, $2, $3, $4, $5)', [
        webhook.id,
        webhook.url,
        JSON.stringify(webhook.events),
        webhook.secret,
        webhook.createdAt,
      ]),
    );
  }

  async webhooks(): Promise<WebhookRecord[]> {
    return this.#guard(async () =>
      (
        await this.#pool.query<WebhookRow>(
          'SELECT id, url, events, secret, created_at FROM webhooks ORDER BY created_at, id',
        )
      ).rows.map(toWebhook),
    );
  }

  async removeWebhook(id: string): Promise<boolean> {
    return this.#guard(() =>
      this.#inTransaction('BEGIN', async (client) => {
        await client.query("DELETE FROM outbox WHERE target = $1 AND kind = 'webhook' AND status = 'pending'", [id]);
        return ((await client.query('DELETE FROM webhooks WHERE id = $1', [id])).rowCount ?? 0) > 0;
      }),
    );
  }

  async enqueueOutbox(row: OutboxRow): Promise<boolean> {
    return this.#guard(
      async () =>
        ((
          await this.#pool.query(`${OUTBOX_INSERT_SQL} ON CONFLICT (id) DO NOTHING`, [
            row.id,
            row.kind,
            row.target,
            row.type,
            row.payload,
            row.createdAt,
          ])
        ).rowCount ?? 0) > 0,
    );
  }

  async claimOutbox(now: string, limit: number, leaseMs: number): Promise<OutboxItem[]> {
    const until = leaseEnd(now, leaseMs);
    const claim = newClaim();
    return this.#guard(async () =>
      (await this.#pool.query<OutboxRowData>(OUTBOX_CLAIM_SQL, [now, until, limit, claim])).rows.map((row) =>
        toOutboxItem(row, claim),
      ),
    );
  }

  async settleOutbox(id: string, claim: string, settlement: OutboxSettlement): Promise<boolean> {
    const retry = settlement.outcome === 'retry';
    const params = [
      id,
      claim,
      retry ? 'pending' : settlement.outcome,
      retry ? settlement.nextAt : settlement.at,
      retry ? null : settlement.at,
      settlement.at,
      settlement.outcome,
      settlement.status,
      attemptError(settlement),
    ];
    return this.#guard(async () => ((await this.#pool.query(OUTBOX_SETTLE_SQL, params)).rowCount ?? 0) > 0);
  }

  async outboxAttempts(target: string, limit: number): Promise<OutboxAttemptRecord[]> {
    return this.#guard(async () =>
      (
        await this.#pool.query<AttemptRow>(
          `SELECT outbox_id, type, attempt, at, outcome, status, error FROM outbox_attempts
           WHERE target = $1 ORDER BY at DESC, attempt DESC LIMIT $2`,
          [target, limit],
        )
      ).rows.map(toAttempt),
    );
  }

  async outboxStats(): Promise<OutboxStats> {
    return this.#guard(async () => {
      const row = (await this.#pool.query<StatsRow>(OUTBOX_STATS_SQL)).rows[0];
      return toOutboxStats(row);
    });
  }

  async pruneOutbox(before: string): Promise<number> {
    return this.#guard(() =>
      this.#inTransaction('BEGIN', async (client) => {
        await client.query('DELETE FROM outbox_attempts WHERE at < $1', [before]);
        return (
          (await client.query("DELETE FROM outbox WHERE status <> 'pending' AND settled_at < $1", [before])).rowCount ??
          0
        );
      }),
    );
  }

  /** Connections of the pool right now: open, idle among them, and calls waiting for one. */
  poolStats(): PoolStats {
    return { total: this.#pool.totalCount, idle: this.#pool.idleCount, waiting: this.#pool.waitingCount };
  }

  /** Idempotent; waits for queries in flight. Every later call rejects with StoreUnavailableError. */
  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= this.#pool.end();
    return this.#closing;
  }

  /** The post whose clientId this is, stored or held, with its stored token hash; null when neither table has it. */
  async #findDuplicate(articleId: string, clientId: string): Promise<SubmitResult | null> {
    type WithHash = { author_token_hash: string };
    const stored = (await this.#pool.query<CommentRow & WithHash>(DUPLICATE_SQL, [articleId, clientId])).rows[0];
    if (stored) return repeatedPost(stored, undefined);
    const held = (await this.#pool.query<HeldRow & WithHash>(HELD_DUPLICATE_SQL, [articleId, clientId])).rows[0];
    return repeatedPost(undefined, held);
  }

  /** Runs one of the change statements (see changeSql); when it wrote nothing, reads the comment to tell unknown (null) from unchanged. */
  #change(
    id: string,
    sql: string,
    params: unknown[],
    type: WebhookEvent,
    notify: NotifyTargets | undefined,
  ): Promise<ChangeResult | null> {
    const run = async (db: Pool | PoolClient): Promise<ChangeResult | null> => {
      const row = (await db.query<CommentRow>(sql, params)).rows[0];
      if (row) {
        const comment = toModerated(row);
        if (!(db instanceof Pool)) await enqueue(db, notify, type, { comment });
        return { comment, changed: true };
      }
      const current = (await db.query<CommentRow>(GET_SQL, [id])).rows[0];
      return current ? { comment: toModerated(current), changed: false } : null;
    };
    // With receivers to notify, the change and its outbox rows commit together.
    return this.#guard(() =>
      notify === undefined || notify.length === 0 ? run(this.#pool) : this.#inTransaction('BEGIN', run),
    );
  }

  /** Runs `fn` on one connection inside a read-only REPEATABLE READ transaction: all its queries see one snapshot. */
  #inSnapshot<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.#inTransaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn);
  }

  /** Runs `fn` between `begin` and COMMIT on one checked-out connection; any failure rolls back. */
  async #inTransaction<T>(begin: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let failure: Error | undefined;
    // A checked-out connection that breaks emits 'error' (unhandled, that would crash the process);
    // the query running on it rejects as well, so noting the error is enough.
    const onError = (err: Error): void => {
      failure ??= err;
    };
    client.on('error', onError);
    try {
      await client.query(begin);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      failure ??= error instanceof Error ? error : new Error(String(error));
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.off('error', onError);
      // A connection that failed is discarded rather than reused in an unknown state.
      client.release(failure);
    }
  }

  async #migrate(): Promise<void> {
    await this.#inTransaction('BEGIN', async (client) => {
      // Every statement here may take long (waiting for another instance's migration, building an index
      // on a big table): the server's 60 s decides, not the client's wait for one post's query.
      await client.query(longQuery(`SET LOCAL statement_timeout = '${MIGRATION_STATEMENT_TIMEOUT}'`));
      await client.query(
        longQuery("SELECT pg_advisory_xact_lock(hashtext($1 || COALESCE(current_schema(), '')))", [
          MIGRATION_LOCK_NAMESPACE,
        ]),
      );
      await client.query(
        longQuery(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
        ),
      );
      const current =
        (await client.query<{ v: number }>(longQuery('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations')))
          .rows[0]?.v ?? 0;
      for (const migration of MIGRATIONS) {
        if (migration.version <= current) continue;
        await client.query(longQuery(migration.postgres));
        await client.query(
          longQuery('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [
            migration.version,
            new Date().toISOString(),
          ]),
        );
      }
    });
  }

  /** Runs `fn`, turning failures of the database itself into StoreUnavailableError; other errors pass through. */
  async #guard<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreUnavailableError('PostgreSQL store is closed');
    try {
      return await fn();
    } catch (error) {
      throw toStoreError(error);
    }
  }
}

/** Writes the outbox rows of a change on the connection of its transaction; nothing without targets. */
async function enqueue(
  client: PoolClient,
  notify: NotifyTargets | undefined,
  type: WebhookEvent,
  change: Parameters<typeof outboxRowsFor>[2],
): Promise<void> {
  for (const row of outboxRowsFor(notify, type, change, new Date().toISOString()))
    await client.query(OUTBOX_INSERT_SQL, [row.id, row.kind, row.target, row.type, row.payload, row.createdAt]);
}

/**
 * Queues the e-mails of the subscribers to a reply's parent on the connection of the reply's transaction.
 * The subscriptions are locked (FOR UPDATE), so two replies at once decide one after the other.
 */
async function queueReplyMails(
  client: PoolClient,
  reply: ModeratedComment,
  replyMail: ReplyMailOptions | undefined,
): Promise<void> {
  if (reply.parentId === null || replyMail === undefined) return;
  const now = new Date();
  const subscribers = (
    await client.query<SubscriberRow>(`${SUBSCRIPTION_SQL.postgres.subscribersOf} FOR UPDATE`, [reply.parentId])
  ).rows;
  for (const subscriber of subscribers) {
    if (ownReply(subscriber, reply)) continue;
    const claims = (
      await client.query<{ claim: string | null }>(SUBSCRIPTION_SQL.postgres.pendingMail, [subscriber.id])
    ).rows.map((row) => row.claim);
    const values = replyMailValues(subscriber, claims, now, replyMail);
    if (values !== null) await client.query(SUBSCRIPTION_SQL.postgres.insertMail, values);
  }
}

/** Writes a new post's reply e-mail subscription and its confirmation e-mail on the connection of the post's transaction. */
async function writeSubscription(client: PoolClient, subscribe: SubscribeWith): Promise<void> {
  await client.query(SUBSCRIPTION_SQL.postgres.insert, subscriptionValues(subscribe.subscription));
  const row = subscribe.confirmation;
  if (row !== null)
    await client.query(OUTBOX_INSERT_SQL, [row.id, row.kind, row.target, row.type, row.payload, row.createdAt]);
}

/** One import batch inside its transaction (see IMPORT_LOCK_SQL): the same rules as the SQLite store's, in a few statements. */
async function importBatch(
  client: PoolClient,
  articleId: string,
  records: readonly ImportedCommentRecord[],
  keepSeq: { lastSeq: number } | undefined,
): Promise<ImportBatchResult> {
  const locked = (await client.query<{ last_seq: number }>(IMPORT_LOCK_SQL, [articleId, keepSeq?.lastSeq ?? 0]))
    .rows[0];
  let lastSeq = locked?.last_seq ?? 0;
  const startSeq = lastSeq;
  const ids = records.map((record) => record.id);
  const existing = new Set((await client.query<{ id: string }>(IMPORT_EXISTING_SQL, [ids])).rows.map((row) => row.id));
  const outsideParents = [...new Set(records.flatMap((record) => (record.parentId !== null ? [record.parentId] : [])))];
  // Where each possible parent hangs: its thread's top and its depth (imports keep their tree as it was).
  const roots = new Map<string, { root: string; depth: number }>();
  for (const row of (
    await client.query<{ id: string; root_id: string | null; depth: number }>(IMPORT_PARENTS_SQL, [
      articleId,
      outsideParents,
    ])
  ).rows)
    roots.set(row.id, { root: row.root_id ?? row.id, depth: row.depth });
  const taken = keepSeq
    ? new Set(
        (
          await client.query<{ seq: number }>(IMPORT_SEQS_TAKEN_SQL, [
            articleId,
            records.flatMap((record) => (record.seq !== null ? [record.seq] : [])),
          ])
        ).rows.map((row) => row.seq),
      )
    : new Set<number>();
  const result: ImportBatchResult = { inserted: 0, existing: [], orphaned: [], lastSeq };
  const stored: object[] = [];
  const held: object[] = [];
  const sources: object[] = [];
  for (const record of records) {
    if (existing.has(record.id)) {
      result.existing.push(record.id);
      continue;
    }
    let rootId: string | null = null;
    let depth = 0;
    if (record.parentId !== null) {
      const parent = roots.get(record.parentId);
      if (parent === undefined) {
        result.orphaned.push(record.id);
        continue;
      }
      rootId = parent.root;
      depth = parent.depth + 1;
    }
    const common = {
      id: record.id,
      article_id: articleId,
      parent_id: record.parentId,
      author_name: record.authorName,
      body: record.body,
      created_at: record.createdAt,
      author_key: record.authorKey,
      member_sub: record.memberSub ?? null,
      member_profile: record.memberProfile ?? null,
    };
    if (record.status === 'held') {
      held.push(common);
    } else {
      const kept = keptSeqs(record, keepSeq, (seq) => taken.has(seq));
      const seq = kept?.seq ?? ++lastSeq;
      if (kept) taken.add(seq);
      // A kept seq is never above the head (the exporter's header says so; a file that disagrees still yields a gapless head).
      lastSeq = Math.max(lastSeq, seq);
      stored.push({
        ...common,
        root_id: rootId,
        edited_at: record.editedAt,
        status: record.status,
        seq,
        created_seq: kept?.createdSeq ?? seq,
        likes: record.likes,
        removed_by: record.removedBy,
        original_body: record.originalBody,
        depth,
      });
      // A later record of the batch may reply to this one.
      roots.set(record.id, { root: rootId ?? record.id, depth });
    }
    if (record.source)
      sources.push({ source_format: record.source.format, source_id: record.source.id, comment_id: record.id });
    existing.add(record.id);
    result.inserted += 1;
  }
  if (stored.length > 0) await client.query(IMPORT_COMMENTS_SQL, [JSON.stringify(stored)]);
  if (held.length > 0) await client.query(IMPORT_HELD_SQL, [JSON.stringify(held)]);
  if (sources.length > 0) await client.query(IMPORT_SOURCES_SQL, [JSON.stringify(sources)]);
  if (lastSeq !== startSeq) await client.query(SET_LAST_SEQ_SQL, [articleId, lastSeq]);
  result.lastSeq = lastSeq;
  return result;
}

/** Connects to PostgreSQL, applies pending migrations and returns the store. */
export function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresCommentStore> {
  return PostgresCommentStore.open(options);
}

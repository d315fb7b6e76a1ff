import { DatabaseError, Pool, type PoolClient, type PoolConfig } from 'pg';
import type { ArticleId, Comment, CommentStatus } from '../../shared/schemas.ts';
import { MIGRATIONS } from './migrations.ts';
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
  if (error instanceof AggregateError && error.errors.some((e: unknown) => isUnavailablePgError(e, depth + 1))) return true;
  return isUnavailablePgError((error as { cause?: unknown }).cause, depth + 1);
}

function toStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  return isUnavailablePgError(error) ? new StoreUnavailableError('PostgreSQL database unavailable', { cause: error }) : error;
}

const COLUMNS = ['id', 'article_id', 'parent_id', 'root_id', 'author_name', 'body', 'created_at', 'edited_at', 'status', 'seq', 'created_seq'];
const COMMENT_COLUMNS = COLUMNS.join(', ');
const prefixed = (alias: string): string => COLUMNS.map((c) => `${alias}.${c}`).join(', ');

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

/**
 * One statement, so one implicit transaction: the upsert on `articles` takes the article's row lock
 * and holds it until commit, so writers of one article are serialised and the seq they get is the
 * order they commit in. A missing parent makes the upsert (and so the insert) produce no row,
 * using no seq. A repeated clientId fails the insert on its unique key, which rolls the seq back.
 *
 * $1 id, $2 article_id, $3 parent_id, $4 author_name, $5 body, $6 created_at, $7 client_id, $8 author_token_hash.
 */
const CREATE_SQL = `
  WITH parent AS (
    SELECT id, root_id FROM comments WHERE article_id = $2 AND id = $3::text
  ), bump AS (
    INSERT INTO articles AS a (article_id, last_seq)
    SELECT $2, 1 WHERE $3::text IS NULL OR EXISTS (SELECT 1 FROM parent)
    ON CONFLICT (article_id) DO UPDATE SET last_seq = a.last_seq + 1
    RETURNING last_seq
  )
  INSERT INTO comments
    (id, article_id, parent_id, root_id, author_name, body, created_at, edited_at, status, seq, created_seq, client_id, author_token_hash)
  SELECT $1, $2, $3::text, (SELECT COALESCE(root_id, id) FROM parent), $4, $5, $6, NULL, 'visible', bump.last_seq, bump.last_seq, $7, $8
  FROM bump
  RETURNING seq`;

/** The clientId was used before: hand the retrying poster a working token and return the first comment. */
const CLAIM_DUPLICATE_SQL = `
  UPDATE comments SET author_token_hash = $3 WHERE article_id = $1 AND client_id = $2
  RETURNING ${COMMENT_COLUMNS}`;

/** PostgreSQL's name for `UNIQUE (article_id, client_id)` of migration 1. */
const CLIENT_ID_CONSTRAINT = 'comments_article_id_client_id_key';

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
/** The tops of one page are exactly the top-level comments whose created_seq lies in [low, high]. */
const REPLIES_SQL = `
  SELECT ${COMMENT_COLUMNS} FROM comments
  WHERE article_id = $1 AND root_id IN (
    SELECT id FROM comments WHERE article_id = $1 AND parent_id IS NULL AND created_seq BETWEEN $2::bigint AND $3::bigint
  )
  ORDER BY created_seq ASC`;

/**
 * The scale-out CommentStore: PostgreSQL through a pg Pool, shared by any number of instances.
 *
 * Invariants (on top of the CommentStore port):
 * - `create` is a single statement (see CREATE_SQL): per article, seq order is commit order, so
 *   every snapshot holds a gapless prefix 1..N of the article's seqs.
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
    if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) throw new Error(`Invalid schema name ${JSON.stringify(options.schema)}`);
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
    return this.#guard(async () => {
      try {
        const result = await this.#pool.query<{ seq: number }>(CREATE_SQL, [
          input.id,
          input.articleId,
          input.parentId,
          input.authorName,
          input.body,
          input.createdAt,
          input.clientId,
          input.authorTokenHash,
        ]);
        const seq = result.rows[0]?.seq;
        if (seq === undefined) {
          if (input.parentId === null) throw new Error('Comment insert returned no row');
          throw new ParentNotFoundError(input.parentId);
        }
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
      } catch (error) {
        if (input.clientId !== null && error instanceof DatabaseError && error.code === '23505' && error.constraint === CLIENT_ID_CONSTRAINT) {
          return this.#claimDuplicate(input.articleId, input.clientId, input.authorTokenHash);
        }
        throw error;
      }
    });
  }

  async get(id: string): Promise<Comment | null> {
    return this.#guard(async () => {
      const row = (await this.#pool.query<CommentRow>(GET_SQL, [id])).rows[0];
      return row ? toComment(row) : null;
    });
  }

  /** Same paging rules as the SQLite store: an exclusive created_seq cursor, so walking `next` visits each thread once. */
  async page(articleId: ArticleId, request: PageRequest): Promise<PageResult> {
    return this.#guard(() =>
      this.#inSnapshot(async (client) => {
        const lastSeq = (await client.query<{ last_seq: number }>(LAST_SEQ_SQL, [articleId])).rows[0]?.last_seq ?? 0;
        const newest = request.order === 'newest';
        const after = request.cursor === null ? (newest ? Number.MAX_SAFE_INTEGER : 0) : Number(request.cursor);
        const rows = (await client.query<CommentRow>(newest ? TOPS_NEWEST_SQL : TOPS_OLDEST_SQL, [articleId, after, request.limit + 1])).rows;
        const tops = rows.slice(0, request.limit);
        const first = tops[0];
        const last = tops[tops.length - 1];
        if (first === undefined || last === undefined) return { lastSeq, comments: [], next: null };

        const low = Math.min(first.created_seq, last.created_seq);
        const high = Math.max(first.created_seq, last.created_seq);
        const repliesByRoot = new Map<string, Comment[]>();
        for (const row of (await client.query<CommentRow>(REPLIES_SQL, [articleId, low, high])).rows) {
          if (row.root_id === null) continue;
          const thread = repliesByRoot.get(row.root_id);
          if (thread) thread.push(toComment(row));
          else repliesByRoot.set(row.root_id, [toComment(row)]);
        }
        const comments: Comment[] = [];
        for (const top of tops) comments.push(toComment(top), ...(repliesByRoot.get(top.id) ?? []));
        return { lastSeq, comments, next: rows.length > request.limit ? String(last.created_seq) : null };
      }),
    );
  }

  async changesSince(articleId: ArticleId, since: number, limit: number): Promise<ChangePage> {
    return this.#guard(async () => {
      const rows = (await this.#pool.query<{ head_seq: number } & { [K in keyof CommentRow]: CommentRow[K] | null }>(CHANGES_SQL, [articleId, since, limit + 1])).rows;
      const lastSeq = rows[0]?.head_seq ?? 0;
      const comments = rows.filter((row): row is { head_seq: number } & CommentRow => row.id !== null);
      if (comments.length > limit) return { lastSeq, comments: [], reset: true };
      return { lastSeq, comments: comments.map(toComment), reset: false };
    });
  }

  async lastSeq(articleId: ArticleId): Promise<number> {
    return this.#guard(async () => (await this.#pool.query<{ last_seq: number }>(LAST_SEQ_SQL, [articleId])).rows[0]?.last_seq ?? 0);
  }

  async counts(articleIds: readonly ArticleId[]): Promise<Record<ArticleId, number>> {
    return this.#guard(async () => {
      const unique = [...new Set(articleIds)];
      const counts: Record<ArticleId, number> = {};
      for (const id of unique) counts[id] = 0;
      if (unique.length === 0) return counts;
      for (const row of (await this.#pool.query<{ article_id: string; n: number }>(COUNTS_SQL, [unique])).rows) counts[row.article_id] = row.n;
      return counts;
    });
  }

  async ping(): Promise<void> {
    await this.#guard(() => this.#pool.query('SELECT 1'));
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

  async #claimDuplicate(articleId: string, clientId: string, authorTokenHash: string): Promise<CreateResult> {
    const row = (await this.#pool.query<CommentRow>(CLAIM_DUPLICATE_SQL, [articleId, clientId, authorTokenHash])).rows[0];
    if (!row) throw new Error(`clientId ${clientId} collided but no comment holds it`);
    return { comment: toComment(row), created: false };
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
      await client.query(`SET LOCAL statement_timeout = '${MIGRATION_STATEMENT_TIMEOUT}'`);
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1 || COALESCE(current_schema(), '')))", [MIGRATION_LOCK_NAMESPACE]);
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
      const current = (await client.query<{ v: number }>('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations')).rows[0]?.v ?? 0;
      for (const migration of MIGRATIONS) {
        if (migration.version <= current) continue;
        await client.query(migration.postgres);
        await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [migration.version, new Date().toISOString()]);
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

/** Connects to PostgreSQL, applies pending migrations and returns the store. */
export function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresCommentStore> {
  return PostgresCommentStore.open(options);
}

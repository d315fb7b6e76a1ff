import { afterEach, describe, expect, it, vi } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { nanoid } from 'nanoid';
import pg from 'pg';
import { StoreUnavailableError, type CommentStore } from '../../server/storage/port.ts';
import { isUnavailablePgError, openPostgresStore, type PostgresCommentStore } from '../../server/storage/postgres.ts';
import { MIGRATIONS } from '../../server/storage/migrations.ts';
import {
  createTestSchema,
  makeArticleId,
  makeRecord,
  TEST_DATABASE_URL,
  withAdminClient,
  type TestSchema,
  WIND_BACK_V6_SQL,
} from '../helpers/store-factories.ts';

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('PostgresCommentStore specifics', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function schema(): Promise<TestSchema> {
    const created = await createTestSchema();
    cleanups.push(created.drop);
    return created;
  }
  async function open(
    s: TestSchema,
    options: Partial<Parameters<typeof openPostgresStore>[0]> = {},
  ): Promise<PostgresCommentStore> {
    const store = await openPostgresStore({ connectionString: TEST_DATABASE_URL, schema: s.schema, ...options });
    cleanups.push(() => store.close());
    return store;
  }

  it('applies each migration once when several instances start together, and records the versions', async () => {
    const s = await schema();
    const stores = await Promise.all(range(1, 4).map(() => open(s)));
    await stores[0]!.create(makeRecord());
    const versions = await withAdminClient(async (client) =>
      (
        await client.query<{ version: number }>(`SELECT version FROM ${s.schema}.schema_migrations ORDER BY version`)
      ).rows.map((r) => r.version),
    );
    expect(versions).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await stores[3]!.counts(['x'])).toEqual({ x: 0 });
  });

  it('upgrades a version-4 schema: author keys erased, bans lifted, comments kept', async () => {
    const s = await schema();
    const v3 = await openPostgresStore({ connectionString: TEST_DATABASE_URL, schema: s.schema });
    const { comment } = await v3.create(makeRecord({ body: 'before keyed keys' }));
    await v3.submit(makeRecord(), { hold: true });
    await v3.close();
    // Wind the schema back to version 4, with author keys and a ban as the previous release wrote them.
    await withAdminClient((client) =>
      client.query(`
        SET search_path = ${s.schema};
        ${WIND_BACK_V6_SQL}
        DROP TABLE secrets; DELETE FROM schema_migrations WHERE version > 4;
        UPDATE comments SET author_key = 'old-sha256-key'; UPDATE held_comments SET author_key = 'old-held-key';
        INSERT INTO bans (author_key, author_name, created_at) VALUES ('old-sha256-key', 'Ada', '2030-01-01T00:00:00.000Z');
      `),
    );
    const upgraded = await open(s);
    expect(await upgraded.get(comment.id)).toEqual(comment);
    expect((await upgraded.getRecord(comment.id))?.comment.authorKey).toBeNull();
    expect((await upgraded.heldList(10)).map((held) => held.authorKey)).toEqual([null]);
    expect(await upgraded.bans('2000-01-01T00:00:00.000Z')).toEqual([]);
  });

  it('honours a search_path given in the connection string (what DATABASE_URL carries)', async () => {
    const s = await schema();
    const store = await openPostgresStore({ connectionString: s.url });
    cleanups.push(() => store.close());
    const { comment } = await store.create(makeRecord());
    const count = await withAdminClient(
      async (client) =>
        (
          await client.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM ${s.schema}.comments WHERE id = $1`, [
            comment.id,
          ])
        ).rows[0]?.n,
    );
    expect(count).toBe(1);
  });

  it('keeps one comment when the same clientId is posted concurrently through many connections', async () => {
    const s = await schema();
    const stores = [await open(s), await open(s)];
    const articleId = makeArticleId();
    const clientId = nanoid();
    await stores[0]!.create(makeRecord({ articleId }));
    const results = await Promise.all(
      range(1, 16).map((i) =>
        stores[i % 2]!.create(makeRecord({ articleId, clientId, authorTokenHash: String(i).padStart(64, '0') })),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const first = results.find((r) => r.created)!.comment;
    for (const r of results) expect(r.comment).toEqual(first);
    expect(first.seq).toBe(2);
    expect(await stores[0]!.lastSeq(articleId)).toBe(2);
    expect((await stores[1]!.changesSince(articleId, 0, 10)).comments.map((c) => c.seq)).toEqual([1, 2]);
    // The next post takes the next seq: the losers' seqs were rolled back, not burnt.
    expect((await stores[1]!.create(makeRecord({ articleId }))).comment.seq).toBe(3);
  });

  it('accepts cursors and since values beyond 32 bits', async () => {
    const s = await schema();
    const store = await open(s);
    const articleId = makeArticleId();
    await store.create(makeRecord({ articleId }));
    expect(await store.changesSince(articleId, 2 ** 40, 10)).toEqual({ lastSeq: 1, comments: [], reset: false });
    expect(
      (await store.page(articleId, { limit: 5, cursor: '999999999999999', order: 'newest' })).comments,
    ).toHaveLength(1);
  });

  it('migrates however long a migration waits, whatever the statement budget of ordinary queries', async () => {
    // A migration building an index on a big table takes longer than a post's budget: here another
    // instance holds the migration lock for 1.5 s, three times the client's wait for one query.
    const s = await schema();
    const holder = new pg.Client({ connectionString: s.url });
    await holder.connect();
    cleanups.push(() => holder.end());
    await holder.query('BEGIN');
    await holder.query("SELECT pg_advisory_xact_lock(hashtext($1 || COALESCE(current_schema(), '')))", [
      'live-comments:migrations:',
    ]);
    const released = new Promise((resolve) => setTimeout(resolve, 1500)).then(() => holder.query('COMMIT'));
    const store = await open(s, { statementTimeoutMs: 100, queryTimeoutMs: 500 });
    await released;
    expect((await store.create(makeRecord())).comment.seq).toBe(1);
  });

  it('turns a statement that waits past the statement timeout into StoreUnavailableError, then recovers', async () => {
    const s = await schema();
    // Migrated first with the default budget: the short one below is for the statement under test.
    await open(s);
    // The server's 300 ms decides (57014); the client's own wait is far longer, so a busy machine cannot
    // turn the server's answer into a client-side timeout.
    const store = await open(s, { statementTimeoutMs: 300, queryTimeoutMs: 10_000 });
    const articleId = makeArticleId();
    await store.create(makeRecord({ articleId }));
    const locker = new pg.Client({ connectionString: s.url });
    await locker.connect();
    cleanups.push(() => locker.end());
    await locker.query('BEGIN');
    await locker.query('SELECT last_seq FROM articles WHERE article_id = $1 FOR UPDATE', [articleId]);
    const started = performance.now();
    const error: unknown = await store.create(makeRecord({ articleId })).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as StoreUnavailableError).cause).toMatchObject({ code: '57014' });
    // Not waiting for the lock holder (which never lets go by itself).
    expect(elapsed).toBeLessThan(5000);
    await locker.query('ROLLBACK');
    expect((await store.create(makeRecord({ articleId }))).comment.seq).toBe(2);
  });

  it('survives the server killing its idle connections: the error is reported, not thrown, and the next query reconnects', async () => {
    const s = await schema();
    const applicationName = `lc-idle-${nanoid(8)}`;
    const warnings: unknown[] = [];
    const store = await open(s, { applicationName, logger: { warn: (obj) => warnings.push(obj) } });
    const articleId = makeArticleId();
    // Several connections become idle in the pool.
    await Promise.all(range(1, 4).map(() => store.create(makeRecord({ articleId }))));
    const killed = await withAdminClient(
      async (client) =>
        (
          await client.query<{ ok: boolean }>(
            'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
            [applicationName],
          )
        ).rows.length,
    );
    expect(killed).toBeGreaterThan(0);
    // Each killed connection is noticed while idle and dropped from the pool.
    await vi.waitFor(() => expect(store.poolStats().total).toBe(0));
    expect(warnings.length).toBeGreaterThan(0);
    expect((await store.create(makeRecord({ articleId }))).comment.seq).toBe(5);
    expect(await store.lastSeq(articleId)).toBe(5);
  });

  it('rejects with StoreUnavailableError once closed', async () => {
    const s = await schema();
    const store = await open(s);
    await store.close();
    await expect(store.create(makeRecord())).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

describe('PostgreSQL unreachable at start', () => {
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  /** A port where nothing listens: bind one, remember it, close it. */
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  it('fails fast with StoreUnavailableError when the connection is refused', async () => {
    const port = await closedPort();
    const error: unknown = await openPostgresStore({
      connectionString: `postgres://postgres@127.0.0.1:${port}/test`,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
  });

  it('gives up after the connect timeout when the server accepts but never answers', async () => {
    const server = createServer((socket) => sockets.push(socket));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const started = performance.now();
    const error: unknown = await openPostgresStore({
      connectionString: `postgres://postgres@127.0.0.1:${port}/test`,
      connectTimeoutMs: 400,
    }).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(3000);
  });
});

describe('isUnavailablePgError', () => {
  const dbError = (code: string): pg.DatabaseError => Object.assign(new pg.DatabaseError('x', 1, 'error'), { code });

  it.each(['57P01', '57P03', '57014', '53300', '08006', '08001', '55P03'])(
    'counts SQLSTATE %s as unavailable',
    (code) => {
      expect(isUnavailablePgError(dbError(code))).toBe(true);
    },
  );

  it.each(['23505', '42P01', '22003', '42601'])(
    'does not count SQLSTATE %s (a bug or bad input) as unavailable',
    (code) => {
      expect(isUnavailablePgError(dbError(code))).toBe(false);
    },
  );

  it('recognises socket errors, pool timeouts, lost connections, nested causes and aggregate errors', () => {
    expect(
      isUnavailablePgError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })),
    ).toBe(true);
    expect(isUnavailablePgError(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isUnavailablePgError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isUnavailablePgError(new Error('Query read timeout'))).toBe(true);
    expect(
      isUnavailablePgError(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) })),
    ).toBe(true);
    expect(
      isUnavailablePgError(new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })], 'all failed')),
    ).toBe(true);
    expect(isUnavailablePgError(new Error('syntax error at or near "x"'))).toBe(false);
    expect(isUnavailablePgError(new TypeError('boom'))).toBe(false);
    expect(isUnavailablePgError(null)).toBe(false);
  });
});

/** Keeps the type import used: the contract suite proves every CommentStore member on PostgreSQL. */
export type { CommentStore };

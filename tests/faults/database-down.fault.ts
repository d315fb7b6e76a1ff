import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { nanoid } from 'nanoid';
import { ErrorBodySchema } from '../../shared/errors.ts';
import { AppProcess, PrivatePostgres } from '../helpers/processes.ts';
import { ExactClient } from './exact-client.ts';
import { postComment, report, type PostOutcome } from './posting.ts';

/** Posts that must fail fast: every answer well under this. */
const FAIL_FAST_MS = 2000;

interface Outage {
  app: AppProcess;
  /** Makes the database refuse writes. */
  breakDatabase(): Promise<void>;
  /** Gives it back. */
  repairDatabase(): Promise<void>;
}

/**
 * The shared scenario: subscribers watch an article, the database goes away, posts fail fast with
 * 503 `unavailable` + Retry-After and nothing is pushed; the database returns, the same posts are
 * retried with their clientIds and stored exactly once, and every subscriber ends exact.
 */
async function databaseOutage(scenario: string, outage: Outage): Promise<void> {
  const { app } = outage;
  const articleId = `db-down-${nanoid(8)}`;
  const clients = [new ExactClient(app.url, articleId), new ExactClient(app.url, articleId)];
  try {
    await Promise.all(clients.map((c) => c.ready()));
    for (let i = 0; i < 5; i++) expect((await postComment(app.url, articleId, `before ${i}`)).status).toBe(201);
    await vi.waitFor(() => expect(clients.every((c) => c.has(5))).toBe(true));
    const liveBefore = clients.map((c) => c.live);

    await outage.breakDatabase();
    const clientIds = Array.from({ length: 10 }, () => nanoid());
    const failed: PostOutcome[] = [];
    for (const [i, clientId] of clientIds.entries())
      failed.push(await postComment(app.url, articleId, `during ${i}`, clientId));
    // A burst of concurrent posts too: none may wait long.
    const burstIds = Array.from({ length: 5 }, () => nanoid());
    const burst = await Promise.all(
      burstIds.map((clientId, i) => postComment(app.url, articleId, `burst ${i}`, clientId)),
    );
    for (const outcome of [...failed, ...burst]) {
      expect(outcome.status).toBe(503);
      expect(Number(outcome.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(outcome.ms).toBeLessThan(FAIL_FAST_MS);
    }
    const errorBody = await fetch(`${app.url}/api/articles/${articleId}/comments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ author: { name: 'X' }, body: 'probe' }),
    });
    expect(ErrorBodySchema.parse(await errorBody.json()).error.code).toBe('unavailable');

    const repaired = performance.now();
    await outage.repairDatabase();
    // Service resumes by itself: retrying the first failed post succeeds once the database answers.
    const resumeMs = await (async () => {
      for (;;) {
        const retry = await postComment(app.url, articleId, 'during 0', clientIds[0]);
        if (retry.status === 201) return performance.now() - repaired;
        expect(retry.status).toBe(503);
        if (performance.now() - repaired > 30_000) throw new Error('service did not resume within 30 s');
        await new Promise((r) => setTimeout(r, Number(retry.retryAfter ?? 1) * 100));
      }
    })();
    const retried = [];
    for (const [i, clientId] of [...clientIds.entries()].slice(1))
      retried.push(await postComment(app.url, articleId, `during ${i}`, clientId));
    for (const [i, clientId] of burstIds.entries())
      retried.push(await postComment(app.url, articleId, `burst ${i}`, clientId));
    expect(retried.map((o) => o.status)).toEqual(retried.map(() => 201));
    // Retrying again changes nothing: the first comment comes back.
    const again = await postComment(app.url, articleId, 'during 1', clientIds[1]);
    expect(again.status).toBe(200);
    expect(again.comment?.id).toBe(retried[0]?.comment?.id);

    const total = 5 + clientIds.length + burstIds.length;
    await vi.waitFor(() => expect(clients.every((c) => c.has(total))).toBe(true), { timeout: 10_000 });
    const stored = (await (await fetch(`${app.url}/api/articles/${articleId}/changes?since=0`)).json()) as {
      comments: Array<{ body: string; seq: number }>;
    };
    expect(stored.comments.map((c) => c.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(new Set(stored.comments.map((c) => c.body)).size).toBe(total);
    for (const client of clients) {
      expect(client.conflicts).toEqual([]);
      expect(client.bySeq.size).toBe(total);
    }
    // Nothing was pushed that was not stored: every live push is one of the stored comments, once,
    // plus the deliberate repeat of 'during 1' (a repeated clientId is re-published with its first seq).
    // The repeat carries a seq the clients already hold, so it may land after they look complete: wait for it.
    await vi.waitFor(() => clients.forEach((c, i) => expect(c.live - liveBefore[i]!).toBe(total - 5 + 1)), {
      timeout: 5_000,
    });
    expect(app.exitCode).toBeNull();
    expect(app.nonJsonLines()).toEqual([]);

    const latencies = [...failed, ...burst].map((o) => o.ms).sort((x, y) => x - y);
    report(scenario, {
      failedPostsDuringOutage: latencies.length,
      failMsMedian: Math.round(latencies[Math.floor(latencies.length / 2)]!),
      failMsMax: Math.round(latencies.at(-1)!),
      resumeMsAfterRepair: Math.round(resumeMs),
      storedAfterRetries: stored.comments.length,
      duplicated: 0,
      lost: 0,
    });
  } finally {
    for (const client of clients) client.close();
  }
}

describe('database down: SQLite locked by another process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'live-comments-fault-sqlite-'));
  const sqlitePath = join(dir, 'comments.db');
  let app: AppProcess;

  beforeAll(async () => {
    app = await AppProcess.start({
      env: { SQLITE_PATH: sqlitePath, RATE_LIMIT_POSTS_PER_MINUTE_IP: '0', RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: '0' },
      name: 'sqlite-app',
    });
  });
  afterAll(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 unavailable with Retry-After fast, pushes nothing, and resumes by itself', async () => {
    let locker: Database.Database | null = null;
    await databaseOutage('sqlite-locked', {
      app,
      breakDatabase: async () => {
        // An exclusive write lock held by another process, as a long migration or a backup would.
        locker = new Database(sqlitePath);
        locker.exec('BEGIN EXCLUSIVE');
      },
      repairDatabase: async () => {
        locker?.exec('COMMIT');
        locker?.close();
      },
    });
  });
});

describe('database down: PostgreSQL stopped', () => {
  let cluster: PrivatePostgres;
  let app: AppProcess;

  beforeAll(async () => {
    cluster = await PrivatePostgres.create();
    app = await AppProcess.start({
      env: { DATABASE_URL: cluster.url, RATE_LIMIT_POSTS_PER_MINUTE_IP: '0', RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: '0' },
      name: 'pg-app',
    });
  });
  afterAll(async () => {
    await app?.stop();
    await cluster?.destroy();
  });

  it('answers 503 unavailable with Retry-After fast, pushes nothing, and resumes by itself', async () => {
    await databaseOutage('postgres-stopped', {
      app,
      breakDatabase: () => cluster.stop('fast'),
      repairDatabase: () => cluster.start(),
    });
  });

  it('reports the store down in readiness while it is stopped, and up again after', async () => {
    await cluster.stop('immediate');
    await vi.waitFor(
      async () =>
        expect(await (await fetch(`${app.url}/readyz`)).json()).toMatchObject({
          status: 'unavailable',
          storage: 'down',
        }),
      { timeout: 10_000 },
    );
    await cluster.start();
    await vi.waitFor(
      async () =>
        expect(await (await fetch(`${app.url}/readyz`)).json()).toMatchObject({ status: 'ready', storage: 'up' }),
      { timeout: 15_000 },
    );
  });
});

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nanoid } from 'nanoid';
import { RedisServer, startInstancePair, type AppProcess } from '../helpers/processes.ts';
import { ExactClient } from './exact-client.ts';
import { setTimeout as pace } from 'node:timers/promises';
import { mb, postComment, report, timeUntil, type PostOutcome } from './posting.ts';

/** How long posts keep coming while Redis is down, and their spacing (a steady reader load, about 30 posts/s). */
const OUTAGE_POSTING_MS = 4000;
const POST_INTERVAL_MS = 25;

/**
 * Fault 1: Redis dies (SIGKILL) and comes back while two instances take posts. Posting keeps working,
 * each instance keeps pushing to its own subscribers, and once Redis is back every subscriber on
 * every instance holds every comment, told by `article:head` without waiting for a new comment.
 */
describe('Redis dies and returns under two instances', () => {
  const dir = mkdtempSync(join(tmpdir(), 'live-comments-fault-redis-'));
  let redis: RedisServer;
  let a: AppProcess;
  let b: AppProcess;
  const clients: ExactClient[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    [a, b] = await startInstancePair(dir, { REDIS_URL: redis.url, REDIS_PREFIX: `fault:${nanoid(6)}:` });
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all([a?.stop(), b?.stop(), redis?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  async function readiness(app: AppProcess): Promise<unknown> {
    return (await fetch(`${app.url}/readyz`)).json();
  }

  it('keeps posting and local pushes during the outage, then converges every subscriber through article:head', async () => {
    const articleId = `redis-outage-${nanoid(8)}`;
    const onA = Array.from({ length: 3 }, () => new ExactClient(a.url, articleId));
    const onB = Array.from({ length: 3 }, () => new ExactClient(b.url, articleId));
    clients.push(...onA, ...onB);
    await Promise.all(clients.map((c) => c.ready()));
    const outcomes: Array<PostOutcome & { phase: string }> = [];
    const post = async (app: AppProcess, phase: string) => {
      const outcome = await postComment(app.url, articleId, `${phase} via ${app.name} ${nanoid(6)}`);
      outcomes.push({ ...outcome, phase });
      return outcome;
    };

    // Redis up: posts on either instance reach everyone.
    for (let i = 0; i < 20; i++) await post(i % 2 === 0 ? a : b, 'before');
    await vi.waitFor(() => expect(clients.every((c) => c.has(20))).toBe(true), { timeout: 10_000 });
    const rssBefore = { A: a.rssBytes(), B: b.rssBytes() };

    // Redis dies.
    await redis.kill('SIGKILL');
    await vi.waitFor(
      async () => {
        expect(await readiness(a)).toMatchObject({ status: 'degraded', redis: 'down' });
        expect(await readiness(b)).toMatchObject({ status: 'degraded', redis: 'down' });
      },
      { timeout: 10_000 },
    );
    const outageStarted = performance.now();
    // Long enough for the instances' Redis reconnect backoff to reach its 2 s cap: the slow case for recovery.
    for (let i = 0; performance.now() - outageStarted < OUTAGE_POSTING_MS; i++) {
      await post(i % 2 === 0 ? a : b, 'outage');
      await pace(POST_INTERVAL_MS);
    }
    // A tail posted on B only: A's subscribers get no push and no gap that would tell them.
    for (let i = 0; i < 20; i++) await post(b, 'outage-tail');
    const total = outcomes.length;
    const during = outcomes.filter((o) => o.phase.startsWith('outage'));
    expect(during.map((o) => o.status)).toEqual(during.map(() => 201));
    // B's own subscribers got B's posts live and caught up on A's by the seq gaps.
    await vi.waitFor(() => expect(onB.every((c) => c.has(total))).toBe(true), { timeout: 10_000 });
    for (const client of onA) expect(client.lastSeq).toBeLessThan(total);
    const outageMs = performance.now() - outageStarted;

    // Redis returns; no new comment is posted: only article:head can tell A's subscribers.
    const restarted = performance.now();
    await redis.restart();
    const redisUpMs = performance.now() - restarted;
    const convergeMs =
      redisUpMs +
      (await timeUntil(
        'every subscriber holds every comment after Redis returned',
        () => clients.every((c) => c.has(total)),
        20_000,
      ));
    expect(onA.every((c) => c.heads > 0)).toBe(true);
    await vi.waitFor(async () => expect(await readiness(a)).toMatchObject({ status: 'ready', redis: 'up' }), {
      timeout: 10_000,
    });
    await vi.waitFor(async () => expect(await readiness(b)).toMatchObject({ status: 'ready', redis: 'up' }), {
      timeout: 10_000,
    });

    // Fan-out between the instances works again: new posts arrive live everywhere.
    const liveBefore = onA.map((c) => c.live);
    for (let i = 0; i < 10; i++) await post(b, 'after');
    await vi.waitFor(() => expect(clients.every((c) => c.has(total + 10))).toBe(true), { timeout: 10_000 });
    onA.forEach((c, i) => expect(c.live - liveBefore[i]!).toBe(10));

    // Nothing lost, nothing doubled, the same thread everywhere.
    const ids = [...onA[0]!.bySeq.entries()].sort(([x], [y]) => x - y).map(([, c]) => c.id);
    expect(new Set(ids).size).toBe(total + 10);
    for (const client of clients) {
      expect(client.conflicts).toEqual([]);
      expect(client.errors).toEqual([]);
      expect([...client.bySeq.entries()].sort(([x], [y]) => x - y).map(([, c]) => c.id)).toEqual(ids);
    }
    const stored = (await (await fetch(`${a.url}/api/articles/${articleId}/changes?since=0`)).json()) as {
      comments: Array<{ id: string }>;
    };
    expect(stored.comments.map((c) => c.id)).toEqual(ids);

    // Both instances lived through it, logging one JSON object per line and no unhandled rejection.
    for (const app of [a, b]) {
      expect(app.exitCode).toBeNull();
      expect(app.nonJsonLines()).toEqual([]);
      expect(app.logs().filter((line) => line.msg === 'unhandled rejection')).toEqual([]);
    }
    const rssAfter = { A: a.rssBytes(), B: b.rssBytes() };
    for (const name of ['A', 'B'] as const) expect(rssAfter[name] - rssBefore[name]).toBeLessThan(64 * 1024 * 1024);

    report('redis-outage', {
      posts: outcomes.length,
      failedPosts: outcomes.filter((o) => o.status !== 201).length,
      postsDuringOutage: during.length,
      maxPostMsDuringOutage: Math.round(Math.max(...during.map((o) => o.ms))),
      outageMs: Math.round(outageMs),
      redisStartMs: Math.round(redisUpMs),
      convergeMsAfterRedisStart: Math.round(convergeMs),
      headsReceivedOnA: onA.map((c) => c.heads),
      lost: 0,
      duplicated: 0,
      rssGrowthMB: { A: mb(rssAfter.A - rssBefore.A), B: mb(rssAfter.B - rssBefore.B) },
    });
  });
});

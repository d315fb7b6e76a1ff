import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as pause } from 'node:timers/promises';
import { nanoid } from 'nanoid';
import { RedisServer, startInstancePair, type AppProcess } from '../helpers/processes.ts';
import { ExactClient } from './exact-client.ts';
import { postComment, report, storedComments, timeUntil } from './posting.ts';
import { TcpBalancer } from './tcp-balancer.ts';

/** How long the posters run, and when (after their start) instance A is killed. */
const POSTING_MS = 4000;
const KILL_AT_MS = 1500;
const POSTERS = 3;

/**
 * Fault 3: an instance is killed (SIGKILL) under load behind a balancer. Its subscribers reconnect
 * (randomised backoff) through the balancer to the other instance and catch up with `since`; posters
 * retry failed posts with the same clientId. No subscriber loses or doubles a comment.
 */
describe('an instance is killed under load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'live-comments-fault-kill-'));
  let redis: RedisServer;
  let a: AppProcess;
  let b: AppProcess;
  let balancer: TcpBalancer;
  const clients: ExactClient[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    [a, b] = await startInstancePair(dir, { REDIS_URL: redis.url, REDIS_PREFIX: `fault:${nanoid(6)}:` });
    balancer = await TcpBalancer.start([a.port, b.port]);
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await balancer?.close();
    await Promise.all([a?.stop(), b?.stop(), redis?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('moves the killed instance’s subscribers to the other one; every subscriber ends with every comment once', async () => {
    const articleId = `kill-${nanoid(8)}`;
    for (let i = 0; i < 8; i++) {
      const client = new ExactClient(balancer.url, articleId);
      clients.push(client);
      await client.ready();
    }
    // The balancer spread them over both instances.
    expect(balancer.open.get(a.port)).toBeGreaterThan(0);
    expect(balancer.open.get(b.port)).toBeGreaterThan(0);

    const posted = new Map<string, string>(); // clientId → comment id
    let failedAttempts = 0;
    let maxAttempts = 1;
    const postUntilStored = async (poster: number, n: number) => {
      const clientId = nanoid();
      const body = `poster ${poster} #${n} ${clientId}`;
      for (let attempt = 1; ; attempt++) {
        const outcome = await postComment(balancer.url, articleId, body, clientId);
        if ((outcome.status === 201 || outcome.status === 200) && outcome.comment) {
          posted.set(clientId, outcome.comment.id);
          maxAttempts = Math.max(maxAttempts, attempt);
          return;
        }
        // Connection lost mid-request or refused: retry the same clientId after a short jittered pause.
        expect([0, 502, 503]).toContain(outcome.status);
        failedAttempts += 1;
        if (attempt > 50) throw new Error(`post ${clientId} not stored after 50 attempts`);
        await pause(50 + Math.random() * 100);
      }
    };

    const started = performance.now();
    let killedAt = 0;
    const posters = Array.from({ length: POSTERS }, async (_, poster) => {
      for (let n = 0; performance.now() - started < POSTING_MS; n++) await postUntilStored(poster, n);
    });
    const killer = (async () => {
      await pause(KILL_AT_MS);
      await a.kill();
      killedAt = performance.now();
    })();
    await Promise.all([...posters, killer]);

    const total = posted.size;
    await timeUntil('every subscriber connected again', () => clients.every((c) => c.connected), 15_000);
    // The last moved subscriber's first connect after the kill.
    const reconnectMs = Math.max(
      ...clients.map((c) => (c.connectTimes.find((t) => t > killedAt) ?? killedAt) - killedAt),
    );
    const convergeMs = await timeUntil(
      'every subscriber holds every comment',
      () => clients.every((c) => c.has(total)),
      20_000,
    );
    const movedClients = clients.filter((c) => c.reconnects > 0).length;
    expect(movedClients).toBeGreaterThan(0);
    expect(balancer.open.get(a.port) ?? 0).toBe(0);

    // Exactly the posted comments, each once, in every subscriber.
    const stored = { comments: await storedComments(b.url, articleId) };
    expect(stored.comments.map((c) => c.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(new Set(stored.comments.map((c) => c.id))).toEqual(new Set(posted.values()));
    const ids = stored.comments.map((c) => c.id);
    for (const client of clients) {
      expect(client.conflicts).toEqual([]);
      expect(client.errors).toEqual([]);
      expect([...client.bySeq.entries()].sort(([x], [y]) => x - y).map(([, c]) => c.id)).toEqual(ids);
    }
    expect(b.exitCode).toBeNull();
    expect(b.nonJsonLines()).toEqual([]);
    await vi.waitFor(async () => expect((await fetch(`${b.url}/readyz`)).status).toBe(200));

    report('instance-kill', {
      posts: total,
      failedAttemptsRetried: failedAttempts,
      maxAttemptsForOnePost: maxAttempts,
      subscribersMoved: movedClients,
      reloadsAfterReset: clients.reduce((sum, c) => sum + c.reloads, 0),
      allMovedWithinMsOfKill: Math.round(reconnectMs),
      convergeMsAfterLastPost: Math.round(convergeMs),
      lost: 0,
      duplicated: 0,
    });
  });
});

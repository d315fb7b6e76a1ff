import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import { AppProcess, RedisServer } from '../helpers/processes.ts';
import { ExactClient } from './exact-client.ts';
import { mb, postComment, report, timeUntil } from './posting.ts';

/** A body of 5000 three-byte characters: about 15 KB per push, so a few hundred posts make megabytes. */
const bigBody = (n: number) => `${n} ${'語'.repeat(4990)}`;
const noLimits = { RATE_LIMIT_POSTS_PER_MINUTE_IP: '0', RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: '0' };

/**
 * Fault 4a: a client that stops reading. With the cap, the server cuts it off once it holds more
 * than the cap for it, and it recovers by reconnecting and catching up; without the cap (the control
 * instance) the server keeps everything it could not send. A reader on the same article is never held up.
 */
describe('a subscriber that stops reading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'live-comments-fault-slow-'));
  let capped: AppProcess;
  let uncapped: AppProcess;
  const clients: ExactClient[] = [];

  beforeAll(async () => {
    [capped, uncapped] = await Promise.all([
      AppProcess.start({
        env: { ...noLimits, SQLITE_PATH: join(dir, 'capped.db'), SOCKET_MAX_BUFFER_KB: '1024' },
        name: 'capped',
      }),
      AppProcess.start({
        env: { ...noLimits, SQLITE_PATH: join(dir, 'uncapped.db'), SOCKET_MAX_BUFFER_KB: '0' },
        name: 'uncapped',
      }),
    ]);
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all([capped?.stop(), uncapped?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Stalls one subscriber, pushes `posts` big comments, and returns what happened. */
  async function stallAndPush(app: AppProcess, posts: number) {
    const articleId = `slow-${nanoid(8)}`;
    const stalled = new ExactClient(app.url, articleId);
    const healthy = new ExactClient(app.url, articleId);
    clients.push(stalled, healthy);
    await Promise.all([stalled.ready(), healthy.ready()]);
    const rssBefore = app.rssBytes();
    stalled.setReading(false);
    let peakRss = rssBefore;
    let next = 1;
    const statuses: number[] = [];
    // Four posters at once: megabytes arrive faster than a stalled reader could ever take them.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = next++; i <= posts; i = next++) {
          statuses.push((await postComment(app.url, articleId, bigBody(i))).status);
          if (i % 50 === 0) peakRss = Math.max(peakRss, app.rssBytes());
        }
      }),
    );
    expect(statuses.filter((status) => status !== 201)).toEqual([]);
    // The healthy reader got every push without waiting for the stalled one.
    await vi.waitFor(() => expect(healthy.has(posts)).toBe(true), { timeout: 10_000 });
    expect(healthy.reconnects).toBe(0);
    peakRss = Math.max(peakRss, app.rssBytes());
    return { stalled, healthy, rssBefore, peakRss, articleId };
  }

  it('cuts the stalled connection off at the cap; it reconnects and catches up; memory stays bounded', async () => {
    const posts = 2500;
    const withCap = await stallAndPush(capped, posts);
    const cutOff = await capped.waitForLog(
      (line) => line.msg === 'slow consumer cut off; it will reconnect and catch up',
      10_000,
    );
    expect(Number(cutOff.bufferedBytes)).toBeGreaterThan(1024 * 1024);

    const withoutCap = await stallAndPush(uncapped, posts);
    expect(uncapped.logs().some((line) => line.msg === 'slow consumer cut off; it will reconnect and catch up')).toBe(
      false,
    );

    // Both stalled clients read again: the cut-off one reconnects and catches up, the other drains.
    const resumed = performance.now();
    withCap.stalled.setReading(true);
    withoutCap.stalled.setReading(true);
    const capConvergeMs = await timeUntil('the cut-off client caught up', () => withCap.stalled.has(posts), 30_000);
    await vi.waitFor(() => expect(withoutCap.stalled.has(posts)).toBe(true), { timeout: 30_000 });
    expect(withCap.stalled.reconnects).toBeGreaterThanOrEqual(1);
    expect(withCap.stalled.caughtUp).toBeGreaterThan(0);
    for (const client of [withCap.stalled, withCap.healthy, withoutCap.stalled, withoutCap.healthy]) {
      expect(client.conflicts).toEqual([]);
      expect(client.errors).toEqual([]);
      expect(client.bySeq.size).toBe(posts);
    }
    const cappedGrowth = withCap.peakRss - withCap.rssBefore;
    const uncappedGrowth = withoutCap.peakRss - withoutCap.rssBefore;
    // Without the cap the server holds what the stalled client did not read; with it, it does not.
    const pushedBytes = posts * Buffer.byteLength(bigBody(posts));
    expect(uncappedGrowth - cappedGrowth).toBeGreaterThan(0.25 * pushedBytes);
    expect(capped.exitCode).toBeNull();

    report('slow-consumer', {
      pushedMB: mb(pushedBytes),
      cutOffAtBufferedMB: mb(Number(cutOff.bufferedBytes)),
      rssGrowthMBWithCap: mb(cappedGrowth),
      rssGrowthMBWithoutCap: mb(uncappedGrowth),
      catchUpMsAfterResume: Math.round(capConvergeMs),
      caughtUpComments: withCap.stalled.caughtUp,
      resumedToDrainedMsWithoutCap: Math.round(performance.now() - resumed),
      lost: 0,
    });
  });
});

/**
 * Fault 4b: an instance paused (SIGSTOP) long enough for Redis to drop its subscription (a small
 * `client-output-buffer-limit pubsub`, as production should set). Redis memory stays bounded, the
 * other instance's subscribers are not held up, and after SIGCONT the paused instance resubscribes
 * and its subscribers catch up through `article:head`.
 */
describe('an instance paused with SIGSTOP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'live-comments-fault-stop-'));
  let redis: RedisServer;
  let admin: Redis;
  let a: AppProcess;
  let b: AppProcess;
  const clients: ExactClient[] = [];
  const prefix = `fault:${nanoid(6)}:`;

  beforeAll(async () => {
    redis = await RedisServer.start(['--client-output-buffer-limit', 'pubsub 1mb 256kb 2']);
    admin = new Redis(redis.url);
    const env = {
      ...noLimits,
      REDIS_URL: redis.url,
      REDIS_PREFIX: prefix,
      SQLITE_PATH: join(dir, 'shared.db'),
    };
    [a, b] = await Promise.all([AppProcess.start({ env, name: 'A' }), AppProcess.start({ env, name: 'B' })]);
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    admin?.disconnect();
    await Promise.all([a?.stop(), b?.stop(), redis?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Instances subscribed to the article's channel. (Counting every subscriber connection no longer
   * works: each instance also listens on a moderation-settings channel, on a connection of its own.)
   */
  async function articleSubscribers(articleId: string): Promise<number> {
    const [, count] = (await admin.pubsub('NUMSUB', `${prefix}article:${articleId}`)) as [string, number];
    return Number(count);
  }

  it('drops the paused instance’s subscription at the buffer limit; after SIGCONT its subscribers catch up', async () => {
    const articleId = `stopped-${nanoid(8)}`;
    const onA = [new ExactClient(a.url, articleId), new ExactClient(a.url, articleId)];
    const onB = [new ExactClient(b.url, articleId), new ExactClient(b.url, articleId)];
    clients.push(...onA, ...onB);
    await Promise.all(clients.map((c) => c.ready()));
    await vi.waitFor(async () => expect(await articleSubscribers(articleId)).toBe(2));
    const redisMemoryBefore = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);

    a.signal('SIGSTOP');
    const paused = performance.now();
    let posts = 0;
    let peakRedisMemory = redisMemoryBefore;
    // Post on B until Redis gives up on A's subscriber connection (bounded).
    while ((await articleSubscribers(articleId)) > 1) {
      if (posts >= 3000) throw new Error('Redis never dropped the paused subscriber');
      for (let i = 0; i < 20; i++) {
        posts += 1;
        expect((await postComment(b.url, articleId, bigBody(posts))).status).toBe(201);
      }
      peakRedisMemory = Math.max(peakRedisMemory, Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]));
    }
    const droppedAfterMs = performance.now() - paused;
    // B's subscribers were not held up by the paused instance.
    await vi.waitFor(() => expect(onB.every((c) => c.has(posts))).toBe(true), { timeout: 10_000 });

    a.signal('SIGCONT');
    const resumed = performance.now();
    const convergeMs = await timeUntil(
      'A’s subscribers caught up after SIGCONT',
      () => onA.every((c) => c.has(posts)),
      30_000,
    );
    await vi.waitFor(async () => expect(await articleSubscribers(articleId)).toBe(2), { timeout: 10_000 });
    // Live fan-out to A works again.
    const liveBefore = onA.map((c) => c.live);
    expect((await postComment(b.url, articleId, 'after the pause')).status).toBe(201);
    await vi.waitFor(() => expect(onA.every((c, i) => c.has(posts + 1) && c.live > liveBefore[i]!)).toBe(true), {
      timeout: 10_000,
    });
    for (const client of clients) {
      expect(client.conflicts).toEqual([]);
      expect(client.errors).toEqual([]);
    }
    expect(a.exitCode).toBeNull();
    expect(a.nonJsonLines()).toEqual([]);

    report('sigstop-instance', {
      postsWhilePaused: posts,
      pushedMBWhilePaused: mb(posts * Buffer.byteLength(bigBody(posts))),
      redisDroppedSubscriptionAfterMs: Math.round(droppedAfterMs),
      redisMemoryGrowthMB: mb(peakRedisMemory - redisMemoryBefore),
      headsReceivedOnA: onA.map((c) => c.heads),
      convergeMsAfterSigcont: Math.round(convergeMs),
      sinceResumeMs: Math.round(performance.now() - resumed),
      lost: 0,
    });
  });
});

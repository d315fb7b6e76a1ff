import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as pace } from 'node:timers/promises';
import { nanoid } from 'nanoid';
import { hashSlot } from '../../server/redis/clients.ts';
import { startInstancePair, type AppProcess } from '../helpers/processes.ts';
import { RedisCluster } from '../helpers/redis-cluster.ts';
import { ExactClient } from './exact-client.ts';
import { postComment, report, storedComments, timeUntil, type PostOutcome } from './posting.ts';

const ARTICLES = 20;

const median = (values: number[]): number => Math.round([...values].sort((x, y) => x - y)[values.length >> 1] ?? 0);
/** Spacing of posts (round robin over the articles, alternating instances): about 40 posts/s. */
const POST_INTERVAL_MS = 25;
/** Traffic before the kill, so every subscription is live and every client complete. */
const WARM_UP_POSTS = 40;

/**
 * Fault: a Redis Cluster master dies (SIGKILL) while two instances carry traffic on 20 articles whose
 * channels live on every master. Posting never stops; once a replica is promoted, the instances
 * resubscribe to the moved shard by themselves and announce `article:head`, and every subscriber on
 * both instances ends with every comment, in seq order, within 10 s of the promotion, without a
 * single post after it.
 */
describe('a Redis Cluster master dies under two instances', () => {
  const dir = mkdtempSync(join(tmpdir(), 'live-comments-fault-cluster-'));
  const prefix = `fault:${nanoid(6)}:`;
  let cluster: RedisCluster;
  let a: AppProcess;
  let b: AppProcess;
  const clients: ExactClient[] = [];

  beforeAll(async () => {
    cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 2000 });
    [a, b] = await startInstancePair(dir, { REDIS_CLUSTER_NODES: cluster.startupNodes, REDIS_PREFIX: prefix });
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** 20 article ids whose fan-out channels are spread evenly over the masters; the master of each. */
  async function articlesOverEveryMaster(): Promise<Array<{ articleId: string; master: number; slot: number }>> {
    const nodes = await cluster.nodes();
    const masters = nodes.filter((n) => n.role === 'master' && n.slots.length > 0);
    const perMaster = Math.ceil(ARTICLES / masters.length);
    const chosen: Array<{ articleId: string; master: number; slot: number }> = [];
    while (chosen.length < ARTICLES) {
      const articleId = `cluster-failover-${nanoid(8)}`;
      const slot = hashSlot(`${prefix}article:${articleId}`);
      const master = masters.find((m) => m.slots.some(([first, last]) => slot >= first && slot <= last))!.port;
      if (chosen.filter((c) => c.master === master).length < perMaster) chosen.push({ articleId, master, slot });
    }
    return chosen;
  }

  it('loses no comment: every subscriber converges within 10 s of the promotion', async () => {
    const articles = await articlesOverEveryMaster();
    const victim = articles[0]!.master;
    const victimArticles = articles.filter((x) => x.master === victim);
    expect(new Set(articles.map((x) => x.master)).size).toBe(3);
    for (const { articleId } of articles)
      clients.push(new ExactClient(a.url, articleId), new ExactClient(b.url, articleId));
    await Promise.all(clients.map((c) => c.ready()));

    const outcomes: Array<PostOutcome & { articleId: string; phase: string }> = [];
    let turn = 0;
    const postNext = async (phase: string) => {
      const { articleId } = articles[turn % ARTICLES]!;
      const app = turn % 2 === 0 ? a : b;
      turn += 1;
      const outcome = await postComment(app.url, articleId, `${phase} ${turn} via ${app.name}`);
      outcomes.push({ ...outcome, articleId, phase });
    };
    const complete = () =>
      clients.every((c) => c.has(outcomes.filter((o) => o.articleId === c.articleId && o.status === 201).length));

    for (let i = 0; i < WARM_UP_POSTS; i++) await postNext('before');
    await vi.waitFor(() => expect(complete()).toBe(true), { timeout: 10_000 });

    // The master dies; posting goes on, on both instances, until a replica took over.
    await cluster.kill(victim);
    const killedAt = performance.now();
    let promotedAt = 0;
    const promotion = cluster.waitForPromotion(victim, articles[0]!.slot, 30_000).then((port) => {
      promotedAt = performance.now();
      return port;
    });
    while (promotedAt === 0) {
      await postNext('outage');
      await pace(POST_INTERVAL_MS);
    }
    const promoted = await promotion;
    // No post after the promotion: clients behind can only learn from article:head or a publish sent again.
    const convergeMs = await timeUntil('every subscriber holds every comment after the promotion', complete, 10_000);

    const during = outcomes.filter((o) => o.phase === 'outage');
    expect(outcomes.map((o) => o.status)).toEqual(outcomes.map(() => 201));
    // Posting went on through the failover, on the killed shard's articles too.
    expect(during.length).toBeGreaterThanOrEqual(10);
    expect(during.filter((o) => victimArticles.some((x) => x.articleId === o.articleId)).length).toBeGreaterThan(0);

    // Nothing lost, nothing doubled, every thread in seq order and equal to the store on every subscriber.
    for (const { articleId } of articles) {
      const stored = (await storedComments(a.url, articleId)).map((c) => c.id);
      expect(stored).toHaveLength(outcomes.filter((o) => o.articleId === articleId).length);
      for (const client of clients.filter((c) => c.articleId === articleId)) {
        expect(client.conflicts).toEqual([]);
        expect(client.errors).toEqual([]);
        expect([...client.bySeq.entries()].sort(([x], [y]) => x - y).map(([, c]) => c.id)).toEqual(stored);
      }
    }

    // Both instances noticed the moved shard by themselves and resynced its articles.
    const restored = (app: AppProcess) =>
      app.logs().filter((line) => line.msg === 'redis fan-out subscriptions restored; resyncing subscribers');
    for (const app of [a, b]) {
      expect(restored(app).length).toBeGreaterThan(0);
      expect(app.exitCode).toBeNull();
      expect(app.nonJsonLines()).toEqual([]);
      expect(app.logs().filter((line) => line.msg === 'unhandled rejection')).toEqual([]);
    }
    const onVictim = clients.filter((c) => victimArticles.some((x) => x.articleId === c.articleId));

    report('redis-cluster-failover', {
      articles: ARTICLES,
      articlesOnKilledMaster: victimArticles.length,
      subscribers: clients.length,
      posts: outcomes.length,
      failedPosts: outcomes.filter((o) => o.status !== 201).length,
      postsDuringFailover: during.length,
      medianPostMsBefore: median(outcomes.filter((o) => o.phase === 'before').map((o) => o.ms)),
      medianPostMsDuringFailover: median(during.map((o) => o.ms)),
      maxPostMsDuringFailover: Math.round(Math.max(...during.map((o) => o.ms))),
      promotionMsAfterKill: Math.round(promotedAt - killedAt),
      promotedPort: promoted,
      convergeMsAfterPromotion: Math.round(convergeMs),
      headsReceivedOnKilledShard: onVictim.reduce((n, c) => n + c.heads, 0),
      catchUpsOnKilledShard: onVictim.reduce((n, c) => n + c.catchUps, 0),
      resyncLogLines: { A: restored(a).length, B: restored(b).length },
      lost: 0,
      duplicated: 0,
    });
    expect(convergeMs).toBeLessThan(10_000);
  });
});

import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ModeratedCommentSchema, type ModeratedComment } from '../../shared/moderation.ts';
import {
  ArticleStateSchema,
  CommentSchema,
  CountChangedSchema,
  PresenceSchema,
  type ArticleState,
  type Comment,
  type CountChanged,
} from '../../shared/schemas.ts';
import { loadConfig, ConfigError } from '../../server/config.ts';
import { PRESENCE_GROUPS, presenceGroup, presenceKeys, RedisPresenceStore } from '../../server/presence/redis-store.ts';
import { createRedisClient, hashSlot, type RedisTarget } from '../../server/redis/clients.ts';
import { RedisCluster } from '../helpers/redis-cluster.ts';
import {
  connectSocket,
  getJson,
  postJson,
  REDIS_URL,
  startTwoTestApps,
  uniqueArticle,
  uniquePrefix,
  type TestApp,
  type TestAppPair,
  type TestSocket,
} from '../helpers/test-app.ts';

/** A six-node Redis Cluster (three masters, three replicas) of this file's own. */
let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await RedisCluster.start();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

/** Article ids whose `key(id)` falls on each master of the cluster, `perMaster` of them per master. */
async function articlesOnEveryMaster(key: (articleId: string) => string, perMaster: number): Promise<string[]> {
  const nodes = await cluster.nodes();
  const masters = nodes.filter((n) => n.role === 'master' && n.slots.length > 0);
  const chosen = new Map<number, string[]>(masters.map((m) => [m.port, []]));
  while ([...chosen.values()].some((list) => list.length < perMaster)) {
    const articleId = uniqueArticle('rc');
    const slot = hashSlot(key(articleId));
    const owner = masters.find((m) => m.slots.some(([first, last]) => slot >= first && slot <= last))!;
    const list = chosen.get(owner.port)!;
    if (list.length < perMaster) list.push(articleId);
  }
  return [...chosen.values()].flat();
}

describe('REDIS_CLUSTER_NODES', () => {
  const base = { SQLITE_PATH: '/tmp/unused.db' };

  it('parses host:port lists, IPv6 in brackets included', () => {
    const config = loadConfig({ ...base, REDIS_CLUSTER_NODES: 'redis-1:7000, 10.0.0.2:7001,[::1]:7002' });
    expect(config.redisClusterNodes).toEqual([
      { host: 'redis-1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(config.redisUrl).toBeUndefined();
  });

  it.each([
    ['redis-1', 'is not host:port'],
    ['redis-1:0', 'is not host:port'],
    ['redis-1:70000', 'is not host:port'],
    ['redis://redis-1:7000', 'is not host:port'],
    ['[nope]:7000', 'is not host:port'],
    [' , ', 'at least one'],
  ])('refuses %j with a clear message', (value, message) => {
    expect(() => loadConfig({ ...base, REDIS_CLUSTER_NODES: value })).toThrow(message);
  });

  it('refuses REDIS_URL and REDIS_CLUSTER_NODES together, naming both', () => {
    let error: unknown;
    try {
      loadConfig({ ...base, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: '127.0.0.1:7000' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(/REDIS_URL and REDIS_CLUSTER_NODES are both set/),
    ]);
  });

  it('refuses a REDIS_PREFIX with braces on a cluster (it would pin every key to one slot)', () => {
    expect(() => loadConfig({ ...base, REDIS_CLUSTER_NODES: '127.0.0.1:7000', REDIS_PREFIX: '{lc}:' })).toThrow(
      'must not contain { or }',
    );
    expect(loadConfig({ ...base, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: '{lc}:' }).redisPrefix).toBe(
      '{lc}:',
    );
  });
});

describe.each([
  ['one Redis', (): RedisTarget => ({ kind: 'single', url: REDIS_URL })],
  [
    'a Redis Cluster',
    (): RedisTarget => ({ kind: 'cluster', nodes: cluster.ports.map((port) => ({ host: '127.0.0.1', port })) }),
  ],
] as const)('RedisPresenceStore on %s', (_name, target) => {
  const stores: RedisPresenceStore[] = [];
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
  });

  function store(keyPrefix: string, instanceId: string, heartbeatTtlMs = 3000): RedisPresenceStore {
    const redis = createRedisClient(target(), { role: 'fail-fast' });
    const made = new RedisPresenceStore({ redis, keyPrefix, instanceId, heartbeatTtlMs });
    stores.push(made);
    return made;
  }

  it('keeps every key of a group in one slot, and spreads the groups over the slots', () => {
    const slots = new Set<number>();
    for (let group = 0; group < PRESENCE_GROUPS; group++) {
      const keys = presenceKeys('lc:', group);
      const slot = hashSlot(keys.live);
      expect(hashSlot(keys.article('any-article'))).toBe(slot);
      expect(hashSlot(keys.article(`other-${group}`))).toBe(slot);
      slots.add(slot);
    }
    expect(slots.size).toBe(PRESENCE_GROUPS);
  });

  it('adds up the readers of live instances per article, with articles on every shard, and drops an instance that stops ticking', async () => {
    const keyPrefix = uniquePrefix();
    // Articles of many groups: on a cluster, their keys live on every master.
    const articles = await articlesOnEveryMaster((id) => presenceKeys(keyPrefix, presenceGroup(id)).live, 3);
    const a = store(keyPrefix, 'a', 1000);
    const b = store(keyPrefix, 'b', 1000);
    // Connected to every master first, so the two ticks below run well within a's liveness.
    const warm = new Map(articles.map((id) => [`warm-${id}`, 1]));
    await vi.waitFor(() => Promise.all([a.sync(new Map(), warm), b.sync(new Map(), warm)]), { timeout: 5000 });
    const readsOf = (count: number) => new Map(articles.map((id, index) => [id, count + index]));
    // A sync is idempotent (it sets this instance's counts): one refused because a node connection of the
    // fail-fast client was being re-made ("Connection is closed", seen once in CI) is simply sent again.
    const sync = (on: RedisPresenceStore, ...args: Parameters<RedisPresenceStore['sync']>) =>
      vi.waitFor(() => on.sync(...args), { timeout: 800, interval: 20 });
    await sync(a, new Map(), readsOf(1));
    const totals = await sync(b, new Map(), readsOf(10));
    expect(Object.fromEntries(totals)).toEqual(Object.fromEntries(articles.map((id, index) => [id, 11 + 2 * index])));

    // b stops reading the first article: its count goes, through `changed`.
    const [first, ...rest] = articles;
    await sync(b, new Map([[first!, 0]]), new Map(rest.map((id) => [id, 10 + articles.indexOf(id)])));
    expect((await sync(a, new Map(), readsOf(1))).get(first!)).toBe(1);

    // a stops ticking (killed): b no longer counts it once a's liveness has run out.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const alone = await sync(b, new Map(), new Map(rest.map((id) => [id, 10 + articles.indexOf(id)])));
    expect(Object.fromEntries(alone)).toEqual(Object.fromEntries(rest.map((id) => [id, 10 + articles.indexOf(id)])));
  });

  it('withdraws an instance’s counts on close', async () => {
    const keyPrefix = uniquePrefix();
    const articles = await articlesOnEveryMaster((id) => presenceKeys(keyPrefix, presenceGroup(id)).live, 1);
    const a = store(keyPrefix, 'a');
    const b = store(keyPrefix, 'b');
    await vi.waitFor(() => expect(stores.every((s) => s['redis'].status === 'ready')).toBe(true));
    const reads = new Map(articles.map((id) => [id, 2]));
    await a.sync(new Map(), reads);
    expect([...(await b.sync(new Map(), reads)).values()]).toEqual(articles.map(() => 4));
    await a.close();
    expect([...(await b.sync(new Map(), reads)).values()]).toEqual(articles.map(() => 2));
  });
});

const ADMIN_TOKEN = `admin-${nanoid(24)}`;

/** Every Redis use of the app (fan-out, moderator feed, presence, rate limits) on a Redis Cluster. */
describe('two instances on a Redis Cluster', () => {
  let pair: TestAppPair | undefined;
  let a: TestApp;
  let b: TestApp;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    pair = await startTwoTestApps(
      { ADMIN_TOKEN, RATE_LIMIT_POSTS_PER_MINUTE_IP: '3', TRUST_PROXY: 'loopback' },
      cluster.startupNodes,
    );
    ({ a, b } = pair);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await pair?.close();
  });

  /** A socket on `server` subscribed to `articleId` (and its count), remembering what it heard. */
  async function reader(server: TestApp, articleId: string) {
    const socket = await connectSocket(server.url);
    sockets.push(socket);
    const heard = {
      created: [] as Comment[],
      states: [] as ArticleState[],
      counts: [] as CountChanged[],
      readers: [] as number[],
    };
    socket.on('comment:created', (c) => heard.created.push(CommentSchema.parse(c)));
    socket.on('article:updated', (s) => heard.states.push(ArticleStateSchema.parse(s)));
    socket.on('count:changed', (c) => heard.counts.push(CountChangedSchema.parse(c)));
    socket.on('presence:changed', (p) => heard.readers.push(PresenceSchema.parse(p).readers));
    expect((await socket.emitWithAck('article:subscribe', { articleId })).ok).toBe(true);
    expect((await socket.emitWithAck('counts:subscribe', { articleIds: [articleId] })).ok).toBe(true);
    return heard;
  }

  const post = (server: TestApp, articleId: string, body: string, ip: string) =>
    postJson(
      `${server.url}/api/articles/${articleId}/comments`,
      { author: { name: `Reader ${nanoid(4)}` }, body, clientId: nanoid() },
      { 'x-forwarded-for': ip },
    );

  it('reports Redis up', async () => {
    expect((await getJson(`${a.url}/readyz`)).body).toMatchObject({ status: 'ready', redis: 'up' });
    expect((await getJson(`${b.url}/readyz`)).body).toMatchObject({ status: 'ready', redis: 'up' });
  });

  it('carries comments, counts and article states between instances for articles on every shard', async () => {
    const articles = await articlesOnEveryMaster((id) => `${pair!.a.app.config.redisPrefix}article:${id}`, 1);
    for (const [index, articleId] of articles.entries()) {
      const onB = await reader(b, articleId);
      const ip = `198.51.100.${index + 1}`;
      expect((await post(a, articleId, 'first, via A', ip)).status).toBe(201);
      expect((await post(b, articleId, 'second, via B', ip)).status).toBe(201);
      await vi.waitFor(() => expect(onB.created.map((c) => c.seq)).toEqual([1, 2]), { timeout: 5000 });
      await vi.waitFor(() => expect(onB.counts.at(-1)?.count).toBe(2), { timeout: 5000 });
      const locked = await fetch(`${a.url}/api/admin/articles/${articleId}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ locked: true }),
      });
      expect(locked.status).toBe(200);
      await vi.waitFor(() => expect(onB.states.at(-1)).toMatchObject({ articleId, locked: true }), {
        timeout: 5000,
      });
    }
  });

  it('carries the moderator feed between instances', async () => {
    const moderator = await connectSocket(b.url);
    sockets.push(moderator);
    const feed: ModeratedComment[] = [];
    moderator.on('admin:comment', (c) => feed.push(ModeratedCommentSchema.parse(c)));
    expect(await moderator.emitWithAck('admin:subscribe', { token: ADMIN_TOKEN })).toEqual({ ok: true });
    const articleId = uniqueArticle('rc');
    expect((await post(a, articleId, 'for the moderators', '198.51.100.50')).status).toBe(201);
    await vi.waitFor(() => expect(feed.map((c) => c.body)).toEqual(['for the moderators']), { timeout: 5000 });
  });

  it('counts readers across both instances', async () => {
    const articleId = uniqueArticle('rc');
    const onA = await reader(a, articleId);
    const onB = await reader(b, articleId);
    await reader(b, articleId);
    await vi.waitFor(
      () => {
        expect(onA.readers.at(-1)).toBe(3);
        expect(onB.readers.at(-1)).toBe(3);
      },
      { timeout: 5000 },
    );
  });

  it('spends one post budget across both instances', async () => {
    const articleId = uniqueArticle('rc');
    const ip = '198.51.100.200';
    expect((await post(a, articleId, 'one', ip)).status).toBe(201);
    expect((await post(b, articleId, 'two', ip)).status).toBe(201);
    expect((await post(a, articleId, 'three', ip)).status).toBe(201);
    expect((await post(b, articleId, 'four', ip)).status).toBe(429);
    expect((await post(a, articleId, 'five', ip)).status).toBe(429);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { Cluster, Redis } from 'ioredis';
import { customAlphabet, nanoid } from 'nanoid';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { MemoryFanOut } from '../../server/fanout/memory.ts';
import type { FanOut, FanOutMessage, FanOutState, FeedMessage } from '../../server/fanout/port.ts';
import { createRedisClients, RedisFanOut, type FanOutLogger } from '../../server/fanout/redis.ts';
import type { CommentEvent } from '../../shared/events.ts';
import type { ModeratedComment } from '../../shared/moderation.ts';
import type { ArticleHead, ArticleState, Comment } from '../../shared/schemas.ts';
import type { RedisClient, RedisTarget } from '../../server/redis/clients.ts';
import { hashSlot } from '../../server/redis/clients.ts';
import { RedisCluster } from '../helpers/redis-cluster.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const slug = customAlphabet('abcdefghijklmnopqrstuvwxyz0123456789', 10);

/** A fan-out instance under test, with everything its listeners saw. */
interface Node {
  fanOut: FanOut;
  received: FanOutMessage[];
  /** Article states (`article:updated`) delivered. */
  states: ArticleState[];
  heads: ArticleHead[];
  /** Moderator-feed messages delivered. */
  feed: FeedMessage[];
  resyncs: number;
  /** The articles named by each `onResync`. */
  resynced: string[][];
  /** Cuts the publishing connection (only where there is one); with `reconnect`, it connects again at once. */
  disconnectPublisher?: (reconnect?: boolean) => void;
  /** Messages dropped as invalid, where the implementation counts them. */
  dropped?: () => number;
}

/** Instances made by one bus share it: with `shared`, one instance's publish reaches the others. */
interface Bus {
  make(): Promise<Node>;
  /** Puts a raw payload on an article's channel, bypassing every check of the sender. */
  injectRaw?: (articleId: string, payload: string) => Promise<void>;
  /** The same on the moderator-feed channel. */
  injectFeed?: (payload: string) => Promise<void>;
  close(): Promise<void>;
}

interface BusFactory {
  /** Instances of one bus reach each other. */
  shared: boolean;
  /** Raw payloads can be injected and publishing connections cut. */
  transport: boolean;
  /** state() of a ready instance, and after close(). */
  readyState: FanOutState;
  closedState: FanOutState;
  create(): Bus;
}

function watch(fanOut: FanOut, extra: Partial<Node> = {}): Node {
  const node: Node = { fanOut, received: [], states: [], heads: [], feed: [], resyncs: 0, resynced: [], ...extra };
  fanOut.onMessage((message) => node.received.push(message));
  fanOut.onArticleState((state) => node.states.push(state));
  fanOut.onArticleHead((head) => node.heads.push(head));
  fanOut.onFeed((message) => node.feed.push(message));
  fanOut.onResync((articleIds) => {
    node.resyncs += 1;
    node.resynced.push([...articleIds].sort());
  });
  return node;
}

const quietLogger: FanOutLogger = { warn: () => {}, info: () => {}, error: () => {} };

const memoryFactory: BusFactory = {
  shared: false,
  transport: false,
  readyState: 'local',
  closedState: 'local',
  create() {
    const nodes: Node[] = [];
    return {
      async make() {
        const node = watch(new MemoryFanOut(quietLogger));
        nodes.push(node);
        return node;
      },
      async close() {
        await Promise.all(nodes.map((n) => n.fanOut.close()));
      },
    };
  },
};

function redisNode(target: RedisTarget, channelPrefix: string): Node {
  const { publisher, subscriber } = createRedisClients(target);
  const fanOut = new RedisFanOut({ publisher, subscriber, instanceId: nanoid(), channelPrefix, logger: quietLogger });
  return watch(fanOut, {
    disconnectPublisher: (reconnect = false) => publisher.disconnect(reconnect),
    dropped: () => fanOut.stats().dropped,
  });
}

/** Instances over one Redis (`single`) or one Redis Cluster, each bus on a channel prefix of its own. */
function busOver(target: () => RedisTarget, raw: () => RedisClient, sharded: boolean): BusFactory {
  return {
    shared: true,
    transport: true,
    readyState: 'up',
    closedState: 'down',
    create() {
      const channelPrefix = `test:${nanoid()}:`;
      const nodes: Node[] = [];
      let injector: RedisClient | null = null;
      const inject = (channel: string, payload: string) => {
        injector ??= raw();
        return sharded ? injector.spublish(channel, payload) : injector.publish(channel, payload);
      };
      return {
        async make() {
          const node = redisNode(target(), channelPrefix);
          nodes.push(node);
          await (node.fanOut as RedisFanOut).whenReady();
          return node;
        },
        async injectRaw(articleId, payload) {
          await inject(`${channelPrefix}article:${articleId}`, payload);
        },
        async injectFeed(payload) {
          await inject(`${channelPrefix}feed`, payload);
        },
        async close() {
          await Promise.all(nodes.map((n) => n.fanOut.close()));
          await injector?.quit();
        },
      };
    },
  };
}

const redisFactory = busOver(
  () => ({ kind: 'single', url: REDIS_URL }),
  () => new Redis(REDIS_URL),
  false,
);

/** A six-node Redis Cluster (three masters, three replicas) of this file's own, started once. */
let redisCluster: RedisCluster | null = null;
beforeAll(async () => {
  redisCluster = await RedisCluster.start();
}, 60_000);
afterAll(async () => {
  await redisCluster?.stop();
});

function clusterTarget(): RedisTarget & { kind: 'cluster' } {
  if (!redisCluster) throw new Error('the Redis Cluster did not start');
  return { kind: 'cluster', nodes: redisCluster.ports.map((port) => ({ host: '127.0.0.1', port })) };
}

const clusterFactory = busOver(clusterTarget, () => new Cluster([...clusterTarget().nodes]), true);

function makeComment(articleId: string, seq: number): Comment {
  return {
    id: nanoid(),
    articleId,
    parentId: null,
    author: { name: 'Ada' },
    body: `comment ${seq}`,
    createdAt: new Date().toISOString(),
    editedAt: null,
    status: 'visible',
    seq,
    likes: 0,
  };
}

function moderated(articleId: string, seq: number): ModeratedComment {
  return { ...makeComment(articleId, seq), removedBy: null, originalBody: null, authorKey: 'author-key-1' };
}

function message(articleId: string, seq: number, event: CommentEvent = 'comment:created'): FanOutMessage {
  return { event, comment: makeComment(articleId, seq) };
}

const seqsOf = (node: Node, articleId: string): number[] =>
  node.received.filter((m) => m.comment.articleId === articleId).map((m) => m.comment.seq);

const buses: Bus[] = [];
afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.close()));
});

describe.each([
  ['memory', memoryFactory],
  ['redis', redisFactory],
  ['redis cluster', clusterFactory],
] as const)('FanOut contract: %s', (_name, factory) => {
  /** Cross-instance cases exist only where instances share a bus (not for the in-process default). */
  const itShared = (name: string, test: () => Promise<void>): void => {
    if (factory.shared) it(name, test);
  };

  /** Cases about a real connection (raw messages on the wire, a dropped link). */
  const itTransport = (name: string, test: () => Promise<void>): void => {
    if (factory.transport) it(name, test);
  };

  function newBus(): Bus {
    const bus = factory.create();
    buses.push(bus);
    return bus;
  }

  it('delivers a local publish to the local listener synchronously, exactly once', async () => {
    const bus = newBus();
    const a = await bus.make();
    const article = slug();
    await a.fanOut.subscribe(article);
    const sent = message(article, 1);
    const pending = a.fanOut.publish(sent);
    expect(a.received).toEqual([sent]);
    await expect(pending).resolves.toBeUndefined();
    expect(a.received).toEqual([sent]);
  });

  itShared('drops the echo of its own publish', async () => {
    const bus = newBus();
    const [a, b] = [await bus.make(), await bus.make()];
    const article = slug();
    await Promise.all([a.fanOut.subscribe(article), b.fanOut.subscribe(article)]);
    const own = message(article, 1);
    await a.fanOut.publish(own);
    // Redis handles commands one at a time: by the time b's later message reaches a, a's echo would have too.
    const marker = message(article, 2);
    await b.fanOut.publish(marker);
    await vi.waitFor(() => expect(a.received).toHaveLength(2), { timeout: 5000 });
    expect(a.received).toEqual([own, marker]);
  });

  itShared('reaches another subscribed instance exactly once, even when it subscribed twice', async () => {
    const bus = newBus();
    const [a, b] = [await bus.make(), await bus.make()];
    const article = slug();
    await Promise.all([b.fanOut.subscribe(article), b.fanOut.subscribe(article)]);
    await b.fanOut.subscribe(article);
    const first = message(article, 1, 'comment:created');
    const second = message(article, 2, 'comment:updated');
    await a.fanOut.publish(first);
    await a.fanOut.publish(second);
    await vi.waitFor(() => expect(b.received).toHaveLength(2), { timeout: 5000 });
    expect(b.received).toEqual([first, second]);
    expect(a.received).toEqual([first, second]);
  });

  itShared('does not reach an instance that never subscribed or has unsubscribed', async () => {
    const bus = newBus();
    const [a, b] = [await bus.make(), await bus.make()];
    const [article, other] = [slug(), slug()];
    await b.fanOut.subscribe(other);

    await a.fanOut.publish(message(article, 1));
    await a.fanOut.publish(message(other, 1));
    await vi.waitFor(() => expect(seqsOf(b, other)).toEqual([1]), { timeout: 5000 });
    expect(seqsOf(b, article)).toEqual([]);

    await b.fanOut.subscribe(article);
    await a.fanOut.publish(message(article, 2));
    await vi.waitFor(() => expect(seqsOf(b, article)).toEqual([2]), { timeout: 5000 });

    await b.fanOut.unsubscribe(article);
    await b.fanOut.unsubscribe(article);
    await a.fanOut.publish(message(article, 3));
    await a.fanOut.publish(message(other, 2));
    await vi.waitFor(() => expect(seqsOf(b, other)).toEqual([1, 2]), { timeout: 5000 });
    expect(seqsOf(b, article)).toEqual([2]);
  });

  it('preserves per-article order for 200 rapid publishes', async () => {
    const bus = newBus();
    const [a, b] = [await bus.make(), await bus.make()];
    const article = slug();
    await Promise.all([a.fanOut.subscribe(article), b.fanOut.subscribe(article)]);
    const expected = Array.from({ length: 200 }, (_, i) => i + 1);
    await Promise.all(expected.map((seq) => a.fanOut.publish(message(article, seq))));
    expect(seqsOf(a, article)).toEqual(expected);
    if (factory.shared) {
      await vi.waitFor(() => expect(b.received).toHaveLength(200), { timeout: 10_000 });
      expect(seqsOf(b, article)).toEqual(expected);
    } else {
      expect(b.received).toEqual([]);
    }
  });

  itTransport('drops invalid messages without crashing and still delivers the next valid one', async () => {
    const bus = newBus();
    const b = await bus.make();
    const [article, elsewhere] = [slug(), slug()];
    await b.fanOut.subscribe(article);
    const valid = (overrides: Record<string, unknown> = {}, comment: unknown = makeComment(article, 1)) =>
      JSON.stringify({ v: 1, origin: 'another-instance', event: 'comment:created', comment, ...overrides });
    const invalid = [
      '{ this is not json',
      '',
      'null',
      '42',
      JSON.stringify({ hello: 'world' }),
      valid({ v: 2 }),
      valid({ event: 'comment:exploded' }),
      valid({}, { ...makeComment(article, 1), id: 'short' }),
      valid({}, { ...makeComment(article, 1), seq: 0 }),
      valid({}, makeComment(elsewhere, 1)),
      JSON.stringify({ v: 1, event: 'comment:created', comment: makeComment(article, 1) }),
      valid({}, { ...makeComment(article, 1), body: 'x'.repeat(70_000) }),
    ];
    for (const payload of invalid) await bus.injectRaw!(article, payload);
    const good = makeComment(article, 7);
    await bus.injectRaw!(article, valid({}, good));
    await vi.waitFor(() => expect(b.received).toHaveLength(1), { timeout: 5000 });
    expect(b.received).toEqual([{ event: 'comment:created', comment: good }]);
    expect(b.dropped?.()).toBe(invalid.length);
    expect(b.fanOut.state()).toBe(factory.readyState);
  });

  it('delivers article states like comments: locally at once, and to instances subscribed to the article only', async () => {
    const bus = newBus();
    const [a, b] = [await bus.make(), await bus.make()];
    const [article, other] = [slug(), slug()];
    await b.fanOut.subscribe(article);
    const locked: ArticleState = { articleId: article, locked: true, premoderated: false };
    const pending = a.fanOut.publishArticleState(locked);
    expect(a.states).toEqual([locked]);
    await pending;
    await a.fanOut.publishArticleState({ articleId: other, locked: false, premoderated: true });
    const marker = message(article, 1);
    await a.fanOut.publish(marker);
    if (factory.shared) {
      await vi.waitFor(() => expect(b.received).toEqual([marker]), { timeout: 5000 });
      expect(b.states).toEqual([locked]);
    } else {
      expect(b.states).toEqual([]);
    }
    expect(a.states).toHaveLength(2);
  });

  it('delivers article heads (after an import) like article states: locally at once, and to subscribed instances only', async () => {
    const bus = newBus();
    const [a, b] = [await bus.make(), await bus.make()];
    const [article, other] = [slug(), slug()];
    await b.fanOut.subscribe(article);
    const head: ArticleHead = { articleId: article, lastSeq: 42 };
    const pending = a.fanOut.publishArticleHead(head);
    expect(a.heads).toEqual([head]);
    await pending;
    await a.fanOut.publishArticleHead({ articleId: other, lastSeq: 7 });
    const marker = message(article, 1);
    await a.fanOut.publish(marker);
    if (factory.shared) {
      await vi.waitFor(() => expect(b.received).toEqual([marker]), { timeout: 5000 });
      expect(b.heads).toEqual([head]);
    } else {
      expect(b.heads).toEqual([]);
    }
    expect(a.heads).toHaveLength(2);
  });

  it('delivers moderator-feed messages locally at once, and to instances only while they subscribe to the feed', async () => {
    const bus = newBus();
    const [a, b] = [await bus.make(), await bus.make()];
    const feedMessage = (n: number): FeedMessage => ({ event: 'admin:comment', comment: moderated(slug(), n) });
    const first = feedMessage(1);
    const pending = a.fanOut.publishFeed(first);
    expect(a.feed).toEqual([first]);
    await pending;
    await b.fanOut.subscribeFeed();
    await b.fanOut.subscribeFeed();
    const second = feedMessage(2);
    const held: FeedMessage = {
      event: 'admin:held',
      held: {
        id: nanoid(),
        articleId: slug(),
        parentId: null,
        author: { name: 'Held' },
        body: 'waiting',
        createdAt: new Date().toISOString(),
        authorKey: null,
      },
    };
    await a.fanOut.publishFeed(second);
    await a.fanOut.publishFeed(held);
    if (factory.shared) {
      await vi.waitFor(() => expect(b.feed).toEqual([second, held]), { timeout: 5000 });
      await b.fanOut.unsubscribeFeed();
      await b.fanOut.unsubscribeFeed();
      await a.fanOut.publishFeed(feedMessage(3));
      // A marker on an article channel, published after: once it arrived, the feed message would have too.
      const article = slug();
      await b.fanOut.subscribe(article);
      await a.fanOut.publish(message(article, 1));
      await vi.waitFor(() => expect(b.received).toHaveLength(1), { timeout: 5000 });
      expect(b.feed).toEqual([second, held]);
    } else {
      expect(b.feed).toEqual([]);
    }
    expect(a.feed).toHaveLength(factory.shared ? 4 : 3);
  });

  itTransport('drops invalid article states and feed messages, and delivers valid ones after them', async () => {
    const bus = newBus();
    const b = await bus.make();
    const article = slug();
    await b.fanOut.subscribe(article);
    await b.fanOut.subscribeFeed();
    const state = (overrides: Record<string, unknown>) =>
      JSON.stringify({
        v: 1,
        origin: 'another-instance',
        event: 'article:updated',
        state: { articleId: article, locked: true, premoderated: false },
        ...overrides,
      });
    const feed = (message: unknown) => JSON.stringify({ v: 1, origin: 'another-instance', message });
    for (const payload of [
      state({ state: { articleId: article, locked: 'yes', premoderated: false } }),
      state({ state: { articleId: slug(), locked: true, premoderated: false } }),
      state({ v: 3 }),
    ])
      await bus.injectRaw!(article, payload);
    for (const payload of [
      '{ nope',
      '7',
      feed({ event: 'admin:comment', comment: makeComment(article, 1) }),
      feed({ event: 'admin:held', held: { id: 'short' } }),
      feed({ event: 'admin:exploded' }),
    ])
      await bus.injectFeed!(payload);
    const good = moderated(article, 2);
    await bus.injectFeed!(feed({ event: 'admin:comment', comment: good }));
    await bus.injectRaw!(article, state({}));
    await vi.waitFor(() => expect(b.states).toHaveLength(1), { timeout: 5000 });
    expect(b.states).toEqual([{ articleId: article, locked: true, premoderated: false }]);
    expect(b.feed).toEqual([{ event: 'admin:comment', comment: good }]);
    expect(b.dropped?.()).toBe(8);
  });

  itTransport(
    'resolves a publish within 1 s while the publisher is disconnected, after delivering locally',
    async () => {
      const bus = newBus();
      const a = await bus.make();
      const article = slug();
      await a.fanOut.subscribe(article);
      a.disconnectPublisher!();
      const sent = message(article, 1);
      const started = performance.now();
      await expect(a.fanOut.publish(sent)).resolves.toBeUndefined();
      expect(performance.now() - started).toBeLessThan(1000);
      expect(a.received).toEqual([sent]);
      await vi.waitFor(() => expect(a.fanOut.state()).toBe('down'));
    },
  );

  itTransport(
    'publishes a comment change and an article state again, once the link works, when their publish failed',
    async () => {
      const bus = newBus();
      const [a, b] = [await bus.make(), await bus.make()];
      const article = slug();
      await b.fanOut.subscribe(article);
      await a.fanOut.publish(message(article, 1));
      await vi.waitFor(() => expect(seqsOf(b, article)).toEqual([1]), { timeout: 5000 });
      a.disconnectPublisher!(true);
      const lost = message(article, 2);
      const locked: ArticleState = { articleId: article, locked: true, premoderated: false };
      await a.fanOut.publish(lost);
      await a.fanOut.publishArticleState(locked);
      expect(a.received.at(-1)).toEqual(lost);
      // Nothing else is published on the article: only the failed changes, sent again, can tell b.
      await vi.waitFor(() => expect(seqsOf(b, article)).toEqual([1, 2]), { timeout: 10_000, interval: 50 });
      await vi.waitFor(() => expect(b.states).toEqual([locked]), { timeout: 5000 });
      expect(b.received.at(-1)).toEqual(lost);
      expect((a.fanOut as RedisFanOut).stats().unsent).toBe(0);
    },
  );

  itTransport('does not publish a failed change again once a later change of the article got through', async () => {
    const bus = newBus();
    const [a, b] = [await bus.make(), await bus.make()];
    const article = slug();
    await b.fanOut.subscribe(article);
    a.disconnectPublisher!(true);
    await a.fanOut.publish(message(article, 1));
    await (a.fanOut as RedisFanOut).whenReady();
    await a.fanOut.publish(message(article, 2));
    await vi.waitFor(() => expect(seqsOf(b, article)).toContain(2), { timeout: 5000 });
    // Past the retry interval: seq 1 stays with the store (b's subscribers see the gap and catch up).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(seqsOf(b, article)).toEqual([2]);
    expect((a.fanOut as RedisFanOut).stats().unsent).toBe(0);
  });

  it('reports its state, and never resyncs while the link is steady', async () => {
    const bus = newBus();
    const a = await bus.make();
    expect(a.fanOut.state()).toBe(factory.readyState);
    await a.fanOut.subscribe(slug());
    await a.fanOut.publish(message(slug(), 1));
    expect(a.fanOut.state()).toBe(factory.readyState);
    await a.fanOut.close();
    expect(a.fanOut.state()).toBe(factory.closedState);
    await expect(a.fanOut.close()).resolves.toBeUndefined();
    expect(a.resyncs).toBe(0);
  });
});

/** A private redis-server that can be killed and restarted on the same port. */
class RedisServer {
  private child: ChildProcess | null = null;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  start(): void {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        cwd: tmpdir(),
        stdio: 'ignore',
      },
    );
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('RedisFanOut after a Redis outage', () => {
  let server: RedisServer;
  const nodes: Node[] = [];

  beforeAll(async () => {
    server = new RedisServer(await freePort());
    server.start();
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.fanOut.close()));
    await server.kill();
  });

  it('fires onResync once the link is back and receives other instances’ messages again', async () => {
    const channelPrefix = `test:${nanoid()}:`;
    const target: RedisTarget = { kind: 'single', url: server.url };
    const [a, b] = [redisNode(target, channelPrefix), redisNode(target, channelPrefix)];
    nodes.push(a, b);
    await Promise.all([(a.fanOut as RedisFanOut).whenReady(), (b.fanOut as RedisFanOut).whenReady()]);
    const article = slug();
    await a.fanOut.subscribe(article);
    await b.fanOut.publish(message(article, 1));
    await vi.waitFor(() => expect(seqsOf(a, article)).toEqual([1]), { timeout: 5000 });
    expect(a.resyncs).toBe(0);

    await server.kill();
    await vi.waitFor(() => expect(a.fanOut.state()).toBe('down'), { timeout: 5000 });
    const started = performance.now();
    await a.fanOut.publish(message(article, 2));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(seqsOf(a, article)).toEqual([1, 2]);
    // A subscription asked for during the outage answers at once and is made on reconnect.
    const later = slug();
    const subscribing = performance.now();
    await a.fanOut.subscribe(later);
    expect(performance.now() - subscribing).toBeLessThan(1000);

    server.start();
    await vi.waitFor(() => expect(a.resyncs).toBe(1), { timeout: 15_000, interval: 100 });
    await vi.waitFor(() => expect(a.fanOut.state()).toBe('up'), { timeout: 15_000, interval: 100 });
    await vi.waitFor(() => expect(b.fanOut.state()).toBe('up'), { timeout: 15_000, interval: 100 });
    await b.fanOut.publish(message(article, 3));
    await b.fanOut.publish(message(later, 1));
    await vi.waitFor(() => expect(seqsOf(a, article)).toEqual([1, 2, 3]), { timeout: 5000 });
    await vi.waitFor(() => expect(seqsOf(a, later)).toEqual([1]), { timeout: 5000 });
    expect(a.resyncs).toBe(1);
    expect(a.resynced).toEqual([[article, later].sort()]);
  });
});

describe('RedisFanOut on a Redis Cluster when a master fails over', () => {
  const nodes: Node[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.fanOut.close()));
  });

  /** Two fan-out instances on the cluster, and two articles on each master, subscribed on b. */
  async function setUp(): Promise<{ a: Node; b: Node; articlesOn: Map<number, string[]> }> {
    const cluster = redisCluster!;
    const channelPrefix = `test:${nanoid()}:`;
    const [a, b] = [redisNode(clusterTarget(), channelPrefix), redisNode(clusterTarget(), channelPrefix)];
    nodes.push(a, b);
    await Promise.all([(a.fanOut as RedisFanOut).whenReady(), (b.fanOut as RedisFanOut).whenReady()]);
    const masters = await cluster.nodes();
    const articlesOn = new Map<number, string[]>();
    while ([...articlesOn.values()].reduce((n, list) => n + list.length, 0) < 6) {
      const article = slug();
      const slot = hashSlot(`${channelPrefix}article:${article}`);
      const master = masters.find((m) => m.role === 'master' && m.slots.some(([f, l]) => slot >= f && slot <= l));
      const list = articlesOn.get(master!.port) ?? [];
      if (list.length < 2) articlesOn.set(master!.port, [...list, article]);
    }
    for (const article of [...articlesOn.values()].flat()) await b.fanOut.subscribe(article);
    for (const article of [...articlesOn.values()].flat()) await a.fanOut.publish(message(article, 1));
    await vi.waitFor(() => expect(b.received).toHaveLength(6), { timeout: 5000 });
    return { a, b, articlesOn };
  }

  it('resubscribes to the killed master’s channels on the promoted replica, resyncs only those articles, and sends again what failed meanwhile', async () => {
    const cluster = redisCluster!;
    const { a, b, articlesOn } = await setUp();
    const [victim, ...healthy] = [...articlesOn.keys()];
    onTestFinished(async () => {
      await cluster.restart(victim!);
      await cluster.waitHealthy();
    });
    const lost = articlesOn.get(victim!)!;
    const kept = healthy.flatMap((port) => articlesOn.get(port)!);
    const slot = hashSlot(`${(b.fanOut as RedisFanOut)['articlePrefix']}${lost[0]}`);

    await cluster.kill(victim!);
    const killed = performance.now();
    // Published while the shard has no master: delivered locally, kept, and published again once a
    // replica took over. b may resubscribe before or after that: if after, its resync covers seq 2.
    for (const article of lost) await a.fanOut.publish(message(article, 2));
    await vi.waitFor(() => expect((a.fanOut as RedisFanOut).stats().unsent).toBe(lost.length), { timeout: 3000 });
    await cluster.waitForPromotion(victim!, slot);
    const promoted = performance.now();

    await vi.waitFor(() => expect(b.resynced.flat()).toEqual(expect.arrayContaining(lost)), {
      timeout: 10_000,
      interval: 20,
    });
    const resynced = performance.now();
    await vi.waitFor(() => expect((a.fanOut as RedisFanOut).stats().unsent).toBe(0), { timeout: 10_000 });
    const resent = performance.now();
    expect(b.resynced.flat().filter((article) => kept.includes(article))).toEqual([]);

    for (const article of [...lost, ...kept]) await a.fanOut.publish(message(article, 3));
    for (const article of lost) await vi.waitFor(() => expect(seqsOf(b, article).at(-1)).toBe(3), { timeout: 5000 });
    for (const article of lost)
      expect([
        [1, 2, 3],
        [1, 3],
      ]).toContainEqual(seqsOf(b, article));
    for (const article of kept) await vi.waitFor(() => expect(seqsOf(b, article)).toEqual([1, 3]), { timeout: 5000 });
    expect((b.fanOut as RedisFanOut).stats()).toMatchObject({ unconfirmed: 0 });
    console.log(
      `[cluster] promotion ${Math.round(promoted - killed)} ms after the kill; after it, resync in ${Math.round(resynced - promoted)} ms, failed publishes sent again in ${Math.round(resent - promoted)} ms`,
    );
  }, 60_000);

  it('follows a manual failover (the old master stays up as a replica and unsubscribes its clients)', async () => {
    const cluster = redisCluster!;
    const { a, b, articlesOn } = await setUp();
    const [port, moved] = [...articlesOn.entries()][1]!;
    const slot = hashSlot(`${(b.fanOut as RedisFanOut)['articlePrefix']}${moved[0]}`);

    await cluster.failover(port, slot);
    const promoted = performance.now();
    await vi.waitFor(() => expect(b.resynced.flat()).toEqual(expect.arrayContaining(moved)), {
      timeout: 10_000,
      interval: 20,
    });
    console.log(`[cluster] manual failover: resync ${Math.round(performance.now() - promoted)} ms after the promotion`);
    for (const article of moved) await a.fanOut.publish(message(article, 2));
    for (const article of moved) await vi.waitFor(() => expect(seqsOf(b, article)).toEqual([1, 2]), { timeout: 5000 });
    await cluster.waitHealthy();
  }, 60_000);
});

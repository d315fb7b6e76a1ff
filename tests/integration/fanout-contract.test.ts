import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import { customAlphabet, nanoid } from 'nanoid';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryFanOut } from '../../server/fanout/memory.ts';
import type { FanOut, FanOutMessage, FanOutState, FeedMessage } from '../../server/fanout/port.ts';
import { createRedisClients, RedisFanOut, type FanOutLogger } from '../../server/fanout/redis.ts';
import type { CommentEvent } from '../../shared/events.ts';
import type { ModeratedComment } from '../../shared/moderation.ts';
import type { ArticleHead, ArticleState, Comment } from '../../shared/schemas.ts';

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
  /** Cuts the publishing connection (only where there is one). */
  disconnectPublisher?: () => void;
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
  const node: Node = { fanOut, received: [], states: [], heads: [], feed: [], resyncs: 0, ...extra };
  fanOut.onMessage((message) => node.received.push(message));
  fanOut.onArticleState((state) => node.states.push(state));
  fanOut.onArticleHead((head) => node.heads.push(head));
  fanOut.onFeed((message) => node.feed.push(message));
  fanOut.onResync(() => {
    node.resyncs += 1;
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
        const node = watch(new MemoryFanOut());
        nodes.push(node);
        return node;
      },
      async close() {
        await Promise.all(nodes.map((n) => n.fanOut.close()));
      },
    };
  },
};

function redisNode(url: string, channelPrefix: string): Node {
  const { publisher, subscriber } = createRedisClients(url);
  const fanOut = new RedisFanOut({ publisher, subscriber, instanceId: nanoid(), channelPrefix, logger: quietLogger });
  return watch(fanOut, {
    disconnectPublisher: () => publisher.disconnect(),
    dropped: () => fanOut.stats().dropped,
  });
}

const redisFactory: BusFactory = {
  shared: true,
  transport: true,
  readyState: 'up',
  closedState: 'down',
  create() {
    const channelPrefix = `test:${nanoid()}:`;
    const nodes: Node[] = [];
    let raw: Redis | null = null;
    return {
      async make() {
        const node = redisNode(REDIS_URL, channelPrefix);
        nodes.push(node);
        await (node.fanOut as RedisFanOut).whenReady();
        return node;
      },
      async injectRaw(articleId, payload) {
        raw ??= new Redis(REDIS_URL);
        await raw.publish(`${channelPrefix}article:${articleId}`, payload);
      },
      async injectFeed(payload) {
        raw ??= new Redis(REDIS_URL);
        await raw.publish(`${channelPrefix}feed`, payload);
      },
      async close() {
        await Promise.all(nodes.map((n) => n.fanOut.close()));
        await raw?.quit();
      },
    };
  },
};

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
    const [a, b] = [redisNode(server.url, channelPrefix), redisNode(server.url, channelPrefix)];
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
  });
});

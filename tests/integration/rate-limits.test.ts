import { describe, expect, vi } from 'vitest';
import { test } from '../helpers/fixtures.ts';
import { createServer } from 'node:net';
import { io as connect } from 'socket.io-client';
import { ErrorBodySchema } from '../../shared/errors.ts';
import { postJson, startTwoTestApps, uniqueArticle, uniquePrefix, type TestApp } from '../helpers/test-app.ts';

/** Budgets small enough to reach in a test; everything else off. */
function limits(overrides: Record<string, string>): Record<string, string> {
  return {
    RATE_LIMIT_POSTS_PER_MINUTE_IP: '0',
    RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: '0',
    SOCKET_EVENTS_PER_10S: '0',
    MAX_CONNECTIONS_PER_IP: '0',
    ...overrides,
  };
}

/**
 * Fixtures closed after each test: `start(env, redisPrefix?)`, an app with these settings, and
 * `socketFrom(app, ip)`, a socket as if from `ip` behind the local (trusted) proxy.
 */
const it = test
  .extend(
    'start',
    async ({ startApp }) =>
      (env: Record<string, string>, redisPrefix?: string) =>
        startApp({ env, ...(redisPrefix ? { redisPrefix } : {}) }),
  )
  .extend(
    'socketFrom',
    async ({ connect }) =>
      (app: TestApp, ip: string) =>
        connect(app.url, { extraHeaders: { 'x-forwarded-for': ip } }),
  );

/** A post as if from `ip` behind the local (trusted) proxy. */
function post(app: TestApp, articleId: string, name: string, ip: string, body = 'hello') {
  return postJson(
    `${app.url}/api/articles/${articleId}/comments`,
    { author: { name }, body },
    { 'x-forwarded-for': ip },
  );
}

function expectRateLimited(res: { status: number; headers: Headers; body: unknown }): number {
  expect(res.status).toBe(429);
  expect(ErrorBodySchema.parse(res.body).error.code).toBe('rate_limited');
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  return retryAfter;
}

describe('post budgets per IP and per author (in memory, no Redis)', () => {
  it('answers 429 rate_limited with Retry-After once an IP spent its budget; other IPs are unaffected', async ({
    start,
  }) => {
    const app = await start(limits({ RATE_LIMIT_POSTS_PER_MINUTE_IP: '3' }));
    const articleId = uniqueArticle('rl');
    for (let i = 0; i < 3; i++) expect((await post(app, articleId, `N${i}`, '203.0.113.10')).status).toBe(201);
    expectRateLimited(await post(app, articleId, 'Other', '203.0.113.10'));
    expect((await post(app, articleId, 'N0', '203.0.113.11')).status).toBe(201);
  });

  it('counts every attempt, invalid ones included', async ({ start }) => {
    const app = await start(limits({ RATE_LIMIT_POSTS_PER_MINUTE_IP: '2' }));
    const articleId = uniqueArticle('rl');
    expect((await post(app, articleId, '', '203.0.113.20')).status).toBe(400);
    expect((await post(app, articleId, 'Ann', '203.0.113.20', '')).status).toBe(400);
    expectRateLimited(await post(app, articleId, 'Ann', '203.0.113.20'));
  });

  it('keys an author by normalised name and IP', async ({ start }) => {
    const app = await start(limits({ RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: '2' }));
    const articleId = uniqueArticle('rl');
    expect((await post(app, articleId, 'Ann', '198.51.100.1')).status).toBe(201);
    expect((await post(app, articleId, 'ann', '198.51.100.1')).status).toBe(201);
    // Case, width and spacing variants are the same author.
    expectRateLimited(await post(app, articleId, ' ＡＮＮ ', '198.51.100.1'));
    expect((await post(app, articleId, 'Bob', '198.51.100.1')).status).toBe(201);
    expect((await post(app, articleId, 'Ann', '198.51.100.2')).status).toBe(201);
  });

  it('treats one IPv6 /64 as one client', async ({ start }) => {
    const app = await start(limits({ RATE_LIMIT_POSTS_PER_MINUTE_IP: '2' }));
    const articleId = uniqueArticle('rl');
    expect((await post(app, articleId, 'A', '2001:db8:1:2::1')).status).toBe(201);
    expect((await post(app, articleId, 'B', '2001:db8:1:2:ffff::9')).status).toBe(201);
    expectRateLimited(await post(app, articleId, 'C', '2001:0db8:0001:0002::77'));
    expect((await post(app, articleId, 'D', '2001:db8:1:3::1')).status).toBe(201);
  });

  it('ignores X-Forwarded-For from peers that are not trusted proxies', async ({ start }) => {
    const app = await start(limits({ RATE_LIMIT_POSTS_PER_MINUTE_IP: '2', TRUST_PROXY: 'false' }));
    const articleId = uniqueArticle('rl');
    expect((await post(app, articleId, 'A', '192.0.2.1')).status).toBe(201);
    expect((await post(app, articleId, 'B', '192.0.2.2')).status).toBe(201);
    // Every request comes from 127.0.0.1 once the header is not believed.
    expectRateLimited(await post(app, articleId, 'C', '192.0.2.3'));
  });

  it('applies the same budgets to socket posts, answering { ok: false, error: rate_limited }', async ({
    start,
    socketFrom,
  }) => {
    const app = await start(limits({ RATE_LIMIT_POSTS_PER_MINUTE_IP: '2' }));
    const articleId = uniqueArticle('rl');
    const socket = await socketFrom(app, '203.0.113.30');
    expect((await post(app, articleId, 'A', '203.0.113.30')).status).toBe(201);
    const first = await socket.emitWithAck('comment:post', { articleId, author: { name: 'B' }, body: 'one' });
    expect(first.ok).toBe(true);
    const second = await socket.emitWithAck('comment:post', { articleId, author: { name: 'C' }, body: 'two' });
    expect(second).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    // The refused post was not stored.
    const changes = (await (await fetch(`${app.url}/api/articles/${articleId}/changes?since=0`)).json()) as {
      comments: unknown[];
    };
    expect(changes.comments).toHaveLength(2);
  });
});

describe('socket budgets', () => {
  it('limits events per connection, not per client', async ({ start, socketFrom }) => {
    const app = await start(limits({ SOCKET_EVENTS_PER_10S: '5' }));
    const busy = await socketFrom(app, '203.0.113.40');
    const calm = await socketFrom(app, '203.0.113.40');
    const articles = Array.from({ length: 7 }, () => uniqueArticle('ev'));
    const answers = [];
    for (const articleId of articles) answers.push(await busy.emitWithAck('article:subscribe', { articleId }));
    expect(answers.slice(0, 5).every((a) => a.ok)).toBe(true);
    for (const answer of answers.slice(5)) expect(answer).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    expect((await calm.emitWithAck('article:subscribe', { articleId: uniqueArticle('ev') })).ok).toBe(true);

    // A refused event never reached its handler: the socket did not join the refused article.
    const pushed: string[] = [];
    busy.on('comment:created', (comment) => pushed.push(comment.articleId));
    expect((await post(app, articles[6]!, 'A', '203.0.113.41')).status).toBe(201);
    expect((await post(app, articles[0]!, 'A', '203.0.113.41')).status).toBe(201);
    await vi.waitFor(() => expect(pushed).toContain(articles[0]));
    expect(pushed).not.toContain(articles[6]);
  });

  it('caps open connections per IP and frees the slot when one closes', async ({ start, socketFrom }) => {
    const app = await start(limits({ MAX_CONNECTIONS_PER_IP: '2' }));
    const ip = '203.0.113.50';
    const first = await socketFrom(app, ip);
    await socketFrom(app, ip);
    const refused = connect(app.url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { 'x-forwarded-for': ip },
    });
    await expect(
      new Promise((resolve, reject) => {
        refused.once('connect', () => resolve('connected'));
        refused.once('connect_error', reject);
      }),
    ).rejects.toThrow();
    refused.close();
    // Another client behind the same proxy is not affected.
    await socketFrom(app, '203.0.113.51');
    first.disconnect();
    await vi.waitFor(async () => {
      const again = await socketFrom(app, ip);
      expect(again.connected).toBe(true);
    });
  });
});

describe('post budgets shared through Redis', () => {
  it('spends one budget across two instances of one deployment (one store and Redis, so one server secret)', async ({
    defer,
  }) => {
    const pair = await startTwoTestApps(limits({ RATE_LIMIT_POSTS_PER_MINUTE_IP: '3' }));
    defer(() => pair.close());
    const { a, b } = pair;
    const articleId = uniqueArticle('rl');
    expect((await post(a, articleId, 'A', '203.0.113.60')).status).toBe(201);
    expect((await post(b, articleId, 'B', '203.0.113.60')).status).toBe(201);
    expect((await post(a, articleId, 'C', '203.0.113.60')).status).toBe(201);
    expectRateLimited(await post(b, articleId, 'D', '203.0.113.60'));
    expectRateLimited(await post(a, articleId, 'E', '203.0.113.60'));
  });

  it('keeps posting, with per-instance budgets, when Redis cannot be reached', async ({ start }) => {
    // A port nobody listens on: the limiter's Redis never connects.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as { port: number };
        server.close(() => resolve(free));
      });
    });
    const app = await start(
      limits({
        RATE_LIMIT_POSTS_PER_MINUTE_IP: '2',
        REDIS_URL: `redis://127.0.0.1:${port}`,
        REDIS_PREFIX: uniquePrefix(),
      }),
    );
    const articleId = uniqueArticle('rl');
    const started = performance.now();
    expect((await post(app, articleId, 'A', '203.0.113.70')).status).toBe(201);
    expect((await post(app, articleId, 'B', '203.0.113.70')).status).toBe(201);
    expectRateLimited(await post(app, articleId, 'C', '203.0.113.70'));
    // The fallback answers at once, not after a Redis timeout per call.
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

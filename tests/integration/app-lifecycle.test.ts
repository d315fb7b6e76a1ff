import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import type * as Gateway from '../../server/socket/gateway.ts';
import {
  connectSocket,
  postJson,
  startTestApp,
  uniqueArticle,
  uniquePrefix,
  type TestApp,
} from '../helpers/test-app.ts';
import { checkedAck } from '../helpers/acks.ts';

/** Set by a test to make the start fail at its last step (the socket gateway), after everything else opened. */
const inject = vi.hoisted(() => ({ failGateway: false }));
vi.mock('../../server/socket/gateway.ts', async (importOriginal) => {
  const original = await importOriginal<typeof Gateway>();
  return {
    ...original,
    attachSocketGateway: (...args: Parameters<typeof original.attachSocketGateway>) => {
      if (inject.failGateway) throw new Error('injected failure at the last step of the start');
      return original.attachSocketGateway(...args);
    },
  };
});

afterEach(() => {
  inject.failGateway = false;
});

/** Active handles and requests by type (sockets, timers, servers …), what keeps the process alive. */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/**
 * Resolves once no resource type counts more than in `baseline`. Closing settles over a while, not at
 * once: sockets close over a few ticks, and ioredis' disconnect of a connection that never connected
 * leaves its own destroy timer (disconnectTimeout, 2 s) running out; on a loaded machine that is longer.
 */
async function backTo(baseline: Map<string, number>): Promise<void> {
  await vi.waitFor(
    () => {
      const extra = [...activeResources()].filter(([type, n]) => n > (baseline.get(type) ?? 0));
      expect(Object.fromEntries(extra)).toEqual({});
    },
    { timeout: 20_000, interval: 100 },
  );
}

/** One life of an app on SQLite and Redis fan-out, with a reader subscribed and a post live, so its timers run. */
async function liveOnce(): Promise<void> {
  const server: TestApp = await startTestApp({
    redisPrefix: uniquePrefix(),
    env: { ADMIN_TOKEN: 'admin-token-0123456789abcdef' },
  });
  const articleId = uniqueArticle();
  const socket = await connectSocket(server.url);
  const subscribed = checkedAck(
    'article:subscribe',
    await socket.emitWithAck('article:subscribe', { articleId, batch: true }),
  );
  expect(subscribed.ok).toBe(true);
  await socket.emitWithAck('counts:subscribe', { articleIds: [articleId] });
  const created = new Promise((resolve) => socket.once('comment:created', resolve));
  const posted = await postJson(`${server.url}/api/articles/${articleId}/comments`, {
    author: { name: 'Ann' },
    body: 'hello',
  });
  expect(posted.status).toBe(201);
  await created;
  socket.disconnect();
  await server.close();
}

// Several app lives each, and closing settles slowly on a loaded machine.
describe('the app owns what it opens', { timeout: 60_000 }, () => {
  it('starts and stops in a loop (SQLite, Redis fan-out, presence, a live reader) leaving no handle behind', async () => {
    // The first life loads modules and process-wide collectors once; what is left after it is the baseline.
    await liveOnce();
    const baseline = activeResources();
    for (let i = 0; i < 3; i++) await liveOnce();
    await backTo(baseline);
  });

  it('closes what a start that failed halfway had opened (store, Redis clients, timers)', async () => {
    await liveOnce();
    const baseline = activeResources();
    inject.failGateway = true;
    const lines: Array<Record<string, unknown>> = [];
    await expect(
      startTestApp({
        redisPrefix: uniquePrefix(),
        // A port nothing listens on: the Redis clients keep retrying until closed.
        env: { REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_POSTS_PER_MINUTE_IP: '5' },
        logger: pino({ level: 'error' }, { write: (line: string) => void lines.push(JSON.parse(line)) }),
      }),
    ).rejects.toThrow('injected failure');
    await backTo(baseline);
    expect(lines).toEqual([expect.objectContaining({ msg: 'start failed; closing what was opened' })]);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ClientToServerEvents, ServerToClientEvents } from '../../shared/events.ts';
import { PresenceSchema } from '../../shared/schemas.ts';
import { AppProcess } from '../helpers/processes.ts';
import { REDIS_URL, startTestApp, uniqueArticle, uniquePrefix } from '../helpers/test-app.ts';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A reader of one article: a socket subscribed to it, remembering the last `presence:changed` it heard. */
interface Reader {
  socket: Client;
  /** Every readers count heard, in order. */
  heard: number[];
}

async function reader(url: string, articleId: string): Promise<Reader> {
  const socket: Client = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true });
  const heard: number[] = [];
  socket.on('presence:changed', (presence) => {
    const parsed = PresenceSchema.parse(presence);
    if (parsed.articleId === articleId) heard.push(parsed.readers);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  expect((await socket.emitWithAck('article:subscribe', { articleId })).ok).toBe(true);
  return { socket, heard };
}

const last = (r: Reader): number | undefined => r.heard.at(-1);

/**
 * Presence across real instances (child processes running server/main.ts over one Redis prefix and
 * one SQLite file): the count every reader sees converges to the true number of readers after joins,
 * leaves, and a SIGKILLed instance (whose heartbeat expires).
 */
describe('presence across two instance processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'live-comments-presence-'));
  let a: AppProcess;
  let b: AppProcess;
  const readers: Reader[] = [];

  beforeAll(async () => {
    const env = { SQLITE_PATH: join(dir, 'shared.db'), REDIS_URL, REDIS_PREFIX: uniquePrefix(), LOG_LEVEL: 'warn' };
    [a, b] = await Promise.all([
      AppProcess.start({ name: 'presence-a', env }),
      AppProcess.start({ name: 'presence-b', env }),
    ]);
  });
  afterAll(async () => {
    for (const r of readers) r.socket.disconnect();
    await a?.kill();
    await b?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  async function read(app: AppProcess, articleId: string): Promise<Reader> {
    const r = await reader(app.url, articleId);
    readers.push(r);
    return r;
  }

  const converge = (group: readonly Reader[], expected: number) =>
    vi.waitFor(
      () => {
        for (const r of group) expect(last(r)).toBe(expected);
      },
      { timeout: 10_000, interval: 100 },
    );

  it('converges after joins and leaves on both instances, and after an instance is killed', async () => {
    const articleId = uniqueArticle('presence');
    const other = uniqueArticle('presence-other');
    const onA = [await read(a, articleId), await read(a, articleId), await read(a, articleId)];
    const onB = [await read(b, articleId), await read(b, articleId)];
    const elsewhere = await read(b, other);
    await converge([...onA, ...onB], 5);
    await converge([elsewhere], 1);

    // Leaves on both sides, and a join.
    onA[0]!.socket.disconnect();
    expect(await onB[0]!.socket.emitWithAck('article:unsubscribe', { articleId })).toEqual({ ok: true });
    const late = await read(a, articleId);
    const remaining = [onA[1]!, onA[2]!, onB[1]!, late];
    await converge(remaining, 4);

    // B dies without a word: its readers drop out once its heartbeat expires.
    await b.kill();
    const survivors = [onA[1]!, onA[2]!, late];
    await converge(survivors, 3);
    // After the greeting (sent to the new subscriber alone), a room hears a count only when it changed.
    for (const r of survivors) {
      const broadcasts = r.heard.slice(1);
      expect(
        broadcasts.some((n, i) => i > 0 && broadcasts[i - 1] === n),
        r.heard.join(','),
      ).toBe(false);
    }
  }, 40_000);
});

describe('presence on a single instance without Redis', () => {
  it('counts local readers, greets a new subscriber at once and updates at most once a second', async () => {
    const server = await startTestApp();
    const opened: Reader[] = [];
    try {
      const articleId = uniqueArticle('solo');
      const first = await reader(server.url, articleId);
      opened.push(first);
      // Greeted right after subscribing, without waiting for a tick.
      await vi.waitFor(() => expect(first.heard.length).toBeGreaterThan(0));
      expect(first.heard[0]).toBe(1);
      const times: number[] = [];
      first.socket.on('presence:changed', () => times.push(performance.now()));
      for (let i = 0; i < 4; i++) opened.push(await reader(server.url, articleId));
      opened.pop()?.socket.disconnect();
      await vi.waitFor(() => expect(last(first)).toBe(4), { timeout: 5000 });
      // Room broadcasts: only on change, and never two within a tick (1 s; a little slack for delivery).
      const broadcasts = first.heard.slice(1);
      expect(
        broadcasts.some((n, i) => i > 0 && broadcasts[i - 1] === n),
        first.heard.join(','),
      ).toBe(false);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThan(800);
    } finally {
      for (const r of opened) r.socket.disconnect();
      await server.close();
    }
  });
});

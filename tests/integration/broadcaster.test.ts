import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nanoid } from 'nanoid';
import { pino } from 'pino';
import { Server } from 'socket.io';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  articleRoom,
  COMMENT_EVENTS,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from '../../shared/events.ts';
import { CommentBatchSchema, CommentSchema, type Comment } from '../../shared/schemas.ts';
import type { FanOutMessage } from '../../server/fanout/port.ts';
import { Broadcaster, textFrame, type BroadcasterOptions } from '../../server/socket/broadcaster.ts';
import { connectSocket, startTestApp, uniqueArticle, type TestApp, type TestSocket } from '../helpers/test-app.ts';
import { test } from '../helpers/fixtures.ts';
import { checkedAck } from '../helpers/acks.ts';

/** What one client saw: every change in arrival order, and how each frame carried them. */
interface Received {
  seqs: number[];
  frames: Array<{ kind: 'single' | 'batch'; seqs: number[]; superseded?: number[] }>;
  /** The changes batches carried, as sent. */
  changes: Array<{ event: string; comment: Comment }>;
}

/** Records comment events and batches; every payload is checked against the shared schemas. */
function record(socket: TestSocket, articleId: string): Received {
  const received: Received = { seqs: [], frames: [], changes: [] };
  for (const event of COMMENT_EVENTS) {
    socket.on(event, (raw) => {
      const comment = CommentSchema.parse(raw);
      if (comment.articleId !== articleId) return;
      received.seqs.push(comment.seq);
      received.frames.push({ kind: 'single', seqs: [comment.seq] });
    });
  }
  socket.on('comment:batch', (raw) => {
    const batch = CommentBatchSchema.parse(raw);
    if (batch.articleId !== articleId) return;
    const seqs = batch.changes.map((change) => change.comment.seq);
    received.seqs.push(...seqs);
    received.frames.push({ kind: 'batch', seqs, ...(batch.superseded ? { superseded: batch.superseded } : {}) });
    received.changes.push(...batch.changes);
  });
  return received;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function comment(articleId: string, seq: number): Comment {
  return {
    id: nanoid(),
    articleId,
    parentId: null,
    author: { name: 'Ann' },
    body: `change ${seq}`,
    createdAt: new Date().toISOString(),
    editedAt: null,
    status: 'visible',
    seq,
    likes: 0,
  };
}

const created = (articleId: string, seq: number): FanOutMessage => ({
  event: 'comment:created',
  comment: comment(articleId, seq),
});

describe('textFrame', () => {
  it('frames text with the 7-bit, 16-bit and 64-bit length forms of RFC 6455', () => {
    for (const [length, header] of [
      [125, 2],
      [126, 4],
      [65_535, 4],
      [65_536, 10],
    ] as const) {
      const text = 'é'.repeat(Math.floor(length / 2)) + (length % 2 === 1 ? 'x' : '');
      const frame = textFrame(text);
      expect(frame[0]).toBe(0x81);
      const declared =
        header === 2 ? frame[1] : header === 4 ? frame.readUInt16BE(2) : Number(frame.readBigUInt64BE(2));
      expect(declared).toBe(length);
      expect(frame.length).toBe(header + length);
      expect(frame.subarray(header).toString('utf8')).toBe(text);
    }
  });
});

describe('Broadcaster on a bare Socket.IO server', () => {
  type BareServer = Server<ClientToServerEvents, ServerToClientEvents>;
  let httpServer: HttpServer;
  let io: BareServer;
  let url: string;
  let broadcasters: Map<string, Broadcaster>;
  const sockets: TestSocket[] = [];

  /**
   * A Socket.IO server whose `article:subscribe { articleId, batch, mode }` joins the room and
   * registers the batch wish with the broadcaster the test picked (`mode`), like the gateway does.
   */
  beforeAll(async () => {
    httpServer = createServer();
    io = new Server(httpServer, { serveClient: false });
    broadcasters = new Map();
    io.on('connection', (socket) => {
      (
        socket as unknown as {
          on(
            e: string,
            l: (p: { articleId: string; batch?: boolean; mode: string }, ack: (a: object) => void) => void,
          ): void;
        }
      ).on('article:subscribe', (payload, ack) => {
        void Promise.resolve(socket.join(articleRoom(payload.articleId))).then(() => {
          broadcasters.get(payload.mode)?.setBatching(socket.id, payload.articleId, payload.batch === true);
          ack({ ok: true });
        });
      });
      (
        socket as unknown as { on(e: string, l: (p: { articleId: string }, ack: (a: object) => void) => void): void }
      ).on('article:unsubscribe', (payload, ack) => {
        void Promise.resolve(socket.leave(articleRoom(payload.articleId))).then(() => ack({ ok: true }));
      });
    });
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(async () => {
    await io.close();
  });

  const logger = pino({ level: 'silent' });
  function broadcaster(mode: string, options: BroadcasterOptions): Broadcaster {
    const b = new Broadcaster(io, logger, options);
    broadcasters.set(mode, b);
    return b;
  }

  async function subscriber(
    articleId: string,
    mode: string,
    batch: boolean,
  ): Promise<{ socket: TestSocket; received: Received }> {
    const socket = await connectSocket(url);
    sockets.push(socket);
    const received = record(socket, articleId);
    await (socket as unknown as { emitWithAck(e: string, p: object): Promise<unknown> }).emitWithAck(
      'article:subscribe',
      { articleId, batch, mode },
    );
    return { socket, received };
  }

  it('sends a change of a quiet article at once as its own event, even to a batch subscriber', async () => {
    const b = broadcaster('quiet', { minWindowMs: 60_000, maxWindowMs: 60_000 });
    const articleId = uniqueArticle('quiet');
    const batchClient = await subscriber(articleId, 'quiet', true);
    const plainClient = await subscriber(articleId, 'quiet', false);
    b.relay(created(articleId, 1));
    await vi.waitFor(() => {
      expect(batchClient.received.frames).toEqual([{ kind: 'single', seqs: [1] }]);
      expect(plainClient.received.frames).toEqual([{ kind: 'single', seqs: [1] }]);
    });
  });

  it('coalesces changes that arrive while the article is busy: one batch in seq order for subscribers that asked, one event per change for the others', async () => {
    const b = broadcaster('busy', { minWindowMs: 40, maxWindowMs: 40 });
    const articleId = uniqueArticle('busy');
    const batchClient = await subscriber(articleId, 'busy', true);
    const plainClient = await subscriber(articleId, 'busy', false);
    // The first change goes out at once; the next ones arrive inside the window, out of seq order.
    b.relay(created(articleId, 1));
    for (const seq of [3, 2, 5, 4, 6, 8, 7, 9, 10]) b.relay(created(articleId, seq));

    await vi.waitFor(() => expect(batchClient.received.seqs).toHaveLength(10));
    await vi.waitFor(() => expect(plainClient.received.seqs).toHaveLength(10));
    expect(batchClient.received.frames).toEqual([
      { kind: 'single', seqs: [1] },
      { kind: 'batch', seqs: range(2, 10) },
    ]);
    expect(plainClient.received.frames).toEqual(range(1, 10).map((seq) => ({ kind: 'single', seqs: [seq] })));
  });

  it('sends a comment changed many times in one busy window once, in its newest version, the older seqs listed as superseded', async () => {
    const b = broadcaster('storm', { minWindowMs: 40, maxWindowMs: 40 });
    const articleId = uniqueArticle('storm');
    const batchClient = await subscriber(articleId, 'storm', true);
    const plainClient = await subscriber(articleId, 'storm', false);
    const liked = comment(articleId, 1);
    b.relay({ event: 'comment:created', comment: liked });
    // A like storm on one comment (seqs 2–20), with another comment created in the middle of it (11).
    const other = comment(articleId, 11);
    for (let seq = 2; seq <= 20; seq++)
      b.relay(
        seq === 11
          ? { event: 'comment:created', comment: other }
          : { event: 'comment:updated', comment: { ...liked, seq, likes: seq - 1 } },
      );
    await vi.waitFor(() => expect(plainClient.received.seqs).toHaveLength(20));
    await vi.waitFor(() => expect(batchClient.received.frames).toHaveLength(2));
    expect(plainClient.received.seqs).toEqual(range(1, 20));
    const [first, batch] = batchClient.received.frames;
    expect(first).toEqual({ kind: 'single', seqs: [1] });
    expect(batch).toEqual({ kind: 'batch', seqs: [11, 20], superseded: [...range(2, 10), ...range(12, 19)] });
    expect(batchClient.received.changes.map(({ event, comment: c }) => [event, c.id, c.likes])).toEqual([
      ['comment:created', other.id, 0],
      ['comment:updated', liked.id, 19],
    ]);
  });

  it('keeps a comment created and changed in one batch a creation, in its newest version', async () => {
    const b = broadcaster('created-then-liked', { minWindowMs: 40, maxWindowMs: 40 });
    const articleId = uniqueArticle('created-then-liked');
    const batchClient = await subscriber(articleId, 'created-then-liked', true);
    b.relay(created(articleId, 1));
    const fresh = comment(articleId, 2);
    b.relay({ event: 'comment:created', comment: fresh });
    b.relay({ event: 'comment:updated', comment: { ...fresh, seq: 3, likes: 1 } });
    await vi.waitFor(() => expect(batchClient.received.frames).toHaveLength(2));
    expect(batchClient.received.frames[1]).toEqual({ kind: 'batch', seqs: [3], superseded: [2] });
    expect(batchClient.received.changes).toEqual([
      { event: 'comment:created', comment: { ...fresh, seq: 3, likes: 1 } },
    ]);
  });

  it('keeps every change exactly once and in order when a big room is written in slices while changes keep arriving', async () => {
    // Yield after every socket, so each flush spans many event-loop turns.
    const b = broadcaster('sliced', { minWindowMs: 1, maxWindowMs: 5, sliceBudgetMs: 0, clockEvery: 1 });
    const articleId = uniqueArticle('sliced');
    const clients = await Promise.all(range(1, 16).map((i) => subscriber(articleId, 'sliced', i % 2 === 0)));
    const total = 60;
    await new Promise<void>((resolve) => {
      let seq = 0;
      const next = (): void => {
        seq += 1;
        b.relay(created(articleId, seq));
        if (seq < total) setImmediate(next);
        else resolve();
      };
      next();
    });
    for (const client of clients)
      await vi.waitFor(() => expect(client.received.seqs.length).toBeGreaterThanOrEqual(total));
    let batches = 0;
    for (const [i, client] of clients.entries()) {
      expect(client.received.seqs).toEqual(range(1, total));
      for (const frame of client.received.frames) {
        if (frame.kind === 'batch') batches += 1;
        // Subscribers that did not ask never see a batch.
        if ((i + 1) % 2 !== 0) expect(frame.kind).toBe('single');
        if (frame.kind === 'batch') expect(frame.seqs.length).toBeGreaterThanOrEqual(2);
      }
    }
    // Changes arrived faster than the sliced flushes went out, so some had to be coalesced.
    expect(batches).toBeGreaterThan(0);

    // Once the burst is over the article is quiet again: the next change goes out alone, at once.
    b.relay(created(articleId, total + 1));
    for (const client of clients)
      await vi.waitFor(() => expect(client.received.frames.at(-1)).toEqual({ kind: 'single', seqs: [total + 1] }));
  });

  it('stops writing to a socket that left the room, and forgets its batch wish', async () => {
    const b = broadcaster('leave', { minWindowMs: 1, maxWindowMs: 1 });
    const articleId = uniqueArticle('leave');
    const stayer = await subscriber(articleId, 'leave', false);
    const leaver = await subscriber(articleId, 'leave', true);
    b.relay(created(articleId, 1));
    await vi.waitFor(() => expect(leaver.received.seqs).toEqual([1]));
    await (leaver.socket as unknown as { emitWithAck(e: string, p: object): Promise<unknown> }).emitWithAck(
      'article:unsubscribe',
      { articleId },
    );
    b.relay(created(articleId, 2));
    await vi.waitFor(() => expect(stayer.received.seqs).toEqual([1, 2]));
    expect(leaver.received.seqs).toEqual([1]);

    // Back without `batch`: a burst reaches it as one event per change.
    await (leaver.socket as unknown as { emitWithAck(e: string, p: object): Promise<unknown> }).emitWithAck(
      'article:subscribe',
      { articleId, batch: false, mode: 'leave' },
    );
    b.relay(created(articleId, 3));
    b.relay(created(articleId, 4));
    b.relay(created(articleId, 5));
    await vi.waitFor(() => expect(leaver.received.seqs).toEqual([1, 3, 4, 5]));
    expect(leaver.received.frames.every((frame) => frame.kind === 'single')).toBe(true);
  });

  it('holds nothing for articles nobody here watches', () => {
    const b = broadcaster('nobody', {});
    b.relay(created(uniqueArticle('nobody'), 1));
    expect(b.stats()).toEqual({ failedWrites: 0, articles: 0 });
  });
});

describe('comment:batch through the real app', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startTestApp();
  });
  afterAll(async () => {
    await server.close();
  });

  /** `open()`: a socket on the app, disconnected after the test. */
  const it = test.extend(
    'open',
    async ({ connect }) =>
      () =>
        connect(server.url),
  );

  it('refuses a batch flag that is not a boolean', async ({ open }) => {
    const socket = await open();
    const ack = await (socket as unknown as { emitWithAck(e: string, p: object): Promise<unknown> }).emitWithAck(
      'article:subscribe',
      { articleId: uniqueArticle(), batch: 'yes' },
    );
    expect(ack).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
  });

  it('delivers a burst of posts exactly once and in seq order, to subscribers with and without batch', async ({
    open,
  }) => {
    const articleId = uniqueArticle('burst');
    const [poster, batchSocket, plainSocket] = [await open(), await open(), await open()];
    expect(await batchSocket.emitWithAck('article:subscribe', { articleId, batch: true })).toMatchObject({
      ok: true,
      lastSeq: 0,
    });
    expect(await plainSocket.emitWithAck('article:subscribe', { articleId })).toMatchObject({ ok: true, lastSeq: 0 });
    const batched = record(batchSocket, articleId);
    const plain = record(plainSocket, articleId);
    const total = 40;
    const acks = await Promise.all(
      range(1, total).map(async (i) =>
        checkedAck(
          'comment:post',
          await poster.emitWithAck('comment:post', { articleId, author: { name: 'Burst' }, body: `burst ${i}` }),
        ),
      ),
    );
    expect(acks.every((ack) => ack.ok)).toBe(true);

    await vi.waitFor(() => expect(batched.seqs.length).toBeGreaterThanOrEqual(total));
    await vi.waitFor(() => expect(plain.seqs.length).toBeGreaterThanOrEqual(total));
    expect(batched.seqs).toEqual(range(1, total));
    expect(plain.seqs).toEqual(range(1, total));
    expect(plain.frames.every((frame) => frame.kind === 'single')).toBe(true);
    for (const frame of batched.frames) if (frame.kind === 'batch') expect(frame.seqs.length).toBeGreaterThanOrEqual(2);
  });
});

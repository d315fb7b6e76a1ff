import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { io as connect, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import * as z from 'zod/mini';
import { ErrorInfoSchema } from '../../shared/errors.ts';
import { CommentSchema, type Comment } from '../../shared/schemas.ts';
import { AppProcess } from '../helpers/processes.ts';
import {
  deepJsonText,
  hostileString,
  hostileValue,
  NAUGHTY_STRINGS,
  postBodyText,
  PROTOTYPE_KEYS,
} from './fuzz-arbitraries.ts';

/** Every ack: `{ ok: true, … }` or `{ ok: false, error }`. */
const AckSchema = z.union([
  z.looseObject({ ok: z.literal(true) }),
  z.object({ ok: z.literal(false), error: ErrorInfoSchema }),
]);

/** How deeply arrays and objects nest in a value (iterative: the value may be very deep). */
function nestingDepth(root: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    deepest = Math.max(deepest, depth);
    if (typeof value === 'object' && value !== null)
      for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return deepest;
}

const KNOWN_EVENTS = [
  'article:subscribe',
  'article:unsubscribe',
  'comment:post',
  'counts:subscribe',
  'counts:unsubscribe',
  'admin:subscribe',
] as const;
const MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * Fuzzes the Socket.IO edge of a real server process: well-formed packets with hostile payloads get
 * a typed ack (never `internal`), malformed frames close at most their own connection, a message over
 * 64 KB closes only its sender, and a bystander subscriber stays connected and served throughout.
 */
describe('Socket.IO edge under hostile input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'live-comments-fuzz-socket-'));
  let app: AppProcess;
  let bystander: Socket;
  const pushed: Comment[] = [];
  let fuzzer: Socket | null = null;
  const codes = new Map<string, number>();

  beforeAll(async () => {
    app = await AppProcess.start({
      name: 'fuzz-socket',
      env: {
        SQLITE_PATH: join(dir, 'fuzz.db'),
        RATE_LIMIT_POSTS_PER_MINUTE_IP: '0',
        RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: '0',
        SOCKET_EVENTS_PER_10S: '0',
      },
    });
    bystander = connect(app.url, { transports: ['websocket'], reconnection: false, forceNew: true });
    bystander.on('comment:created', (comment: unknown) => pushed.push(CommentSchema.parse(comment)));
    await new Promise<void>((resolve, reject) => {
      bystander.once('connect', resolve);
      bystander.once('connect_error', reject);
    });
    expect((await bystander.emitWithAck('article:subscribe', { articleId: 'fuzz-bystander' })).ok).toBe(true);
  });
  afterAll(async () => {
    fuzzer?.disconnect();
    bystander?.disconnect();
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function fuzzSocket(): Promise<Socket> {
    if (fuzzer?.connected) return fuzzer;
    fuzzer?.disconnect();
    const socket = connect(app.url, { transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    fuzzer = socket;
    return socket;
  }

  const eventName = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...KNOWN_EVENTS) },
    { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS, 'comment:created', 'article:head', 'error', 'ping') },
    {
      weight: 1,
      arbitrary: hostileString.filter(
        (s) =>
          !['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'].includes(s),
      ),
    },
  );
  const payload = fc.oneof(
    // Deep nesting goes in raw frames (next test): socket.io-client itself recurses through what it sends.
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          postBodyText.map((text) => JSON.parse(text) as unknown),
          fc.constantFrom('fuzz-sock', 'fuzz.b:c-d_e', undefined),
        )
        .filter(([value]) => nestingDepth(value) <= 50)
        // Mostly a post for a valid article, so hostile fields are judged one by one.
        .map(([value, articleId]) =>
          articleId !== undefined && typeof value === 'object' && value !== null && !Array.isArray(value)
            ? { articleId, ...value }
            : value,
        ),
    },
    { weight: 2, arbitrary: hostileValue },
    {
      weight: 2,
      arbitrary: fc.record(
        {
          articleId: fc.oneof(
            { weight: 3, arbitrary: fc.constantFrom('fuzz-sock', 'fuzz.b:c-d_e') },
            { weight: 2, arbitrary: hostileString },
            { weight: 1, arbitrary: hostileValue },
          ),
          since: fc.oneof(fc.nat(), fc.integer(), fc.double(), hostileValue),
          batch: fc.oneof(fc.boolean(), hostileValue),
        },
        { requiredKeys: [] },
      ),
    },
  );

  it('answers every well-formed event with a typed ack, whatever the payload', async () => {
    await fc.assert(
      fc.asyncProperty(eventName, payload, fc.array(hostileValue, { maxLength: 2 }), async (event, body, extra) => {
        const socket = await fuzzSocket();
        const size = Buffer.byteLength(JSON.stringify([event, body, ...extra]) ?? '');
        if (size > MAX_MESSAGE_BYTES) return; // the oversized case has its own test
        if (!(KNOWN_EVENTS as readonly string[]).includes(event)) {
          socket.emit(event, body, ...extra);
          // An unknown event has no handler and no answer; the connection keeps working.
          const probe = AckSchema.parse(
            await socket.timeout(3000).emitWithAck('article:unsubscribe', { articleId: 'probe' }),
          );
          expect(probe.ok).toBe(true);
          return;
        }
        const answer = AckSchema.parse(await socket.timeout(3000).emitWithAck(event, body, ...extra));
        if (!answer.ok) {
          codes.set(answer.error.code, (codes.get(answer.error.code) ?? 0) + 1);
          expect(answer.error.code).not.toBe('internal');
        } else codes.set('ok', (codes.get('ok') ?? 0) + 1);
      }),
      { numRuns: 400 },
    );
    expect(codes.get('ok') ?? 0, JSON.stringify([...codes])).toBeGreaterThan(0);
    expect(codes.get('invalid_input') ?? 0).toBeGreaterThan(0);
  });

  it('survives malformed frames, deep nesting, reserved event names and invalid UTF-8, closing at most that connection', async () => {
    const frame = fc.oneof(
      deepJsonText.map((text) => `42["article:subscribe",${text}]`),
      deepJsonText.map((text) => `421${text}`),
      fc.constantFrom(
        '42["connect"]',
        '42["disconnect","server namespace disconnect"]',
        '42["newListener","x"]',
        '42["removeListener"]',
        '42["disconnecting"]',
      ),
      fc.constantFrom(
        '4',
        '42',
        '42[',
        '42{}',
        '42[]',
        '42[1]',
        '42[null]',
        '43',
        '431[{"ok":true}]',
        '41',
        '40',
        '40/admin,',
        '44',
        '45',
        '46',
        '9',
        '',
        '3probe',
        '2',
        '6',
        '1',
      ),
      fc
        .tuple(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.constantFrom(...KNOWN_EVENTS))
        .map(([id, event]) => `42${id}["${event}",{"articleId":"a"}]`),
      hostileString.map((s) => `42${s}`),
      hostileString,
      fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
      fc.constantFrom(...NAUGHTY_STRINGS).map((s) => `42${JSON.stringify([s, s])}`),
    );
    const asText = fc.boolean();
    let closedByServer = 0;
    await fc.assert(
      fc.asyncProperty(frame, asText, async (data, text) => {
        const ws = new WebSocket(`ws://127.0.0.1:${app.port}/socket.io/?EIO=4&transport=websocket`);
        const messages: string[] = [];
        let waiting: ((message: string) => void) | null = null;
        ws.on('message', (message) => {
          const value = String(message);
          if (waiting) waiting(value);
          else messages.push(value);
        });
        const next = () =>
          new Promise<string>((resolve) =>
            messages.length > 0 ? resolve(messages.shift()!) : (waiting = (m) => ((waiting = null), resolve(m))),
          );
        const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
        ws.on('error', () => undefined);
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        expect((await next()).startsWith('0')).toBe(true);
        ws.send('40');
        expect((await next()).startsWith('40')).toBe(true);
        // Raw bytes as a text frame are invalid UTF-8 more often than not.
        ws.send(data, { binary: typeof data !== 'string' && !text });
        ws.send('42777["article:unsubscribe",{"articleId":"probe"}]');
        const outcome = await Promise.race([
          closed.then(() => 'closed' as const),
          new Promise<'silent'>((resolve) => setTimeout(() => resolve('silent'), 3000)),
          (async () => {
            for (;;) {
              const message = await next();
              if (message.startsWith('43777')) return message;
              if (message === '2') ws.send('3');
            }
          })(),
        ]);
        if (outcome === 'closed') closedByServer += 1;
        // The client left the namespace itself ('41'): its later events are ignored, which is correct.
        else if (outcome === 'silent')
          expect(
            typeof data === 'string' && data.startsWith('41'),
            `no answer after ${JSON.stringify(String(data).slice(0, 80))}`,
          ).toBe(true);
        else expect(AckSchema.parse((JSON.parse(outcome.slice(5)) as unknown[])[0]).ok).toBe(true);
        ws.terminate();
      }),
      { numRuns: 200 },
    );
    expect(closedByServer).toBeGreaterThan(0);
  });

  it('closes only the sender of a message over 64 KB', async () => {
    const socket = await fuzzSocket();
    const gone = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    socket.emit('comment:post', {
      articleId: 'fuzz-big',
      author: { name: 'Big' },
      body: 'x'.repeat(MAX_MESSAGE_BYTES + 10),
    });
    expect(await gone).toBe('transport close');
    expect(bystander.connected).toBe(true);
  });

  it('kept the bystander connected and served, and the process alive, logging JSON lines only', async () => {
    expect(bystander.connected).toBe(true);
    const res = await fetch(`${app.url}/api/articles/fuzz-bystander/comments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ author: { name: 'Still here' }, body: 'after the fuzzing' }),
    });
    expect(res.status).toBe(201);
    await vi.waitFor(() => expect(pushed.map((c) => c.body)).toContain('after the fuzzing'));
    expect(app.exitCode).toBeNull();
    expect(app.nonJsonLines()).toEqual([]);
    expect(app.logs().filter((line) => line.msg === 'unhandled error')).toEqual([]);
  });
});

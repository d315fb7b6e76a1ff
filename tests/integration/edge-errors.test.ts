import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ErrorBodySchema, type ErrorInfo } from '../../shared/errors.ts';
import type { Ack } from '../../shared/events.ts';
import { StoreUnavailableError, type CommentStore } from '../../server/storage/port.ts';
import {
  connectSocket,
  getJson,
  postJson,
  startTestApp,
  uniqueArticle,
  type TestApp,
  type TestSocket,
} from '../helpers/test-app.ts';

/** Every log line the app writes, parsed. */
const lines: Array<Record<string, unknown>> = [];
let server: TestApp;
let socket: TestSocket;
let restoreCounts: () => void = () => undefined;

beforeAll(async () => {
  server = await startTestApp({
    logger: pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) }),
  });
  socket = await connectSocket(server.url);
});
afterEach(() => {
  restoreCounts();
  lines.length = 0;
});
afterAll(async () => {
  socket.disconnect();
  await server.close();
});

/** Makes the store's counts (read by REST `/api/counts` and socket `counts:subscribe` alike) fail with `error`. */
function failCounts(error: Error): void {
  const store: CommentStore = server.app.store;
  const original = store.counts.bind(store);
  store.counts = () => Promise.reject(error);
  restoreCounts = () => {
    store.counts = original;
  };
}

async function bothTransports(
  articleId: string,
): Promise<{ rest: { status: number; headers: Headers; error: ErrorInfo }; ack: unknown }> {
  const rest = await getJson(`${server.url}/api/counts?articles=${articleId}`);
  const ack = await socket.timeout(5000).emitWithAck('counts:subscribe', { articleIds: [articleId] });
  return { rest: { status: rest.status, headers: rest.headers, error: ErrorBodySchema.parse(rest.body).error }, ack };
}

describe('errors are translated once, at the edges', () => {
  it('answers a store failing mid-request with the same typed unavailable on REST and on the socket', async () => {
    failCounts(new StoreUnavailableError('connection refused by the database'));
    const { rest, ack } = await bothTransports(uniqueArticle());
    expect(rest.status).toBe(503);
    expect(rest.headers.get('retry-after')).toBe('2');
    expect(rest.error.code).toBe('unavailable');
    expect(rest.error.message).not.toContain('connection refused');
    expect(ack).toEqual({ ok: false, error: rest.error } satisfies Ack);
  });

  it('answers an unexpected failure with internal on both, logging it with the request id or the socket event', async () => {
    failCounts(new TypeError('a bug with private detail'));
    const { rest, ack } = await bothTransports(uniqueArticle());
    expect(rest.status).toBe(500);
    expect(rest.error).toEqual({ code: 'internal', message: 'Internal error' });
    expect(ack).toEqual({ ok: false, error: rest.error });
    const logged = lines.filter(
      (line) => (line.err as { message?: string } | undefined)?.message === 'a bug with private detail',
    );
    const requestId = rest.headers.get('x-request-id');
    expect(requestId).toBeTruthy();
    expect(logged).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 50, requestId, path: '/api/counts' }),
        expect.objectContaining({ level: 50, event: 'counts:subscribe', socketId: expect.any(String) }),
      ]),
    );
  });

  it('answers a reply to a missing parent with the same invalid_input on both', async () => {
    const articleId = uniqueArticle();
    const input = { author: { name: 'Ann' }, body: 'a reply', parentId: 'no-such-comment-01' };
    const rest = await postJson(`${server.url}/api/articles/${articleId}/comments`, input);
    const ack = await socket.timeout(5000).emitWithAck('comment:post', { articleId, ...input });
    expect(rest.status).toBe(400);
    const error = ErrorBodySchema.parse(rest.body).error;
    expect(error.code).toBe('invalid_input');
    expect(error.issues?.map((issue) => issue.path)).toEqual(['parentId']);
    expect(ack).toEqual({ ok: false, error });
  });
});

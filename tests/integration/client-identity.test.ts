import { afterEach, describe, expect, it } from 'vitest';
import { nanoid } from 'nanoid';
import { io as connect } from 'socket.io-client';
import WebSocket from 'ws';
import { AdminFeedSchema } from '../../shared/moderation.ts';
import { getJson, postJson, startTestApp, uniqueArticle, type TestApp } from '../helpers/test-app.ts';

const ADMIN_TOKEN = `admin-${nanoid(24)}`;

/** A raw Engine.IO/Socket.IO client on one WebSocket: frames in and out as text, as an attacker would send them. */
async function rawSocket(port: number) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
  const messages: string[] = [];
  let waiting: ((message: string) => void) | null = null;
  ws.on('message', (message) => {
    const value = String(message);
    if (value === '2') return void ws.send('3');
    if (waiting) waiting(value);
    else messages.push(value);
  });
  ws.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = (timeoutMs = 3000) =>
    new Promise<string>((resolve, reject) => {
      if (messages.length > 0) return resolve(messages.shift()!);
      const timer = setTimeout(() => reject(new Error('no message')), timeoutMs);
      waiting = (message) => {
        clearTimeout(timer);
        waiting = null;
        resolve(message);
      };
    });
  expect((await next()).startsWith('0')).toBe(true);
  /** Joins the default namespace (`40`), waiting for the server's `40{sid}`. */
  const join = async () => {
    ws.send('40');
    expect((await next()).startsWith('40')).toBe(true);
  };
  /** Sends an event with an ack id and returns the ack's payload. */
  const emit = async (id: number, event: string, payload: unknown) => {
    ws.send(`42${id}${JSON.stringify([event, payload])}`);
    for (;;) {
      const message = await next();
      if (message.startsWith(`43${id}`)) return (JSON.parse(message.slice(2 + String(id).length)) as unknown[])[0];
    }
  };
  return { ws, closed, next, join, emit };
}

describe('the client behind a connection', () => {
  let app: TestApp | null = null;
  afterEach(async () => {
    await app?.close();
    app = null;
  });

  it('takes only valid addresses from X-Forwarded-For: forged text is the proxy itself, budgets and bans included', async () => {
    app = await startTestApp({ env: { RATE_LIMIT_POSTS_PER_MINUTE_IP: '3', ADMIN_TOKEN } });
    const articleId = uniqueArticle('forged');
    const statuses: number[] = [];
    for (const forged of ['not-an-address', `random-${nanoid(6)}`, '1.2.3.4:8080', '[2001:db8::1]']) {
      const res = await postJson(
        `${app.url}/api/articles/${articleId}/comments`,
        { author: { name: 'Same Name' }, body: `from ${forged}` },
        { 'x-forwarded-for': forged },
      );
      statuses.push(res.status);
    }
    // Four texts, one client (the loopback peer): its budget of three ran out.
    expect(statuses).toEqual([201, 201, 201, 429]);
    const feed = AdminFeedSchema.parse(
      (await getJson(`${app.url}/api/admin/feed?articleId=${articleId}`, { authorization: `Bearer ${ADMIN_TOKEN}` }))
        .body,
    );
    // One author key for all of them: a ban from one comment holds against every forged header.
    expect(new Set(feed.comments.map((comment) => comment.authorKey)).size).toBe(1);
  });

  it('counts socket connections of forged X-Forwarded-For texts against the proxy', async () => {
    app = await startTestApp({ env: { MAX_CONNECTIONS_PER_IP: '2' } });
    const url = app.url;
    const outcomes = await Promise.all(
      ['forged-a', 'forged-b', 'forged-c'].map(
        (forged) =>
          new Promise<string>((resolve) => {
            const socket = connect(url, {
              transports: ['websocket'],
              reconnection: false,
              forceNew: true,
              extraHeaders: { 'x-forwarded-for': forged },
            });
            socket.once('connect', () => resolve('connected'));
            socket.once('connect_error', () => resolve('refused'));
            setTimeout(() => socket.disconnect(), 2000);
          }),
      ),
    );
    expect(outcomes.sort()).toEqual(['connected', 'connected', 'refused']);
  });

  it('keeps the event budget of a WebSocket when it leaves and joins the namespace again', async () => {
    app = await startTestApp({ env: { SOCKET_EVENTS_PER_10S: '3' } });
    const raw = await rawSocket(app.port);
    await raw.join();
    for (let i = 1; i <= 3; i++)
      expect(await raw.emit(i, 'article:unsubscribe', { articleId: 'a' })).toMatchObject({ ok: true });
    expect(await raw.emit(4, 'article:unsubscribe', { articleId: 'a' })).toMatchObject({
      ok: false,
      error: { code: 'rate_limited' },
    });
    // Leave (`41`) and join (`40`) on the same WebSocket: a new Socket.IO socket, the same budget.
    raw.ws.send('41');
    // Socket.IO handles the leave on its next tick; a join in the same tick would find the old socket.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await raw.join();
    expect(await raw.emit(5, 'article:unsubscribe', { articleId: 'a' })).toMatchObject({
      ok: false,
      error: { code: 'rate_limited' },
    });
    raw.ws.terminate();
  });

  it('lets go of each handshake request once connected, and still knows the client behind it', async () => {
    app = await startTestApp({ env: { RATE_LIMIT_POSTS_PER_MINUTE_IP: '1' } });
    const url = app.url;
    const open = (forwarded: string) =>
      new Promise<ReturnType<typeof connect>>((resolve, reject) => {
        const socket = connect(url, {
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
          extraHeaders: { 'x-forwarded-for': forwarded },
        });
        socket.once('connect', () => resolve(socket));
        socket.once('connect_error', reject);
      });
    const sockets = [await open('203.0.113.7'), await open('203.0.113.7'), await open('198.51.100.9')];
    try {
      const [first, again, other] = sockets as [(typeof sockets)[0], (typeof sockets)[0], (typeof sockets)[0]];
      // The engine holds no request for any connection (Socket.IO's handshake headers are empty).
      const connected = [...app.app.io.of('/').sockets.values()];
      expect(connected).toHaveLength(3);
      for (const socket of connected) expect(socket.conn.request).toBeNull();
      // The address was recorded before: two sockets of one forwarded client share its post budget.
      const articleId = uniqueArticle('released');
      const post = (socket: typeof first, body: string) =>
        socket.emitWithAck('comment:post', { articleId, author: { name: 'R' }, body });
      expect(await post(first, 'one')).toMatchObject({ ok: true });
      expect(await post(again, 'two')).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
      expect(await post(other, 'three')).toMatchObject({ ok: true });
      // Every connection shares one listener per event instead of holding closures of its own.
      const [a, b] = connected;
      expect(a!.listeners('comment:post')).toHaveLength(1);
      expect(a!.listeners('comment:post')[0]).toBe(b!.listeners('comment:post')[0]);
    } finally {
      for (const socket of sockets) socket.disconnect();
    }
  });

  it('closes a connection that sends a binary event instead of holding it for its attachments', async () => {
    app = await startTestApp();
    const raw = await rawSocket(app.port);
    await raw.join();
    // A BINARY_EVENT header announcing one attachment that never comes (the stock parser would wait for it).
    raw.ws.send('451-["comment:post",{"articleId":"a","body":{"_placeholder":true,"num":0}}]');
    const outcome = await Promise.race([
      raw.closed.then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('still open'), 2000)),
    ]);
    expect(outcome).toBe('closed');
    // Binary frames are refused the same way.
    const second = await rawSocket(app.port);
    await second.join();
    second.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await expect(
      Promise.race([second.closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('open'), 2000))]),
    ).resolves.toBe('closed');
  });
});

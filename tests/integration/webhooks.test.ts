import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DeliveryListSchema,
  OutboxHealthSchema,
  WebhookCreatedSchema,
  WebhookListSchema,
  WebhookPayloadSchema,
  type WebhookEvent,
} from '../../shared/notifications.ts';
import { CommentSchema, PostResultSchema } from '../../shared/schemas.ts';
import { deliverWebhook } from '../../server/notify/webhook-delivery.ts';
import { getJson, postJson, startTestApp, tempDir, uniqueArticle, type TestApp } from '../helpers/test-app.ts';

const ADMIN_TOKEN = 'webhook-test-moderator-token';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const ALL: WebhookEvent[] = ['comment.created', 'comment.updated', 'comment.removed', 'comment.held'];

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver on 127.0.0.1: records every request and answers with `answer()`'s status. */
async function startReceiver(port = 0, answer: (n: number) => number = () => 204) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = answer(received.length);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    received,
    port: (server.address() as AddressInfo).port,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port nothing listens on (taken and released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Verifies `X-Live-Comments-Signature` the way a receiver in another stack would: WebCrypto's HMAC
 * verify (not node:crypto's createHmac, which the server signs with), refusing stale timestamps.
 */
async function receiverAccepts(secret: string, header: string, rawBody: string, nowSeconds: number): Promise<boolean> {
  const parts = new Map(header.split(',').map((part) => part.split('=') as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > 300 || !/^[0-9a-f]{64}$/.test(v1)) return false;
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'verify',
  ]);
  const mac = Uint8Array.from(v1.match(/../g)!.map((byte) => parseInt(byte, 16)));
  return crypto.subtle.verify('HMAC', key, mac, encoder.encode(`${t}.${rawBody}`));
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An app with moderators, webhooks to loopback allowed, a fast outbox poll and a clock the test moves. */
async function startApp(options: { sqlitePath?: string; env?: Record<string, string> } = {}) {
  const clock = { offsetMs: 0 };
  const app = await startTestApp({
    ...(options.sqlitePath ? { sqlitePath: options.sqlitePath } : {}),
    env: { ADMIN_TOKEN, WEBHOOK_ALLOW_PRIVATE: 'true', ...options.env },
    outbox: { pollMs: 20, now: () => Date.now() + clock.offsetMs, random: () => 0.5 },
  });
  cleanups.push(() => app.close());
  return { ...app, clock };
}

async function addWebhook(app: TestApp, url: string, events: WebhookEvent[] = ALL) {
  const answer = await postJson(`${app.url}/api/admin/webhooks`, { url, events }, auth);
  expect(answer.status).toBe(201);
  return WebhookCreatedSchema.parse(answer.body).webhook;
}

async function post(app: TestApp, articleId: string, body: string) {
  const answer = await postJson(`${app.url}/api/articles/${articleId}/comments`, { author: { name: 'Ann' }, body });
  expect(answer.status).toBe(201);
  const result = PostResultSchema.parse(answer.body);
  if (!('comment' in result)) throw new Error('held');
  return { comment: result.comment, authorToken: result.authorToken ?? '' };
}

describe('webhooks', () => {
  it('delivers a signed comment.created that an independent implementation verifies', async () => {
    const receiver = await startReceiver();
    cleanups.push(receiver.close);
    const app = await startApp();
    const webhook = await addWebhook(app, receiver.url);
    const articleId = uniqueArticle();
    const { comment } = await post(app, articleId, 'Signed and sealed');

    await vi.waitFor(() => expect(receiver.received).toHaveLength(1), { timeout: 10_000, interval: 20 });
    const [delivery] = receiver.received as [Received];
    expect(delivery.headers['content-type']).toBe('application/json');
    expect(delivery.headers['x-live-comments-event']).toBe('comment.created');
    const payload = WebhookPayloadSchema.parse(JSON.parse(delivery.body));
    expect(delivery.headers['x-live-comments-delivery']).toBe(payload.id);
    expect(payload.type).toBe('comment.created');
    expect(CommentSchema.parse(payload.data.comment)).toEqual(comment);
    const signature = String(delivery.headers['x-live-comments-signature']);
    const now = Math.floor(Date.now() / 1000);
    expect(await receiverAccepts(webhook.secret, signature, delivery.body, now)).toBe(true);
    // The same check refuses a changed body, another secret, and a replay ten minutes later.
    expect(await receiverAccepts(webhook.secret, signature, delivery.body.replace('sealed', 'forged'), now)).toBe(
      false,
    );
    expect(await receiverAccepts(`${webhook.secret}x`, signature, delivery.body, now)).toBe(false);
    expect(await receiverAccepts(webhook.secret, signature, delivery.body, now + 600)).toBe(false);
  });

  it('retries a 500 with the same delivery id until a 2xx, and lists the attempts', async () => {
    const receiver = await startReceiver(0, (n) => (n === 1 ? 500 : 204));
    cleanups.push(receiver.close);
    const app = await startApp();
    const webhook = await addWebhook(app, receiver.url, ['comment.created']);
    await post(app, uniqueArticle(), 'Try again');

    await vi.waitFor(() => expect(receiver.received).toHaveLength(1), { timeout: 10_000, interval: 20 });
    // The failed attempt is recorded (its retry time taken from the clock as it was)…
    await vi.waitFor(
      async () =>
        expect(
          DeliveryListSchema.parse((await getJson(`${app.url}/api/admin/webhooks/${webhook.id}/deliveries`, auth)).body)
            .deliveries,
        ).toHaveLength(1),
      { timeout: 10_000, interval: 20 },
    );
    // …and the retry is due 10 s later (jitter fixed at the middle by the test's random).
    app.clock.offsetMs += 11_000;
    await vi.waitFor(() => expect(receiver.received).toHaveLength(2), { timeout: 10_000, interval: 20 });
    const ids = receiver.received.map((r) => r.headers['x-live-comments-delivery']);
    expect(ids[1]).toBe(ids[0]);
    expect(receiver.received[1]?.body).toBe(receiver.received[0]?.body);

    await vi.waitFor(
      async () => {
        const list = await getJson(`${app.url}/api/admin/webhooks/${webhook.id}/deliveries`, auth);
        expect(DeliveryListSchema.parse(list.body).deliveries).toMatchObject([
          { deliveryId: ids[0], attempt: 2, outcome: 'sent', status: 204, error: null },
          { deliveryId: ids[0], attempt: 1, outcome: 'retry', status: 500, error: 'HTTP 500' },
        ]);
      },
      { timeout: 10_000, interval: 50 },
    );
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^live_comments_outbox_retried_total\{[^}]*\} 1$/m);
    expect(metrics).toMatch(/^live_comments_outbox_sent_total\{[^}]*\} 1$/m);
    expect(metrics).toMatch(/^live_comments_outbox_queued\{[^}]*\} 0$/m);
  });

  it('keeps every event for a receiver that refuses connections, across an instance restart, and delivers them once it is back', async () => {
    const temp = tempDir();
    cleanups.push(async () => temp.cleanup());
    const sqlitePath = join(temp.dir, 'restart.db');
    const port = await freePort();
    const first = await startApp({ sqlitePath });
    const webhook = await addWebhook(first, `http://127.0.0.1:${port}/hook`);
    const articleId = uniqueArticle();
    const a = await post(first, articleId, 'one');
    const b = await post(first, articleId, 'two');
    const edited = await fetch(`${first.url}/api/comments/${a.comment.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${a.authorToken}` },
      body: JSON.stringify({ body: 'one, edited' }),
    });
    expect(edited.status).toBe(200);
    const removed = await fetch(`${first.url}/api/comments/${b.comment.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${b.authorToken}` },
    });
    expect(removed.status).toBe(200);

    // Every event was tried and refused (ECONNREFUSED), and waits for its retry.
    let refusedIds: string[] = [];
    await vi.waitFor(
      async () => {
        const list = DeliveryListSchema.parse(
          (await getJson(`${first.url}/api/admin/webhooks/${webhook.id}/deliveries`, auth)).body,
        ).deliveries;
        refusedIds = [...new Set(list.map((d) => d.deliveryId))];
        expect(refusedIds).toHaveLength(4);
        expect(
          list.every((d) => d.outcome === 'retry' && d.status === null && /ECONNREFUSED/.test(d.error ?? '')),
        ).toBe(true);
      },
      { timeout: 10_000, interval: 50 },
    );
    const health = OutboxHealthSchema.parse((await getJson(`${first.url}/api/admin/outbox`, auth)).body);
    expect(health.queued).toBe(4);
    expect(health.oldestAgeSeconds).toBeGreaterThanOrEqual(0);
    await first.close();

    // The receiver comes back, and a new instance over the same store takes over.
    const receiver = await startReceiver(port);
    cleanups.push(receiver.close);
    const second = await startApp({ sqlitePath });
    second.clock.offsetMs = 120_000;
    await vi.waitFor(
      () => expect(new Set(receiver.received.map((r) => r.headers['x-live-comments-delivery'])).size).toBe(4),
      {
        timeout: 15_000,
        interval: 50,
      },
    );
    const payloads = receiver.received.map((r) => WebhookPayloadSchema.parse(JSON.parse(r.body)));
    expect(payloads.map((p) => p.id).sort()).toEqual([...refusedIds].sort());
    expect(payloads.map((p) => `${p.type} ${p.data.comment.body}`).sort()).toEqual(
      ['comment.created one', 'comment.created two', 'comment.updated one, edited', 'comment.removed '].sort(),
    );
    await vi.waitFor(
      async () =>
        expect(OutboxHealthSchema.parse((await getJson(`${second.url}/api/admin/outbox`, auth)).body).queued).toBe(0),
      { timeout: 10_000, interval: 50 },
    );
  });

  it('gives up past NOTIFY_RETRY_HOURS and shows the failure to moderators', async () => {
    const port = await freePort();
    const app = await startApp({ env: { NOTIFY_RETRY_HOURS: '1' } });
    const webhook = await addWebhook(app, `http://127.0.0.1:${port}/hook`);
    await post(app, uniqueArticle(), 'nobody listens');
    await vi.waitFor(
      async () =>
        expect(
          DeliveryListSchema.parse((await getJson(`${app.url}/api/admin/webhooks/${webhook.id}/deliveries`, auth)).body)
            .deliveries,
        ).toHaveLength(1),
      { timeout: 10_000, interval: 50 },
    );
    app.clock.offsetMs = 2 * 3_600_000;
    await vi.waitFor(
      async () => {
        const health = OutboxHealthSchema.parse((await getJson(`${app.url}/api/admin/outbox`, auth)).body);
        expect(health).toEqual({ queued: 0, failed: 1, oldestAgeSeconds: 0 });
      },
      { timeout: 10_000, interval: 50 },
    );
    const list = DeliveryListSchema.parse(
      (await getJson(`${app.url}/api/admin/webhooks/${webhook.id}/deliveries`, auth)).body,
    ).deliveries;
    expect(list[0]).toMatchObject({ attempt: 2, outcome: 'failed', status: null });
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^live_comments_outbox_failed_total\{[^}]*\} 1$/m);
    expect(metrics).toMatch(/^live_comments_outbox_failed\{[^}]*\} 1$/m);
  });

  it('never sends one event twice from two instances over one store', async () => {
    const temp = tempDir();
    cleanups.push(async () => temp.cleanup());
    const sqlitePath = join(temp.dir, 'two.db');
    const receiver = await startReceiver();
    cleanups.push(receiver.close);
    const a = await startApp({ sqlitePath });
    const b = await startApp({ sqlitePath });
    await addWebhook(a, receiver.url, ['comment.created']);
    const articleId = uniqueArticle();
    // b learns of the webhook at its next poll; wait until it writes rows too.
    await vi.waitFor(async () => {
      await post(b, articleId, 'probe');
      expect(receiver.received.length).toBeGreaterThan(0);
    });
    for (let i = 0; i < 20; i++) await post(i % 2 === 0 ? a : b, articleId, `comment ${i}`);
    await vi.waitFor(
      async () =>
        expect(OutboxHealthSchema.parse((await getJson(`${a.url}/api/admin/outbox`, auth)).body).queued).toBe(0),
      { timeout: 10_000, interval: 50 },
    );
    const ids = receiver.received.map((r) => r.headers['x-live-comments-delivery']);
    expect(new Set(ids).size).toBe(ids.length);
    const bodies = receiver.received.map((r) => WebhookPayloadSchema.parse(JSON.parse(r.body)).data.comment.body);
    for (let i = 0; i < 20; i++) expect(bodies).toContain(`comment ${i}`);
  });
});

describe('webhook administration', () => {
  it('is for moderators only, shows the secret once, lists, removes', async () => {
    const app = await startApp();
    expect((await postJson(`${app.url}/api/admin/webhooks`, { url: 'http://127.0.0.1:9/x', events: ALL })).status).toBe(
      403,
    );
    expect((await getJson(`${app.url}/api/admin/webhooks`)).status).toBe(403);
    const webhook = await addWebhook(app, 'http://127.0.0.1:9/x', ['comment.held']);
    expect(webhook.secret).toMatch(/^whsec_/);
    const list = WebhookListSchema.parse((await getJson(`${app.url}/api/admin/webhooks`, auth)).body);
    expect(list.webhooks).toEqual([
      { id: webhook.id, url: 'http://127.0.0.1:9/x', events: ['comment.held'], createdAt: webhook.createdAt },
    ]);
    expect(JSON.stringify(list)).not.toContain(webhook.secret);
    expect((await getJson(`${app.url}/api/admin/webhooks/${webhook.id}/deliveries`, auth)).body).toEqual({
      deliveries: [],
    });
    const removed = await fetch(`${app.url}/api/admin/webhooks/${webhook.id}`, { method: 'DELETE', headers: auth });
    expect(await removed.json()).toEqual({ removed: webhook.id });
    expect(
      (await fetch(`${app.url}/api/admin/webhooks/${webhook.id}`, { method: 'DELETE', headers: auth })).status,
    ).toBe(404);
    expect((await getJson(`${app.url}/api/admin/webhooks/${webhook.id}/deliveries`, auth)).status).toBe(404);
    for (const bad of [
      { url: 'http://127.0.0.1:9/x', events: [] },
      { url: 'http://127.0.0.1:9/x', events: ['comment.liked'] },
      { url: 'ftp://example.com/x', events: ALL },
      { url: 'http://user:pass@example.com/x', events: ALL },
      { url: 'http://127.0.0.1:9/x', events: ALL, extra: 1 },
    ]) {
      const answer = await postJson(`${app.url}/api/admin/webhooks`, bad, auth);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ error: { code: 'invalid_input' } });
    }
  });

  it('refuses private, loopback and link-local destinations unless WEBHOOK_ALLOW_PRIVATE=true (SSRF)', async () => {
    const receiver = await startReceiver();
    cleanups.push(receiver.close);
    const app = await startApp({ env: { WEBHOOK_ALLOW_PRIVATE: 'false' } });
    for (const url of [
      'http://127.0.0.1:9/x',
      'http://[::1]:9/x',
      'http://169.254.169.254/latest/meta-data',
      'http://10.1.2.3/x',
      'http://192.168.0.10/x',
      'http://[::ffff:127.0.0.1]/x',
      'http://0.0.0.0:9/x',
      `http://localhost:${receiver.port}/hook`,
    ]) {
      const answer = await postJson(`${app.url}/api/admin/webhooks`, { url, events: ALL }, auth);
      expect(answer.status, url).toBe(400);
      expect(answer.body).toMatchObject({ error: { code: 'invalid_input', issues: [{ path: 'url' }] } });
    }
    // At delivery too, on the addresses the connection resolves: a name for loopback is refused.
    const refused = await deliverWebhook({
      url: `http://localhost:${receiver.port}/hook`,
      secret: 's',
      body: '{}',
      deliveryId: 'dlv_x',
      type: 'comment.created',
      allowPrivate: false,
    });
    expect(refused).toMatchObject({ ok: false, status: null });
    expect(!refused.ok && refused.error).toMatch(/not a public address/);
    const literal = await deliverWebhook({
      url: receiver.url,
      secret: 's',
      body: '{}',
      deliveryId: 'dlv_y',
      type: 'comment.created',
      allowPrivate: false,
    });
    expect(literal).toMatchObject({ ok: false, status: null });
    expect(receiver.received).toEqual([]);
    // Allowed, the same delivery goes through, and no redirect is followed.
    const allowed = await deliverWebhook({
      url: receiver.url,
      secret: 's',
      body: '{}',
      deliveryId: 'dlv_z',
      type: 'comment.created',
      allowPrivate: true,
    });
    expect(allowed).toEqual({ ok: true, status: 204 });
    expect(receiver.received).toHaveLength(1);
  });

  it('does not follow redirects: a 3xx is a failed attempt', async () => {
    const target = await startReceiver();
    cleanups.push(target.close);
    const redirecting = createServer((_req, res) => {
      res.writeHead(307, { location: target.url });
      res.end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => redirecting.close(() => resolve())));
    const outcome = await deliverWebhook({
      url: `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/`,
      secret: 's',
      body: '{}',
      deliveryId: 'dlv_r',
      type: 'comment.created',
      allowPrivate: true,
    });
    expect(outcome).toEqual({ ok: false, status: 307, error: 'HTTP 307' });
    expect(target.received).toEqual([]);
  });
});

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, vi } from 'vitest';
import {
  DeliveryListSchema,
  OutboxHealthSchema,
  WebhookCreatedSchema,
  WebhookListSchema,
  WebhookPayloadSchema,
  type WebhookEvent,
} from '../../shared/notifications.ts';
import { CommentSchema } from '../../shared/schemas.ts';
import { deliverWebhook } from '../../server/notify/webhook-delivery.ts';
import { test } from '../helpers/fixtures.ts';
import type { TestClient } from '../helpers/test-client.ts';
import { getJson, postJson, tempDir, uniqueArticle, type TestApp } from '../helpers/test-app.ts';

const ADMIN_TOKEN = 'webhook-test-moderator-token';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const ALL: WebhookEvent[] = ['comment.created', 'comment.updated', 'comment.removed', 'comment.held'];

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

type Receiver = Awaited<ReturnType<typeof listenReceiver>>;

/** A real HTTP receiver on 127.0.0.1: records every request and answers with `answer()`'s status. */
async function listenReceiver(port = 0, answer: (n: number) => number = () => 204) {
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

/**
 * The fixtures of these tests, closed after each: `startHookApp`, an app with moderators, webhooks to
 * loopback allowed, a fast outbox poll and a clock the test moves; `startReceiver`, a receiver; `defer`.
 */
const it = test
  .extend('startHookApp', async ({ startApp }) => {
    return async (options: { sqlitePath?: string; env?: Record<string, string> } = {}) => {
      const clock = { offsetMs: 0 };
      const app = await startApp({
        ...(options.sqlitePath ? { sqlitePath: options.sqlitePath } : {}),
        env: { ADMIN_TOKEN, WEBHOOK_ALLOW_PRIVATE: 'true', ...options.env },
        outbox: { pollMs: 20, now: () => Date.now() + clock.offsetMs, random: () => 0.5 },
      });
      return { ...app, clock };
    };
  })
  .extend('startReceiver', async ({ defer }) => {
    return async (...args: Parameters<typeof listenReceiver>): Promise<Receiver> => {
      const receiver = await listenReceiver(...args);
      defer(receiver.close);
      return receiver;
    };
  });

/** The latest delivery attempts of a webhook, as moderators see them. */
async function deliveries(app: TestApp, webhookId: string) {
  return DeliveryListSchema.parse((await getJson(`${app.url}/api/admin/webhooks/${webhookId}/deliveries`, auth)).body)
    .deliveries;
}

/** The outbox's health, as moderators see it. */
async function outboxHealth(app: TestApp) {
  return OutboxHealthSchema.parse((await getJson(`${app.url}/api/admin/outbox`, auth)).body);
}

/** What a receiver was sent, each body read as a webhook payload. */
const payloadsOf = (receiver: Receiver) => receiver.received.map((r) => WebhookPayloadSchema.parse(JSON.parse(r.body)));

async function addWebhook(app: TestApp, url: string, events: WebhookEvent[] = ALL) {
  const answer = await postJson(`${app.url}/api/admin/webhooks`, { url, events }, auth);
  expect(answer.status).toBe(201);
  return WebhookCreatedSchema.parse(answer.body).webhook;
}

/** A comment stored through `app`'s REST API (201). */
const post = (app: TestApp & { api: TestClient }, articleId: string, body: string) =>
  app.api.stored(articleId, { body });

describe('webhooks', () => {
  it('delivers a signed comment.created that an independent implementation verifies', async ({
    startHookApp,
    startReceiver,
  }) => {
    const receiver = await startReceiver();
    const app = await startHookApp();
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

  it('retries a 500 with the same delivery id until a 2xx, and lists the attempts', async ({
    startHookApp,
    startReceiver,
  }) => {
    const receiver = await startReceiver(0, (n) => (n === 1 ? 500 : 204));
    const app = await startHookApp();
    const webhook = await addWebhook(app, receiver.url, ['comment.created']);
    await post(app, uniqueArticle(), 'Try again');

    await vi.waitFor(() => expect(receiver.received).toHaveLength(1), { timeout: 10_000, interval: 20 });
    // The failed attempt is recorded (its retry time taken from the clock as it was)…
    await vi.waitFor(async () => expect(await deliveries(app, webhook.id)).toHaveLength(1), {
      timeout: 10_000,
      interval: 20,
    });
    // …and the retry is due 10 s later (jitter fixed at the middle by the test's random).
    app.clock.offsetMs += 11_000;
    await vi.waitFor(() => expect(receiver.received).toHaveLength(2), { timeout: 10_000, interval: 20 });
    const ids = receiver.received.map((r) => r.headers['x-live-comments-delivery']);
    expect(ids[1]).toBe(ids[0]);
    expect(receiver.received[1]?.body).toBe(receiver.received[0]?.body);

    await vi.waitFor(
      async () => {
        expect(await deliveries(app, webhook.id)).toMatchObject([
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

  it('keeps every event for a receiver that refuses connections, across an instance restart, and delivers them once it is back', async ({
    startHookApp,
    startReceiver,
    defer,
  }) => {
    const temp = tempDir();
    defer(() => temp.cleanup());
    const sqlitePath = join(temp.dir, 'restart.db');
    const port = await freePort();
    const first = await startHookApp({ sqlitePath });
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
        const list = await deliveries(first, webhook.id);
        refusedIds = [...new Set(list.map((d) => d.deliveryId))];
        expect(refusedIds).toHaveLength(4);
        expect(
          list.every((d) => d.outcome === 'retry' && d.status === null && /ECONNREFUSED/.test(d.error ?? '')),
        ).toBe(true);
      },
      { timeout: 10_000, interval: 50 },
    );
    const health = await outboxHealth(first);
    expect(health.queued).toBe(4);
    expect(health.oldestAgeSeconds).toBeGreaterThanOrEqual(0);
    await first.close();

    // The receiver comes back, and a new instance over the same store takes over.
    const receiver = await startReceiver(port);
    const second = await startHookApp({ sqlitePath });
    second.clock.offsetMs = 120_000;
    await vi.waitFor(
      () => expect(new Set(receiver.received.map((r) => r.headers['x-live-comments-delivery'])).size).toBe(4),
      {
        timeout: 15_000,
        interval: 50,
      },
    );
    const payloads = payloadsOf(receiver);
    expect(payloads.map((p) => p.id).sort()).toEqual([...refusedIds].sort());
    expect(payloads.map((p) => `${p.type} ${p.data.comment.body}`).sort()).toEqual(
      ['comment.created one', 'comment.created two', 'comment.updated one, edited', 'comment.removed '].sort(),
    );
    await vi.waitFor(async () => expect((await outboxHealth(second)).queued).toBe(0), {
      timeout: 10_000,
      interval: 50,
    });
  });

  it('gives up past NOTIFY_RETRY_HOURS and shows the failure to moderators', async ({ startHookApp }) => {
    const port = await freePort();
    const app = await startHookApp({ env: { NOTIFY_RETRY_HOURS: '1' } });
    const webhook = await addWebhook(app, `http://127.0.0.1:${port}/hook`);
    await post(app, uniqueArticle(), 'nobody listens');
    await vi.waitFor(async () => expect(await deliveries(app, webhook.id)).toHaveLength(1), {
      timeout: 10_000,
      interval: 50,
    });
    app.clock.offsetMs = 2 * 3_600_000;
    await vi.waitFor(
      async () => {
        const health = await outboxHealth(app);
        expect(health).toEqual({ queued: 0, failed: 1, oldestAgeSeconds: 0 });
      },
      { timeout: 10_000, interval: 50 },
    );
    const list = await deliveries(app, webhook.id);
    expect(list[0]).toMatchObject({ attempt: 2, outcome: 'failed', status: null });
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^live_comments_outbox_failed_total\{[^}]*\} 1$/m);
    expect(metrics).toMatch(/^live_comments_outbox_failed\{[^}]*\} 1$/m);
  });

  it('never sends one event twice from two instances over one store', async ({
    startHookApp,
    startReceiver,
    defer,
  }) => {
    const temp = tempDir();
    defer(() => temp.cleanup());
    const sqlitePath = join(temp.dir, 'two.db');
    const receiver = await startReceiver();
    const a = await startHookApp({ sqlitePath });
    const b = await startHookApp({ sqlitePath });
    await addWebhook(a, receiver.url, ['comment.created']);
    const articleId = uniqueArticle();
    // b learns of the webhook at its next poll; wait until it writes rows too.
    await vi.waitFor(async () => {
      await post(b, articleId, 'probe');
      expect(receiver.received.length).toBeGreaterThan(0);
    });
    for (let i = 0; i < 20; i++) await post(i % 2 === 0 ? a : b, articleId, `comment ${i}`);
    await vi.waitFor(async () => expect((await outboxHealth(a)).queued).toBe(0), { timeout: 10_000, interval: 50 });
    const ids = receiver.received.map((r) => r.headers['x-live-comments-delivery']);
    expect(new Set(ids).size).toBe(ids.length);
    const bodies = payloadsOf(receiver).map((payload) => payload.data.comment.body);
    for (let i = 0; i < 20; i++) expect(bodies).toContain(`comment ${i}`);
  });
});

describe('webhook administration', () => {
  it('is for moderators only, shows the secret once, lists, removes', async ({ startHookApp }) => {
    const app = await startHookApp();
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

  it('refuses private, loopback and link-local destinations unless WEBHOOK_ALLOW_PRIVATE=true (SSRF)', async ({
    startHookApp,
    startReceiver,
  }) => {
    const receiver = await startReceiver();
    const app = await startHookApp({ env: { WEBHOOK_ALLOW_PRIVATE: 'false' } });
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

  it('does not follow redirects: a 3xx is a failed attempt', async ({ startReceiver, defer }) => {
    const target = await startReceiver();
    const redirecting = createServer((_req, res) => {
      res.writeHead(307, { location: target.url });
      res.end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    defer(() => new Promise<void>((resolve) => redirecting.close(() => resolve())));
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

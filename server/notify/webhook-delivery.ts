import { createHmac } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { isPublicAddress, publicOnlyLookup, urlHost } from './addresses.ts';

/** Longest a delivery waits for the receiver's whole answer. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** The most of an answer's body read (and dropped). */
const MAX_ANSWER_BYTES = 64 * 1024;
const USER_AGENT = 'LiveComments-Webhook/1';

/**
 * `X-Live-Comments-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 * Signing the time with the body lets a receiver refuse a replayed delivery by its age.
 */
export function signWebhook(secret: string, unixSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

export interface WebhookDelivery {
  url: string;
  secret: string;
  /** The exact JSON body, signed as is. */
  body: string;
  deliveryId: string;
  type: string;
  /** WEBHOOK_ALLOW_PRIVATE: may reach loopback, private and link-local addresses. */
  allowPrivate: boolean;
  timeoutMs?: number;
  now?: () => number;
}

/** `ok`: a 2xx answer. Otherwise the status when one came, and why it failed. */
export type DeliveryOutcome = { ok: true; status: number | null } | { ok: false; status: number | null; error: string };

/**
 * POSTs one delivery: JSON body, signed, at most WEBHOOK_TIMEOUT_MS in all, no redirects followed (a
 * 3xx is a failure like any non-2xx), and unless `allowPrivate` only to public addresses (an IP in the
 * URL is checked here, a name's addresses when connecting). Never rejects.
 */
export function deliverWebhook(delivery: WebhookDelivery): Promise<DeliveryOutcome> {
  let url: URL;
  try {
    url = new URL(delivery.url);
  } catch {
    return Promise.resolve({ ok: false, status: null, error: 'not a URL' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return Promise.resolve({ ok: false, status: null, error: 'only http and https URLs are allowed' });
  const host = urlHost(url);
  if (!delivery.allowPrivate && isIP(host) !== 0 && !isPublicAddress(host))
    return Promise.resolve({
      ok: false,
      status: null,
      error: `${host} is not a public address (WEBHOOK_ALLOW_PRIVATE)`,
    });
  const timestamp = Math.floor((delivery.now ?? Date.now)() / 1000);
  const body = Buffer.from(delivery.body, 'utf8');
  const timeoutMs = delivery.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: DeliveryOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': body.length,
        'user-agent': USER_AGENT,
        'x-live-comments-event': delivery.type,
        'x-live-comments-delivery': delivery.deliveryId,
        'x-live-comments-signature': signWebhook(delivery.secret, timestamp, delivery.body),
      },
      ...(delivery.allowPrivate ? {} : { lookup: publicOnlyLookup }),
      agent: false,
    });
    const timer = setTimeout(() => {
      finish({ ok: false, status: null, error: `no answer within ${timeoutMs / 1000} s` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, status: null, error: error.code ? `${error.code}: ${error.message}` : error.message }),
    );
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER_BYTES) res.destroy();
      });
      const done = (): void =>
        finish(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, status, error: `HTTP ${status}` });
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
    });
    req.end(body);
  });
}

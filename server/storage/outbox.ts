import { randomBytes } from 'node:crypto';
import type { ModeratedComment, ModeratedHeld } from '../../shared/moderation.ts';
import { toPublicComment } from '../../shared/moderation.ts';
import type { WebhookEvent, WebhookPayload } from '../../shared/notifications.ts';

/**
 * The durable outbox's shapes, shared by both stores and the worker (server/notify/outbox-worker.ts).
 *
 * A notification is one row per (event, receiver): written in the same transaction as the change that
 * causes it, claimed by any instance with a lease, settled as sent, retried later, or failed.
 */

/** A receiver of outbox notifications, as the comment service hands it to a store with a change. */
export interface OutboxSubscriber {
  readonly kind: 'webhook';
  /** The webhook id. */
  readonly id: string;
  readonly events: readonly WebhookEvent[];
}

/**
 * Who gets notified of a change: the receivers subscribed when the change was made (the service's
 * in-memory view, server/notify/subscribers.ts). Empty or absent: the store writes nothing else.
 */
export type NotifyTargets = readonly OutboxSubscriber[];

/** What a notification is: a webhook event, or a mail (the moderators' digest, a reply e-mail subscription's confirmation, reply e-mails). */
export type OutboxType = WebhookEvent | 'moderation.digest' | 'subscription.confirm' | 'reply.email';

/** One notification row to insert. `kind` says how it is delivered; `target` is a webhook id, or `moderators`. */
export interface OutboxRow {
  id: string;
  kind: 'webhook' | 'mail';
  target: string;
  type: OutboxType;
  /** The JSON body, as it will be sent (the delivery signs these exact bytes). */
  payload: string;
  createdAt: string;
}

/** A claimed notification: to be delivered, then settled with its claim token. */
export interface OutboxItem extends OutboxRow {
  /** Attempts made before this claim. */
  attempts: number;
  /** Proves this claim when settling; a claim that expired and was taken again by another instance no longer settles. */
  claim: string;
}

/** How an attempt ended: `status` is the receiver's HTTP status, null when none answered. */
export type OutboxSettlement =
  | { outcome: 'sent'; at: string; status: number | null }
  | { outcome: 'retry'; at: string; nextAt: string; status: number | null; error: string }
  | { outcome: 'failed'; at: string; status: number | null; error: string };

/** A webhook as stored, with its signing secret (never shown again after creation). */
export interface WebhookRecord {
  id: string;
  url: string;
  events: WebhookEvent[];
  secret: string;
  createdAt: string;
}

/** Queued (pending) and failed notifications, and when the oldest queued one was created (null: none). */
export interface OutboxStats {
  queued: number;
  failed: number;
  oldestCreatedAt: string | null;
}

/** One recorded attempt, for `GET /api/admin/webhooks/:id/deliveries`. */
export interface OutboxAttemptRecord {
  deliveryId: string;
  type: string;
  attempt: number;
  at: string;
  outcome: 'sent' | 'retry' | 'failed';
  status: number | null;
  error: string | null;
}

/** A delivery id: `dlv_` and 24 random base64url characters; stable across retries. */
export function newDeliveryId(): string {
  return `dlv_${randomBytes(18).toString('base64url')}`;
}

/** The public view of a held comment: without the author key. */
function publicHeld(held: ModeratedHeld): WebhookPayload['data']['comment'] {
  return {
    id: held.id,
    articleId: held.articleId,
    parentId: held.parentId,
    author: held.author,
    body: held.body,
    createdAt: held.createdAt,
  };
}

/**
 * The rows a change writes: one per subscriber of `type`, each with its own delivery id and the same
 * payload shape. Called inside the store's transaction, after the change, so `comment` is as committed.
 */
export function outboxRowsFor(
  targets: NotifyTargets | undefined,
  type: WebhookEvent,
  change: { comment: ModeratedComment; report?: WebhookPayload['data']['report'] } | { held: ModeratedHeld },
  createdAt: string,
): OutboxRow[] {
  if (targets === undefined || targets.length === 0) return [];
  const rows: OutboxRow[] = [];
  let data: WebhookPayload['data'] | undefined;
  for (const target of targets) {
    if (!target.events.includes(type)) continue;
    data ??=
      'comment' in change
        ? {
            comment: toPublicComment(change.comment),
            ...(change.report === undefined ? {} : { report: change.report }),
          }
        : { comment: publicHeld(change.held) };
    const id = newDeliveryId();
    const payload: WebhookPayload = { id, type, createdAt, data };
    rows.push({ id, kind: 'webhook', target: target.id, type, payload: JSON.stringify(payload), createdAt });
  }
  return rows;
}

/** A `webhooks` row as both stores read it. */
export interface WebhookRow {
  id: string;
  url: string;
  events: string;
  secret: string;
  created_at: string;
}

/** An `outbox` row's fields a claim returns. */
export interface OutboxRowData {
  id: string;
  kind: string;
  target: string;
  type: string;
  payload: string;
  created_at: string;
  attempts: number;
}

/** An `outbox_attempts` row. */
export interface AttemptRow {
  outbox_id: string;
  type: string;
  attempt: number;
  at: string;
  outcome: string;
  status: number | null;
  error: string | null;
}

export interface StatsRow {
  queued: number;
  failed: number;
  oldest: string | null;
}

export function toOutboxStats(row: StatsRow | undefined): OutboxStats {
  return { queued: row?.queued ?? 0, failed: row?.failed ?? 0, oldestCreatedAt: row?.oldest ?? null };
}

/** A claim token: a row settles only with the token of the claim that took it (a taken-over claim cannot). */
export function newClaim(): string {
  return randomBytes(12).toString('base64url');
}

/** When a claim taken at `now` lapses, and its rows are due again. */
export function leaseEnd(now: string, leaseMs: number): string {
  return new Date(Date.parse(now) + leaseMs).toISOString();
}

/** The error an attempt records: none for a sent one, else the reason cut to 500 characters. */
export function attemptError(settlement: OutboxSettlement): string | null {
  return settlement.outcome === 'sent' ? null : settlement.error.slice(0, 500);
}

export function toWebhook(row: WebhookRow): WebhookRecord {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as WebhookEvent[],
    secret: row.secret,
    createdAt: row.created_at,
  };
}

export function toOutboxItem(row: OutboxRowData, claim: string): OutboxItem {
  return {
    id: row.id,
    kind: row.kind as OutboxItem['kind'],
    target: row.target,
    type: row.type as OutboxType,
    payload: row.payload,
    createdAt: row.created_at,
    attempts: row.attempts,
    claim,
  };
}

export function toAttempt(row: AttemptRow): OutboxAttemptRecord {
  return {
    deliveryId: row.outbox_id,
    type: row.type,
    attempt: row.attempt,
    at: row.at,
    outcome: row.outcome as OutboxAttemptRecord['outcome'],
    status: row.status,
    error: row.error,
  };
}

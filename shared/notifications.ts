import * as z from 'zod/mini';
import { maxItems, maxUnits, minItems } from './lengths.ts';
import { CommentSchema, HeldCommentSchema, TimestampSchema } from './schemas.ts';
import { ReportReasonSchema, ReportStateSchema } from './reports.ts';

/**
 * Notifications (docs/notifications.md): webhooks managed by moderators under `/api/admin/webhooks`,
 * delivered from the store's durable outbox. Moderator-only shapes, except the delivery payload, which
 * is what a receiver gets.
 */

/** Every event a webhook can subscribe to. */
export const WEBHOOK_EVENTS = [
  'comment.created',
  'comment.updated',
  'comment.removed',
  'comment.held',
  'comment.reported',
] as const;
export const WebhookEventSchema = z.enum(WEBHOOK_EVENTS);
export type WebhookEvent = z.infer<typeof WebhookEventSchema>;

/** Longest webhook URL. */
export const WEBHOOK_URL_MAX = 2000;
/** Most webhooks a server keeps. */
export const WEBHOOKS_MAX = 50;

/** An http(s) URL without credentials or fragment; where it may point (SSRF) is checked by the server. */
export const WebhookUrlSchema = z.string().check(
  maxUnits(WEBHOOK_URL_MAX),
  z.refine((s) => {
    try {
      const url = new URL(s);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, 'url must be an http:// or https:// URL without user or password'),
);

export const WebhookIdSchema = z.string().check(z.regex(/^wh_[A-Za-z0-9_-]{1,40}$/, 'Not a webhook id'));

/** Body of `POST /api/admin/webhooks`. Unknown fields are refused. */
export const WebhookInputSchema = z.strictObject({
  url: WebhookUrlSchema,
  events: z.array(WebhookEventSchema).check(minItems(1, 'events must name at least one event'), maxItems(20)),
});
export type WebhookInput = z.infer<typeof WebhookInputSchema>;

/** A webhook as moderators see it (the secret only in the answer that created it). */
export const WebhookSchema = z.object({
  id: WebhookIdSchema,
  url: z.string(),
  events: z.array(WebhookEventSchema),
  createdAt: TimestampSchema,
});
export type Webhook = z.infer<typeof WebhookSchema>;

/** Answer of `POST /api/admin/webhooks` (201): the signing secret, shown this once. */
export const WebhookCreatedSchema = z.object({ webhook: z.object({ ...WebhookSchema.shape, secret: z.string() }) });
export type WebhookCreated = z.infer<typeof WebhookCreatedSchema>;

/** Answer of `GET /api/admin/webhooks`. */
export const WebhookListSchema = z.object({ webhooks: z.array(WebhookSchema) });
export type WebhookList = z.infer<typeof WebhookListSchema>;

/** Answer of `DELETE /api/admin/webhooks/:id`. */
export const WebhookRemovedSchema = z.object({ removed: WebhookIdSchema });
export type WebhookRemoved = z.infer<typeof WebhookRemovedSchema>;

/** One attempt to deliver one event: `sent` (2xx), `retry` (tried again later) or `failed` (given up). */
export const DeliveryAttemptSchema = z.object({
  deliveryId: z.string(),
  type: z.string(),
  attempt: z.int(),
  at: TimestampSchema,
  outcome: z.enum(['sent', 'retry', 'failed']),
  /** The receiver's HTTP status; null when no answer came (refused, timed out, not allowed). */
  status: z.nullable(z.int()),
  error: z.nullable(z.string()),
});
export type DeliveryAttempt = z.infer<typeof DeliveryAttemptSchema>;

/** Answer of `GET /api/admin/webhooks/:id/deliveries`: the latest attempts, newest first. */
export const DeliveryListSchema = z.object({ deliveries: z.array(DeliveryAttemptSchema) });
export type DeliveryList = z.infer<typeof DeliveryListSchema>;

/** Answer of `GET /api/admin/outbox`: the outbox's health across instances. */
export const OutboxHealthSchema = z.object({
  queued: z.int(),
  failed: z.int(),
  /** Seconds the oldest queued notification has waited; 0 when none waits. */
  oldestAgeSeconds: z.number(),
});
export type OutboxHealth = z.infer<typeof OutboxHealthSchema>;

/**
 * The JSON body of a webhook delivery. `id` is the delivery id (also `X-Live-Comments-Delivery`),
 * the same on every retry: receivers de-duplicate on it. `data.comment` is the public comment; for
 * `comment.held` the held comment (moderators' eyes only: the receiver is the site owner's); `comment.reported`
 * adds `data.report`.
 */
export const WebhookPayloadSchema = z.object({
  id: z.string(),
  type: WebhookEventSchema,
  createdAt: TimestampSchema,
  data: z.object({
    comment: z.union([CommentSchema, HeldCommentSchema]),
    /** `comment.reported` only: this report's reason, the round's reports so far and where the comment stands. */
    report: z.optional(
      z.object({ reason: ReportReasonSchema, reports: z.int().check(z.minimum(1)), state: ReportStateSchema }),
    ),
  }),
});
export type WebhookPayload = z.infer<typeof WebhookPayloadSchema>;

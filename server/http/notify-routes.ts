import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import { AppError } from '../../shared/errors.ts';
import {
  WEBHOOKS_MAX,
  WebhookIdSchema,
  WebhookInputSchema,
  type DeliveryList,
  type OutboxHealth,
  type WebhookCreated,
  type WebhookList,
  type WebhookRemoved,
} from '../../shared/notifications.ts';
import { parseInput } from '../../shared/validate.ts';
import type { ActorPolicy } from '../actors/actor.ts';
import { refusedDestination } from '../notify/addresses.ts';
import type { NotifySubscribers } from '../notify/subscribers.ts';
import type { WebhookRecord } from '../storage/outbox.ts';
import type { CommentStore } from '../storage/port.ts';
import { requireMay } from './actor.ts';

/** Latest attempts `GET /api/admin/webhooks/:id/deliveries` lists. */
const DELIVERIES_LISTED = 50;

export interface NotifyRouteDeps {
  policy: ActorPolicy;
  store: CommentStore;
  subscribers: NotifySubscribers;
  /** WEBHOOK_ALLOW_PRIVATE. */
  allowPrivate: boolean;
}

/** Without the secret, which is shown once, when the webhook is created. */
function shown(webhook: WebhookRecord): WebhookList['webhooks'][number] {
  return { id: webhook.id, url: webhook.url, events: webhook.events, createdAt: webhook.createdAt };
}

/**
 * Webhooks and the outbox's health, for moderators (docs/notifications.md), mounted at /api/admin
 * inside the JSON API: `POST/GET /webhooks`, `DELETE /webhooks/:id`, `GET /webhooks/:id/deliveries`,
 * `GET /outbox`.
 */
export function createNotifyRoutes(deps: NotifyRouteDeps): Router {
  const router = Router();
  router.use(['/webhooks', '/outbox'], requireMay(deps.policy, 'notifications:manage'), (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  router.post('/webhooks', async (req, res) => {
    const input = parseInput(WebhookInputSchema, req.body, 'webhook');
    const url = new URL(input.url);
    const refused = await refusedDestination(url, deps.allowPrivate);
    if (refused !== null)
      throw new AppError('invalid_input', `This webhook URL is not allowed: ${refused}`, {
        issues: [{ path: 'url', message: refused }],
      });
    if ((await deps.store.webhooks()).length >= WEBHOOKS_MAX)
      throw new AppError('invalid_input', `At most ${WEBHOOKS_MAX} webhooks; remove one first`);
    const webhook: WebhookRecord = {
      id: `wh_${randomBytes(12).toString('base64url')}`,
      url: url.toString(),
      events: [...new Set(input.events)],
      secret: `whsec_${randomBytes(32).toString('base64url')}`,
      createdAt: new Date().toISOString(),
    };
    await deps.store.addWebhook(webhook);
    await deps.subscribers.refresh();
    const answer: WebhookCreated = { webhook: { ...shown(webhook), secret: webhook.secret } };
    res.status(201).json(answer);
  });

  router.get('/webhooks', async (_req, res) => {
    const answer: WebhookList = { webhooks: (await deps.store.webhooks()).map(shown) };
    res.json(answer);
  });

  router.delete('/webhooks/:id', async (req, res) => {
    const id = parseInput(WebhookIdSchema, req.params.id, 'webhook id');
    if (!(await deps.store.removeWebhook(id))) throw new AppError('not_found', 'No such webhook');
    await deps.subscribers.refresh();
    const answer: WebhookRemoved = { removed: id };
    res.json(answer);
  });

  router.get('/webhooks/:id/deliveries', async (req, res) => {
    const id = parseInput(WebhookIdSchema, req.params.id, 'webhook id');
    const attempts = await deps.store.outboxAttempts(id, DELIVERIES_LISTED);
    if (attempts.length === 0 && !(await deps.store.webhooks()).some((w) => w.id === id))
      throw new AppError('not_found', 'No such webhook');
    const answer: DeliveryList = { deliveries: attempts };
    res.json(answer);
  });

  router.get('/outbox', async (_req, res) => {
    const stats = await deps.store.outboxStats();
    const answer: OutboxHealth = {
      queued: stats.queued,
      failed: stats.failed,
      oldestAgeSeconds: outboxAgeSeconds(stats.oldestCreatedAt, Date.now()),
    };
    res.json(answer);
  });

  return router;
}

/** Seconds since `oldestCreatedAt` (0 when nothing waits). */
export function outboxAgeSeconds(oldestCreatedAt: string | null, now: number): number {
  return oldestCreatedAt === null ? 0 : Math.max(0, (now - Date.parse(oldestCreatedAt)) / 1000);
}

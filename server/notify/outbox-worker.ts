import type { Logger } from '../logger.ts';
import type { OutboxItem, OutboxSettlement } from '../storage/outbox.ts';
import type { CommentStore } from '../storage/port.ts';
import { LogThrottle } from '../log-throttle.ts';
import type { NotifySubscribers } from './subscribers.ts';
import { nextAttemptAt } from './retry.ts';
import { deliverWebhook, type DeliveryOutcome } from './webhook-delivery.ts';
import type { Mailer } from './mailer.ts';
import type { ModeratorDigest } from './moderator-digest.ts';
import { REPLY_MAIL_TYPES, type ReplyMails } from './reply-mails.ts';
import type { WriteBreaker } from '../comments/write-breaker.ts';

/** How long a claim keeps other instances off a notification; a delivery takes at most 10 s. */
export const OUTBOX_LEASE_MS = 60_000;
/** Settled notifications and attempts are kept this long for the deliveries listing, then pruned. */
const KEEP_SETTLED_MS = 7 * 24 * 3_600_000;
const PRUNE_EVERY_MS = 10 * 60_000;

export interface OutboxWorkerMetrics {
  outboxSettled(outcome: 'sent' | 'retried' | 'failed'): void;
}

export interface OutboxWorkerOptions {
  store: CommentStore;
  /**
   * The instance's write breaker: polls go through it, so while the store is known to be down (a locked
   * SQLite file blocks the event loop for its busy timeout on every call) the worker does not ask it
   * either, and a poll that finds it down spares the next posts the same wait.
   */
  breaker?: WriteBreaker;
  subscribers: NotifySubscribers;
  logger: Logger;
  metrics?: OutboxWorkerMetrics;
  /** WEBHOOK_ALLOW_PRIVATE. */
  allowPrivate: boolean;
  /** NOTIFY_RETRY_HOURS in ms: a notification still failing this long after it was made is given up. */
  retryHorizonMs: number;
  /** Between polls when nothing was due (default 1000 ms). */
  pollMs?: number;
  /** Notifications claimed per poll (default 20), delivered concurrently. */
  batch?: number;
  timeoutMs?: number;
  /** Sends the `mail` rows (SMTP_URL); without it they wait, and are retried once a mailer is configured. */
  mailer?: Mailer | null;
  /** Queues the moderators' digest (MODERATOR_EMAILS), checked on each poll. */
  digest?: ModeratorDigest | null;
  /** Writes reply e-mails and their confirmations when they are delivered (they are stored without the address). */
  replyMails?: ReplyMails | null;
  now?: () => number;
  random?: () => number;
}

/**
 * Delivers the outbox, on every instance: each poll refreshes who is subscribed, claims what is due
 * (a lease, so instances never send one notification at once), delivers it and settles it: sent,
 * retried later with backoff (server/notify/retry.ts) for any network error or non-2xx answer, or
 * failed past the horizon. At-least-once: a crash between delivery and settling sends it again, with
 * the same delivery id, once the lease expires.
 */
export class OutboxWorker {
  readonly #options: OutboxWorkerOptions;
  readonly #now: () => number;
  readonly #errors = new LogThrottle(10_000);
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #stopped = true;
  #lastPrune = 0;

  constructor(options: OutboxWorkerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Stops polling and waits for the deliveries under way to settle (each at most the delivery timeout). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /**
   * One poll: refresh subscribers, claim, deliver, settle. Answers how many notifications it claimed.
   * With no webhook, no mailer and no digest nothing can be due (rows are written only for subscribers,
   * mail only by a digest; removing a webhook drops its waiting rows), so such a poll claims nothing:
   * an instance without notifications reads the webhook list (and prunes every 10 minutes), no more.
   */
  async pollOnce(): Promise<number> {
    const { store, subscribers, mailer, digest } = this.#options;
    await subscribers.refresh();
    const now = this.#now();
    await digest?.check(now);
    const idle = subscribers.targets().length === 0 && !mailer && !digest;
    const items = idle
      ? []
      : await store.claimOutbox(new Date(now).toISOString(), this.#options.batch ?? 20, OUTBOX_LEASE_MS);
    await Promise.all(items.map((item) => this.#deliver(item)));
    if (now - this.#lastPrune > PRUNE_EVERY_MS) {
      this.#lastPrune = now;
      await store.pruneOutbox(new Date(now - KEEP_SETTLED_MS).toISOString());
      await store.pruneSubscriptions(new Date(now).toISOString());
    }
    return items.length;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      let full = false;
      const { breaker } = this.#options;
      this.#running = (breaker ? breaker.run(() => this.pollOnce()) : this.pollOnce())
        .then((count) => {
          full = count >= (this.#options.batch ?? 20);
        })
        .catch((error: unknown) =>
          this.#errors.run((suppressed) =>
            this.#options.logger.warn({ err: error, suppressed }, 'outbox poll failed; retrying'),
          ),
        )
        .finally(() => {
          this.#running = null;
          // A full batch: more may be due, poll again at once.
          this.#schedule(full ? 0 : (this.#options.pollMs ?? 1000));
        });
    }, delayMs);
    this.#timer.unref();
  }

  async #deliver(item: OutboxItem): Promise<boolean> {
    if (item.kind === 'mail') return this.#settle(item, await this.#sendMail(item), true);
    const webhook = this.#options.subscribers.webhook(item.target);
    const outcome: DeliveryOutcome = webhook
      ? await deliverWebhook({
          url: webhook.url,
          secret: webhook.secret,
          body: item.payload,
          deliveryId: item.id,
          type: item.type,
          allowPrivate: this.#options.allowPrivate,
          ...(this.#options.timeoutMs === undefined ? {} : { timeoutMs: this.#options.timeoutMs }),
          now: this.#now,
        })
      : { ok: false, status: null, error: 'the webhook was removed' };
    return this.#settle(item, outcome, webhook !== undefined);
  }

  async #sendMail(item: OutboxItem): Promise<DeliveryOutcome> {
    const mailer = this.#options.mailer;
    if (!mailer) return { ok: false, status: null, error: 'no SMTP_URL configured' };
    if (!REPLY_MAIL_TYPES.has(item.type)) return mailer.send(item.payload);
    const replyMails = this.#options.replyMails;
    if (!replyMails) return { ok: false, status: null, error: 'reply e-mails are not configured' };
    const rendered = await replyMails.render(item);
    // Nothing to send any more (unsubscribed, expired, confirmed already, capped): settled as done.
    if (rendered === null) return { ok: true, status: null };
    const outcome = await mailer.sendMail(rendered.mail);
    if (outcome.ok) await rendered.sent?.();
    return outcome;
  }

  /** Records the attempt: sent, retried later, or failed (past the horizon, or `retryable` false). */
  async #settle(item: OutboxItem, outcome: DeliveryOutcome, retryable: boolean): Promise<boolean> {
    const now = this.#now();
    const at = new Date(now).toISOString();
    let settlement: OutboxSettlement;
    if (outcome.ok) settlement = { outcome: 'sent', at, status: outcome.status };
    else {
      const next = retryable
        ? nextAttemptAt(
            Date.parse(item.createdAt),
            now,
            item.attempts + 1,
            this.#options.retryHorizonMs,
            this.#options.random,
          )
        : null;
      settlement =
        next === null
          ? { outcome: 'failed', at, status: outcome.status, error: outcome.error }
          : {
              outcome: 'retry',
              at,
              nextAt: new Date(next).toISOString(),
              status: outcome.status,
              error: outcome.error,
            };
    }
    const kept = await this.#options.store.settleOutbox(item.id, item.claim, settlement);
    if (kept) this.#options.metrics?.outboxSettled(settlement.outcome === 'retry' ? 'retried' : settlement.outcome);
    if (!outcome.ok)
      this.#options.logger.info(
        { deliveryId: item.id, kind: item.kind, target: item.target, status: outcome.status, error: outcome.error },
        settlement.outcome === 'failed' ? 'notification given up' : 'notification failed; will retry',
      );
    return kept;
  }
}

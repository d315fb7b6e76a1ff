import type { NotifyTargets, OutboxSubscriber, WebhookRecord } from '../storage/outbox.ts';
import type { CommentStore } from '../storage/port.ts';

/**
 * Who is subscribed to notifications, kept in memory so a change reads it for free: with no webhook
 * (the common case) `targets()` is the same empty array and the store writes nothing beyond the change.
 *
 * The list is read from the store at start, right after this instance adds or removes a webhook, and
 * again on every outbox poll (about once a second, server/notify/outbox-worker.ts), which is how a
 * webhook added through another instance reaches this one. A webhook therefore receives the changes
 * made from about a second after it was created, on every instance; a removed one may still be given
 * rows for a second, which its delivery drops (the webhook is gone).
 */
export class NotifySubscribers {
  readonly #store: CommentStore;
  #targets: NotifyTargets = [];
  #webhooks = new Map<string, WebhookRecord>();
  #refreshing: Promise<void> | null = null;

  constructor(store: CommentStore) {
    this.#store = store;
  }

  /** The receivers to notify of a change made now. */
  targets(): NotifyTargets {
    return this.#targets;
  }

  /** A webhook as last read (with its URL and secret), or undefined when it is gone. */
  webhook(id: string): WebhookRecord | undefined {
    return this.#webhooks.get(id);
  }

  /** Re-reads the list from the store (one at a time; a failure keeps the previous list and rejects). */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#store
      .webhooks()
      .then((webhooks) => {
        const next: OutboxSubscriber[] = webhooks.map((w) => ({ kind: 'webhook', id: w.id, events: w.events }));
        this.#targets = next.length === 0 ? [] : Object.freeze(next);
        this.#webhooks = new Map(webhooks.map((w) => [w.id, w]));
      })
      .finally(() => {
        this.#refreshing = null;
      });
    return this.#refreshing;
  }
}

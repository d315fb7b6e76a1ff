import {
  WEBHOOK_EVENTS,
  WebhookInputSchema,
  type DeliveryAttempt,
  type OutboxHealth,
  type Webhook,
  type WebhookEvent,
} from '../../shared/notifications.ts';
import { h } from '../view/dom.ts';
import type { AdminApi } from './admin-api.ts';
import { button, time } from './controls.ts';
import { KeyedList } from './keyed-list.ts';

/** What the panel needs of the page around it. */
export interface NotificationsPanelHost {
  /** Runs a moderator action; its failure is shown by the page, never thrown. */
  act<T>(run: (api: AdminApi) => Promise<T>, done: (result: T) => void): Promise<void>;
  announce(text: string): void;
}

/** How often the outbox's health is read again while the page is open. */
const HEALTH_EVERY_MS = 15_000;

/**
 * Webhooks and the outbox on /admin (docs/notifications.md): the webhooks with their events, a form to
 * add one (its signing secret is shown once, to copy), Remove, each one's recent deliveries with their
 * status and error, and the outbox's health (queued, failed, oldest waiting) across instances.
 */
export class NotificationsPanel {
  readonly element: HTMLElement;
  readonly #host: NotificationsPanelHost;
  #webhooks: Webhook[] = [];
  /** The webhook whose deliveries are open, and what they were when read. */
  #open: { id: string; deliveries: DeliveryAttempt[] | null } | null = null;
  readonly #list: KeyedList<Webhook>;
  readonly #empty = h('p', { class: 'empty', text: 'No webhooks.' });
  readonly #health = h('p', { class: 'muted', attrs: { role: 'status' } });
  readonly #url = h('input', {
    attrs: { id: 'webhook-url', type: 'url', spellcheck: 'false', autocomplete: 'off', placeholder: 'https://' },
  });
  readonly #events = new Map<WebhookEvent, HTMLInputElement>();
  readonly #error = h('p', { class: 'error', attrs: { role: 'alert' } });
  readonly #secret = h('div', { class: 'secret', attrs: { hidden: '', tabindex: '-1' } });
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(host: NotificationsPanelHost) {
    this.#host = host;
    this.#list = new KeyedList({
      label: 'Webhooks',
      id: (webhook) => webhook.id,
      version: (webhook) =>
        `${this.#open?.id === webhook.id}|${this.#open?.id === webhook.id ? (this.#open.deliveries?.length ?? -1) : ''}`,
      render: (webhook) => this.#renderWebhook(webhook),
    });
    const events = h('fieldset', { class: 'events' }, [h('legend', { text: 'Events' })]);
    for (const event of WEBHOOK_EVENTS) {
      const box = h('input', { attrs: { type: 'checkbox', value: event } });
      box.checked = event !== 'comment.updated';
      this.#events.set(event, box);
      events.append(h('label', { class: 'check' }, [box, ` ${event}`]));
    }
    const form = h('form', { class: 'inline webhook-form', attrs: { 'aria-label': 'Add a webhook', novalidate: '' } }, [
      h('label', { text: 'Receiver URL', attrs: { for: 'webhook-url' } }),
      this.#url,
      events,
      h('button', { class: 'primary', text: 'Add webhook', attrs: { type: 'submit' } }),
      this.#error,
    ]);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#add();
    });
    this.element = h('section', { attrs: { 'aria-labelledby': 'notifications-title' } }, [
      h('h2', { text: 'Notifications', attrs: { id: 'notifications-title' } }),
      this.#health,
      this.#secret,
      this.#empty,
      this.#list.element,
      form,
    ]);
  }

  /** Reads the webhooks and the outbox's health (after sign-in and every reconnect), then keeps the health fresh. */
  load(): void {
    void this.#host.act(
      (api) => Promise.all([api.webhooks(), api.outboxHealth()]),
      ([webhooks, health]) => {
        this.#webhooks = webhooks;
        this.#showHealth(health);
        this.#render();
      },
    );
    this.#timer ??= setInterval(() => {
      void this.#host.act(
        (api) => api.outboxHealth(),
        (health) => this.#showHealth(health),
      );
    }, HEALTH_EVERY_MS);
  }

  /** Signing out: nothing of the last moderator's stays, and nothing is read any more. */
  reset(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#webhooks = [];
    this.#open = null;
    this.#secret.hidden = true;
    this.#secret.replaceChildren();
    this.#render();
  }

  #showHealth(health: OutboxHealth): void {
    const oldest = health.oldestAgeSeconds > 0 ? `, the oldest waiting ${Math.round(health.oldestAgeSeconds)} s` : '';
    this.#health.textContent = `Outbox: ${health.queued} queued${oldest}; ${health.failed} failed (given up after retries).`;
  }

  #render(): void {
    this.#empty.hidden = this.#webhooks.length > 0;
    this.#list.update(this.#webhooks);
  }

  #add(): void {
    this.#error.textContent = '';
    const events = [...this.#events].filter(([, box]) => box.checked).map(([event]) => event);
    const parsed = WebhookInputSchema.safeParse({ url: this.#url.value.trim(), events });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.#error.textContent = `${issue?.path.join('.') || 'webhook'}: ${issue?.message ?? 'not valid'}`;
      return;
    }
    void this.#host.act(
      (api) => api.addWebhook(parsed.data),
      (created) => {
        const { secret, ...webhook } = created;
        this.#webhooks = [...this.#webhooks, webhook];
        this.#url.value = '';
        this.#render();
        // Shown this once: the receiver verifies signatures with it (docs/notifications.md).
        const value = h('code', { text: secret });
        this.#secret.replaceChildren(
          h('p', { text: `Signing secret of ${webhook.url} (shown only now; copy it to the receiver):` }),
          value,
          button('Done', 'secret-done', () => {
            this.#secret.hidden = true;
            this.#secret.replaceChildren();
          }),
        );
        this.#secret.hidden = false;
        this.#secret.focus();
        this.#host.announce(`Webhook added for ${webhook.url}.`);
      },
    );
  }

  #renderWebhook(webhook: Webhook): Array<Node | string> {
    const open = this.#open?.id === webhook.id ? this.#open : null;
    const actions = h('div', { class: 'actions' }, [
      button(
        open ? 'Hide deliveries' : 'Deliveries',
        'deliveries',
        () => {
          if (open) {
            this.#open = null;
            return this.#render();
          }
          this.#open = { id: webhook.id, deliveries: null };
          this.#render();
          void this.#host.act(
            (api) => api.deliveries(webhook.id),
            (deliveries) => {
              if (this.#open?.id !== webhook.id) return;
              this.#open = { id: webhook.id, deliveries };
              this.#render();
            },
          );
        },
        { 'aria-expanded': String(open !== null), 'aria-label': `Deliveries of ${webhook.url}` },
      ),
      button(
        'Remove',
        'remove',
        () =>
          void this.#host.act(
            (api) => api.removeWebhook(webhook.id),
            () => {
              this.#webhooks = this.#webhooks.filter((known) => known.id !== webhook.id);
              if (this.#open?.id === webhook.id) this.#open = null;
              this.#render();
              this.#host.announce(`Webhook for ${webhook.url} removed.`);
            },
          ),
        { 'aria-label': `Remove the webhook for ${webhook.url}` },
      ),
    ]);
    const parts: Array<Node | string> = [
      h('p', { class: 'meta' }, [h('code', { text: webhook.url }), ' · ', time(webhook.createdAt)]),
      h('p', { class: 'muted', text: webhook.events.join(', ') }),
      actions,
    ];
    if (open) {
      if (open.deliveries === null) parts.push(h('p', { class: 'muted', text: 'Loading deliveries…' }));
      else if (open.deliveries.length === 0) parts.push(h('p', { class: 'empty', text: 'No deliveries yet.' }));
      else
        parts.push(
          h(
            'ul',
            { class: 'deliveries', attrs: { 'aria-label': `Deliveries of ${webhook.url}` } },
            open.deliveries.map((attempt) =>
              h('li', {}, [
                h('span', { class: attempt.outcome === 'sent' ? 'muted' : 'badge', text: attempt.outcome }),
                ` ${attempt.type} · attempt ${attempt.attempt} · `,
                time(attempt.at),
                attempt.status === null ? '' : ` · HTTP ${attempt.status}`,
                attempt.error ? ` · ${attempt.error}` : '',
              ]),
            ),
          ),
        );
    }
    return parts;
  }
}

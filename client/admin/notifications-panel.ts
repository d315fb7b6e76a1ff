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
import type { AdminStrings } from './admin-strings.ts';
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
  readonly #strings: AdminStrings;
  #webhooks: Webhook[] = [];
  /** The webhook whose deliveries are open, and what they were when read. */
  #open: { id: string; deliveries: DeliveryAttempt[] | null } | null = null;
  readonly #list: KeyedList<Webhook>;
  readonly #empty = h('p', { class: 'empty' });
  readonly #health = h('p', { class: 'muted', attrs: { role: 'status' } });
  readonly #url = h('input', {
    attrs: { id: 'webhook-url', type: 'url', spellcheck: 'false', autocomplete: 'off', placeholder: 'https://' },
  });
  readonly #events = new Map<WebhookEvent, HTMLInputElement>();
  readonly #error = h('p', { class: 'error', attrs: { role: 'alert' } });
  readonly #secret = h('div', { class: 'secret', attrs: { hidden: '', tabindex: '-1' } });
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(host: NotificationsPanelHost, strings: AdminStrings) {
    this.#host = host;
    this.#strings = strings;
    const t = strings;
    this.#empty.textContent = t.text('admin.webhooksNone');
    this.#list = new KeyedList({
      label: t.text('admin.webhooks'),
      id: (webhook) => webhook.id,
      version: (webhook) =>
        `${this.#open?.id === webhook.id}|${this.#open?.id === webhook.id ? (this.#open.deliveries?.length ?? -1) : ''}`,
      render: (webhook) => this.#renderWebhook(webhook),
    });
    const events = h('fieldset', { class: 'events' }, [h('legend', { text: t.text('admin.events') })]);
    for (const event of WEBHOOK_EVENTS) {
      const box = h('input', { attrs: { type: 'checkbox', value: event } });
      box.checked = event !== 'comment.updated';
      this.#events.set(event, box);
      events.append(h('label', { class: 'check' }, [box, ` ${event}`]));
    }
    const form = h(
      'form',
      { class: 'inline webhook-form', attrs: { 'aria-label': t.text('admin.addWebhookForm'), novalidate: '' } },
      [
        h('label', { text: t.text('admin.receiverUrl'), attrs: { for: 'webhook-url' } }),
        this.#url,
        events,
        h('button', { class: 'primary', text: t.text('admin.addWebhook'), attrs: { type: 'submit' } }),
        this.#error,
      ],
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#add();
    });
    this.element = h('section', { attrs: { 'aria-labelledby': 'notifications-title' } }, [
      h('h2', { text: t.text('admin.notifications'), attrs: { id: 'notifications-title' } }),
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
    const t = this.#strings;
    const counts = { queued: health.queued, failed: health.failed };
    this.#health.textContent =
      health.oldestAgeSeconds > 0
        ? t.text('admin.outboxOldest', { ...counts, age: t.unit(Math.round(health.oldestAgeSeconds), 'second') })
        : t.text('admin.outbox', counts);
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
      this.#error.textContent = this.#strings.text('admin.invalid', {
        field: issue?.path.join('.') || 'webhook',
        message: issue?.message ?? 'not valid',
      });
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
          h('p', { text: this.#strings.text('admin.secret', { url: webhook.url }) }),
          value,
          button(this.#strings.text('admin.done'), 'secret-done', () => {
            this.#secret.hidden = true;
            this.#secret.replaceChildren();
          }),
        );
        this.#secret.hidden = false;
        this.#secret.focus();
        this.#host.announce(this.#strings.text('admin.webhookAdded', { url: webhook.url }));
      },
    );
  }

  #renderWebhook(webhook: Webhook): Array<Node | string> {
    const open = this.#open?.id === webhook.id ? this.#open : null;
    const t = this.#strings;
    const url = { url: webhook.url };
    const actions = h('div', { class: 'actions' }, [
      button(
        t.text(open ? 'admin.hideDeliveries' : 'admin.deliveries'),
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
        { 'aria-expanded': String(open !== null), 'aria-label': t.text('admin.deliveriesOf', url) },
      ),
      button(
        t.text('admin.remove'),
        'remove',
        () =>
          void this.#host.act(
            (api) => api.removeWebhook(webhook.id),
            () => {
              this.#webhooks = this.#webhooks.filter((known) => known.id !== webhook.id);
              if (this.#open?.id === webhook.id) this.#open = null;
              this.#render();
              this.#host.announce(t.text('admin.webhookRemoved', url));
            },
          ),
        { 'aria-label': t.text('admin.removeWebhook', url) },
      ),
    ]);
    const parts: Array<Node | string> = [
      h('p', { class: 'meta' }, [h('code', { text: webhook.url }), ' · ', time(webhook.createdAt, t)]),
      h('p', { class: 'muted', text: webhook.events.join(', ') }),
      actions,
    ];
    if (open) {
      if (open.deliveries === null) parts.push(h('p', { class: 'muted', text: t.text('admin.loadingDeliveries') }));
      else if (open.deliveries.length === 0)
        parts.push(h('p', { class: 'empty', text: t.text('admin.deliveriesNone') }));
      else
        parts.push(
          h(
            'ul',
            { class: 'deliveries', attrs: { 'aria-label': t.text('admin.deliveriesOf', url) } },
            open.deliveries.map((attempt) =>
              h('li', {}, [
                h('span', {
                  class: attempt.outcome === 'sent' ? 'muted' : 'badge',
                  text: t.text(`admin.outcome.${attempt.outcome}`),
                }),
                ` ${attempt.type} · ${t.text('admin.attempt', { n: attempt.attempt })} · `,
                time(attempt.at, t),
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

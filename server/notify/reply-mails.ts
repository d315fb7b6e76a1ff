import * as z from 'zod/mini';
import type { OutboxItem } from '../storage/outbox.ts';
import type { CommentStore } from '../storage/port.ts';
import type { ReplySubscription } from '../storage/subscriptions.ts';
import type { MailPayload } from './mailer.ts';
import type { ReplyLinks } from './reply-links.ts';

/** The payload of a reply e-mail subscription's outbox rows: the subscription only, never the address. */
const SubscriptionPayloadSchema = z.object({ subscriptionId: z.string() });

/** The outbox types this module writes the e-mails of, at delivery time. */
export const REPLY_MAIL_TYPES: ReadonlySet<string> = new Set(['subscription.confirm', 'reply.email']);

export interface ReplyMailsOptions {
  store: CommentStore;
  links: ReplyLinks;
}

/**
 * Writes reply e-mail subscriptions' e-mails when the outbox delivers them (docs/notifications.md "Reply
 * e-mails"): the address and the links are read then, so a subscription gone by then (unsubscribed,
 * expired) gets nothing, and every e-mail carries a one-click unsubscribe (RFC 8058) and a visible link.
 */
export class ReplyMails {
  readonly #store: CommentStore;
  readonly #links: ReplyLinks;

  constructor(options: ReplyMailsOptions) {
    this.#store = options.store;
    this.#links = options.links;
  }

  /** The e-mail a row stands for; null when there is nothing to send (the subscription is gone or confirmed already). */
  async render(item: OutboxItem): Promise<MailPayload | null> {
    const parsed = SubscriptionPayloadSchema.safeParse(JSON.parse(item.payload));
    if (!parsed.success) return null;
    const subscription = await this.#store.getSubscription(parsed.data.subscriptionId);
    if (subscription === null) return null;
    if (item.type === 'subscription.confirm')
      return subscription.status === 'pending' ? this.#confirmation(subscription) : null;
    return null;
  }

  #confirmation(subscription: ReplySubscription): MailPayload {
    const expiresAt = new Date(subscription.expiresAt ?? subscription.createdAt);
    return this.#mail(subscription, 'Confirm: e-mail me when someone replies', [
      'You asked to be e-mailed when someone replies to your comment on',
      subscription.pageUrl,
      '',
      'To confirm, open this link and press the button:',
      this.#links.confirmUrl(subscription.id, expiresAt),
      '',
      'If you did not ask for this, ignore this e-mail: nothing will be sent, and the address is',
      `forgotten on ${expiresAt.toUTCString()}.`,
    ]);
  }

  /** A mail to the subscriber with the unsubscribe headers and link every reply e-mail carries. */
  #mail(subscription: ReplySubscription, subject: string, lines: string[]): MailPayload {
    const unsubscribe = this.#links.unsubscribeUrl(subscription.id);
    return {
      to: [subscription.email],
      subject,
      text: [...lines, '', `Stop these e-mails: ${unsubscribe}`, ''].join('\n'),
      headers: {
        'List-Unsubscribe': `<${unsubscribe}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    };
  }
}

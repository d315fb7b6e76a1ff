import * as z from 'zod/mini';
import type { OutboxItem } from '../storage/outbox.ts';
import type { CommentStore } from '../storage/port.ts';
import type { ReplySubscription } from '../storage/subscriptions.ts';
import type { MailPayload } from './mailer.ts';
import type { ReplyLinks } from './reply-links.ts';
import type { Keyring } from '../keys/keyring.ts';

/** The payload of a reply e-mail subscription's outbox rows: the subscription only, never the address. */
const SubscriptionPayloadSchema = z.object({ subscriptionId: z.string() });

/** The outbox types this module writes the e-mails of, at delivery time. */
export const REPLY_MAIL_TYPES: ReadonlySet<string> = new Set(['subscription.confirm', 'reply.email']);

export interface ReplyMailsOptions {
  store: CommentStore;
  links: ReplyLinks;
  /** Keys the daily count of an address without keeping it. */
  keys: Keyring;
  /** REPLY_EMAIL_DAILY_CAP: reply e-mails per address per UTC day. */
  dailyCap: number;
  now?: () => Date;
}

/** Replies one e-mail tells of, at most (more wait for the next). */
const REPLIES_PER_MAIL = 20;

/** An e-mail to send, and what to record once it is sent. */
export interface RenderedMail {
  mail: MailPayload;
  sent?: () => Promise<void>;
}

/**
 * Writes reply e-mail subscriptions' e-mails when the outbox delivers them (docs/notifications.md "Reply
 * e-mails"): the address and the links are read then, so a subscription gone by then (unsubscribed,
 * expired) gets nothing, and every e-mail carries a one-click unsubscribe (RFC 8058) and a visible link.
 */
export class ReplyMails {
  readonly #store: CommentStore;
  readonly #links: ReplyLinks;
  readonly #keys: Keyring;
  readonly #dailyCap: number;
  readonly #now: () => Date;

  constructor(options: ReplyMailsOptions) {
    this.#store = options.store;
    this.#links = options.links;
    this.#keys = options.keys;
    this.#dailyCap = options.dailyCap;
    this.#now = options.now ?? (() => new Date());
  }

  /** The e-mail a row stands for; null when there is nothing to send (the subscription is gone or confirmed already). */
  async render(item: OutboxItem): Promise<RenderedMail | null> {
    const parsed = SubscriptionPayloadSchema.safeParse(JSON.parse(item.payload));
    if (!parsed.success) return null;
    const subscription = await this.#store.getSubscription(parsed.data.subscriptionId);
    if (subscription === null) return null;
    if (item.type === 'subscription.confirm')
      return subscription.status === 'pending' ? { mail: this.#confirmation(subscription) } : null;
    return subscription.status === 'confirmed' ? this.#replies(subscription) : null;
  }

  /**
   * The replies since the last e-mail, read now (so one e-mail carries every reply queued meanwhile),
   * without the subscriber's own. Past the daily cap they are skipped, not kept for tomorrow.
   */
  async #replies(subscription: ReplySubscription): Promise<RenderedMail | null> {
    const replies = await this.#store.newReplies(subscription, subscription.mailedSeq, REPLIES_PER_MAIL);
    const last = replies.at(-1);
    if (last === undefined) return null;
    const now = this.#now();
    const markSent = () => this.#store.markMailed(subscription.id, last.createdSeq, now.toISOString());
    const others = replies.filter(
      (reply) =>
        !(subscription.memberSub !== null && reply.memberSub === subscription.memberSub) &&
        !(subscription.authorKey !== null && reply.authorKey === subscription.authorKey),
    );
    if (others.length === 0) {
      await markSent();
      return null;
    }
    const addressKey = this.#keys.deriveKey('email', subscription.email.toLowerCase());
    if (!(await this.#store.countMail(addressKey, now.toISOString().slice(0, 10), this.#dailyCap))) {
      await markSent();
      return null;
    }
    const first = others[0]!;
    const subject =
      others.length === 1
        ? `${first.authorName} replied to your comment`
        : `${others.length} new replies to your comment`;
    const lines = others.flatMap((reply) => [
      `${reply.authorName} replied to your comment:`,
      '',
      reply.body,
      '',
      `Read it and answer: ${subscription.pageUrl}#comment-${reply.id}`,
      '',
    ]);
    return { mail: this.#mail(subscription, subject, lines), sent: markSent };
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

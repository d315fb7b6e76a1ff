import { AppError } from '../../shared/errors.ts';
import type { NotifyRequest, NotifyStatus } from '../../shared/reply-emails.ts';
import type { NewCommentRecord } from '../storage/port.ts';
import { newDeliveryId } from '../storage/outbox.ts';
import { newSubscriptionId, type SubscribeWith } from '../storage/subscriptions.ts';

/** How long a confirmation link works; an unconfirmed subscription (and its address) is dropped after. */
export const CONFIRM_WITHIN_MS = 48 * 3_600_000;

export interface ReplySubscribeOptions {
  /** ALLOWED_ORIGINS: only pages there are trusted for the links of reply e-mails ('any': every page). */
  allowedOrigins: 'any' | readonly string[];
  /** PUBLIC_URL: pages of the comment server itself (the demo article) are trusted too. */
  publicUrl: string;
}

/** A new post's subscription, and what the post's answer says of it. */
export interface PlannedSubscription {
  subscribe: SubscribeWith;
  status: NotifyStatus;
}

/**
 * Turns a post's `notify` into the subscription its transaction writes (server/storage/subscriptions.ts):
 * a guest's waits for its confirmation e-mail (double opt-in: the outbox row is written with the post),
 * a member's own address from their token's `email` claim is confirmed at once. The confirmation
 * e-mail's payload names only the subscription: the worker reads the address from it when sending, so
 * the outbox never holds one.
 */
export class ReplySubscribe {
  readonly #origins: 'any' | ReadonlySet<string>;
  readonly #ownOrigin: string;

  constructor(options: ReplySubscribeOptions) {
    this.#origins = options.allowedOrigins === 'any' ? 'any' : new Set(options.allowedOrigins);
    this.#ownOrigin = new URL(options.publicUrl).origin;
  }

  /** Throws `invalid_input` for a page on an origin not allowed, or no address. */
  plan(
    record: NewCommentRecord,
    notify: NotifyRequest,
    member: { sub: string; email: string | null } | null,
    now: Date,
  ): PlannedSubscription {
    const pageUrl = this.#trustedPage(notify.pageUrl);
    const claimed = member?.email ?? null;
    const email = notify.email ?? claimed;
    if (email === null)
      throw new AppError('invalid_input', 'notify.email is required', {
        issues: [{ path: 'notify.email', message: 'Give an e-mail address' }],
      });
    // The token's claim proves the member owns that address; any other address must prove itself.
    const own = claimed !== null && claimed.toLowerCase() === email.toLowerCase();
    const createdAt = now.toISOString();
    const id = newSubscriptionId();
    const subscribe: SubscribeWith = {
      subscription: {
        id,
        commentId: record.id,
        articleId: record.articleId,
        pageUrl,
        email,
        authorKey: record.authorKey ?? null,
        memberSub: member?.sub ?? null,
        createdAt,
        status: own ? 'confirmed' : 'pending',
        expiresAt: own ? null : new Date(now.getTime() + CONFIRM_WITHIN_MS).toISOString(),
      },
      confirmation: own
        ? null
        : {
            id: newDeliveryId(),
            kind: 'mail',
            target: id,
            type: 'subscription.confirm',
            payload: JSON.stringify({ subscriptionId: id }),
            createdAt,
          },
    };
    return { subscribe, status: own ? 'subscribed' : 'confirm' };
  }

  /** The page URL, normalised, when its origin is trusted for links. */
  #trustedPage(pageUrl: string): string {
    let url: URL | null = null;
    try {
      url = new URL(pageUrl);
    } catch {
      // Refused below.
    }
    const trusted =
      url !== null &&
      (url.protocol === 'https:' || url.protocol === 'http:') &&
      (this.#origins === 'any' || this.#origins.has(url.origin) || url.origin === this.#ownOrigin);
    if (!trusted || url === null)
      throw new AppError('invalid_input', 'notify.pageUrl is not on an allowed origin', {
        issues: [{ path: 'notify.pageUrl', message: 'The page must be on an origin ALLOWED_ORIGINS allows' }],
      });
    // The fragment is ours to set (#comment-<id>).
    url.hash = '';
    return url.href;
  }
}

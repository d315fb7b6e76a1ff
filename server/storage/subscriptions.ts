import { randomBytes } from 'node:crypto';
import type { OutboxRow } from './outbox.ts';

/**
 * Reply e-mail subscriptions (migration 12, docs/notifications.md "Reply e-mails"): what both SQL stores
 * share. A subscription is to the replies to one comment, made by its poster.
 *
 * Privacy: a pending subscription (waiting for its confirmation link) keeps the address in its own row,
 * because the confirmation e-mail must reach it, and only until it is confirmed or expires (pruned with
 * the outbox). A confirmed one keeps it until unsubscribe, which deletes the row (and its queued e-mails)
 * for good. The daily cap counts per keyed HMAC of the address (`address_key`), never the address.
 */

export type SubscriptionStatus = 'pending' | 'confirmed';

/** A subscription as the comment service hands it to a store with the post it belongs to. */
export interface NewSubscription {
  /** `sub_` and random characters; what the signed confirm and unsubscribe tokens carry. */
  id: string;
  /** The subscribed comment (its id survives approval of a held post). */
  commentId: string;
  articleId: string;
  /** The page the widget reported, on an allowed origin: links point at `<pageUrl>#comment-<id>`. */
  pageUrl: string;
  email: string;
  /** The poster's author key and member id, so their own replies never e-mail them. */
  authorKey: string | null;
  memberSub: string | null;
  createdAt: string;
  /** A member with an `email` claim is confirmed at once; a guest's waits for the link. */
  status: SubscriptionStatus;
  /** When an unconfirmed subscription (and its address) is dropped; null once confirmed. */
  expiresAt: string | null;
}

/** What `submit` writes with a new post that asked for reply e-mails: the subscription and, for a guest, the confirmation e-mail. */
export interface SubscribeWith {
  subscription: NewSubscription;
  confirmation: OutboxRow | null;
}

/** A stored subscription. */
export interface ReplySubscription extends NewSubscription {
  confirmedAt: string | null;
  /** When the last reply e-mail went (batching); null before the first. */
  lastMailAt: string | null;
  /** The created_seq of the last reply e-mailed: later replies are the next e-mail's. */
  mailedSeq: number;
}

/** A `reply_subscriptions` row as both stores read it. */
export interface SubscriptionRow {
  id: string;
  comment_id: string;
  article_id: string;
  page_url: string;
  email: string;
  status: SubscriptionStatus;
  author_key: string | null;
  member_sub: string | null;
  created_at: string;
  expires_at: string | null;
  confirmed_at: string | null;
  last_mail_at: string | null;
  mailed_seq: number | string;
}

export function toSubscription(row: SubscriptionRow): ReplySubscription {
  return {
    id: row.id,
    commentId: row.comment_id,
    articleId: row.article_id,
    pageUrl: row.page_url,
    email: row.email,
    status: row.status,
    authorKey: row.author_key,
    memberSub: row.member_sub,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    confirmedAt: row.confirmed_at,
    lastMailAt: row.last_mail_at,
    // PostgreSQL's BIGINT arrives as a string.
    mailedSeq: Number(row.mailed_seq),
  };
}

/** The values of the insert, in the order of both dialects' placeholders. */
export function subscriptionValues(s: NewSubscription): unknown[] {
  return [
    s.id,
    s.commentId,
    s.articleId,
    s.pageUrl,
    s.email,
    s.status,
    s.authorKey,
    s.memberSub,
    s.createdAt,
    s.expiresAt,
    s.status === 'confirmed' ? s.createdAt : null,
  ];
}

const COLUMNS =
  'id, comment_id, article_id, page_url, email, status, author_key, member_sub, created_at, expires_at, confirmed_at, last_mail_at, mailed_seq';

type Placeholder = (n: number) => string;

const sql = (p: Placeholder) =>
  ({
    insert: `INSERT INTO reply_subscriptions (id, comment_id, article_id, page_url, email, status, author_key, member_sub,
               created_at, expires_at, confirmed_at)
             VALUES (${[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map(p).join(', ')})`,
    get: `SELECT ${COLUMNS} FROM reply_subscriptions WHERE id = ${p(1)}`,
    /** Confirms a pending, unexpired subscription ($1 now, $2 id, $3 now: placeholders in text order); a confirmed one is left as it is. */
    confirm: `UPDATE reply_subscriptions SET status = 'confirmed', confirmed_at = ${p(1)}, expires_at = NULL
              WHERE id = ${p(2)} AND status = 'pending' AND expires_at > ${p(3)}`,
    /** Deletes the subscription (the address with it) and the e-mails queued for it. */
    deleteMail: `DELETE FROM outbox WHERE kind = 'mail' AND target = ${p(1)} AND status = 'pending'`,
    delete: `DELETE FROM reply_subscriptions WHERE id = ${p(1)}`,
    /** Counts one more e-mail to an address on a day, unless it reached the cap ($3); answers the new count. */
    countMail: `INSERT INTO mail_counts (address_key, day, sent) VALUES (${p(1)}, ${p(2)}, 1)
                ON CONFLICT (address_key, day) DO UPDATE SET sent = mail_counts.sent + 1
                WHERE mail_counts.sent < ${p(3)}`,
    pruneExpired: `DELETE FROM reply_subscriptions WHERE status = 'pending' AND expires_at <= ${p(1)}`,
    pruneCounts: `DELETE FROM mail_counts WHERE day < ${p(1)}`,
  }) as const;

export const SUBSCRIPTION_SQL = {
  sqlite: sql(() => '?'),
  postgres: sql((n) => `$${n}`),
} as const;

/** A subscription id: `sub_` and 24 random base64url characters. */
export function newSubscriptionId(): string {
  return `sub_${randomBytes(18).toString('base64url')}`;
}

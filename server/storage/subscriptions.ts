import { randomBytes } from 'node:crypto';
import { newDeliveryId, type OutboxRow } from './outbox.ts';

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
    /** Confirms a pending, unexpired subscription ($1 now, $2 id, $3 now: placeholders in text order); a confirmed one is left as it is. Replies before confirmation are not e-mailed (`mailed_seq` starts at the article's latest seq). */
    confirm: `UPDATE reply_subscriptions SET status = 'confirmed', confirmed_at = ${p(1)}, expires_at = NULL,
                mailed_seq = COALESCE((SELECT last_seq FROM articles WHERE articles.article_id = reply_subscriptions.article_id), 0)
              WHERE id = ${p(2)} AND status = 'pending' AND expires_at > ${p(3)}`,
    /** Deletes the subscription (the address with it) and the e-mails queued for it. */
    deleteMail: `DELETE FROM outbox WHERE kind = 'mail' AND target = ${p(1)} AND status = 'pending'`,
    delete: `DELETE FROM reply_subscriptions WHERE id = ${p(1)}`,
    /** Counts one more e-mail to an address on a day, unless it reached the cap ($3); answers the new count. */
    countMail: `INSERT INTO mail_counts (address_key, day, sent) VALUES (${p(1)}, ${p(2)}, 1)
                ON CONFLICT (address_key, day) DO UPDATE SET sent = mail_counts.sent + 1
                WHERE mail_counts.sent < ${p(3)}`,
    /** The confirmed subscriptions to a comment, for a new reply to it. */
    subscribersOf: `SELECT id, author_key, member_sub, last_mail_at FROM reply_subscriptions
                    WHERE comment_id = ${p(1)} AND status = 'confirmed'`,
    /** A subscription's reply e-mails waiting to go, and whether a worker holds them (`claim`). */
    pendingMail: `SELECT claim FROM outbox WHERE kind = 'mail' AND type = 'reply.email' AND target = ${p(1)} AND status = 'pending'`,
    insertMail: `INSERT INTO outbox (id, kind, target, type, payload, created_at, status, next_at)
                 VALUES (${p(1)}, 'mail', ${p(2)}, 'reply.email', ${p(3)}, ${p(4)}, 'pending', ${p(5)})`,
    /** Visible direct replies to a comment after a created_seq, oldest first ($1 article, $2 and $3 the comment, $4 the comment, $5 seq, $6 limit), read by the thread's index. */
    newReplies: `SELECT id, author_name, body, created_seq, author_key, member_sub FROM comments
                 WHERE article_id = ${p(1)} AND root_id = COALESCE((SELECT root_id FROM comments WHERE id = ${p(2)}), ${p(3)})
                   AND parent_id = ${p(4)} AND status = 'visible' AND created_seq > ${p(5)}
                 ORDER BY created_seq LIMIT ${p(6)}`,
    /** Records a reply e-mail sent ($1 seq, $2 at, $3 id, $4 seq again). */
    markMailed: `UPDATE reply_subscriptions SET mailed_seq = ${p(1)}, last_mail_at = ${p(2)}
                 WHERE id = ${p(3)} AND mailed_seq < ${p(4)}`,
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

/** How a store queues reply e-mails: the batching window (REPLY_EMAIL_BATCH_MINUTES in ms). */
export interface ReplyMailOptions {
  batchMs: number;
}

/** A confirmed subscription as a new reply to its comment reads it. */
export interface SubscriberRow {
  id: string;
  author_key: string | null;
  member_sub: string | null;
  last_mail_at: string | null;
}

/** A new reply, as queueing its e-mails needs it. */
export interface NewReply {
  authorKey: string | null;
  memberSub?: string | null | undefined;
}

/** Whether `reply` is the subscriber's own (never e-mailed to them): the same member, or the same author key. */
export function ownReply(subscriber: SubscriberRow, reply: NewReply): boolean {
  return (
    (subscriber.member_sub !== null && subscriber.member_sub === (reply.memberSub ?? null)) ||
    (subscriber.author_key !== null && subscriber.author_key === reply.authorKey)
  );
}

/**
 * The values of `insertMail` for a new reply to a subscribed comment, or null when none is needed: an
 * e-mail already waiting and not yet being sent will carry this reply too (it reads the replies when it
 * goes). Batching: the first reply in a quiet thread goes at once (the worker polls every second); one
 * within `batchMs` of the last e-mail, or while one is being sent, waits for the end of that window, so
 * the replies of the window make one e-mail.
 */
export function replyMailValues(
  subscriber: SubscriberRow,
  pendingClaims: readonly (string | null)[],
  now: Date,
  options: ReplyMailOptions,
): unknown[] | null {
  if (pendingClaims.some((claim) => claim === null)) return null;
  const sending = pendingClaims.length > 0;
  const windowEnd = sending
    ? now.getTime() + options.batchMs
    : subscriber.last_mail_at === null
      ? 0
      : Date.parse(subscriber.last_mail_at) + options.batchMs;
  const createdAt = now.toISOString();
  const nextAt = new Date(Math.max(now.getTime(), windowEnd)).toISOString();
  return [newDeliveryId(), subscriber.id, JSON.stringify({ subscriptionId: subscriber.id }), createdAt, nextAt];
}

/** A reply an e-mail tells of. */
export interface ReplyToMail {
  id: string;
  authorName: string;
  body: string;
  createdSeq: number;
  authorKey: string | null;
  memberSub: string | null;
}

export interface ReplyRow {
  id: string;
  author_name: string;
  body: string;
  created_seq: number | string;
  author_key: string | null;
  member_sub: string | null;
}

export function toReplyToMail(row: ReplyRow): ReplyToMail {
  return {
    id: row.id,
    authorName: row.author_name,
    body: row.body,
    createdSeq: Number(row.created_seq),
    authorKey: row.author_key,
    memberSub: row.member_sub,
  };
}

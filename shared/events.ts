import type { AckOf } from './acks.ts';
import type { ErrorInfo } from './errors.ts';
import type { AuthSetPayload } from './sso.ts';
import type { AdminSubscribePayload, HeldResolved, ModeratedComment, ModeratedHeld } from './moderation.ts';
import type { ReportedComment } from './reports.ts';
import type { TypingChanged, TypingPayload } from './typing.ts';
import type {
  ArticleHead,
  ArticleId,
  ArticleState,
  Comment,
  CommentBatch,
  CountChanged,
  CountsSubscribePayload,
  PostCommentPayload,
  Presence,
  SubscribePayload,
  UnsubscribePayload,
} from './schemas.ts';

/** The fields of the acks (shared/acks.ts): the head and the changes since `since` (or `reset`) … */
export type SubscribeAck = AckOf<'article:subscribe'>;
/** … the stored comment, or under pre-moderation the held one (narrow with `'comment' in ack`) … */
export type PostAck = AckOf<'comment:post'>;
/** … and the visible comments of every requested article. */
export type CountsAck = AckOf<'counts:subscribe'>;

/** Every acknowledgement: success with its fields, or a typed error. */
export type Ack<T extends object = Record<never, never>> = ({ ok: true } & T) | { ok: false; error: ErrorInfo };
export type AckCallback<T extends object = Record<never, never>> = (answer: Ack<T>) => void;

/** Events a client sends (imperative names). Payloads are `unknown` to the server until validated. */
export interface ClientToServerEvents {
  'article:subscribe': (payload: SubscribePayload, ack: AckCallback<AckOf<'article:subscribe'>>) => void;
  'article:unsubscribe': (payload: UnsubscribePayload, ack: AckCallback) => void;
  'comment:post': (payload: PostCommentPayload, ack: AckCallback<AckOf<'comment:post'>>) => void;
  /** Live comment counts of up to 100 articles (`count:changed`); adds to this connection's earlier ones. */
  'counts:subscribe': (payload: CountsSubscribePayload, ack: AckCallback<AckOf<'counts:subscribe'>>) => void;
  'counts:unsubscribe': (payload: CountsSubscribePayload, ack: AckCallback) => void;
  /**
   * Sign the connection in with a member token from the host site (or again, with a fresh one); a
   * refused token answers `unauthenticated` saying why, and the connection's writes are refused with
   * it until a good token or `auth:clear`. Refused with `invalid_input` when sign-in is off.
   */
  'auth:set': (payload: AuthSetPayload, ack: AckCallback<AckOf<'auth:set'>>) => void;
  /** Sign-out: the connection's posts are a guest's again (or refused, with SSO_MODE=required). */
  'auth:clear': (payload: Record<never, never> | undefined, ack: AckCallback) => void;
  /**
   * The reader writes a new comment (no `parentId`) or a reply to `parentId` in an article this connection
   * is subscribed to; sent again every few seconds while they go on (a start lapses after TYPING_HOLD_MS,
   * shared/typing.ts). One place per connection: a start elsewhere moves it. Refused like a post where posting is.
   */
  'typing:start': (payload: TypingPayload, ack?: AckCallback) => void;
  /** The reader stopped writing in the article (sent, left the form, or paused). Leaving the article or disconnecting does it too. */
  'typing:stop': (payload: TypingPayload, ack?: AckCallback) => void;
  /** Moderators only (the ADMIN_TOKEN); refused with `forbidden` otherwise. */
  'admin:subscribe': (payload: AdminSubscribePayload, ack: AckCallback) => void;
}

/** Events the server sends (past tense). */
export interface ServerToClientEvents {
  'comment:created': (comment: Comment) => void;
  'comment:updated': (comment: Comment) => void;
  'comment:removed': (comment: Comment) => void;
  /** Several changes of one article in seq order; only to subscribers that asked with `batch: true`. */
  'comment:batch': (batch: CommentBatch) => void;
  'article:head': (head: ArticleHead) => void;
  /** A moderator locked or unlocked the article, or changed its pre-moderation. To the article's subscribers. */
  'article:updated': (state: ArticleState) => void;
  /** Connections reading the article on every instance; on change, at most once a second, and right after subscribing. */
  'presence:changed': (presence: Presence) => void;
  /**
   * How many other readers write a new comment (`parentId` null) or a reply to `parentId`, on every
   * instance, when it changed (at most about three times a second per place) and right after subscribing.
   */
  'typing:changed': (typing: TypingChanged) => void;
  /** To `counts:subscribe`rs of the article, when its number of visible comments changed. */
  'count:changed': (change: CountChanged) => void;
  /** To moderators: every comment stored, edited, removed, restored or liked, on any article and instance. */
  'admin:comment': (comment: ModeratedComment) => void;
  /** To moderators: a comment held for pre-moderation. */
  'admin:held': (held: ModeratedHeld) => void;
  /** To moderators: a held comment was approved or rejected (by anyone), so it leaves every queue. */
  'admin:resolved': (resolved: HeldResolved) => void;
  /** To moderators: a reported comment's review queue entry after a report, or after a review closed it (`state: 'closed'`). */
  'admin:report': (reported: ReportedComment) => void;
}

/** The Socket.IO room of an article's subscribers. */
export function articleRoom(articleId: ArticleId): string {
  return `article:${articleId}`;
}

/** The Socket.IO room of the connections watching an article's comment count. */
export function countsRoom(articleId: ArticleId): string {
  return `counts:${articleId}`;
}

/** The Socket.IO room of moderators' connections. */
export const MODERATORS_ROOM = 'moderators';

export const COMMENT_EVENTS = ['comment:created', 'comment:updated', 'comment:removed'] as const;
export type CommentEvent = (typeof COMMENT_EVENTS)[number];

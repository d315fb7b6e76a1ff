import type { ArticleHead, ArticleId, ArticleState, Comment, CommentId } from '../../shared/schemas.ts';
import type { CommentEvent } from '../../shared/events.ts';
import type { HeldResolved, ModeratedComment, ModeratedHeld } from '../../shared/moderation.ts';
import type { ReportedComment } from '../../shared/reports.ts';

/** One committed change, as carried between instances. */
export interface FanOutMessage {
  event: CommentEvent;
  comment: Comment;
}

/** Where and when a delivered change was committed; used for the push-latency metric only. */
export interface DeliveryInfo {
  /** Epoch ms at which the store committed the change, by the committing instance's clock; null when unknown. */
  committedAt: number | null;
  /** `local`: published by this instance; `remote`: received from another instance. */
  origin: 'local' | 'remote';
}

export type FanOutListener = (message: FanOutMessage, info: DeliveryInfo) => void;

/** What moderators see live, carried on one channel for all articles. */
export type FeedMessage =
  | { event: 'admin:comment'; comment: ModeratedComment }
  | { event: 'admin:held'; held: ModeratedHeld }
  | { event: 'admin:resolved'; resolved: HeldResolved }
  | { event: 'admin:report'; reported: ReportedComment };

export type FeedListener = (message: FeedMessage) => void;
export type ArticleStateListener = (state: ArticleState) => void;
export type ArticleHeadListener = (head: ArticleHead) => void;

/** How many readers on one instance (`origin`) write in one place of an article: typing indicators, never stored. */
export interface TypingCount {
  origin: string;
  articleId: ArticleId;
  /** The comment being answered; null: a new comment. */
  parentId: CommentId | null;
  count: number;
}
export type TypingListener = (typing: TypingCount) => void;

/** `up`: connected to every instance; `down`: only this instance is reached; `local`: single-instance mode. */
export type FanOutState = 'local' | 'up' | 'down';

/**
 * Carries committed changes to every instance that has subscribers of the article.
 *
 * Delivery: usually once per instance. Redis pub/sub can drop messages while a link is down, and a
 * change whose publish failed may be published again later (so it can arrive twice); the store is
 * the record, and clients catch up from it and drop the seqs they already hold. Per article, messages from one publishing
 * instance arrive in publish order. An instance never receives its own messages twice: `publish`
 * delivers to the local listener directly and remote copies of its own messages are dropped.
 */
export interface FanOut {
  /**
   * Delivers to this instance's listener at once, then to other instances subscribed to the article.
   * `committedAt` (epoch ms of the store commit) travels along for the push-latency metric.
   */
  publish(message: FanOutMessage, committedAt?: number): Promise<void>;
  /** Starts receiving other instances' messages for the article. Idempotent. */
  subscribe(articleId: ArticleId): Promise<void>;
  /** Stops receiving them. Idempotent. */
  unsubscribe(articleId: ArticleId): Promise<void>;
  /** The one listener that receives every message for subscribed articles (and every local publish). */
  onMessage(listener: FanOutListener): void;
  /**
   * An article's lock or pre-moderation changed: delivered to this instance's article-state listener at
   * once, then to other instances subscribed to the article (the same subscription as its comments).
   */
  publishArticleState(state: ArticleState): Promise<void>;
  onArticleState(listener: ArticleStateListener): void;
  /**
   * The article changed without per-comment pushes (an import): delivered like an article state, so
   * each instance tells the article's subscribers its `article:head` (they catch up by `since`) and
   * recounts it for `count:changed`.
   */
  publishArticleHead(head: ArticleHead): Promise<void>;
  onArticleHead(listener: ArticleHeadListener): void;
  /**
   * Tells the other instances subscribed to the article how many of this instance's readers write in
   * one place of it. Best effort and ephemeral: never delivered locally (the caller counts its own
   * readers), never sent again after a failure (counts are sent again while they last, and a receiver
   * forgets a count that is not); never rejects.
   */
  publishTyping(typing: Omit<TypingCount, 'origin'>): void;
  /** Other instances' typing counts of subscribed articles. */
  onTyping(listener: TypingListener): void;
  /**
   * Delivers a moderator-feed message to this instance's feed listener at once, then to every other
   * instance subscribed to the feed. Same delivery guarantees as `publish`; never rejects.
   */
  publishFeed(message: FeedMessage): Promise<void>;
  /** Starts receiving other instances' feed messages (while this instance has moderators connected). Idempotent. */
  subscribeFeed(): Promise<void>;
  /** Stops receiving them. Idempotent. */
  unsubscribeFeed(): Promise<void>;
  onFeed(listener: FeedListener): void;
  /**
   * Called once subscriptions are live again after they may have missed messages (the link to other
   * instances came back from an outage, or, on a Redis Cluster, the shard serving them failed over or
   * moved), with the articles concerned: their subscribers should be told the head and catch up.
   */
  onResync(listener: (articleIds: readonly ArticleId[]) => void): void;
  state(): FanOutState;
  close(): Promise<void>;
}

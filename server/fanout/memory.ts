import type { ArticleHead, ArticleId, ArticleState } from '../../shared/schemas.ts';
import type {
  ArticleHeadListener,
  ArticleStateListener,
  FanOut,
  FanOutListener,
  FanOutMessage,
  FanOutState,
  FeedListener,
  FeedMessage,
  TypingCount,
  TypingListener,
} from './port.ts';

/** Where a listener's exception is reported (the app's logger); pino-compatible. */
export interface MemoryFanOutLogger {
  error(obj: object, msg: string): void;
}

/**
 * The single-instance default: there are no other instances, so every message is delivered
 * synchronously to this instance's listener, exactly once, in publish order (article states and feed
 * messages likewise to theirs). Subscriptions are no-ops, the state is always `local`, and `onResync`
 * never fires (there is no link to lose).
 */
export class MemoryFanOut implements FanOut {
  private listener: FanOutListener | null = null;
  private stateListener: ArticleStateListener | null = null;
  private headListener: ArticleHeadListener | null = null;
  private feedListener: FeedListener | null = null;
  private closed = false;

  constructor(private readonly logger: MemoryFanOutLogger) {}

  /** Delivers before returning (the returned promise is already settled); never rejects. */
  publish(message: FanOutMessage, committedAt?: number): Promise<void> {
    if (this.closed || !this.listener) return Promise.resolve();
    try {
      this.listener(message, { committedAt: committedAt ?? null, origin: 'local' });
    } catch (err) {
      // The change is committed; a listener's failure must not turn into a failed write.
      this.logger.error({ err, event: message.event, articleId: message.comment.articleId }, 'fan-out listener threw');
    }
    return Promise.resolve();
  }

  /** Delivers before returning; never rejects. */
  publishArticleState(state: ArticleState): Promise<void> {
    if (!this.closed && this.stateListener)
      this.safely(() => this.stateListener?.(state), 'article:updated', state.articleId);
    return Promise.resolve();
  }

  onArticleState(listener: ArticleStateListener): void {
    this.stateListener = listener;
  }

  /** Delivers before returning; never rejects. */
  publishArticleHead(head: ArticleHead): Promise<void> {
    if (!this.closed && this.headListener) this.safely(() => this.headListener?.(head), 'article:head', head.articleId);
    return Promise.resolve();
  }

  onArticleHead(listener: ArticleHeadListener): void {
    this.headListener = listener;
  }

  /** There are no other instances to tell. */
  publishTyping(_typing: Omit<TypingCount, 'origin'>): void {
    // Nothing to do: this instance counts its own readers.
  }

  onTyping(_listener: TypingListener): void {
    // No other instance ever sends one.
  }

  /** Delivers before returning; never rejects. */
  publishFeed(message: FeedMessage): Promise<void> {
    if (!this.closed && this.feedListener) this.safely(() => this.feedListener?.(message), message.event, null);
    return Promise.resolve();
  }

  subscribeFeed(): Promise<void> {
    return Promise.resolve();
  }

  unsubscribeFeed(): Promise<void> {
    return Promise.resolve();
  }

  onFeed(listener: FeedListener): void {
    this.feedListener = listener;
  }

  private safely(deliver: () => void, event: string, articleId: string | null): void {
    try {
      deliver();
    } catch (err) {
      this.logger.error({ err, event, articleId }, 'fan-out listener threw');
    }
  }

  subscribe(_articleId: ArticleId): Promise<void> {
    return Promise.resolve();
  }

  unsubscribe(_articleId: ArticleId): Promise<void> {
    return Promise.resolve();
  }

  onMessage(listener: FanOutListener): void {
    this.listener = listener;
  }

  onResync(_listener: (articleIds: readonly ArticleId[]) => void): void {
    // Nothing can be missed in-process.
  }

  state(): FanOutState {
    return 'local';
  }

  close(): Promise<void> {
    this.closed = true;
    this.listener = null;
    this.stateListener = null;
    this.headListener = null;
    this.feedListener = null;
    return Promise.resolve();
  }
}

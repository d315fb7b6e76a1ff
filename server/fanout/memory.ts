import type { ArticleId } from '../../shared/schemas.ts';
import type { FanOut, FanOutListener, FanOutMessage, FanOutState } from './port.ts';

/** Where a listener's exception is reported; pino-compatible. */
export interface MemoryFanOutLogger {
  error(obj: object, msg: string): void;
}

/**
 * The single-instance default: there are no other instances, so every message is delivered
 * synchronously to this instance's listener, exactly once, in publish order. Subscriptions are
 * no-ops, the state is always `local`, and `onResync` never fires (there is no link to lose).
 */
export class MemoryFanOut implements FanOut {
  private listener: FanOutListener | null = null;
  private closed = false;

  constructor(private readonly logger?: MemoryFanOutLogger) {}

  /** Delivers before returning (the returned promise is already settled); never rejects. */
  publish(message: FanOutMessage, committedAt?: number): Promise<void> {
    if (this.closed || !this.listener) return Promise.resolve();
    try {
      this.listener(message, { committedAt: committedAt ?? null, origin: 'local' });
    } catch (err) {
      // The change is committed; a listener's failure must not turn into a failed write.
      if (this.logger) this.logger.error({ err, event: message.event, articleId: message.comment.articleId }, 'fan-out listener threw');
      else console.error('fan-out listener threw', err);
    }
    return Promise.resolve();
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

  onResync(_listener: () => void): void {
    // Nothing can be missed in-process.
  }

  state(): FanOutState {
    return 'local';
  }

  close(): Promise<void> {
    this.closed = true;
    this.listener = null;
    return Promise.resolve();
  }
}

import { nanoid } from 'nanoid';
import { AppError } from '../../shared/errors.ts';
import { LIMITS, type ArticleId, type Changes, type Comment, type CommentPage, type NewComment, type SortOrder } from '../../shared/schemas.ts';
import type { FanOut } from '../fanout/port.ts';
import type { Logger } from '../logger.ts';
import { ParentNotFoundError, StoreUnavailableError, type CommentStore } from '../storage/port.ts';
import { hashAuthorToken, newAuthorToken } from './author-token.ts';
import { WriteBreaker } from './write-breaker.ts';

export interface PostOutcome {
  comment: Comment;
  authorToken: string;
  /** False when the clientId was seen before: the first comment is returned and nothing is published. */
  created: boolean;
}

/** Counts accepted posts for the metrics (server/metrics.ts fits). */
export interface CommentServiceMetrics {
  commentPosted(outcome: 'created' | 'duplicate'): void;
}

export interface CommentServiceDeps {
  store: CommentStore;
  fanout: FanOut;
  logger: Logger;
  now?: () => Date;
  metrics?: CommentServiceMetrics;
}

/** Seconds a client is told to wait when the store is down. */
const UNAVAILABLE_RETRY_AFTER = 2;

/** Maps store failures to client-safe errors; anything unknown propagates and is shown as `internal`. */
function storeFailure(error: unknown): never {
  if (error instanceof StoreUnavailableError) {
    throw new AppError('unavailable', 'Comments are temporarily unavailable, please retry', { retryAfter: UNAVAILABLE_RETRY_AFTER, cause: error });
  }
  if (error instanceof ParentNotFoundError) {
    throw new AppError('invalid_input', 'The comment you reply to does not exist in this article', {
      issues: [{ path: 'parentId', message: 'No such comment in this article' }],
    });
  }
  throw error;
}

/**
 * The domain rules of comments: inputs arrive validated and normalised by the shared schemas;
 * the service checks what needs the store, persists, and only then publishes. Nothing is
 * published that was not stored, and a failed publish never fails a stored post (clients catch up).
 */
export class CommentService {
  private readonly store: CommentStore;
  private readonly fanout: FanOut;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly metrics: CommentServiceMetrics | undefined;
  /** Writes that have started and not yet settled (stored and published, or failed). */
  private readonly writes = new Set<Promise<unknown>>();
  /** Posts fail at once for a moment after the store was slow to report itself down (see WriteBreaker). */
  private readonly writeBreaker = new WriteBreaker();

  constructor(deps: CommentServiceDeps) {
    this.store = deps.store;
    this.fanout = deps.fanout;
    this.logger = deps.logger;
    this.now = deps.now ?? (() => new Date());
    this.metrics = deps.metrics;
  }

  /** Stores the comment, then publishes it; resolves once both are done. Counted by {@link drain}. */
  post(articleId: ArticleId, input: NewComment, createdAt?: string): Promise<PostOutcome> {
    return this.track(this.storeAndPublish(articleId, input, createdAt));
  }

  /**
   * Resolves when every write started so far, and every one started while waiting, has settled
   * (committed and published, or failed). Shutdown calls it before closing fan-out and store.
   */
  async drain(): Promise<void> {
    while (this.writes.size > 0) await Promise.allSettled([...this.writes]);
  }

  /** Writes in flight right now. */
  get pendingWrites(): number {
    return this.writes.size;
  }

  private track<T>(write: Promise<T>): Promise<T> {
    this.writes.add(write);
    const forget = (): void => {
      this.writes.delete(write);
    };
    write.then(forget, forget);
    return write;
  }

  private async storeAndPublish(articleId: ArticleId, input: NewComment, createdAt?: string): Promise<PostOutcome> {
    const authorToken = newAuthorToken();
    const result = await this.writeBreaker
      .run(() => this.store.create({
        id: nanoid(),
        articleId,
        parentId: input.parentId ?? null,
        authorName: input.author.name,
        body: input.body,
        createdAt: createdAt ?? this.now().toISOString(),
        clientId: input.clientId ?? null,
        authorTokenHash: hashAuthorToken(authorToken),
      }))
      .catch(storeFailure);
    const committedAt = Date.now();
    this.metrics?.commentPosted(result.created ? 'created' : 'duplicate');
    // A repeated clientId is published again: the first attempt may have been committed by an
    // instance that died before publishing. Subscribers drop the repeat by seq; nothing is lost.
    await this.publish('comment:created', result.comment, committedAt);
    return { comment: result.comment, authorToken, created: result.created };
  }

  async page(articleId: ArticleId, options: { limit?: number; before?: string; order?: SortOrder }): Promise<CommentPage> {
    const page = await this.store
      .page(articleId, { limit: options.limit ?? LIMITS.pageDefault, cursor: options.before ?? null, order: options.order ?? 'newest' })
      .catch(storeFailure);
    return { articleId, lastSeq: page.lastSeq, comments: page.comments, next: page.next, locked: false, premoderated: false };
  }

  async changesSince(articleId: ArticleId, since: number): Promise<Changes> {
    const changes = await this.store.changesSince(articleId, since, LIMITS.changesMax).catch(storeFailure);
    return changes.reset
      ? { articleId, lastSeq: changes.lastSeq, comments: [], reset: true }
      : { articleId, lastSeq: changes.lastSeq, comments: changes.comments };
  }

  async lastSeq(articleId: ArticleId): Promise<number> {
    return this.store.lastSeq(articleId).catch(storeFailure);
  }

  async counts(articleIds: readonly ArticleId[]): Promise<Record<ArticleId, number>> {
    return this.store.counts(articleIds).catch(storeFailure);
  }

  private async publish(event: 'comment:created' | 'comment:updated' | 'comment:removed', comment: Comment, committedAt: number): Promise<void> {
    try {
      await this.fanout.publish({ event, comment }, committedAt);
    } catch (error) {
      this.logger.warn({ err: error, articleId: comment.articleId, seq: comment.seq }, 'fan-out publish failed; subscribers will catch up');
    }
  }
}

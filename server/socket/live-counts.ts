import { countsRoom } from '../../shared/events.ts';
import type { ArticleId } from '../../shared/schemas.ts';
import type { CommentServer } from './gateway.ts';

/** The few log methods live counts need; a pino logger fits. */
export interface LiveCountsLogger {
  warn(obj: object, msg: string): void;
}

export interface LiveCountsOptions {
  /** How long changes of one article are gathered before its count is read once (default 250 ms). */
  coalesceMs?: number;
}

const ROOM_PREFIX = countsRoom('');

/**
 * `count:changed` for the connections that asked (`counts:subscribe`): after any change of an
 * article's comments reaches this instance (local or through the fan-out), its visible count is read
 * from the store once per window and sent to the article's counts room when it differs from the last
 * count this instance knew. The store is the truth, so likes and edits (which leave the count alone)
 * cost at most one read per window and send nothing.
 *
 * Invariant: while a counts room exists, every change of its article is followed, within about one
 * window plus a store read, by a `count:changed` carrying the count after that change, unless the
 * count is the one last sent or acknowledged to the room.
 */
export class LiveCounts {
  private readonly io: CommentServer;
  private readonly readCounts: (articleIds: readonly ArticleId[]) => Promise<Record<ArticleId, number>>;
  private readonly logger: LiveCountsLogger;
  private readonly coalesceMs: number;
  /** The count last sent to (or first acknowledged to) each counts room. */
  private readonly known = new Map<ArticleId, number>();
  private readonly timers = new Map<ArticleId, NodeJS.Timeout>();

  constructor(
    io: CommentServer,
    readCounts: (articleIds: readonly ArticleId[]) => Promise<Record<ArticleId, number>>,
    logger: LiveCountsLogger,
    options: LiveCountsOptions = {},
  ) {
    this.io = io;
    this.readCounts = readCounts;
    this.logger = logger;
    this.coalesceMs = options.coalesceMs ?? 250;
    io.of('/').adapter.on('delete-room', (room: string) => {
      if (!room.startsWith(ROOM_PREFIX)) return;
      const articleId = room.slice(ROOM_PREFIX.length);
      this.known.delete(articleId);
      const timer = this.timers.get(articleId);
      if (timer) clearTimeout(timer);
      this.timers.delete(articleId);
    });
  }

  /**
   * Counts just acknowledged to a new subscriber. Kept only for articles with no known count yet: a
   * newer count must not hide a change whose read is still pending from earlier subscribers.
   */
  acknowledged(counts: Record<ArticleId, number>): void {
    for (const [articleId, count] of Object.entries(counts)) {
      if (!this.known.has(articleId) && this.hasRoom(articleId)) this.known.set(articleId, count);
    }
  }

  /** A comment of the article changed: read its count once the window closes. */
  changed(articleId: ArticleId): void {
    if (this.timers.has(articleId) || !this.hasRoom(articleId)) return;
    const timer = setTimeout(() => {
      this.timers.delete(articleId);
      void this.recount(articleId);
    }, this.coalesceMs);
    timer.unref();
    this.timers.set(articleId, timer);
  }

  /** Cancels pending reads (shutdown). */
  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private hasRoom(articleId: ArticleId): boolean {
    return this.io.of('/').adapter.rooms.has(countsRoom(articleId));
  }

  private async recount(articleId: ArticleId): Promise<void> {
    let count: number | undefined;
    try {
      count = (await this.readCounts([articleId]))[articleId];
    } catch (error) {
      this.logger.warn(
        { err: error, articleId },
        'could not read a comment count; subscribers get it with the next change',
      );
      return;
    }
    if (count === undefined || !this.hasRoom(articleId) || this.known.get(articleId) === count) return;
    this.known.set(articleId, count);
    this.io.to(countsRoom(articleId)).emit('count:changed', { articleId, count });
  }
}

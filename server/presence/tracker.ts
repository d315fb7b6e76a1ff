import { articleRoom } from '../../shared/events.ts';
import type { ArticleId } from '../../shared/schemas.ts';
import type { CommentServer } from '../socket/gateway.ts';
import type { PresenceStore } from './port.ts';

/** The few log methods presence needs; a pino logger fits. */
export interface PresenceLogger {
  warn(obj: object, msg: string): void;
}

export interface PresenceOptions {
  /** How often counts are exchanged and `presence:changed` may be sent (default 1000 ms). */
  intervalMs?: number;
}

const ROOM_PREFIX = articleRoom('');

/**
 * "N reading now": the connections subscribed to an article, on every instance.
 *
 * Joins and leaves only mark the article dirty (no I/O). Once per interval the tracker hands the
 * PresenceStore, in one call, the local counts that changed (0 for articles whose last reader here
 * left) and the current local counts of the articles this instance has readers of, whose totals it
 * reads; then it sends `presence:changed { articleId, readers }` to each article room whose total
 * changed. So a room hears at most one `presence:changed` per interval, only on change. A tick still
 * running when the next is due is not overlapped: that tick is skipped.
 */
export class PresenceTracker {
  private readonly io: CommentServer;
  private readonly store: PresenceStore;
  private readonly logger: PresenceLogger;
  private readonly timer: NodeJS.Timeout;
  /** Articles whose local count may differ from the one last sent to the store. */
  private readonly dirty = new Set<ArticleId>();
  /** Local counts as last sent to the store. */
  private readonly reported = new Map<ArticleId, number>();
  /** Totals last sent to each room, with the local count they included. */
  private readonly totals = new Map<ArticleId, { total: number; local: number }>();
  private running = false;
  private stopped = false;
  private failures = 0;

  constructor(io: CommentServer, store: PresenceStore, logger: PresenceLogger, options: PresenceOptions = {}) {
    this.io = io;
    this.store = store;
    this.logger = logger;
    const adapter = io.of('/').adapter;
    const mark = (room: string): void => {
      if (room.startsWith(ROOM_PREFIX)) this.dirty.add(room.slice(ROOM_PREFIX.length));
    };
    adapter.on('join-room', mark);
    adapter.on('leave-room', mark);
    adapter.on('delete-room', (room: string) => {
      if (!room.startsWith(ROOM_PREFIX)) return;
      const articleId = room.slice(ROOM_PREFIX.length);
      this.dirty.add(articleId);
      this.totals.delete(articleId);
    });
    this.timer = setInterval(() => {
      this.tick().catch((error: unknown) => this.logger.warn({ err: error }, 'presence tick failed'));
    }, options.intervalMs ?? 1000);
    this.timer.unref();
  }

  /**
   * The best current estimate for a socket that just subscribed: the last total with this instance's
   * joins and leaves since then applied (the next tick corrects it across instances).
   */
  estimate(articleId: ArticleId): number {
    const local = this.localCount(articleId);
    const last = this.totals.get(articleId);
    return last === undefined ? local : Math.max(local, last.total - last.local + local);
  }

  /** One exchange with the store; exposed for tests and shutdown. */
  async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      const read = new Map<ArticleId, number>();
      for (const room of this.io.of('/').adapter.rooms.keys()) {
        if (room.startsWith(ROOM_PREFIX)) {
          const articleId = room.slice(ROOM_PREFIX.length);
          read.set(articleId, this.localCount(articleId));
        }
      }
      // Articles read carry their local count anyway; the others changed only if their last reader left.
      const changed = new Map<ArticleId, number>();
      for (const articleId of this.dirty) {
        const local = this.localCount(articleId);
        if (!read.has(articleId) && (this.reported.get(articleId) ?? 0) !== local) changed.set(articleId, local);
      }
      this.dirty.clear();
      if (changed.size === 0 && read.size === 0) return;
      let totals: Map<ArticleId, number>;
      try {
        totals = await this.store.sync(changed, read);
        this.failures = 0;
      } catch (error) {
        // What was not recorded is tried again on the next tick.
        for (const articleId of changed.keys()) this.dirty.add(articleId);
        if (this.failures++ % 30 === 0)
          this.logger.warn(
            { err: error, failures: this.failures },
            'presence exchange failed; counts are held until it works again',
          );
        return;
      }
      for (const [articleId, count] of [...changed, ...read]) {
        if (count > 0) this.reported.set(articleId, count);
        else this.reported.delete(articleId);
      }
      for (const [articleId, total] of totals) {
        const room = articleRoom(articleId);
        if (!this.io.of('/').adapter.rooms.has(room)) continue;
        const previous = this.totals.get(articleId);
        this.totals.set(articleId, { total, local: read.get(articleId) ?? 0 });
        if (previous?.total !== total) this.io.to(room).emit('presence:changed', { articleId, readers: total });
      }
    } finally {
      this.running = false;
    }
  }

  /** Stops ticking and withdraws this instance's counts. Never rejects. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.store.close();
  }

  private localCount(articleId: ArticleId): number {
    return this.io.of('/').adapter.rooms.get(articleRoom(articleId))?.size ?? 0;
  }
}

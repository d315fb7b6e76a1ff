import { articleRoom } from '../../shared/events.ts';
import type { ArticleId, CommentId } from '../../shared/schemas.ts';
import { TYPING_HOLD_MS, type TypingChanged } from '../../shared/typing.ts';
import type { FanOut, TypingCount } from '../fanout/port.ts';
import type { CommentServer } from '../socket/gateway.ts';

export interface TypingOptions {
  /** How long a `typing:start` holds without being sent again (default TYPING_HOLD_MS). */
  holdMs?: number;
  /** How often this instance's non-zero counts are sent to the other instances again (default 3000 ms). */
  refreshMs?: number;
  /** How long another instance's count holds without being sent again (default 2.5 × refreshMs): a crashed instance's writers fade. */
  remoteHoldMs?: number;
  /** Changes within this window reach a room as one `typing:changed` per place (default 300 ms). */
  flushMs?: number;
}

/** One place readers write in: a reply to a comment, or a new comment of an article (`parentId` null). */
interface Place {
  articleId: ArticleId;
  parentId: CommentId | null;
  /** This instance's writers: socket id → when their start lapses. */
  local: Map<string, number>;
  /** Other instances' counts: instance id → count and when it lapses. */
  remote: Map<string, { count: number; lapses: number }>;
  /** The total last told the room. */
  told: number;
  /** This instance's count last sent to the other instances. */
  published: number;
}

const ROOM_PREFIX = articleRoom('');
/** How often lapsed starts and counts are looked for, while anyone writes anywhere. */
const SWEEP_MS = 1000;

/**
 * Typing indicators: who writes where, counted on every instance, never stored.
 *
 * Each connection writes in at most one place at a time (a new start moves it). A start lapses after
 * `holdMs` unless sent again; leaving the article or disconnecting ends it. This instance tells the
 * others its own count of a place over the article's fan-out channel when it changes (and again every
 * `refreshMs` while it is not 0), and keeps theirs until they lapse. A room hears one `typing:changed`
 * per place per `flushMs` at most, only when the total changed; the writers themselves are told the
 * total without them. Nothing runs while nobody writes: the timers start with the first start and stop
 * with the last.
 */
export class TypingTracker {
  readonly #io: CommentServer;
  readonly #fanout: Pick<FanOut, 'publishTyping'>;
  readonly #holdMs: number;
  readonly #refreshMs: number;
  readonly #remoteHoldMs: number;
  readonly #flushMs: number;
  /** article → `parentId ?? ''` → place. */
  readonly #places = new Map<ArticleId, Map<string, Place>>();
  /** Where each writing connection of this instance writes. */
  readonly #writing = new Map<string, Place>();
  readonly #dirty = new Set<Place>();
  #flushTimer: NodeJS.Timeout | null = null;
  #sweepTimer: NodeJS.Timeout | null = null;
  #lastRefresh = 0;
  #closed = false;

  constructor(io: CommentServer, fanout: Pick<FanOut, 'publishTyping'>, options: TypingOptions = {}) {
    this.#io = io;
    this.#fanout = fanout;
    this.#holdMs = options.holdMs ?? TYPING_HOLD_MS;
    this.#refreshMs = options.refreshMs ?? 3000;
    this.#remoteHoldMs = options.remoteHoldMs ?? this.#refreshMs * 2.5;
    this.#flushMs = options.flushMs ?? 300;
    // Leaving an article's room (unsubscribe, or disconnect, which leaves every room) ends writing there.
    io.of('/').adapter.on('leave-room', (room: string, socketId: string) => {
      if (room.startsWith(ROOM_PREFIX)) this.stop(socketId, room.slice(ROOM_PREFIX.length));
    });
  }

  /** The connection writes (again) in a place of an article it reads. */
  start(socketId: string, articleId: ArticleId, parentId: CommentId | null): void {
    if (this.#closed) return;
    const place = this.#place(articleId, parentId);
    const before = this.#writing.get(socketId);
    if (before && before !== place) this.#end(socketId, before);
    this.#writing.set(socketId, place);
    if (!place.local.has(socketId)) this.#mark(place);
    place.local.set(socketId, Date.now() + this.#holdMs);
    this.#startSweeping();
  }

  /** The connection stopped writing in the article (wherever in it). */
  stop(socketId: string, articleId: ArticleId): void {
    const place = this.#writing.get(socketId);
    if (place?.articleId === articleId) this.#end(socketId, place);
  }

  /** Another instance's count of a place (0: nobody writes there any more). */
  remote(typing: TypingCount): void {
    if (this.#closed) return;
    const place = this.#place(typing.articleId, typing.parentId);
    const before = place.remote.get(typing.origin)?.count ?? 0;
    if (typing.count === 0) place.remote.delete(typing.origin);
    else place.remote.set(typing.origin, { count: typing.count, lapses: Date.now() + this.#remoteHoldMs });
    if (typing.count !== before) this.#mark(place);
    else if (typing.count === 0) this.#forgetIfIdle(place);
    this.#startSweeping();
  }

  /** Every place of the article where anyone writes now, with its total (for a reader who just subscribed). */
  current(articleId: ArticleId): TypingChanged[] {
    const places = this.#places.get(articleId);
    if (!places) return [];
    const now: TypingChanged[] = [];
    for (const place of places.values()) {
      const count = total(place);
      if (count > 0) now.push({ articleId, parentId: place.parentId, count });
    }
    return now;
  }

  /** Stops the timers; nothing more is sent. */
  close(): void {
    this.#closed = true;
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    this.#flushTimer = null;
    this.#sweepTimer = null;
    this.#places.clear();
    this.#writing.clear();
    this.#dirty.clear();
  }

  #place(articleId: ArticleId, parentId: CommentId | null): Place {
    let places = this.#places.get(articleId);
    if (!places) this.#places.set(articleId, (places = new Map<string, Place>()));
    const key = parentId ?? '';
    let place = places.get(key);
    if (!place)
      places.set(key, (place = { articleId, parentId, local: new Map(), remote: new Map(), told: 0, published: 0 }));
    return place;
  }

  #end(socketId: string, place: Place): void {
    this.#writing.delete(socketId);
    if (place.local.delete(socketId)) this.#mark(place);
  }

  #mark(place: Place): void {
    this.#dirty.add(place);
    this.#flushTimer ??= setTimeout(() => this.#flush(), this.#flushMs);
  }

  /** Tells the other instances and the rooms what changed since the last flush. */
  #flush(): void {
    this.#flushTimer = null;
    const dirty = [...this.#dirty];
    this.#dirty.clear();
    for (const place of dirty) {
      const local = place.local.size;
      if (local !== place.published) {
        this.#fanout.publishTyping({ articleId: place.articleId, parentId: place.parentId, count: local });
        place.published = local;
      }
      const count = total(place);
      if (count !== place.told) {
        this.#tell(place, count);
        place.told = count;
      }
      this.#forgetIfIdle(place);
    }
  }

  /** `typing:changed` to the article's room: the writers here get the total without themselves. */
  #tell(place: Place, count: number): void {
    const room = articleRoom(place.articleId);
    const changed: TypingChanged = { articleId: place.articleId, parentId: place.parentId, count };
    const writers = [...place.local.keys()];
    if (writers.length === 0) {
      this.#io.to(room).emit('typing:changed', changed);
      return;
    }
    this.#io.to(room).except(writers).emit('typing:changed', changed);
    this.#io.to(writers).emit('typing:changed', { ...changed, count: count - 1 });
  }

  #forgetIfIdle(place: Place): void {
    if (place.local.size > 0 || place.remote.size > 0 || place.told > 0 || place.published > 0) return;
    if (this.#dirty.has(place)) return;
    const places = this.#places.get(place.articleId);
    places?.delete(place.parentId ?? '');
    if (places?.size === 0) this.#places.delete(place.articleId);
    if (this.#places.size === 0 && this.#sweepTimer) {
      clearInterval(this.#sweepTimer);
      this.#sweepTimer = null;
    }
  }

  #startSweeping(): void {
    if (this.#sweepTimer || this.#closed) return;
    this.#sweepTimer = setInterval(() => this.#sweep(), SWEEP_MS);
  }

  /** Ends lapsed starts and forgets lapsed counts of other instances; sends this instance's counts again when due. */
  #sweep(): void {
    const now = Date.now();
    const refresh = now - this.#lastRefresh >= this.#refreshMs;
    if (refresh) this.#lastRefresh = now;
    for (const places of [...this.#places.values()]) {
      for (const place of [...places.values()]) {
        for (const [socketId, lapses] of place.local) if (lapses <= now) this.#end(socketId, place);
        for (const [origin, { lapses }] of place.remote) {
          if (lapses > now) continue;
          place.remote.delete(origin);
          this.#mark(place);
        }
        if (refresh && place.local.size > 0 && place.published === place.local.size)
          this.#fanout.publishTyping({ articleId: place.articleId, parentId: place.parentId, count: place.local.size });
        if (!this.#dirty.has(place)) this.#forgetIfIdle(place);
      }
    }
  }
}

function total(place: Place): number {
  let count = place.local.size;
  for (const { count: theirs } of place.remote.values()) count += theirs;
  return count;
}

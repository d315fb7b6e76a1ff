import { performance } from 'node:perf_hooks';
import type { Server, Socket } from 'socket.io';
import { articleRoom, type ClientToServerEvents, type ServerToClientEvents } from '../../shared/events.ts';
import type { ArticleId, CommentBatch } from '../../shared/schemas.ts';
import type { FanOutMessage } from '../fanout/port.ts';

type BroadcastServer = Server<ClientToServerEvents, ServerToClientEvents>;
type BroadcastSocket = Socket<ClientToServerEvents, ServerToClientEvents>;
/** engine.io's send options, widened with the pre-framed WebSocket bytes its websocket transport accepts. */
type EngineSendOptions = NonNullable<Parameters<BroadcastSocket['conn']['write']>[1]> & {
  wsPreEncodedFrame?: Buffer[];
};

/** The few log methods the broadcaster needs; a pino logger fits. */
export interface BroadcasterLogger {
  error(obj: object, msg: string): void;
}

export interface BroadcasterOptions {
  /** Shortest pause between two flushes of one article (default 2 ms). */
  minWindowMs?: number;
  /** Longest pause of a busy article, however long its last flush took (default 100 ms). */
  maxWindowMs?: number;
  /** A busy article pauses this many times the loop time its last flush took (default 0.5). */
  windowFactor?: number;
  /** Loop time a flush may take before yielding to other work with setImmediate (default 4 ms). */
  sliceBudgetMs?: number;
  /** How many sockets are written between two looks at the clock (default 64). */
  clockEvery?: number;
}

/** One pre-serialised Socket.IO event: encoded once, written to every recipient unchanged. */
interface Packet {
  /** The Socket.IO packet as engine.io carries it (used by transports other than plain WebSocket). */
  data: string;
  options: EngineSendOptions;
}

/** The flush state of one article. Invariant: at most one flush per article runs at a time. */
interface ArticleQueue {
  readonly articleId: ArticleId;
  readonly room: string;
  /** Changes relayed but not yet flushed, in arrival order. */
  pending: FanOutMessage[];
  flushing: boolean;
  timer: NodeJS.Timeout | null;
  /** `performance.now()` before which the next flush must not start. */
  nextFlushAt: number;
}

const ROOM_PREFIX = articleRoom('');

/**
 * Relays committed changes to the local subscribers of an article: the hot path of the product.
 *
 * - Each change is serialised once per flush (one Socket.IO packet and one WebSocket frame) and the
 *   same bytes are written to every recipient.
 * - Quiet article: a change is written at once (at most `minWindowMs` after the previous flush),
 *   one `comment:*` event per change, like a plain broadcast.
 * - Busy article: changes arrived while the previous flush was still being written. Then they, and
 *   whatever arrives during an adaptive window after that flush, go out together: subscribers that
 *   asked (`batch: true`) get one `comment:batch` frame with every waiting change, a comment changed
 *   several times in it only in its newest version (the older versions' seqs listed as superseded:
 *   a like storm on one comment costs one entry per flush); the others still get one `comment:*`
 *   event per change. The window is the loop time that flush took ×
 *   `windowFactor`, clamped to [minWindowMs, maxWindowMs]: the longer a room takes to write, the more
 *   changes each frame carries, and fan-out of one busy article keeps to about 1 / (1 + windowFactor)
 *   of the loop. Latency grows only once changes arrive faster than the room can be written.
 * - A flush of a big room yields to the event loop every `sliceBudgetMs`, so posts and pings are
 *   served in between.
 *
 * Ordering: per article, flushes never overlap and each flush writes its changes sorted by seq, so a
 * socket receives an article's changes in arrival order, and in seq order within one flush. Every
 * socket in the room when a flush starts, and still in it when its turn comes, gets each change of
 * that flush exactly once (in a batch or alone).
 */
export class Broadcaster {
  private readonly io: BroadcastServer;
  private readonly logger: BroadcasterLogger;
  private readonly minWindowMs: number;
  private readonly maxWindowMs: number;
  private readonly windowFactor: number;
  private readonly sliceBudgetMs: number;
  private readonly clockEvery: number;
  private readonly queues = new Map<ArticleId, ArticleQueue>();
  /** Socket ids that asked for `comment:batch`, per article. Entries leave with the socket's room membership. */
  private readonly batching = new Map<ArticleId, Set<string>>();
  private failedWrites = 0;
  private stopped = false;

  constructor(io: BroadcastServer, logger: BroadcasterLogger, options: BroadcasterOptions = {}) {
    this.io = io;
    this.logger = logger;
    this.minWindowMs = options.minWindowMs ?? 2;
    this.maxWindowMs = Math.max(options.maxWindowMs ?? 100, this.minWindowMs);
    this.windowFactor = options.windowFactor ?? 0.5;
    this.sliceBudgetMs = options.sliceBudgetMs ?? 4;
    this.clockEvery = Math.max(1, Math.floor(options.clockEvery ?? 64));

    const adapter = io.of('/').adapter;
    adapter.on('leave-room', (room: string, id: string) => {
      if (!room.startsWith(ROOM_PREFIX)) return;
      const articleId = room.slice(ROOM_PREFIX.length);
      const set = this.batching.get(articleId);
      if (set?.delete(id) && set.size === 0) this.batching.delete(articleId);
    });
    adapter.on('delete-room', (room: string) => {
      if (!room.startsWith(ROOM_PREFIX)) return;
      const articleId = room.slice(ROOM_PREFIX.length);
      this.batching.delete(articleId);
      const queue = this.queues.get(articleId);
      if (queue && !queue.flushing && queue.timer === null) this.queues.delete(articleId);
    });
  }

  /**
   * Records whether a subscriber of the article wants `comment:batch` (call after it joined the
   * article's room; a later subscribe may change it). Forgotten when the socket leaves the room.
   */
  setBatching(socketId: string, articleId: ArticleId, wanted: boolean): void {
    const set = this.batching.get(articleId);
    if (wanted) {
      if (set) set.add(socketId);
      else this.batching.set(articleId, new Set([socketId]));
    } else if (set?.delete(socketId) && set.size === 0) {
      this.batching.delete(articleId);
    }
  }

  /** Queues a committed change for the article's local subscribers; writes at once when the article is quiet. Never throws. */
  relay(message: FanOutMessage): void {
    if (this.stopped) return;
    const articleId = message.comment.articleId;
    const room = articleRoom(articleId);
    let queue = this.queues.get(articleId);
    if (!queue) {
      // Nobody here watches the article (memory fan-out relays every post): nothing to hold.
      if (!this.io.of('/').adapter.rooms.has(room)) return;
      queue = { articleId, room, pending: [], flushing: false, timer: null, nextFlushAt: 0 };
      this.queues.set(articleId, queue);
    }
    queue.pending.push(message);
    if (queue.flushing || queue.timer !== null) return;
    this.schedule(queue);
  }

  /**
   * Stops for good (shutdown, after every connection is closed): pending windows are cancelled and
   * later changes dropped. Clients catch up from the store by seq when they reconnect.
   */
  stop(): void {
    this.stopped = true;
    for (const queue of this.queues.values()) {
      if (queue.timer !== null) clearTimeout(queue.timer);
      queue.timer = null;
      queue.pending = [];
    }
    this.queues.clear();
  }

  /** Counters since construction: writes that threw (the socket is skipped, the flush goes on). */
  stats(): { failedWrites: number; articles: number } {
    return { failedWrites: this.failedWrites, articles: this.queues.size };
  }

  /** Flushes now if the window has passed, otherwise when it does. */
  private schedule(queue: ArticleQueue): void {
    const wait = queue.nextFlushAt - performance.now();
    if (wait <= 0) {
      this.flush(queue);
      return;
    }
    queue.timer = setTimeout(() => {
      queue.timer = null;
      this.flush(queue);
    }, Math.ceil(wait));
  }

  private flush(queue: ArticleQueue): void {
    const changes = queue.pending;
    queue.pending = [];
    const members = this.io.of('/').adapter.rooms.get(queue.room);
    if (changes.length === 0 || !members) {
      this.finish(queue, 0);
      return;
    }
    queue.flushing = true;
    // Stable: equal seqs (which the store never produces) keep their arrival order.
    changes.sort((a, b) => a.comment.seq - b.comment.seq);
    const single = changes.map((change) => this.encode(change.event, change.comment));
    const batch = changes.length > 1 ? [this.encode('comment:batch', this.batchOf(queue.articleId, changes))] : single;
    const batchers = this.batching.get(queue.articleId);
    // A snapshot: sockets joining during the flush read the change from the store (subscribe joins first, then reads).
    const ids = Array.from(members);
    const sockets = this.io.of('/').sockets;
    let next = 0;
    let busyMs = 0;

    const slice = (): void => {
      const start = performance.now();
      const deadline = start + this.sliceBudgetMs;
      const current = this.io.of('/').adapter.rooms.get(queue.room);
      try {
        while (next < ids.length && current) {
          const id = ids[next++]!;
          const socket = current.has(id) ? sockets.get(id) : undefined;
          if (socket?.connected) this.write(socket, batchers?.has(id) ? batch : single);
          if (next % this.clockEvery === 0 && performance.now() >= deadline && next < ids.length) {
            busyMs += performance.now() - start;
            setImmediate(slice);
            return;
          }
        }
      } catch (err) {
        // Only a bug gets here (writes catch their own errors); never leave the article stuck as flushing.
        this.logger.error({ err, articleId: queue.articleId }, 'broadcast flush failed');
      }
      busyMs += performance.now() - start;
      queue.flushing = false;
      this.finish(queue, busyMs);
    };
    slice();
  }

  /**
   * Sets when the article may flush next: after the adaptive window if changes arrived while this
   * flush was written (the article is busy), after `minWindowMs` otherwise; then flushes what waits.
   */
  private finish(queue: ArticleQueue, busyMs: number): void {
    if (this.stopped) return;
    const busy = queue.pending.length > 0;
    const window = busy
      ? Math.min(this.maxWindowMs, Math.max(this.minWindowMs, busyMs * this.windowFactor))
      : this.minWindowMs;
    queue.nextFlushAt = performance.now() + window;
    if (queue.pending.length > 0) {
      this.schedule(queue);
    } else if (!this.io.of('/').adapter.rooms.has(queue.room)) {
      this.queues.delete(queue.articleId);
    }
  }

  /**
   * The batch of a flush (changes sorted by seq), coalesced: a comment changed several times in it
   * (a burst of likes, edit after edit) is sent once, in its newest version at that version's place,
   * and the seqs of its older versions are listed in `superseded`, so a client counts them as applied
   * and sees no gap. It keeps `comment:created` when the batch also created it.
   */
  private batchOf(articleId: ArticleId, changes: readonly FanOutMessage[]): CommentBatch {
    const newest = new Map<string, number>();
    const createdHere = new Set<string>();
    changes.forEach(({ event, comment }, index) => {
      newest.set(comment.id, index);
      if (event === 'comment:created') createdHere.add(comment.id);
    });
    const kept: CommentBatch['changes'] = [];
    const superseded: number[] = [];
    changes.forEach(({ event, comment }, index) => {
      if (newest.get(comment.id) !== index) superseded.push(comment.seq);
      else kept.push({ event: createdHere.has(comment.id) ? 'comment:created' : event, comment });
    });
    return superseded.length > 0 ? { articleId, changes: kept, superseded } : { articleId, changes: kept };
  }

  /** Encodes an event once with the server's own parser, and frames it once for WebSocket transports. */
  private encode<E extends keyof ServerToClientEvents>(
    event: E,
    payload: Parameters<ServerToClientEvents[E]>[0],
  ): Packet {
    const encoded: unknown[] = this.io.encoder.encode({ type: 2, nsp: '/', data: [event, payload] });
    const data = encoded[0];
    if (encoded.length !== 1 || typeof data !== 'string')
      throw new Error('broadcast payloads are plain JSON: one string packet expected');
    // "4" is the engine.io message type; the frame is what a WebSocket transport would have built for each socket.
    return { data, options: { wsPreEncodedFrame: [textFrame(`4${data}`)] } };
  }

  private write(socket: BroadcastSocket, packets: readonly Packet[]): void {
    try {
      for (const packet of packets) socket.conn.write(packet.data, packet.options);
    } catch (err) {
      this.failedWrites += 1;
      if (this.failedWrites === 1 || this.failedWrites % 1000 === 0) {
        this.logger.error({ err, socketId: socket.id, failedWrites: this.failedWrites }, 'broadcast write failed');
      }
    }
  }
}

/** An unmasked, final WebSocket text frame (RFC 6455 §5.2) holding `text`, header and payload in one buffer. */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81;
  if (header === 2) {
    frame[1] = length;
  } else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  frame.write(text, header, 'utf8');
  return frame;
}

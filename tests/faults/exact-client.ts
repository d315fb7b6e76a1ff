/**
 * A subscriber that follows the README's "keeping a client exact" algorithm, as the widget does:
 * remember the highest contiguous seq (`lastSeq`); on a pushed change whose seq is not `lastSeq + 1`,
 * or on `article:head` ahead of `lastSeq`, subscribe again with `since: lastSeq`; on every (re)connect
 * subscribe with `since`; drop what it already has. Reconnects with jitter (socket.io-client's
 * randomised backoff), like the widget.
 */
import { io as connect, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../shared/events.ts';
import { ArticleHeadSchema, CommentPageSchema, CommentSchema, type Comment } from '../../shared/schemas.ts';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface ExactClientOptions {
  /** Reconnect after a lost connection (default true), with 200–600 ms randomised, growing to at most 2 s. */
  reconnection?: boolean;
  /** Headers of the handshake (e.g. X-Forwarded-For). */
  extraHeaders?: Record<string, string>;
}

/** The parts of engine.io-client's WebSocket transport a test uses to stop reading (Node `ws` under the hood). */
interface TransportView {
  transport?: { name?: string; ws?: { _socket?: { pause(): void; resume(): void } } };
}

export class ExactClient {
  /** Every comment held, by seq. */
  readonly bySeq = new Map<number, Comment>();
  /** Highest seq such that every seq from 1 to it is held. */
  lastSeq = 0;
  /** Seqs pushed live (not caught up), for reporting. */
  live = 0;
  /** Comments obtained by catch-up. */
  caughtUp = 0;
  /** A seq arrived again with a different comment id: must never happen. */
  readonly conflicts: string[] = [];
  /** Refused or reset catch-ups: must never happen in these tests. */
  readonly errors: string[] = [];
  /** `connect` events after the first. */
  reconnects = 0;
  /** `performance.now()` of every `connect` event. */
  readonly connectTimes: number[] = [];
  /** `article:head` events received. */
  heads = 0;
  /** Catch-ups asked for. */
  catchUps = 0;
  /** Whole-thread reloads after a `reset` answer (too many changes for one catch-up). */
  reloads = 0;
  readonly socket: ClientSocket;
  private connectedOnce = false;
  private syncing = false;
  private syncAgain = false;

  constructor(
    readonly url: string,
    readonly articleId: string,
    options: ExactClientOptions = {},
  ) {
    this.socket = connect(url, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: options.reconnection ?? true,
      reconnectionDelay: 400,
      reconnectionDelayMax: 2000,
      randomizationFactor: 0.5,
      ...(options.extraHeaders ? { extraHeaders: options.extraHeaders } : {}),
    });
    this.socket.on('connect', () => {
      this.connectTimes.push(performance.now());
      if (this.connectedOnce) this.reconnects += 1;
      this.connectedOnce = true;
      this.sync();
    });
    for (const event of ['comment:created', 'comment:updated', 'comment:removed'] as const) {
      this.socket.on(event, (raw) => {
        const comment = CommentSchema.parse(raw);
        this.live += 1;
        this.accept(comment);
        if (comment.seq > this.lastSeq) this.sync();
      });
    }
    this.socket.on('article:head', (raw) => {
      const head = ArticleHeadSchema.parse(raw);
      this.heads += 1;
      if (head.articleId === this.articleId && head.lastSeq > this.lastSeq) this.sync();
    });
  }

  /** Resolves once connected and subscribed the first time. */
  async ready(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.connectedOnce || this.syncing) {
      if (Date.now() > deadline) throw new Error(`client of ${this.url} not subscribed within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** True when the client holds every seq from 1 to `n`. */
  has(n: number): boolean {
    return this.lastSeq >= n;
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Stops reading from the TCP socket (the server's writes pile up), or resumes. WebSocket transport only. */
  setReading(reading: boolean): void {
    const transport = (this.socket.io.engine as unknown as TransportView).transport;
    const tcp = transport?.name === 'websocket' ? transport.ws?._socket : undefined;
    if (!tcp) throw new Error('no WebSocket TCP socket to pause');
    if (reading) tcp.resume();
    else tcp.pause();
  }

  close(): void {
    this.socket.disconnect();
  }

  private accept(comment: Comment): void {
    if (comment.articleId !== this.articleId) return;
    const held = this.bySeq.get(comment.seq);
    if (held) {
      if (held.id !== comment.id) this.conflicts.push(`seq ${comment.seq}: ${held.id} then ${comment.id}`);
      return;
    }
    this.bySeq.set(comment.seq, comment);
    while (this.bySeq.has(this.lastSeq + 1)) this.lastSeq += 1;
  }

  /** Loads the whole thread page by page over REST, as the widget does after a `reset`. */
  private async reload(): Promise<void> {
    this.reloads += 1;
    let before: string | null = null;
    do {
      const query: string = `limit=100&order=oldest${before === null ? '' : `&before=${before}`}`;
      const res = await fetch(`${this.url}/api/articles/${this.articleId}/comments?${query}`);
      if (!res.ok) return void this.errors.push(`reload answered ${res.status}`);
      const page = CommentPageSchema.parse(await res.json());
      for (const comment of page.comments) {
        const held = this.bySeq.size;
        this.accept(comment);
        if (this.bySeq.size > held) this.caughtUp += 1;
      }
      before = page.next;
    } while (before !== null);
    this.syncAgain = true;
  }

  /** Subscribes with `since: lastSeq`; one at a time, repeated if asked again meanwhile. */
  private sync(): void {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    if (!this.socket.connected) return;
    this.syncing = true;
    this.catchUps += 1;
    this.socket
      .timeout(5000)
      .emitWithAck('article:subscribe', { articleId: this.articleId, since: this.lastSeq })
      .then(
        (ack) => {
          if (!ack.ok) return void this.errors.push(`subscribe refused: ${ack.error.code} ${ack.error.message}`);
          if (ack.reset) return this.reload();
          for (const comment of ack.comments) {
            const before = this.bySeq.size;
            this.accept(CommentSchema.parse(comment));
            if (this.bySeq.size > before) this.caughtUp += 1;
          }
          if (ack.lastSeq > this.lastSeq) this.syncAgain = true;
          return undefined;
        },
        // A lost connection or a timeout: the next connect or push syncs again.
        () => undefined,
      )
      .catch((error: unknown) => void this.errors.push(`catch-up failed: ${String(error)}`))
      .finally(() => {
        this.syncing = false;
        if (this.syncAgain) {
          this.syncAgain = false;
          this.sync();
        }
      });
  }
}

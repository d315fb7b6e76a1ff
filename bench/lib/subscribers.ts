import { setTimeout as sleep } from 'node:timers/promises';
import { scanMarkers } from './marker.ts';
import { RawWebSocket } from './raw-ws.ts';
import type { PhaseRecorder } from './recorder.ts';
import type { Endpoint, Protocol } from './servers.ts';

const ENGINE_IO_PATH = '/socket.io/?EIO=4&transport=websocket';
const CH_0 = 0x30; // '0'
const CH_2 = 0x32; // '2'
const CH_4 = 0x34; // '4'
/**
 * How long one subscriber may take to connect and subscribe while a room ramps up. Generous: on the
 * shared 2-core machine, under a load of 9-12 from other suites, 10-20 s limits failed whole scenario
 * groups halfway through a ramp of 10,000-18,000 (the full run of 2026-12-06).
 */
const SUBSCRIBE_TIMEOUT_MS = 60_000;

export interface PoolOptions {
  protocol: Protocol;
  /** Ask the product for `comment:batch` (`article:subscribe { …, batch: true }`). */
  batch: boolean;
  /** Subscriber i connects to endpoints[i % endpoints.length]. */
  endpoints: Endpoint[];
  articleIds: readonly string[];
  /** Connections opened at once while ramping. */
  rampConcurrency?: number;
  /** Source address of every connection (127.0.0.x), so several generators do not share one address's ephemeral ports. */
  localAddress?: string;
}

/**
 * Thousands of light subscribers in the generator process. Socket.IO targets get the Engine.IO v4 /
 * Socket.IO wire protocol spoken by hand (`0` open → `40` connect → `420["article:subscribe",…]` →
 * `430[ack]`, `2` ping → `3` pong, `42[…]` events); the bare ws target gets its article in the URL.
 * Every received frame is scanned for benchmark markers and routed to the recorder of its phase.
 */
export class SubscriberPool {
  private readonly sockets: RawWebSocket[] = [];
  private readonly articles: number[] = [];
  private readonly recorders = new Map<number, PhaseRecorder>();
  private closing = false;
  /** Connections the server or the network closed while the pool was open. */
  disconnects = 0;
  readonly disconnectReasons = new Map<string, number>();
  /** Frames carrying events, across all phases. */
  frames = 0;
  /** Markers of phases no longer (or not yet) recorded: late arrivals. */
  late = 0;

  constructor(private readonly options: PoolOptions) {}

  get size(): number {
    return this.sockets.length;
  }

  /** A copy of the article index each subscriber watches (for a phase's recorder). */
  articleSnapshot(): Int32Array {
    return Int32Array.from(this.articles);
  }

  subscribersPerArticle(): Uint32Array {
    const counts = new Uint32Array(this.options.articleIds.length);
    for (const article of this.articles) counts[article]! += 1;
    return counts;
  }

  attach(recorder: PhaseRecorder): void {
    this.recorders.set(recorder.phase, recorder);
  }

  detach(phase: number): void {
    this.recorders.delete(phase);
  }

  /** Opens and subscribes connections until there are `total`; subscriber i watches article `articleOf(i)`. */
  async grow(total: number, articleOf: (index: number) => number): Promise<void> {
    const concurrency = this.options.rampConcurrency ?? 200;
    let next = this.sockets.length;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const index = next++;
        this.articles[index] = articleOf(index);
        this.sockets[index] = await this.open(index, this.articles[index]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, total - next) }, worker));
  }

  /** Waits until no event frame arrived for `quietMs` (at most `maxMs`): the server has nothing left to send. */
  async quiet(quietMs: number, maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    let last = this.frames;
    let since = Date.now();
    while (Date.now() < deadline) {
      await sleep(50);
      if (this.frames !== last) {
        last = this.frames;
        since = Date.now();
      } else if (Date.now() - since >= quietMs) {
        return;
      }
    }
  }

  close(): void {
    this.closing = true;
    for (const socket of this.sockets) socket?.destroy();
    this.sockets.length = 0;
  }

  private onEvent(index: number, frame: Buffer, now: number): void {
    this.frames += 1;
    scanMarkers(frame, (phase, n) => {
      const recorder = this.recorders.get(phase);
      if (recorder) recorder.receive(index, n, now);
      else this.late += 1;
    });
  }

  private onClose(reason: string): void {
    if (this.closing) return;
    this.disconnects += 1;
    this.disconnectReasons.set(reason, (this.disconnectReasons.get(reason) ?? 0) + 1);
  }

  private open(index: number, article: number): Promise<RawWebSocket> {
    const endpoint = this.options.endpoints[index % this.options.endpoints.length]!;
    const articleId = this.options.articleIds[article]!;
    if (this.options.protocol === 'ws') {
      return RawWebSocket.open(
        endpoint.host,
        endpoint.port,
        `/?article=${encodeURIComponent(articleId)}`,
        {
          onMessage: (frame, now) => this.onEvent(index, frame, now),
          onClose: (reason) => this.onClose(reason),
        },
        SUBSCRIBE_TIMEOUT_MS,
        this.options.localAddress,
      );
    }
    return this.openSocketIo(index, endpoint, articleId);
  }

  private openSocketIo(index: number, endpoint: Endpoint, articleId: string): Promise<RawWebSocket> {
    const subscribe = `420${JSON.stringify(['article:subscribe', this.options.batch ? { articleId, batch: true } : { articleId }])}`;
    return new Promise((resolve, reject) => {
      let settled = false;
      let failed = false;
      let opened: RawWebSocket | null = null;
      const timer = setTimeout(
        () => fail(new Error(`subscriber ${index} was not subscribed within ${SUBSCRIBE_TIMEOUT_MS / 1000} s`)),
        SUBSCRIBE_TIMEOUT_MS,
      );
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        failed = true;
        clearTimeout(timer);
        opened?.destroy();
        reject(error);
      };
      RawWebSocket.open(
        endpoint.host,
        endpoint.port,
        ENGINE_IO_PATH,
        {
          onMessage: (frame, now, ws) => {
            const type = frame[0];
            if (type === CH_4 && frame[1] === CH_2) {
              this.onEvent(index, frame, now);
            } else if (type === CH_2 && frame.length === 1) {
              ws.sendText('3');
            } else if (!settled) {
              // Connection set-up: open → connect → subscribe → ack.
              const text = frame.toString('utf8');
              if (type === CH_0) ws.sendText('40');
              else if (text.startsWith('40')) ws.sendText(subscribe);
              else if (text.startsWith('430')) {
                const [answer] = JSON.parse(text.slice(3)) as [
                  { ok?: boolean; error?: { message?: string } } | undefined,
                ];
                if (!answer?.ok) {
                  fail(new Error(`subscribe refused: ${answer?.error?.message ?? text}`));
                  return;
                }
                settled = true;
                clearTimeout(timer);
                resolve(ws);
              } else if (text.startsWith('44')) fail(new Error(`Socket.IO connect refused: ${text}`));
            }
          },
          onClose: (reason) => {
            if (!settled) fail(new Error(`subscriber ${index} closed while connecting: ${reason}`));
            else this.onClose(reason);
          },
        },
        SUBSCRIBE_TIMEOUT_MS,
        this.options.localAddress,
      ).then(
        (ws) => {
          opened = ws;
          if (failed) ws.destroy();
        },
        (error: Error) => fail(error),
      );
    });
  }
}

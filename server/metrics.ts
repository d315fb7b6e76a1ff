import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ErrorCode } from '../shared/errors.ts';
import { articleRoom } from '../shared/events.ts';
import type { DeliveryInfo, FanOutState } from './fanout/port.ts';
import type { CommentChangeKind } from './comments/service.ts';

/** Every metric this server exposes starts with it. */
export const METRIC_PREFIX = 'live_comments_';

export type PostOutcomeLabel = 'created' | 'duplicate' | 'held';
export type CommentChangeLabel = CommentChangeKind;
export type Transport = 'http' | 'socket';

/** The outbox's health as the gauges show it. */
export interface OutboxGauges {
  queued: number;
  failed: number;
  oldestAgeSeconds: number;
}

/** What the metrics read at scrape time from the Socket.IO server; structural, so tests can pass a fake. */
export interface SocketCensus {
  /** Open Socket.IO connections (default namespace). */
  connected(): number;
  /** Socket ids per room name of the default namespace. */
  rooms(): ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * Buckets of the push-latency histogram, in seconds: a loopback push is about a millisecond, a
 * busy cluster a few tens; beyond a second something is wrong.
 */
const PUSH_LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const ROOM_PREFIX = articleRoom('');

let processRegistry: Registry | null = null;

/**
 * Process-wide metrics (event-loop delay, CPU, memory, GC, handles), collected once per process
 * however many apps it runs (tests run several): prom-client's default collectors install
 * process-level observers, which must not pile up per app.
 */
function processMetrics(): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: METRIC_PREFIX, eventLoopMonitoringPrecision: 10 });
  }
  return processRegistry;
}

/**
 * The metrics of one app instance, in its own registry (labelled `instance_id`), plus the process
 * metrics, served together as Prometheus text by {@link Metrics.render}.
 *
 * Counters only ever grow while the app lives; gauges are read from the live objects at scrape time,
 * so they cannot drift from the truth.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #posted: Counter<'outcome'>;
  readonly #rejected: Counter<'code' | 'transport'>;
  readonly #changed: Counter<'kind'>;
  readonly #moderation: Counter<'phase' | 'decision'>;
  readonly #moderationChildren = new Map<string, { inc(): void }>();
  readonly #published: Counter<'result'>;
  readonly #feedPublished: Counter<'result'>;
  readonly #received: Counter;
  readonly #dropped: Counter;
  readonly #pushLatency: Histogram<'origin'>;
  #sockets: SocketCensus | null = null;
  #fanoutState: (() => FanOutState) | null = null;
  #pool: (() => { total: number; idle: number; waiting: number }) | null = null;
  readonly #outboxSettled: Record<'sent' | 'retried' | 'failed', Counter>;
  #outbox: (() => Promise<OutboxGauges>) | null = null;

  constructor(instanceId: string) {
    processMetrics();
    const registers = [this.registry];
    this.registry.setDefaultLabels({ instance_id: instanceId });
    this.#posted = new Counter({
      name: `${METRIC_PREFIX}comments_posted_total`,
      help: 'Posts accepted by the store: created (a new comment), duplicate (a repeated clientId returned the first one) or held (waiting for a moderator).',
      labelNames: ['outcome'],
      registers,
    });
    this.#rejected = new Counter({
      name: `${METRIC_PREFIX}comments_rejected_total`,
      help: 'Posts refused, by protocol error code and transport.',
      labelNames: ['code', 'transport'],
      registers,
    });
    this.#changed = new Counter({
      name: `${METRIC_PREFIX}comment_changes_total`,
      help: 'Stored changes to existing comments: edited, removed, restored, liked, unliked, reported, hidden_by_reports; held comments approved or rejected.',
      labelNames: ['kind'],
      registers,
    });
    this.#moderation = new Counter({
      name: `${METRIC_PREFIX}moderation_decisions_total`,
      help: 'Decisions of the moderation pipeline per phase (words, links, repeats, new_commenter, shouting): accept, hold or reject.',
      labelNames: ['phase', 'decision'],
      registers,
    });
    this.#published = new Counter({
      name: `${METRIC_PREFIX}fanout_published_total`,
      help: 'Fan-out messages sent to other instances through Redis: ok, or failed (they catch up from the store).',
      labelNames: ['result'],
      registers,
    });
    this.#feedPublished = new Counter({
      name: `${METRIC_PREFIX}fanout_feed_published_total`,
      help: 'Moderator-feed messages sent to other instances through Redis: ok, or failed.',
      labelNames: ['result'],
      registers,
    });
    this.#received = new Counter({
      name: `${METRIC_PREFIX}fanout_received_total`,
      help: 'Valid fan-out messages received from other instances through Redis.',
      registers,
    });
    this.#dropped = new Counter({
      name: `${METRIC_PREFIX}fanout_dropped_total`,
      help: 'Fan-out messages from Redis dropped as invalid.',
      registers,
    });
    this.#pushLatency = new Histogram({
      name: `${METRIC_PREFIX}push_latency_seconds`,
      help: 'From store commit to emit to the local subscribers, by where the change was committed (remote: by the committing instance clock).',
      labelNames: ['origin'],
      buckets: PUSH_LATENCY_BUCKETS,
      registers,
    });

    const census = (): { connected: number; subscriptions: number; articles: number } => {
      const sockets = this.#sockets;
      if (sockets === null) return { connected: 0, subscriptions: 0, articles: 0 };
      let subscriptions = 0;
      let articles = 0;
      for (const [room, members] of sockets.rooms()) {
        if (!room.startsWith(ROOM_PREFIX)) continue;
        articles += 1;
        subscriptions += members.size;
      }
      return { connected: sockets.connected(), subscriptions, articles };
    };
    new Gauge({
      name: `${METRIC_PREFIX}connected_sockets`,
      help: 'Open Socket.IO connections on this instance.',
      registers,
      collect() {
        this.set(census().connected);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}subscriptions`,
      help: 'Article subscriptions (one per connection and article) on this instance.',
      registers,
      collect() {
        this.set(census().subscriptions);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}subscribed_articles`,
      help: 'Articles with at least one subscriber on this instance.',
      registers,
      collect() {
        this.set(census().articles);
      },
    });
    const fanoutState = (): FanOutState | null => this.#fanoutState?.() ?? null;
    new Gauge({
      name: `${METRIC_PREFIX}redis_connected`,
      help: 'Redis fan-out link: 1 up, 0 down; absent when Redis is not configured.',
      registers,
      collect() {
        const state = fanoutState();
        if (state === 'up' || state === 'down') this.set(state === 'up' ? 1 : 0);
      },
    });
    const settled = (outcome: string, help: string): Counter =>
      new Counter({ name: `${METRIC_PREFIX}outbox_${outcome}_total`, help, registers });
    this.#outboxSettled = {
      sent: settled('sent', 'Notifications this instance delivered (a 2xx answer).'),
      retried: settled('retried', 'Delivery attempts of this instance that failed and will be tried again later.'),
      failed: settled('failed', 'Notifications this instance gave up on after the retry horizon.'),
    };
    // Read from the store once per scrape (shared by every instance); absent while it cannot be read.
    let outboxRead: Promise<OutboxGauges | null> | null = null;
    const outboxGauges = (): Promise<OutboxGauges | null> =>
      (outboxRead ??= (this.#outbox?.() ?? Promise.resolve(null))
        .catch(() => null)
        .finally(() => setTimeout(() => (outboxRead = null), 100).unref()));
    const outboxGauge = (name: string, help: string, pick: (g: OutboxGauges) => number): void => {
      new Gauge({
        name: `${METRIC_PREFIX}${name}`,
        help,
        registers,
        async collect() {
          const gauges = await outboxGauges();
          if (gauges !== null) this.set(pick(gauges));
        },
      });
    };
    outboxGauge('outbox_queued', 'Notifications waiting to be delivered (all instances).', (g) => g.queued);
    outboxGauge('outbox_failed', 'Notifications given up after the retry horizon (all instances).', (g) => g.failed);
    outboxGauge(
      'outbox_oldest_age_seconds',
      'Age of the oldest notification still waiting; 0 when none waits.',
      (g) => g.oldestAgeSeconds,
    );
    const poolStats = (): { total: number; idle: number; waiting: number } | null => this.#pool?.() ?? null;
    new Gauge({
      name: `${METRIC_PREFIX}db_pool_connections`,
      help: 'PostgreSQL pool: open connections (total), idle ones, and calls waiting for one; absent with SQLite.',
      labelNames: ['state'],
      registers,
      collect() {
        const stats = poolStats();
        if (stats === null) return;
        this.set({ state: 'total' }, stats.total);
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'waiting' }, stats.waiting);
      },
    });
  }

  /** Reads the outbox's queued, failed and oldest age from the store at every scrape. */
  watchOutbox(read: () => Promise<OutboxGauges>): void {
    this.#outbox = read;
  }

  /** One settled delivery attempt of this instance's outbox worker. */
  outboxSettled(outcome: 'sent' | 'retried' | 'failed'): void {
    this.#outboxSettled[outcome].inc();
  }

  /** Reads the PostgreSQL pool's connections at every scrape (absent with SQLite). */
  watchDatabasePool(stats: () => { total: number; idle: number; waiting: number }): void {
    this.#pool = stats;
  }

  /** Reads connection and subscription gauges from this Socket.IO census at every scrape. */
  watchSockets(census: SocketCensus): void {
    this.#sockets = census;
  }

  /** Reads the Redis link state from the fan-out at every scrape. */
  watchFanOut(state: () => FanOutState): void {
    this.#fanoutState = state;
  }

  commentPosted(outcome: PostOutcomeLabel): void {
    this.#posted.inc({ outcome });
  }

  moderationDecision(phase: string, decision: 'accept' | 'hold' | 'reject'): void {
    // Five per comment: the labelled child is looked up once per (phase, decision), not per call.
    const key = `${phase}\0${decision}`;
    let child = this.#moderationChildren.get(key);
    if (child === undefined) {
      child = this.#moderation.labels({ phase, decision });
      this.#moderationChildren.set(key, child);
    }
    child.inc();
  }

  commentChanged(kind: CommentChangeLabel): void {
    this.#changed.inc({ kind });
  }

  commentRejected(code: ErrorCode, transport: Transport): void {
    this.#rejected.inc({ code, transport });
  }

  fanoutPublished(ok: boolean): void {
    this.#published.inc({ result: ok ? 'ok' : 'failed' });
  }

  fanoutFeedPublished(ok: boolean): void {
    this.#feedPublished.inc({ result: ok ? 'ok' : 'failed' });
  }

  fanoutReceived(): void {
    this.#received.inc();
  }

  fanoutDropped(): void {
    this.#dropped.inc();
  }

  /** Records one change handed to local subscribers; changes with no commit time are not counted. */
  pushed(info: DeliveryInfo, now = Date.now()): void {
    if (info.committedAt === null) return;
    this.#pushLatency.observe({ origin: info.origin }, Math.max(0, now - info.committedAt) / 1000);
  }

  /** The Prometheus content type of {@link render}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Prometheus text exposition of this app's metrics and the process metrics. */
  async render(): Promise<string> {
    const [app, process] = await Promise.all([this.registry.metrics(), processMetrics().metrics()]);
    return `${app}\n${process}`;
  }
}

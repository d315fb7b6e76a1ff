import * as z from 'zod/mini';
import { minUnits } from '../../shared/lengths.ts';
import { COMMENT_EVENTS } from '../../shared/events.ts';
import { HeldResolvedSchema, ModeratedCommentSchema, ModeratedHeldSchema } from '../../shared/moderation.ts';
import { ReportedCommentSchema } from '../../shared/reports.ts';
import {
  ArticleHeadSchema,
  ArticleIdSchema,
  ArticleStateSchema,
  CommentIdSchema,
  CommentSchema,
  type ArticleHead,
  type ArticleId,
  type ArticleState,
} from '../../shared/schemas.ts';
import { LogThrottle } from '../log-throttle.ts';
import { createRedisClient, type RedisClient, type RedisTarget } from '../redis/clients.ts';
import { withTimeout } from '../with-timeout.ts';
import { PubSubLink, type ChannelOwner } from './pubsub-link.ts';
import type {
  ArticleHeadListener,
  ArticleStateListener,
  DeliveryInfo,
  FanOut,
  FanOutListener,
  FanOutMessage,
  FanOutState,
  FeedListener,
  FeedMessage,
  TypingCount,
  TypingListener,
} from './port.ts';

/** The few log methods the fan-out needs; a pino logger fits. */
export interface FanOutLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RedisFanOutOptions {
  /** Sends PUBLISH (SPUBLISH on a cluster). Should fail fast while Redis is down (see createRedisClients). */
  publisher: RedisClient;
  /** A dedicated subscriber: a connection in subscriber mode, or a cluster client with sharded subscribers. */
  subscriber: RedisClient;
  /** Tags every message this instance sends, so it can drop its own echo. Unique per process. */
  instanceId: string;
  /** Prepended to every channel name, so deployments (and tests) sharing one Redis stay apart. */
  channelPrefix: string;
  logger: FanOutLogger;
  /** Longest a publish or a subscription change waits for Redis before giving up (default 500 ms). */
  commandTimeoutMs?: number;
  /** How often subscriptions not confirmed yet, and changes whose publish failed, are tried again (default 1000 ms). */
  retryIntervalMs?: number;
  /** Counts traffic for the metrics; every hook is optional. */
  counters?: FanOutCounters;
}

/**
 * Called once per PUBLISH attempt of a comment change or article state (ok or failed), per moderator-feed
 * PUBLISH attempt, per valid message received from another instance, per message dropped as invalid.
 */
export interface FanOutCounters {
  published?(ok: boolean): void;
  feedPublished?(ok: boolean): void;
  received?(): void;
  dropped?(): void;
}

/** A fan-out message as it travels on Redis (wire version 1). Everything arriving is checked against this. */
export const WireMessageSchema = z.object({
  v: z.literal(1),
  origin: z.string().check(minUnits(1)),
  event: z.enum(COMMENT_EVENTS),
  comment: CommentSchema,
  /** Epoch ms of the store commit on the origin; optional so instances without it interoperate. */
  at: z.optional(z.number()),
});
export type WireMessage = z.infer<typeof WireMessageSchema>;

/** An article's new lock / pre-moderation state, on the article's channel beside its comments. */
export const WireStateMessageSchema = z.object({
  v: z.literal(1),
  origin: z.string().check(minUnits(1)),
  event: z.literal('article:updated'),
  state: ArticleStateSchema,
});
export type WireStateMessage = z.infer<typeof WireStateMessageSchema>;

/** An article's new head after a change made without per-comment pushes (an import), on the article's channel. */
export const WireHeadMessageSchema = z.object({
  v: z.literal(1),
  origin: z.string().check(minUnits(1)),
  event: z.literal('article:head'),
  head: ArticleHeadSchema,
});
export type WireHeadMessage = z.infer<typeof WireHeadMessageSchema>;

/** More readers than one instance can hold: a typing count above it is not believed. */
const MAX_TYPING_COUNT = 1_000_000;

/** How many readers of the origin instance write in one place of the article, on the article's channel. */
export const WireTypingMessageSchema = z.object({
  v: z.literal(1),
  origin: z.string().check(minUnits(1)),
  event: z.literal('typing:count'),
  typing: z.object({
    articleId: ArticleIdSchema,
    parentId: z.nullable(CommentIdSchema),
    count: z.int().check(z.minimum(0), z.maximum(MAX_TYPING_COUNT)),
  }),
});
export type WireTypingMessage = z.infer<typeof WireTypingMessageSchema>;

/** A moderator-feed message, on the one feed channel. */
export const FeedMessageSchema = z.union([
  z.object({ event: z.literal('admin:comment'), comment: ModeratedCommentSchema }),
  z.object({ event: z.literal('admin:held'), held: ModeratedHeldSchema }),
  z.object({ event: z.literal('admin:resolved'), resolved: HeldResolvedSchema }),
  z.object({ event: z.literal('admin:report'), reported: ReportedCommentSchema }),
]);
export const WireFeedMessageSchema = z.object({
  v: z.literal(1),
  origin: z.string().check(minUnits(1)),
  message: FeedMessageSchema,
});
export type WireFeedMessage = z.infer<typeof WireFeedMessageSchema>;

/** Anything longer cannot be a valid message (a comment body is at most 5000 chars); it is dropped unparsed. */
const MAX_WIRE_CHARS = 64 * 1024;

/** Articles that may hold a change waiting to be published again; past this the oldest is given up. */
const MAX_UNSENT = 10_000;

/**
 * Builds the publisher/subscriber pair for RedisFanOut, for a single Redis or a Redis Cluster.
 *
 * - publisher: fails fast (no offline queue, one retry, a 2 s bound on every command; on a cluster
 *   PubSubLink refuses to publish while the cluster client is not ready), so a publish during an
 *   outage fails at once instead of piling up in memory; RedisFanOut sends it again later.
 * - subscriber: offline queue on, so subscription changes made during an outage are sent on
 *   reconnect, and subscriptions are restored by the client (on a cluster: one sharded-subscriber
 *   connection per master, moved along with its slots); RedisFanOut bounds its own waits and checks
 *   every subscription again after any topology change.
 * Both reconnect forever with a backoff capped at 2 s.
 */
export function createRedisClients(target: RedisTarget): { publisher: RedisClient; subscriber: RedisClient } {
  return {
    publisher: createRedisClient(target, { role: 'publisher', commandTimeoutMs: 2000 }),
    subscriber: createRedisClient(target, { role: 'subscriber' }),
  };
}

/** A change whose publish failed, kept until it is sent or overtaken by a later change of its kind. */
interface Unsent {
  channel: string;
  payload: string;
  /** Comments: the change's seq; heads: the head's seq; article states: a local counter. A later publish settles every earlier one. */
  order: number;
}

/**
 * Fan-out over Redis pub/sub: one channel per article, `${channelPrefix}article:${articleId}`, carrying
 * its comment changes and its state changes (`article:updated`); and one moderator-feed channel,
 * `${channelPrefix}feed`, subscribed only while `subscribeFeed` is in force. On a Redis Cluster the
 * same channels are sharded channels (SPUBLISH / SSUBSCRIBE): each lives on the master serving its
 * slot, so a message touches one shard only.
 *
 * Guarantees, on top of the FanOut port:
 * - `publish` delivers to the local listener synchronously (before its first await), then publishes.
 *   It never rejects: a failed or slow publish is logged and stops being waited for after `commandTimeoutMs`.
 * - A comment change, article state or article head whose publish failed is published again (every `retryIntervalMs`
 *   while the link works) unless a later change of the same article got through: receivers then hold
 *   a later seq and catch up by themselves. So a change is never silently missing on other instances
 *   once the link works; it may arrive twice (subscribers drop seqs they hold). Feed messages are not
 *   sent again (moderators reload the queue from the store).
 * - Messages carrying this instance's id are dropped (own echo), so a local publish reaches the local
 *   listener exactly once. Arriving messages are parsed and validated (WireMessageSchema, and the
 *   channel's article must be the comment's); anything else is counted and dropped with a throttled warning.
 * - Only articles currently subscribed are delivered, even if Redis still sends a late message.
 * - The article set held here is the truth. Each subscription counts as live only once Redis confirmed
 *   it on the node that serves its channel, and stops counting when that node's connection closes or
 *   the channel's slot moves (failover, resharding). After any reconnect or topology change, every
 *   subscription not live is asserted again; once confirmed, `onResync` fires with those articles
 *   (their messages may have been missed). Not yet confirmed ones are tried again every `retryIntervalMs`.
 * - Redis errors are logged (throttled) and never thrown: an 'error' listener sits on both clients.
 * - Article states and feed messages follow the same rules (local delivery first, own echo dropped,
 *   validated on the way in, delivered only while subscribed).
 */
export class RedisFanOut implements FanOut {
  private readonly link: PubSubLink;
  private readonly instanceId: string;
  private readonly articlePrefix: string;
  private readonly feedChannel: string;
  private readonly logger: FanOutLogger;
  private readonly commandTimeoutMs: number;
  private readonly retryIntervalMs: number;
  private readonly counters: FanOutCounters;
  private readonly detachLink: () => void;

  /** Subscribed articles; the value settles when the subscription was confirmed (or given up waiting for). */
  private readonly subscriptions = new Map<ArticleId, Promise<void>>();
  /** Set while the feed is subscribed; settles when Redis confirmed it (or it was given up). */
  private feedSubscription: Promise<void> | null = null;
  /** Channels known to be live, with the node that confirmed them. A subscribed channel missing here is asserted again. */
  private readonly confirmed = new Map<string, ChannelOwner>();
  /** Bumped whenever subscriptions may have been lost: a confirmation asked for before that does not count. */
  private epoch = 0;
  private reconciling = false;
  private reconcileAgain = false;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Changes waiting to be published again: `c:<article>` comments, `s:<article>` article states, `h:<article>` heads. */
  private readonly unsent = new Map<string, Unsent>();
  private stateOrder = 0;
  /** Unsent changes with a publish in flight, so overlapping retries never send one twice. */
  private readonly resending = new Set<Unsent>();

  private listener: FanOutListener | null = null;
  private stateListener: ArticleStateListener | null = null;
  private headListener: ArticleHeadListener | null = null;
  private typingListener: TypingListener | null = null;
  private feedListener: FeedListener | null = null;
  private resyncListener: ((articleIds: readonly ArticleId[]) => void) | null = null;
  private readonly stateWatchers = new Set<() => void>();
  private lastState: FanOutState;
  private closed = false;
  private closing: Promise<void> | null = null;

  private dropped = 0;
  private publishFailures = 0;
  private readonly dropLog = new LogThrottle(1000);
  private readonly publishLog = new LogThrottle(1000);
  private readonly subscribeLog = new LogThrottle(5000);
  private readonly errorLog = { publisher: new LogThrottle(5000), subscriber: new LogThrottle(5000) };

  constructor(options: RedisFanOutOptions) {
    this.link = new PubSubLink(options.publisher, options.subscriber);
    this.instanceId = options.instanceId;
    this.articlePrefix = `${options.channelPrefix}article:`;
    this.feedChannel = `${options.channelPrefix}feed`;
    this.logger = options.logger;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 500;
    this.retryIntervalMs = options.retryIntervalMs ?? 1000;
    this.counters = options.counters ?? {};
    this.lastState = this.computeState();

    for (const [role, client] of [
      ['publisher', this.link.publisher],
      ['subscriber', this.link.subscriber],
    ] as const) {
      client.on('error', (err: Error) => {
        this.errorLog[role].run((suppressed) =>
          this.logger.warn({ err, role, suppressed }, 'redis fan-out connection error'),
        );
      });
      for (const status of ['ready', 'close', 'end'] as const) client.on(status, this.onStatusChange);
    }
    this.detachLink = this.link.listen({
      message: this.onRedisMessage,
      lost: this.onLost,
      changed: () => {
        void this.reconcile();
        this.resendUnsent();
      },
    });
  }

  /** Delivers locally at once, then to other instances; resolves even when Redis is unreachable. */
  async publish(message: FanOutMessage, committedAt?: number): Promise<void> {
    this.deliver(message, { committedAt: committedAt ?? null, origin: 'local' });
    if (this.closed) return;
    const payload: WireMessage = {
      v: 1,
      origin: this.instanceId,
      event: message.event,
      comment: message.comment,
      ...(committedAt === undefined ? {} : { at: committedAt }),
    };
    const { articleId, seq } = message.comment;
    await this.send(`c:${articleId}`, {
      channel: this.channelOf(articleId),
      payload: JSON.stringify(payload),
      order: seq,
    });
  }

  /** Delivers locally at once, then to other instances subscribed to the article; never rejects. */
  async publishArticleState(state: ArticleState): Promise<void> {
    this.hand(this.stateListener, state, { event: 'article:updated', articleId: state.articleId });
    if (this.closed) return;
    const payload: WireStateMessage = { v: 1, origin: this.instanceId, event: 'article:updated', state };
    await this.send(`s:${state.articleId}`, {
      channel: this.channelOf(state.articleId),
      payload: JSON.stringify(payload),
      order: ++this.stateOrder,
    });
  }

  onArticleState(listener: ArticleStateListener): void {
    this.stateListener = listener;
  }

  /** Delivers locally at once, then to other instances subscribed to the article; never rejects. */
  async publishArticleHead(head: ArticleHead): Promise<void> {
    this.hand(this.headListener, head, { event: 'article:head', articleId: head.articleId });
    if (this.closed) return;
    const payload: WireHeadMessage = { v: 1, origin: this.instanceId, event: 'article:head', head };
    await this.send(`h:${head.articleId}`, {
      channel: this.channelOf(head.articleId),
      payload: JSON.stringify(payload),
      order: head.lastSeq,
    });
  }

  onArticleHead(listener: ArticleHeadListener): void {
    this.headListener = listener;
  }

  /** To other instances only; a failed publish is dropped (the count is sent again while it lasts). */
  publishTyping(typing: Omit<TypingCount, 'origin'>): void {
    if (this.closed || !this.link.ready) return;
    const payload: WireTypingMessage = { v: 1, origin: this.instanceId, event: 'typing:count', typing };
    withTimeout(
      this.link.publish(this.channelOf(typing.articleId), JSON.stringify(payload)),
      this.commandTimeoutMs,
    ).catch(() => undefined);
  }

  onTyping(listener: TypingListener): void {
    this.typingListener = listener;
  }

  /** Delivers locally at once, then to other instances subscribed to the feed; never rejects. */
  async publishFeed(message: FeedMessage): Promise<void> {
    this.hand(this.feedListener, message, { event: message.event });
    if (this.closed) return;
    const payload: WireFeedMessage = { v: 1, origin: this.instanceId, message };
    await this.send(null, { channel: this.feedChannel, payload: JSON.stringify(payload), order: 0 });
  }

  /** Idempotent; resolves like `subscribe`. Never rejects. */
  subscribeFeed(): Promise<void> {
    if (this.feedSubscription) return this.feedSubscription;
    if (this.closing) return Promise.resolve();
    this.feedSubscription = this.confirm([this.feedChannel], false, this.commandTimeoutMs).then(() => undefined);
    return this.feedSubscription;
  }

  /** Idempotent. Feed messages stop being delivered at once. */
  unsubscribeFeed(): Promise<void> {
    if (!this.feedSubscription || this.closing) return Promise.resolve();
    this.feedSubscription = null;
    return this.drop([this.feedChannel], 'feed');
  }

  onFeed(listener: FeedListener): void {
    this.feedListener = listener;
  }

  /**
   * Idempotent. Resolves once Redis confirmed the subscription, or at once while Redis is down
   * (the subscription is then made on reconnect, followed by `onResync`). Never rejects.
   */
  subscribe(articleId: ArticleId): Promise<void> {
    const existing = this.subscriptions.get(articleId);
    if (existing) return existing;
    if (this.closing) return Promise.resolve();
    const done = this.confirm([this.channelOf(articleId)], false, this.commandTimeoutMs).then(() => undefined);
    this.subscriptions.set(articleId, done);
    return done;
  }

  /** Idempotent. Messages of the article stop being delivered at once, even before Redis confirms. */
  unsubscribe(articleId: ArticleId): Promise<void> {
    if (!this.subscriptions.delete(articleId) || this.closing) return Promise.resolve();
    return this.drop([this.channelOf(articleId)], articleId);
  }

  onMessage(listener: FanOutListener): void {
    this.listener = listener;
  }

  onResync(listener: (articleIds: readonly ArticleId[]) => void): void {
    this.resyncListener = listener;
  }

  state(): FanOutState {
    return this.computeState();
  }

  /** Resolves when both connections are ready; rejects if the fan-out is closed or a client ended for good. */
  whenReady(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.closed) {
          this.stateWatchers.delete(check);
          reject(new Error('RedisFanOut is closed'));
        } else if (this.computeState() === 'up') {
          this.stateWatchers.delete(check);
          resolve();
        } else if (this.link.publisher.status === 'end' || this.link.subscriber.status === 'end') {
          this.stateWatchers.delete(check);
          reject(new Error('Redis connection ended'));
        }
      };
      this.stateWatchers.add(check);
      check();
    });
  }

  /**
   * Counters since construction: messages dropped as invalid, publishes that did not reach Redis; and
   * now: changes waiting to be published again, subscriptions not (or no longer) confirmed live.
   */
  stats(): { dropped: number; publishFailures: number; unsent: number; unconfirmed: number } {
    return {
      dropped: this.dropped,
      publishFailures: this.publishFailures,
      unsent: this.unsent.size,
      unconfirmed: this.staleChannels().length,
    };
  }

  /** Unsubscribes and quits both clients; falls back to disconnect. Never rejects. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    const channels = [...this.subscriptions.keys()].map((articleId) => this.channelOf(articleId));
    if (this.feedSubscription) channels.push(this.feedChannel);
    this.subscriptions.clear();
    this.feedSubscription = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (channels.length > 0 && this.link.subscriber.status === 'ready') {
      await withTimeout(this.link.unsubscribe(channels), this.commandTimeoutMs).catch(() => undefined);
    }
    this.closed = true;
    this.unsent.clear();
    this.confirmed.clear();
    this.listener = null;
    this.stateListener = null;
    this.headListener = null;
    this.typingListener = null;
    this.feedListener = null;
    this.resyncListener = null;
    this.detachLink();
    this.onStatusChange();
    await Promise.all([this.quit(this.link.publisher), this.quit(this.link.subscriber)]);
  }

  private channelOf(articleId: ArticleId): string {
    return `${this.articlePrefix}${articleId}`;
  }

  private computeState(): FanOutState {
    return !this.closed && this.link.ready ? 'up' : 'down';
  }

  private readonly onStatusChange = (): void => {
    const state = this.computeState();
    if (state !== this.lastState) {
      this.lastState = state;
      if (state === 'up') this.logger.info({ fanOut: state }, 'redis fan-out connected');
      else if (!this.closed)
        this.logger.warn(
          { fanOut: state, publisher: this.link.publisher.status, subscriber: this.link.subscriber.status },
          'redis fan-out down; only this instance is reached',
        );
    }
    for (const watcher of [...this.stateWatchers]) watcher();
  };

  /** The connection carrying `owner`'s subscriptions (every one when null) closed: they are no longer known live. */
  private readonly onLost = (owner: ChannelOwner | null): void => {
    this.epoch += 1;
    if (owner === null) this.confirmed.clear();
    else for (const [channel, confirmedBy] of this.confirmed) if (confirmedBy === owner) this.confirmed.delete(channel);
    if (this.staleChannels().length > 0) this.scheduleRetry();
  };

  /** Subscribed channels not confirmed live on the node that serves them now. */
  private staleChannels(): string[] {
    const channels = [...this.subscriptions.keys()].map((articleId) => this.channelOf(articleId));
    if (this.feedSubscription) channels.push(this.feedChannel);
    return channels.filter((channel) => {
      const owner = this.confirmed.get(channel);
      return owner === undefined || owner !== this.link.ownerOf(channel);
    });
  }

  /**
   * Subscribes and records each channel Redis confirmed within `timeoutMs` as live on the node that
   * serves it; resolves with those channels. A confirmation counts only if the subscriber was ready
   * when asked, nothing was lost meanwhile and it came in time: otherwise a caller may have read the
   * store before the subscription was live, and `reconcile` asserts it again and resyncs.
   */
  private async confirm(channels: readonly string[], reassert: boolean, timeoutMs: number): Promise<string[]> {
    if (this.link.subscriber.status !== 'ready') {
      // Sent on reconnect (offline queue); the next 'ready' reconciles and resyncs.
      this.link.subscribe(channels, reassert).catch(() => undefined);
      this.scheduleRetry();
      return [];
    }
    const epoch = this.epoch;
    const owners = new Map(channels.map((channel) => [channel, this.link.ownerOf(channel)]));
    let inTime = true;
    const recorded = this.link.subscribe(channels, reassert).then((ok) => {
      const live: string[] = [];
      for (const channel of ok) {
        const owner = owners.get(channel);
        if (!inTime || this.epoch !== epoch || this.closed || owner === null || owner === undefined) continue;
        this.confirmed.set(channel, owner);
        live.push(channel);
      }
      return live;
    });
    try {
      const live = await withTimeout(recorded, timeoutMs);
      if (live.length < channels.length) this.scheduleRetry();
      return live;
    } catch (err) {
      inTime = false;
      this.subscribeLog.run((suppressed) =>
        this.logger.warn(
          { err, channels: channels.length, suppressed },
          'redis fan-out subscribe not confirmed in time; retrying',
        ),
      );
      this.scheduleRetry();
      return [];
    }
  }

  /**
   * Asserts every stale subscription again (after a reconnect, a failover, a slot move, or a
   * subscription that was not confirmed), then tells the resync listener which articles came back.
   * One pass at a time; a pass asked for meanwhile runs after it.
   */
  private async reconcile(): Promise<void> {
    if (this.reconciling) {
      this.reconcileAgain = true;
      return;
    }
    this.reconciling = true;
    try {
      do {
        this.reconcileAgain = false;
        if (this.closed || this.link.subscriber.status !== 'ready') return;
        const stale = this.staleChannels();
        if (stale.length === 0) return;
        const live = await this.confirm(stale, this.link.sharded, this.commandTimeoutMs * 5);
        const articles = live
          .filter((channel) => channel.startsWith(this.articlePrefix))
          .map((channel) => channel.slice(this.articlePrefix.length))
          .filter((articleId) => this.subscriptions.has(articleId));
        if (articles.length === 0 || this.closed) continue;
        this.logger.info(
          { articles: articles.length, stillStale: stale.length - live.length },
          'redis fan-out subscriptions restored; resyncing subscribers',
        );
        try {
          this.resyncListener?.(articles);
        } catch (err) {
          this.logger.error({ err }, 'fan-out resync listener threw');
        }
      } while (this.reconcileAgain);
    } finally {
      this.reconciling = false;
    }
  }

  /** Runs `reconcile` and sends unsent changes again after `retryIntervalMs`, while either has work. */
  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.reconcile();
      this.resendUnsent();
      if (this.unsent.size > 0 || this.staleChannels().length > 0) this.scheduleRetry();
    }, this.retryIntervalMs);
    this.retryTimer.unref();
  }

  /** Publishes every waiting change again, once the publisher is connected; one attempt per change at a time. */
  private resendUnsent(): void {
    if (this.closed || this.unsent.size === 0 || this.link.publisher.status !== 'ready') return;
    for (const [key, change] of [...this.unsent]) {
      if (this.resending.has(change)) continue;
      this.resending.add(change);
      void this.publishChange(key, change, true).finally(() => this.resending.delete(change));
    }
  }

  /** Publishes `change`; resolves once Redis answered or after `commandTimeoutMs`, never rejects. */
  private async send(key: string | null, change: Unsent): Promise<void> {
    await withTimeout(this.publishChange(key, change, false), this.commandTimeoutMs).catch(() => undefined);
  }

  /** Counts a publish of the moderators' feed or of an article's change. */
  private countPublished(feed: boolean, ok: boolean): void {
    if (feed) this.counters.feedPublished?.(ok);
    else this.counters.published?.(ok);
  }

  /**
   * Publishes `change` and settles with Redis' real answer (which may come after the caller stopped
   * waiting); never rejects. A failure keeps the change under `key` to be sent again (null: never sent
   * again); a success settles every earlier change under its key.
   */
  private publishChange(key: string | null, change: Unsent, again: boolean): Promise<void> {
    const feed = key === null;
    return this.link.publish(change.channel, change.payload).then(
      () => {
        this.countPublished(feed, true);
        if (key === null) return;
        const waiting = this.unsent.get(key);
        if (waiting && waiting.order <= change.order) this.unsent.delete(key);
        if (again) this.logger.info({ channel: change.channel }, 'fan-out change published again after a failure');
      },
      (err: unknown) => {
        this.countPublished(feed, false);
        this.publishFailures += 1;
        this.publishLog.run((suppressed) =>
          this.logger.warn(
            { err, channel: change.channel, suppressed, again },
            'fan-out publish failed; sent again once Redis answers, and other instances catch up from the store',
          ),
        );
        if (key === null || this.closed) return;
        const waiting = this.unsent.get(key);
        if (waiting && waiting.order >= change.order) return;
        this.unsent.delete(key);
        this.unsent.set(key, change);
        if (this.unsent.size > MAX_UNSENT) this.unsent.delete(this.unsent.keys().next().value ?? key);
        this.scheduleRetry();
      },
    );
  }

  private readonly onRedisMessage = (channel: string, raw: string): void => {
    if (this.closed) return;
    if (channel === this.feedChannel) return this.onFeedMessage(channel, raw);
    if (!channel.startsWith(this.articlePrefix)) return;
    const articleId = channel.slice(this.articlePrefix.length);
    if (!this.subscriptions.has(articleId)) return;
    const data = this.decode(channel, raw);
    if (data === undefined) return;
    const event = (data as { event?: unknown }).event;
    const on = { channel, length: raw.length, articleId };
    if (event === 'article:updated')
      return this.accept(
        on,
        WireStateMessageSchema.safeParse(data),
        (m) => m.state.articleId,
        (m) => this.hand(this.stateListener, m.state, { event, articleId }),
      );
    if (event === 'article:head')
      return this.accept(
        on,
        WireHeadMessageSchema.safeParse(data),
        (m) => m.head.articleId,
        (m) => this.hand(this.headListener, m.head, { event, articleId }),
      );
    if (event === 'typing:count')
      return this.accept(
        on,
        WireTypingMessageSchema.safeParse(data),
        (m) => m.typing.articleId,
        (m) => this.hand(this.typingListener, { origin: m.origin, ...m.typing }, { event, articleId }),
      );
    this.accept(
      on,
      WireMessageSchema.safeParse(data),
      (m) => m.comment.articleId,
      (m) => this.deliver({ event: m.event, comment: m.comment }, { committedAt: m.at ?? null, origin: 'remote' }),
    );
  };

  /**
   * A message of an article's channel, parsed with its wire schema: delivered when it is valid and is
   * about the channel's article; otherwise counted and dropped with a throttled warning.
   */
  private accept<M>(
    on: { channel: string; length: number; articleId: string },
    parsed:
      | { success: true; data: M }
      | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } },
    articleOf: (message: M) => string,
    deliver: (message: M) => void,
  ): void {
    if (!parsed.success)
      return this.dropInvalid(on.channel, `invalid: ${describeIssue(parsed.error.issues[0])}`, on.length);
    if (articleOf(parsed.data) !== on.articleId)
      return this.dropInvalid(on.channel, 'article id does not match channel', on.length);
    this.counters.received?.();
    deliver(parsed.data);
  }

  private onFeedMessage(channel: string, raw: string): void {
    if (!this.feedSubscription) return;
    const data = this.decode(channel, raw);
    if (data === undefined) return;
    const parsed = WireFeedMessageSchema.safeParse(data);
    if (!parsed.success)
      return this.dropInvalid(channel, `invalid: ${describeIssue(parsed.error.issues[0])}`, raw.length);
    this.counters.received?.();
    this.hand(this.feedListener, parsed.data.message, { event: parsed.data.message.event });
  }

  /** Parses a message's JSON; undefined (after counting a drop) when it is too large or not JSON, or is this instance's own echo. */
  private decode(channel: string, raw: string): object | undefined {
    if (raw.length > MAX_WIRE_CHARS) {
      this.dropInvalid(channel, 'too large', raw.length);
      return undefined;
    }
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      this.dropInvalid(channel, 'not JSON', raw.length);
      return undefined;
    }
    if (typeof data !== 'object' || data === null) {
      this.dropInvalid(channel, 'not an object', raw.length);
      return undefined;
    }
    if ((data as { origin?: unknown }).origin === this.instanceId) return undefined;
    return data;
  }

  /** Hands a value to a listener; one that throws is logged (the change is committed; delivery goes on). */
  private hand<T>(
    listener: ((value: T) => void) | null,
    value: T,
    context: { event: string; articleId?: string },
  ): void {
    if (this.closed || !listener) return;
    try {
      listener(value);
    } catch (err) {
      this.logger.error({ err, ...context }, 'fan-out listener threw');
    }
  }

  private dropInvalid(channel: string, reason: string, length: number): void {
    this.dropped += 1;
    this.counters.dropped?.();
    this.dropLog.run((suppressed) =>
      this.logger.warn({ channel, reason, length, suppressed }, 'dropped invalid fan-out message'),
    );
  }

  private deliver(message: FanOutMessage, info: DeliveryInfo): void {
    if (this.closed || !this.listener) return;
    try {
      this.listener(message, info);
    } catch (err) {
      this.logger.error({ err, event: message.event, articleId: message.comment.articleId }, 'fan-out listener threw');
    }
  }

  /**
   * Unsubscribes; waits (bounded) only while connected, since during an outage there is nothing to leave.
   * `what` (an article id, or 'feed') names it in the log.
   */
  private drop(channels: string[], what: string): Promise<void> {
    for (const channel of channels) this.confirmed.delete(channel);
    const pending = this.link.unsubscribe(channels);
    if (this.link.subscriber.status !== 'ready') {
      pending.catch(() => undefined);
      return Promise.resolve();
    }
    return withTimeout(pending, this.commandTimeoutMs).then(
      () => undefined,
      (err: unknown) => this.logger.warn({ err, articleId: what }, 'redis fan-out unsubscribe failed'),
    );
  }

  private async quit(client: RedisClient): Promise<void> {
    if (client.status === 'end') return;
    try {
      await withTimeout(client.quit(), this.commandTimeoutMs);
    } catch {
      client.disconnect();
    }
  }
}

function describeIssue(issue: { path: PropertyKey[]; message: string } | undefined): string {
  return issue ? `${issue.path.map(String).join('.')} ${issue.message}` : 'schema';
}

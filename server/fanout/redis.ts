import { Redis, type RedisOptions } from 'ioredis';
import * as z from 'zod/mini';
import { COMMENT_EVENTS } from '../../shared/events.ts';
import { HeldResolvedSchema, ModeratedCommentSchema, ModeratedHeldSchema } from '../../shared/moderation.ts';
import {
  ArticleHeadSchema,
  ArticleStateSchema,
  CommentSchema,
  type ArticleHead,
  type ArticleId,
  type ArticleState,
} from '../../shared/schemas.ts';
import { LogThrottle } from '../log-throttle.ts';
import { withTimeout } from '../with-timeout.ts';
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
} from './port.ts';

/** The few log methods the fan-out needs; a pino logger fits. */
export interface FanOutLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RedisFanOutOptions {
  /** Sends PUBLISH. Should fail fast while Redis is down (see createRedisClients). */
  publisher: Redis;
  /** A dedicated connection: it enters subscriber mode and can run nothing else. */
  subscriber: Redis;
  /** Tags every message this instance sends, so it can drop its own echo. Unique per process. */
  instanceId: string;
  /** Prepended to every channel name, so deployments (and tests) sharing one Redis stay apart. */
  channelPrefix: string;
  logger: FanOutLogger;
  /** Longest a publish or a subscription change waits for Redis before giving up (default 500 ms). */
  commandTimeoutMs?: number;
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
  origin: z.string().check(z.minLength(1)),
  event: z.enum(COMMENT_EVENTS),
  comment: CommentSchema,
  /** Epoch ms of the store commit on the origin; optional so instances without it interoperate. */
  at: z.optional(z.number()),
});
export type WireMessage = z.infer<typeof WireMessageSchema>;

/** An article's new lock / pre-moderation state, on the article's channel beside its comments. */
export const WireStateMessageSchema = z.object({
  v: z.literal(1),
  origin: z.string().check(z.minLength(1)),
  event: z.literal('article:updated'),
  state: ArticleStateSchema,
});
export type WireStateMessage = z.infer<typeof WireStateMessageSchema>;

/** An article's new head after a change made without per-comment pushes (an import), on the article's channel. */
export const WireHeadMessageSchema = z.object({
  v: z.literal(1),
  origin: z.string().check(z.minLength(1)),
  event: z.literal('article:head'),
  head: ArticleHeadSchema,
});
export type WireHeadMessage = z.infer<typeof WireHeadMessageSchema>;

/** A moderator-feed message, on the one feed channel. */
export const FeedMessageSchema = z.union([
  z.object({ event: z.literal('admin:comment'), comment: ModeratedCommentSchema }),
  z.object({ event: z.literal('admin:held'), held: ModeratedHeldSchema }),
  z.object({ event: z.literal('admin:resolved'), resolved: HeldResolvedSchema }),
]);
export const WireFeedMessageSchema = z.object({
  v: z.literal(1),
  origin: z.string().check(z.minLength(1)),
  message: FeedMessageSchema,
});
export type WireFeedMessage = z.infer<typeof WireFeedMessageSchema>;

/** Anything longer cannot be a valid message (a comment body is at most 5000 chars); it is dropped unparsed. */
const MAX_WIRE_CHARS = 64 * 1024;

/**
 * Builds the publisher/subscriber pair for RedisFanOut.
 *
 * - publisher: no offline queue and one retry per request, so a publish during an outage fails at
 *   once instead of piling up in memory (the comment is already stored; clients catch up).
 * - subscriber: offline queue on, so subscription changes made during an outage are sent on
 *   reconnect; `autoResubscribe` restores existing subscriptions; requests never time out by retry
 *   count (RedisFanOut bounds its own waits).
 * Both reconnect forever with a backoff capped at 2 s. `options` override these defaults for both.
 */
export function createRedisClients(url: string, options: RedisOptions = {}): { publisher: Redis; subscriber: Redis } {
  const common: RedisOptions = {
    connectTimeout: 2000,
    lazyConnect: false,
    retryStrategy: (times: number) => Math.min(times * 100, 2000),
  };
  const publisher = new Redis(url, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 1, ...options });
  const subscriber = new Redis(url, {
    ...common,
    enableOfflineQueue: true,
    autoResubscribe: true,
    maxRetriesPerRequest: null,
    ...options,
  });
  return { publisher, subscriber };
}

/**
 * Fan-out over Redis pub/sub: one channel per article, `${channelPrefix}article:${articleId}`, carrying
 * its comment changes and its state changes (`article:updated`); and one moderator-feed channel,
 * `${channelPrefix}feed`, subscribed only while `subscribeFeed` is in force.
 *
 * Guarantees, on top of the FanOut port:
 * - `publish` delivers to the local listener synchronously (before its first await), then PUBLISHes.
 *   It never rejects: a failed or slow PUBLISH is logged and given up after `commandTimeoutMs`.
 * - Messages carrying this instance's id are dropped (own echo), so a local publish reaches the local
 *   listener exactly once. Arriving messages are parsed and validated (WireMessageSchema, and the
 *   channel's article must be the comment's); anything else is counted and dropped with a throttled warning.
 * - Only articles currently subscribed are delivered, even if Redis still sends a late message.
 * - The article set held here is the truth: every time the subscriber becomes ready, all of it is
 *   (re)subscribed; once that is confirmed, `onResync` fires if messages may have been missed
 *   (a reconnect, or a first connection made after subscriptions were requested).
 * - Redis errors are logged (throttled) and never thrown: an 'error' listener sits on both clients.
 * - Article states and feed messages follow the same rules (local delivery first, own echo dropped,
 *   validated on the way in, delivered only while subscribed).
 */
export class RedisFanOut implements FanOut {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly instanceId: string;
  private readonly articlePrefix: string;
  private readonly feedChannel: string;
  /** Set while the feed is subscribed; settles when Redis confirmed it (or it was given up). */
  private feedSubscription: Promise<void> | null = null;
  private stateListener: ArticleStateListener | null = null;
  private headListener: ArticleHeadListener | null = null;
  private feedListener: FeedListener | null = null;
  private readonly logger: FanOutLogger;
  private readonly commandTimeoutMs: number;
  private readonly counters: FanOutCounters;

  /** Subscribed articles; the value settles when the SUBSCRIBE was confirmed (or given up). */
  private readonly subscriptions = new Map<ArticleId, Promise<void>>();
  private listener: FanOutListener | null = null;
  private resyncListener: (() => void) | null = null;
  private readonly stateWatchers = new Set<() => void>();
  private subscriberWasReady: boolean;
  private lastState: FanOutState;
  private closed = false;
  private closing: Promise<void> | null = null;

  private dropped = 0;
  private publishFailures = 0;
  private readonly dropLog = new LogThrottle(1000);
  private readonly publishLog = new LogThrottle(1000);
  private readonly errorLog = { publisher: new LogThrottle(5000), subscriber: new LogThrottle(5000) };

  constructor(options: RedisFanOutOptions) {
    this.publisher = options.publisher;
    this.subscriber = options.subscriber;
    this.instanceId = options.instanceId;
    this.articlePrefix = `${options.channelPrefix}article:`;
    this.feedChannel = `${options.channelPrefix}feed`;
    this.logger = options.logger;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 500;
    this.counters = options.counters ?? {};
    this.subscriberWasReady = this.subscriber.status === 'ready';
    this.lastState = this.computeState();

    for (const [role, client] of [
      ['publisher', this.publisher],
      ['subscriber', this.subscriber],
    ] as const) {
      client.on('error', (err: Error) => {
        this.errorLog[role].run((suppressed) =>
          this.logger.warn({ err, role, suppressed }, 'redis fan-out connection error'),
        );
      });
      for (const status of ['ready', 'close', 'end'] as const) client.on(status, this.onStatusChange);
    }
    this.subscriber.on('ready', this.onSubscriberReady);
    this.subscriber.on('message', this.onRedisMessage);
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
    try {
      await withTimeout(
        this.publisher.publish(this.channelOf(message.comment.articleId), JSON.stringify(payload)),
        this.commandTimeoutMs,
      );
      this.counters.published?.(true);
    } catch (err) {
      this.counters.published?.(false);
      this.publishFailures += 1;
      this.publishLog.run((suppressed) =>
        this.logger.warn(
          { err, articleId: message.comment.articleId, seq: message.comment.seq, suppressed },
          'fan-out publish failed; other instances catch up from the store',
        ),
      );
    }
  }

  /** Delivers locally at once, then to other instances subscribed to the article; never rejects. */
  async publishArticleState(state: ArticleState): Promise<void> {
    this.deliverState(state);
    if (this.closed) return;
    const payload: WireStateMessage = { v: 1, origin: this.instanceId, event: 'article:updated', state };
    await this.send(this.channelOf(state.articleId), payload, state.articleId, this.counters.published);
  }

  onArticleState(listener: ArticleStateListener): void {
    this.stateListener = listener;
  }

  /** Delivers locally at once, then to other instances subscribed to the article; never rejects. */
  async publishArticleHead(head: ArticleHead): Promise<void> {
    this.deliverHead(head);
    if (this.closed) return;
    const payload: WireHeadMessage = { v: 1, origin: this.instanceId, event: 'article:head', head };
    await this.send(this.channelOf(head.articleId), payload, head.articleId, this.counters.published);
  }

  onArticleHead(listener: ArticleHeadListener): void {
    this.headListener = listener;
  }

  /** Delivers locally at once, then to other instances subscribed to the feed; never rejects. */
  async publishFeed(message: FeedMessage): Promise<void> {
    this.deliverFeed(message);
    if (this.closed) return;
    const payload: WireFeedMessage = { v: 1, origin: this.instanceId, message };
    await this.send(this.feedChannel, payload, null, this.counters.feedPublished);
  }

  /** Idempotent; resolves like `subscribe`. Never rejects. */
  subscribeFeed(): Promise<void> {
    if (this.feedSubscription) return this.feedSubscription;
    if (this.closing) return Promise.resolve();
    this.feedSubscription = this.settleCommand(this.subscriber.subscribe(this.feedChannel), 'subscribe', 'feed');
    return this.feedSubscription;
  }

  /** Idempotent. Feed messages stop being delivered at once. */
  unsubscribeFeed(): Promise<void> {
    if (!this.feedSubscription || this.closing) return Promise.resolve();
    this.feedSubscription = null;
    return this.settleCommand(this.subscriber.unsubscribe(this.feedChannel), 'unsubscribe', 'feed');
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
    const pending = this.subscriber.subscribe(this.channelOf(articleId));
    const done = this.settleCommand(pending, 'subscribe', articleId);
    this.subscriptions.set(articleId, done);
    return done;
  }

  /** Idempotent. Messages of the article stop being delivered at once, even before Redis confirms. */
  unsubscribe(articleId: ArticleId): Promise<void> {
    if (!this.subscriptions.delete(articleId) || this.closing) return Promise.resolve();
    return this.settleCommand(this.subscriber.unsubscribe(this.channelOf(articleId)), 'unsubscribe', articleId);
  }

  onMessage(listener: FanOutListener): void {
    this.listener = listener;
  }

  onResync(listener: () => void): void {
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
        } else if (this.publisher.status === 'end' || this.subscriber.status === 'end') {
          this.stateWatchers.delete(check);
          reject(new Error('Redis connection ended'));
        }
      };
      this.stateWatchers.add(check);
      check();
    });
  }

  /** Counters since construction: messages dropped as invalid, publishes that did not reach Redis. */
  stats(): { dropped: number; publishFailures: number } {
    return { dropped: this.dropped, publishFailures: this.publishFailures };
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
    if (channels.length > 0 && this.subscriber.status === 'ready') {
      await withTimeout(this.subscriber.unsubscribe(...channels), this.commandTimeoutMs).catch(() => undefined);
    }
    this.closed = true;
    this.listener = null;
    this.stateListener = null;
    this.headListener = null;
    this.feedListener = null;
    this.resyncListener = null;
    this.subscriber.off('message', this.onRedisMessage);
    this.subscriber.off('ready', this.onSubscriberReady);
    this.onStatusChange();
    await Promise.all([this.quit(this.publisher), this.quit(this.subscriber)]);
  }

  private channelOf(articleId: ArticleId): string {
    return `${this.articlePrefix}${articleId}`;
  }

  private computeState(): FanOutState {
    return !this.closed && this.publisher.status === 'ready' && this.subscriber.status === 'ready' ? 'up' : 'down';
  }

  private readonly onStatusChange = (): void => {
    const state = this.computeState();
    if (state !== this.lastState) {
      this.lastState = state;
      if (state === 'up') this.logger.info({ fanOut: state }, 'redis fan-out connected');
      else if (!this.closed)
        this.logger.warn(
          { fanOut: state, publisher: this.publisher.status, subscriber: this.subscriber.status },
          'redis fan-out down; only this instance is reached',
        );
    }
    for (const watcher of [...this.stateWatchers]) watcher();
  };

  /**
   * ioredis emits 'ready' after it has written its own resubscription; ours (the whole article set)
   * is queued behind it on the same connection, so once it is confirmed every subscription is live.
   */
  private readonly onSubscriberReady = (): void => {
    const mayHaveMissed = this.subscriberWasReady || this.subscriptions.size > 0;
    this.subscriberWasReady = true;
    const articles = [...this.subscriptions.keys()];
    const channels = articles.map((a) => this.channelOf(a));
    if (this.feedSubscription) channels.push(this.feedChannel);
    const resubscribed =
      channels.length === 0
        ? Promise.resolve()
        : withTimeout(this.subscriber.subscribe(...channels), this.commandTimeoutMs * 5).then(
            () => undefined,
            (err: unknown) => this.logger.warn({ err, articles: articles.length }, 'redis fan-out resubscribe failed'),
          );
    void resubscribed.then(() => {
      if (!mayHaveMissed || this.closed || this.subscriber.status !== 'ready') return;
      this.logger.info({ articles: this.subscriptions.size }, 'redis fan-out link restored; resyncing subscribers');
      try {
        this.resyncListener?.();
      } catch (err) {
        this.logger.error({ err }, 'fan-out resync listener threw');
      }
    });
  };

  private readonly onRedisMessage = (channel: string, raw: string): void => {
    if (this.closed) return;
    if (channel === this.feedChannel) return this.onFeedMessage(channel, raw);
    if (!channel.startsWith(this.articlePrefix)) return;
    const articleId = channel.slice(this.articlePrefix.length);
    if (!this.subscriptions.has(articleId)) return;
    const data = this.decode(channel, raw);
    if (data === undefined) return;
    if ((data as { event?: unknown }).event === 'article:updated') {
      const state = WireStateMessageSchema.safeParse(data);
      if (!state.success) return this.drop(channel, `invalid: ${describeIssue(state.error.issues[0])}`, raw.length);
      if (state.data.state.articleId !== articleId)
        return this.drop(channel, 'article id does not match channel', raw.length);
      this.counters.received?.();
      this.deliverState(state.data.state);
      return;
    }
    if ((data as { event?: unknown }).event === 'article:head') {
      const head = WireHeadMessageSchema.safeParse(data);
      if (!head.success) return this.drop(channel, `invalid: ${describeIssue(head.error.issues[0])}`, raw.length);
      if (head.data.head.articleId !== articleId)
        return this.drop(channel, 'article id does not match channel', raw.length);
      this.counters.received?.();
      this.deliverHead(head.data.head);
      return;
    }
    const parsed = WireMessageSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.drop(
        channel,
        `invalid: ${issue ? `${issue.path.join('.')} ${issue.message}` : 'schema'}`,
        raw.length,
      );
    }
    if (parsed.data.comment.articleId !== articleId)
      return this.drop(channel, 'article id does not match channel', raw.length);
    this.counters.received?.();
    this.deliver(
      { event: parsed.data.event, comment: parsed.data.comment },
      { committedAt: parsed.data.at ?? null, origin: 'remote' },
    );
  };

  private onFeedMessage(channel: string, raw: string): void {
    if (!this.feedSubscription) return;
    const data = this.decode(channel, raw);
    if (data === undefined) return;
    const parsed = WireFeedMessageSchema.safeParse(data);
    if (!parsed.success) return this.drop(channel, `invalid: ${describeIssue(parsed.error.issues[0])}`, raw.length);
    this.counters.received?.();
    this.deliverFeed(parsed.data.message);
  }

  /** Parses a message's JSON; undefined (after counting a drop) when it is too large or not JSON, or is this instance's own echo. */
  private decode(channel: string, raw: string): object | undefined {
    if (raw.length > MAX_WIRE_CHARS) {
      this.drop(channel, 'too large', raw.length);
      return undefined;
    }
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      this.drop(channel, 'not JSON', raw.length);
      return undefined;
    }
    if (typeof data !== 'object' || data === null) {
      this.drop(channel, 'not an object', raw.length);
      return undefined;
    }
    if ((data as { origin?: unknown }).origin === this.instanceId) return undefined;
    return data;
  }

  /** PUBLISHes a message, bounded by the command timeout; a failure is counted and logged, never thrown. */
  private async send(
    channel: string,
    payload: object,
    articleId: ArticleId | null,
    count: ((ok: boolean) => void) | undefined,
  ): Promise<void> {
    try {
      await withTimeout(this.publisher.publish(channel, JSON.stringify(payload)), this.commandTimeoutMs);
      count?.(true);
    } catch (err) {
      count?.(false);
      this.publishFailures += 1;
      this.publishLog.run((suppressed) =>
        this.logger.warn(
          { err, channel, articleId, suppressed },
          'fan-out publish failed; other instances catch up from the store',
        ),
      );
    }
  }

  private deliverState(state: ArticleState): void {
    if (this.closed || !this.stateListener) return;
    try {
      this.stateListener(state);
    } catch (err) {
      this.logger.error({ err, event: 'article:updated', articleId: state.articleId }, 'fan-out listener threw');
    }
  }

  private deliverHead(head: ArticleHead): void {
    if (this.closed || !this.headListener) return;
    try {
      this.headListener(head);
    } catch (err) {
      this.logger.error({ err, event: 'article:head', articleId: head.articleId }, 'fan-out listener threw');
    }
  }

  private deliverFeed(message: FeedMessage): void {
    if (this.closed || !this.feedListener) return;
    try {
      this.feedListener(message);
    } catch (err) {
      this.logger.error({ err, event: message.event }, 'fan-out feed listener threw');
    }
  }

  private drop(channel: string, reason: string, length: number): void {
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

  /** Waits for a (un)subscription only while connected; during an outage the next 'ready' reconciles. */
  private settleCommand(pending: Promise<unknown>, what: string, articleId: ArticleId | 'feed'): Promise<void> {
    const logFailure = (err: unknown): void => this.logger.warn({ err, articleId }, `redis fan-out ${what} failed`);
    if (this.subscriber.status !== 'ready') {
      pending.catch(() => undefined);
      return Promise.resolve();
    }
    return withTimeout(pending, this.commandTimeoutMs).then(() => undefined, logFailure);
  }

  private async quit(client: Redis): Promise<void> {
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

import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { Router } from 'express';
import { Server } from 'socket.io';
import type { Article } from '../shared/schemas.ts';
import { ActorPolicy } from './actors/actor.ts';
import { MemberAuth } from './sso/member-auth.ts';
import { SsoVerifier } from './sso/verifier.ts';
import { WriteBreaker } from './comments/write-breaker.ts';
import { CommentService } from './comments/service.ts';
import type { Config } from './config.ts';
import { MemoryFanOut } from './fanout/memory.ts';
import type { FanOut } from './fanout/port.ts';
import { createRedisClients, RedisFanOut } from './fanout/redis.ts';
import { createRedisClient, redisTarget } from './redis/clients.ts';
import { createAbuseGuards } from './abuse/guards.ts';
import { LogThrottle } from './log-throttle.ts';
import {
  connectionClientIp,
  releaseHandshakeRequests,
  useForwardedClientIp,
  type TrustProxyFn,
} from './abuse/client-ip.ts';
import { actorOf, resolveActor } from './http/actor.ts';
import { createApiRouter } from './http/api-routes.ts';
import { createNotifyRoutes, outboxAgeSeconds } from './http/notify-routes.ts';
import { NotifySubscribers } from './notify/subscribers.ts';
import { OutboxWorker, type OutboxWorkerOptions } from './notify/outbox-worker.ts';
import { Mailer } from './notify/mailer.ts';
import { ModeratorDigest } from './notify/moderator-digest.ts';
import { ReplyLinks } from './notify/reply-links.ts';
import { ReplyMails } from './notify/reply-mails.ts';
import { ReplySubscribe } from './notify/reply-subscribe.ts';
import { createSubscriptionRoutes } from './http/subscription-routes.ts';
import { answerClientError } from './http/client-errors.ts';
import { createCrossOriginMiddleware } from './http/cross-origin.ts';
import { createErrorHandler, notFoundHandler } from './http/errors.ts';
import { createHealthRouter } from './http/health-routes.ts';
import { createImportRoutes } from './http/import-routes.ts';
import { ImportJobs } from './import/jobs.ts';
import { countRejectedPosts, createMetricsRouter } from './http/metrics-route.ts';
import { createRequestLogging } from './http/request-logging.ts';
import { createSecurityHeaders } from './http/security-headers.ts';
import type { Keyring } from './keys/keyring.ts';
import { openKeyring } from './keys/server-secret.ts';
import { createLogger, type Logger } from './logger.ts';
import { Metrics } from './metrics.ts';
import { createOriginPolicy } from './origins.ts';
import { DEMO_ARTICLE_ID, importDemoArticle, loadDemoArticle } from './seed/demo-article.ts';
import { createStaticRouter } from './http/static-routes.ts';
import { withTimeout } from './with-timeout.ts';
import { Lifecycle } from './lifecycle.ts';
import { attachSocketGateway, type CommentServer } from './socket/gateway.ts';
import { HandshakeGuard } from './socket/handshake-guard.ts';
import * as textOnlyParser from '../shared/socket-parser.ts';
import { startSlowConsumerSweep } from './socket/slow-consumers.ts';
import { InFlightRequests, shutDownGracefully } from './shutdown.ts';
import { openStore } from './storage/open-store.ts';
import type { CommentStore } from './storage/port.ts';
import { PostgresCommentStore } from './storage/postgres.ts';
import { LocalPresenceStore } from './presence/local-store.ts';
import type { PresenceStore } from './presence/port.ts';
import { RedisPresenceStore } from './presence/redis-store.ts';
import { PresenceTracker } from './presence/tracker.ts';
import { ModerationPipeline } from './moderation/pipeline/pipeline.ts';
import { ModerationSettingsKeeper, RedisSettingsLink, type SettingsLink } from './moderation/settings.ts';
import { createModerationSettingsRoutes } from './http/moderation-settings-routes.ts';
import {
  FallbackRepeatLedger,
  MemoryRepeatLedger,
  RedisRepeatLedger,
  type RepeatLedger,
} from './moderation/pipeline/repeats.ts';

/** How long start-up waits for Redis before serving without it. */
const REDIS_STARTUP_WAIT_MS = 3000;

/** Largest Socket.IO message; a bigger one closes only that connection. */
export const MAX_SOCKET_MESSAGE_BYTES = 64 * 1024;

export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly httpServer: HttpServer;
  readonly io: CommentServer;
  readonly service: CommentService;
  readonly store: CommentStore;
  /** The deployment's keyed pseudonyms and signatures (SECRET_KEY, or the secret kept in the store). */
  readonly keys: Keyring;
  readonly fanout: FanOut;
  readonly metrics: Metrics;
  /** The moderation pipeline posts and edits pass (its settings apply at once when configured). */
  readonly moderation: ModerationPipeline;
  /** Listens on config.port (0: any free port) and resolves with the bound port. */
  listen(): Promise<number>;
  /**
   * Graceful shutdown (server/shutdown.ts): readiness false, stop accepting, let in-flight posts
   * commit and publish, close sockets at the transport (clients reconnect elsewhere), then fan-out
   * and store. Idempotent; bounded to well under 10 s.
   */
  close(): Promise<void>;
}

export interface AppOverrides {
  logger?: Logger;
  /** The outbox worker's poll interval and clock (tests: fast polls, a clock they move). */
  outbox?: Pick<OutboxWorkerOptions, 'pollMs' | 'now' | 'random' | 'timeoutMs'>;
}

/** The fan-out the configuration selects (Redis or a Redis Cluster when configured); also used by the import CLI to reach running instances. */
export async function createFanOut(
  config: Config,
  logger: Logger,
  metrics: Metrics,
  lifecycle?: Lifecycle,
): Promise<FanOut> {
  const target = redisTarget(config);
  if (!target) return new MemoryFanOut(logger.child({ component: 'fanout' }));
  const { publisher, subscriber } = createRedisClients(target);
  // Until the fan-out owns them, the clients are closed with the app's other resources on a failed start.
  lifecycle?.own('redis clients', [publisher, subscriber], (clients) => {
    for (const client of clients) if (client.status !== 'end') client.disconnect();
  });
  const counters = {
    published: (ok: boolean) => metrics.fanoutPublished(ok),
    feedPublished: (ok: boolean) => metrics.fanoutFeedPublished(ok),
    received: () => metrics.fanoutReceived(),
    dropped: () => metrics.fanoutDropped(),
  };
  const fanout = new RedisFanOut({
    publisher,
    subscriber,
    instanceId: config.instanceId,
    channelPrefix: config.redisPrefix,
    logger: logger.child({ component: 'fanout' }),
    counters,
  });
  lifecycle?.own('fan-out', fanout, (owned) => owned.close());
  // Start degraded rather than not at all: posting and local pushes work without Redis.
  await withTimeout(fanout.whenReady(), REDIS_STARTUP_WAIT_MS).catch(() =>
    logger.warn('Redis is not reachable yet; starting degraded (local pushes only)'),
  );
  return fanout;
}

/** Readers across instances through Redis when configured (a connection of its own, failing fast), else this instance's own. */
function createPresenceStore(config: Config, logger: Logger): PresenceStore {
  const target = redisTarget(config);
  if (!target) return new LocalPresenceStore();
  const redis = createRedisClient(target, { role: 'fail-fast' });
  const errorLog = new LogThrottle(5000);
  redis.on('error', (err: Error) =>
    errorLog.run((suppressed) => logger.warn({ err, suppressed }, 'presence redis connection error')),
  );
  return new RedisPresenceStore({ redis, keyPrefix: config.redisPrefix, instanceId: config.instanceId });
}

/**
 * Where the repeat phase remembers recent texts: Redis when configured (a fail-fast connection of its
 * own, so every instance sees every post), else this process's memory.
 */
function createModerationRedis(
  config: Config,
  logger: Logger,
): { ledger: RepeatLedger; link: SettingsLink | undefined; close(): Promise<void> } {
  const target = redisTarget(config);
  if (!target) return { ledger: new MemoryRepeatLedger(), link: undefined, close: async () => {} };
  const redis = createRedisClient(target, { role: 'fail-fast', commandTimeoutMs: 1000 });
  const errorLog = new LogThrottle(5000);
  redis.on('error', (err: Error) =>
    errorLog.run((suppressed) => logger.warn({ err, suppressed }, 'moderation redis connection error')),
  );
  const ledger = new FallbackRepeatLedger(
    new RedisRepeatLedger(redis, config.redisPrefix),
    new MemoryRepeatLedger(),
    () =>
      errorLog.run((suppressed) =>
        logger.warn({ suppressed }, 'repeat check fell back to this instance (Redis unreachable)'),
      ),
  );
  // Settings changes are announced on a channel of their own; the subscriber connection waits out outages.
  const subscriber = createRedisClient(target, { role: 'subscriber' });
  subscriber.on('error', (err: Error) =>
    errorLog.run((suppressed) => logger.warn({ err, suppressed }, 'moderation redis connection error')),
  );
  return {
    ledger,
    link: new RedisSettingsLink(redis, subscriber, config.redisPrefix, logger),
    close: async () => {
      redis.disconnect();
    },
  };
}

/**
 * The one place that wires storage, fan-out, HTTP and sockets together, and the one owner of what they
 * open: everything is registered with a {@link Lifecycle} as it is created and closed by `close()`, last
 * opened first. A start that fails halfway closes what it had opened before rethrowing.
 */
export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const logger = overrides.logger ?? createLogger(config.logLevel, config.instanceId);
  const lifecycle = new Lifecycle(logger);
  const opened: { io?: CommentServer } = {};
  try {
    return await assembleApp(config, overrides, logger, lifecycle, opened);
  } catch (error) {
    logger.error({ err: error }, 'start failed; closing what was opened');
    // Not listening yet: closing Socket.IO releases its engine and timers.
    if (opened.io) await withTimeout(opened.io.close(), 1000).catch(() => undefined);
    await lifecycle.close();
    throw error;
  }
}

async function assembleApp(
  config: Config,
  overrides: AppOverrides,
  logger: Logger,
  lifecycle: Lifecycle,
  opened: { io?: CommentServer },
): Promise<App> {
  const metrics = new Metrics(config.instanceId);
  const store: CommentStore = lifecycle.own(
    'store',
    await openStore(config, logger.child({ component: 'store' })),
    (owned) => owned.close(),
  );
  const { keys, source } = await openKeyring(config.secretKey, store);
  // The id is a fingerprint, not the secret: instances logging different ids do not share a secret.
  logger.info({ keyId: keys.id, source }, 'server secret in use');
  const fanout = await createFanOut(config, logger, metrics, lifecycle);
  metrics.watchFanOut(() => fanout.state());
  if (store instanceof PostgresCommentStore) metrics.watchDatabasePool(() => store.poolStats());
  // Who acts is decided at the edges (HTTP: resolveActor; sockets: per connection); the service enforces the rules.
  // Members signed in by the host site (SSO_*): a verified token makes a Member actor.
  const members = new MemberAuth(
    config.sso.mode,
    config.sso.settings === undefined
      ? undefined
      : new SsoVerifier(config.sso.settings, { logger: logger.child({ component: 'sso' }) }),
  );
  const policy = new ActorPolicy({ adminToken: config.adminToken, members });
  // Who gets notified of changes, read from memory on every change (see NotifySubscribers).
  const subscribers = new NotifySubscribers(store);
  await subscribers.refresh();
  const repeats = lifecycle.own('moderation repeats', createModerationRedis(config, logger), (owned) => owned.close());
  const moderation = new ModerationPipeline({
    ledger: repeats.ledger,
    visibleCount: (authorKey, atLeast) => store.visibleCommentsBy(authorKey, atLeast),
    metrics,
  });
  // The settings in the store, applied before the first post is served, and kept in step on every instance.
  const moderationSettings = new ModerationSettingsKeeper({
    store,
    pipeline: moderation,
    logger: logger.child({ component: 'moderation' }),
    link: repeats.link,
  });
  await moderationSettings.start();
  lifecycle.own('moderation settings', moderationSettings, (owned) => owned.stop());
  // One breaker for the store's writers on this instance: posts and the outbox worker.
  const writeBreaker = new WriteBreaker();
  const mail = config.notify.mail;
  // Reply e-mails need mail: links start with PUBLIC_URL, tokens are signed with the keyring.
  const replyLinks = mail ? new ReplyLinks(keys, mail.publicUrl) : null;
  const service = new CommentService({
    store,
    writeBreaker,
    fanout,
    logger,
    keys,
    metrics,
    policy,
    editWindowMinutes: config.editWindowMinutes,
    premoderation: config.premoderation,
    reportHoldThreshold: config.reportHoldThreshold,
    moderation,
    notifyTargets: () => subscribers.targets(),
    replySubscribe: mail
      ? new ReplySubscribe({ allowedOrigins: config.allowedOrigins, publicUrl: mail.publicUrl })
      : null,
    replyBatchMs: config.notify.replyBatchMs,
  });
  // Opened before the worker, so closed after it (the lifecycle closes last opened first).
  const mailer = mail ? lifecycle.own('mailer', new Mailer(mail.smtpUrl, mail.from), (owned) => owned.close()) : null;
  const outbox = lifecycle.own(
    'outbox',
    new OutboxWorker({
      breaker: writeBreaker,
      mailer,
      replyMails: replyLinks
        ? new ReplyMails({ store, links: replyLinks, keys, dailyCap: config.notify.replyDailyCap })
        : null,
      digest:
        mail && config.notify.moderatorEmails.length > 0
          ? new ModeratorDigest({
              store,
              to: config.notify.moderatorEmails,
              windowMs: config.notify.moderatorAlertMs,
              publicUrl: mail.publicUrl,
            })
          : null,
      store,
      subscribers,
      logger: logger.child({ component: 'outbox' }),
      metrics,
      allowPrivate: config.notify.allowPrivate,
      retryHorizonMs: config.notify.retryHorizonMs,
      ...overrides.outbox,
    }),
    (owned) => owned.stop(),
  );
  metrics.watchOutbox(async () => {
    const stats = await store.outboxStats();
    return {
      queued: stats.queued,
      failed: stats.failed,
      oldestAgeSeconds: outboxAgeSeconds(stats.oldestCreatedAt, Date.now()),
    };
  });
  const originPolicy = createOriginPolicy(config.allowedOrigins, logger.child({ component: 'origins' }));

  const articles = new Map<string, Article>();
  if (config.seedDemo) {
    const demo = loadDemoArticle();
    articles.set(demo.article.articleId, demo.article);
    const created = await importDemoArticle(service, demo);
    if (created > 0) logger.info({ articleId: demo.article.articleId, created }, 'imported the sample article');
  }

  let accepting = true;
  const requests = new InFlightRequests();
  const web = express();
  web.disable('x-powered-by');
  web.set('trust proxy', config.trustProxy);
  // One trust decision for HTTP (req.ip) and socket handshakes alike.
  const trustProxy = web.get('trust proxy fn') as TrustProxyFn;
  useForwardedClientIp(web, trustProxy);
  const abuse = lifecycle.own(
    'abuse guards',
    createAbuseGuards({
      config,
      logger,
      keys,
      trustProxy,
      unmetered: (req) => policy.may(actorOf(req), 'writes:unmetered'),
    }),
    (owned) => owned.close(),
  );
  web.use(requests.middleware, createRequestLogging(logger), countRejectedPosts(metrics));
  web.use(createSecurityHeaders(config.allowedOrigins));
  web.use(createHealthRouter({ store, fanout, isAccepting: () => accepting }));
  web.use(createMetricsRouter(metrics));
  const importJobs = lifecycle.own(
    'import jobs',
    new ImportJobs({
      store,
      keys,
      fanout,
      instanceId: config.instanceId,
      logger: logger.child({ component: 'import' }),
    }),
    (owned) => owned.stop(),
  );
  const crossOrigin = createCrossOriginMiddleware(originPolicy);
  web.use('/api', crossOrigin, resolveActor(policy));
  // Before the JSON-only API: an import's body is the file itself, streamed.
  web.use('/api/admin', createImportRoutes({ policy, store, jobs: importJobs }));
  web.use(
    '/api',
    createApiRouter({
      service,
      policy,
      articles,
      postLimit: abuse.httpPostLimit,
      commentWriteLimits: abuse.commentWriteLimits,
      ssoLoginUrl: config.sso.loginUrl,
      replyEmails: replyLinks !== null,
      adminExtras: Router().use(
        createNotifyRoutes({
          policy,
          store,
          subscribers,
          allowPrivate: config.notify.allowPrivate,
        }),
        createModerationSettingsRoutes({ policy, keeper: moderationSettings }),
      ),
    }),
  );
  if (replyLinks)
    web.use(
      createSubscriptionRoutes({ store, links: replyLinks, logger: logger.child({ component: 'reply-emails' }) }),
    );
  web.use(createStaticRouter({ articles, demoArticleId: DEMO_ARTICLE_ID, demoPages: config.demoPages }));
  web.use(notFoundHandler);
  web.use(createErrorHandler(logger));

  const httpServer = createServer(web);
  const handshakes = new HandshakeGuard((req) => {
    const origin = req.headers.origin;
    if (!originPolicy.allows(origin, req.headers.host)) {
      if (origin !== undefined) originPolicy.refused(origin, 'socket');
      return 'Origin not allowed (ALLOWED_ORIGINS)';
    }
    return abuse.admitConnection(req) ? null : 'Too many connections from this client';
  });
  // Requests Node's parser refuses (oversized headers or URL, malformed lines) still get a typed JSON error.
  httpServer.on('clientError', answerClientError);
  const io: CommentServer = (opened.io = new Server(httpServer, {
    serveClient: false,
    // Text packets only: a binary event (attachments the stock parser would wait for) closes its connection.
    parser: textOnlyParser,
    maxHttpBufferSize: MAX_SOCKET_MESSAGE_BYTES,
    cors: {
      origin: (origin, callback) => callback(null, originPolicy.allows(origin, undefined) ? (origin ?? true) : false),
    },
    // CORS does not protect WebSockets: refuse handshakes from pages of origins not allowed (403, every transport).
    allowRequest: handshakes.allowRequest,
  }));
  handshakes.wrapUpgrades(httpServer, '/socket.io/');
  releaseHandshakeRequests(io.engine, trustProxy);
  abuse.attach(io);
  const slowConsumers = lifecycle.own(
    'slow-consumer sweep',
    startSlowConsumerSweep(io, { maxBufferedBytes: config.limits.socketMaxBufferBytes, logger }),
    (owned) => owned.stop(),
  );
  // Stopping the tracker closes its store (and the store's Redis connection).
  const presence = lifecycle.own(
    'presence',
    new PresenceTracker(
      io,
      createPresenceStore(config, logger.child({ component: 'presence' })),
      logger.child({ component: 'presence' }),
    ),
    (owned) => owned.stop(),
  );
  const gateway = attachSocketGateway({
    io,
    service,
    policy,
    fanout,
    logger,
    metrics,
    presence,
    clientIp: (socket) => connectionClientIp(socket.conn, trustProxy),
  });
  lifecycle.own('socket gateway', gateway, (owned) => owned.close());
  let closing: Promise<void> | null = null;
  outbox.start();
  metrics.watchSockets({ connected: () => io.of('/').sockets.size, rooms: () => io.of('/').adapter.rooms });

  return {
    config,
    logger,
    httpServer,
    io,
    service,
    store,
    keys,
    fanout,
    metrics,
    moderation,
    listen: () =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => {
          httpServer.off('error', reject);
          resolve((httpServer.address() as AddressInfo).port);
        });
      }),
    close: () =>
      (closing ??= shutDownGracefully({
        httpServer,
        io,
        requests,
        markNotReady: () => {
          accepting = false;
          slowConsumers.stop();
        },
        drainWrites: () => service.drain(),
        // Everything the app opened, last opened first: the gateway's timers, presence, the sweep,
        // import jobs, abuse guards, the outbox worker, moderation's Redis, fan-out (its Redis clients), the store.
        resources: lifecycle.closingOrder.map((owned) => ({ name: owned.name, close: async () => owned.close() })),
        logger,
      })),
  };
}

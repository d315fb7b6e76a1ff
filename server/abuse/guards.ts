import type { IncomingMessage } from 'node:http';
import type { Request, RequestHandler } from 'express';
import type { Config } from '../config.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { Logger } from '../logger.ts';
import type { CommentServer } from '../socket/gateway.ts';
import { createRedisClient, redisTarget, type RedisClient, type RedisTarget } from '../redis/clients.ts';
import { withTimeout } from '../with-timeout.ts';
import {
  connectionClientIp,
  requestClientIp,
  UNKNOWN_IP,
  type HandshakeConnection,
  type TrustProxyFn,
} from './client-ip.ts';
import { ConnectionLimiter } from './connection-limit.ts';
import { LogThrottle } from '../log-throttle.ts';
import { posterName, PostRateLimiter } from './post-limiter.ts';
import { CommentIdSchema } from '../../shared/schemas.ts';
import { ipKey } from './keys.ts';
import { RateBudgets } from './rate-budgets.ts';
import { attachSocketGuards } from './socket-guards.ts';

/** Route middleware for the writes to one comment (`:id` in the path), each with its budgets. */
export interface CommentWriteLimits {
  edit: RequestHandler;
  delete: RequestHandler;
  like: RequestHandler;
  report: RequestHandler;
}

export interface AbuseGuards {
  readonly posts: PostRateLimiter;
  readonly connections: ConnectionLimiter;
  /** Route middleware for post routes (after the JSON body parser): counts the attempt, 429 `rate_limited` when over budget. */
  readonly httpPostLimit: RequestHandler;
  /** Edits, deletes, likes and reports: per client IP and per comment; edits and deletes with the ADMIN_TOKEN are not counted. */
  readonly commentWriteLimits: CommentWriteLimits;
  /** For engine.io's `allowRequest`: false when the client holds too many connections. */
  admitConnection(request: IncomingMessage): boolean;
  /** Installs the per-connection event and post budgets and the connection count on the Socket.IO server. */
  attach(io: CommentServer): void;
  /** Closes the rate limiter's Redis connection. Never rejects. */
  close(): Promise<void>;
}

export interface AbuseGuardDeps {
  config: Pick<Config, 'limits' | 'redisUrl' | 'redisClusterNodes' | 'redisPrefix'>;
  logger: Logger;
  /** The deployment's keyring: the post budgets are kept under keyed pseudonyms. */
  keys: Keyring;
  /** Requests not counted against the edit and delete budgets (moderators': the actor rule `writes:unmetered`). */
  unmetered?: (req: Request) => boolean;
  /** Express's compiled `trust proxy` (`app.get('trust proxy fn')`), so sockets see the same client IP as HTTP. */
  trustProxy: TrustProxyFn;
}

/** Longest a rate-limit command waits for Redis before the in-memory budget answers instead. */
const REDIS_COMMAND_TIMEOUT_MS = 250;

/**
 * A connection of its own for the shared budgets (a single Redis or a cluster), built to fail fast: no
 * offline queue, one attempt per command, a short command timeout (a hung Redis answers nothing at
 * all). Every failure sends the limiter to its in-memory insurance budget.
 */
function createLimiterRedis(target: RedisTarget, logger: Logger): RedisClient {
  const redis = createRedisClient(target, { role: 'fail-fast', commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS });
  const errorLog = new LogThrottle(5000);
  redis.on('error', (err: Error) =>
    errorLog.run((suppressed) =>
      logger.warn({ err, suppressed }, 'rate limiter redis connection error; per-instance budgets in use'),
    ),
  );
  return redis;
}

/** Builds the abuse guards from configuration: post budgets (shared through Redis when configured), socket budgets, connection caps. */
export function createAbuseGuards({ config, logger, keys, trustProxy, unmetered }: AbuseGuardDeps): AbuseGuards {
  const log = logger.child({ component: 'abuse' });
  const { limits } = config;
  const target = redisTarget(config);
  const budgets = [
    limits.postsPerMinutePerIp,
    limits.postsPerMinutePerAuthor,
    limits.editsPerMinutePerIp,
    limits.editsPerMinutePerComment,
    limits.deletesPerMinutePerIp,
    limits.likesPerMinutePerIp,
    limits.likesPerMinutePerComment,
    limits.reportsPerMinutePerIp,
    limits.reportsPerMinutePerComment,
  ];
  const needsRedis = budgets.some((points) => points > 0);
  const redis = target && needsRedis ? createLimiterRedis(target, log) : undefined;
  const posts = new PostRateLimiter({
    limits: { perIp: limits.postsPerMinutePerIp, perAuthor: limits.postsPerMinutePerAuthor },
    keyPrefix: config.redisPrefix,
    keys,
    logger: log,
    ...(redis ? { redis } : {}),
  });
  const shared = { keyPrefix: config.redisPrefix, logger: log, ...(redis ? { redis } : {}) };
  const perComment = (what: string, perIp: number, perComment: number, name: string, countModerators: boolean) => {
    const budgets = new RateBudgets({
      what,
      points: { ip: perIp, comment: perComment },
      keyNames: { ip: `${name}-ip:`, comment: `${name}-comment:` },
      ...shared,
    });
    const limit: RequestHandler = async (req, _res, next) => {
      if (!budgets.enabled) return next();
      if (!countModerators && unmetered?.(req)) return next();
      const ip = req.ip ?? UNKNOWN_IP;
      // A malformed id is refused by the route anyway; only a real one names a comment's budget.
      const comment = CommentIdSchema.safeParse(req.params.id);
      await budgets.consume({ ip: ipKey(keys, ip), ...(comment.success ? { comment: comment.data } : {}) }, ip);
      next();
    };
    return limit;
  };
  const commentWriteLimits: CommentWriteLimits = {
    edit: perComment('edits', limits.editsPerMinutePerIp, limits.editsPerMinutePerComment, 'edit', false),
    delete: perComment('deletes', limits.deletesPerMinutePerIp, 0, 'delete', false),
    like: perComment('likes', limits.likesPerMinutePerIp, limits.likesPerMinutePerComment, 'like', true),
    report: perComment('reports', limits.reportsPerMinutePerIp, limits.reportsPerMinutePerComment, 'report', true),
  };
  const requestIp = (request: IncomingMessage) => requestClientIp(request, trustProxy);
  const connectionIp = (connection: HandshakeConnection) => connectionClientIp(connection, trustProxy);
  const connections = new ConnectionLimiter({
    maxPerIp: limits.connectionsPerIp,
    requestIp,
    connectionIp,
    logger: log,
  });

  return {
    posts,
    connections,
    commentWriteLimits,
    httpPostLimit: async (req, _res, next) => {
      if (posts.enabled) await posts.consume({ ip: req.ip ?? UNKNOWN_IP, name: posterName(req.body) });
      next();
    },
    admitConnection: (request) => connections.admit(request),
    attach: (io) => {
      connections.attach(io.engine);
      attachSocketGuards(io, {
        eventsPer10s: limits.socketEventsPer10s,
        posts,
        clientIp: (socket) => connectionIp(socket.conn),
        logger: log,
      });
    },
    close: async () => {
      if (!redis || redis.status === 'end') return;
      await withTimeout(redis.quit(), 500).catch(() => redis.disconnect());
    },
  };
}

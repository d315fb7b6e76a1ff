import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../../shared/errors.ts';
import type { Logger } from '../logger.ts';
import type { Keyring } from '../keys/keyring.ts';
import { authorKey, ipKey, logId } from './keys.ts';
import { LogThrottle } from '../log-throttle.ts';
import type { RedisClient } from '../redis/clients.ts';

export interface PostLimits {
  /** Post attempts per client IP per minute; 0: no limit. */
  perIp: number;
  /** Post attempts per author (normalised name + IP) per minute; 0: no limit. */
  perAuthor: number;
}

export interface PostRateLimiterOptions {
  limits: PostLimits;
  /**
   * Shares the budgets between instances. Should fail fast while Redis is down (no offline queue, a
   * command timeout): each failed call falls back to this instance's in-memory budget, so an outage
   * never blocks posting (the limit is then per instance). A Redis Cluster works as is: each budget is
   * one key (`<prefix>rl:<budget>:<hash>`) counted by a one-key script, so it lives on one slot, and
   * the keys spread over the shards.
   */
  redis?: RedisClient;
  /** Prefix of the Redis keys (the deployment's prefix). */
  keyPrefix: string;
  /** Makes the budgets' keys: keyed pseudonyms of the IP and the author, never the address. */
  keys: Keyring;
  logger: Logger;
}

/** Who is posting: the client IP (behind trusted proxies) and the display name as sent, if it was a string. */
export interface Poster {
  ip: string;
  name: string | undefined;
}

const WINDOW_SECONDS = 60;

function makeLimiter(name: string, points: number, options: PostRateLimiterOptions): RateLimiterAbstract | null {
  if (points === 0) return null;
  const keyPrefix = `${options.keyPrefix}rl:${name}`;
  const memory = new RateLimiterMemory({ keyPrefix, points, duration: WINDOW_SECONDS });
  if (!options.redis) return memory;
  return new RateLimiterRedis({
    storeClient: options.redis,
    keyPrefix,
    points,
    duration: WINDOW_SECONDS,
    // Not connected: go to the in-memory budget at once instead of waiting for a failure.
    rejectIfRedisNotReady: true,
    insuranceLimiter: memory,
  });
}

/**
 * Budgets for posting, per client IP and per author, over a fixed one-minute window. Every attempt
 * counts, valid or not (junk costs the server work too). A limiter that fails for another reason than
 * an exhausted budget lets the post through and logs: a broken guard must not stop readers posting.
 */
export class PostRateLimiter {
  private readonly perIp: RateLimiterAbstract | null;
  private readonly perAuthor: RateLimiterAbstract | null;
  private readonly logger: Logger;
  private readonly keys: Keyring;
  private readonly limitedLog = new LogThrottle(5000);
  private readonly failureLog = new LogThrottle(5000);

  constructor(options: PostRateLimiterOptions) {
    this.perIp = makeLimiter('post-ip:', options.limits.perIp, options);
    this.perAuthor = makeLimiter('post-author:', options.limits.perAuthor, options);
    this.logger = options.logger;
    this.keys = options.keys;
  }

  get enabled(): boolean {
    return this.perIp !== null || this.perAuthor !== null;
  }

  /** Counts one post attempt; rejects with AppError `rate_limited` (with `retryAfter` seconds) when a budget is spent. */
  async consume({ ip, name }: Poster): Promise<void> {
    const checks: Array<[string, Promise<unknown>]> = [];
    if (this.perIp) checks.push(['ip', this.perIp.consume(ipKey(this.keys, ip))]);
    if (this.perAuthor && name !== undefined)
      checks.push(['author', this.perAuthor.consume(authorKey(this.keys, name, ip))]);
    const results = await Promise.allSettled(checks.map(([, check]) => check));
    let waitMs = 0;
    let limitedBy: string | null = null;
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      const which = checks[i]?.[0] ?? 'unknown';
      if (result.reason instanceof RateLimiterRes) {
        if (result.reason.msBeforeNext >= waitMs) limitedBy = which;
        waitMs = Math.max(waitMs, result.reason.msBeforeNext);
      } else {
        this.failureLog.run((suppressed) =>
          this.logger.error(
            { err: result.reason, limiter: which, suppressed },
            'post rate limiter failed; letting the post through',
          ),
        );
      }
    });
    if (limitedBy === null) return;
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    const by = limitedBy;
    this.limitedLog.run((suppressed) =>
      this.logger.info({ limiter: by, client: logId(ip), retryAfter, suppressed }, 'post rate limited'),
    );
    throw new AppError('rate_limited', `Too many comments; try again in ${retryAfter} s`, { retryAfter });
  }
}

/** The display name of a post payload (REST body or socket payload) when it is a string; validation comes later. */
export function posterName(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null || !Object.hasOwn(payload, 'author')) return undefined;
  const author: unknown = (payload as { author: unknown }).author;
  if (typeof author !== 'object' || author === null || !Object.hasOwn(author, 'name')) return undefined;
  const name: unknown = (author as { name: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

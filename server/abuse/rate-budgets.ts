import type { RedisClient } from '../redis/clients.ts';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../../shared/errors.ts';
import type { Logger } from '../logger.ts';
import { LogThrottle } from '../log-throttle.ts';
import { logId } from './keys.ts';

export interface RateBudgetOptions<K extends string> {
  /** What is counted, for the 429 message and the logs: `comments`, `edits`, `deletes`, `likes`. */
  what: string;
  /** Attempts per one-minute window for each budget, by name; 0 turns that budget off. */
  points: Readonly<Record<K, number>>;
  /** Redis key part of each budget (`post-ip:`, `like-comment:`, …); kept stable, instances share them. */
  keyNames: Readonly<Record<K, string>>;
  /**
   * Shares the budgets between instances. Should fail fast while Redis is down (no offline queue, a
   * command timeout): each failed call falls back to this instance's in-memory budget, so an outage
   * never blocks anyone (the limit is then per instance). A Redis Cluster works as is: each budget of
   * each key is one Redis key counted by a one-key script, so it lives on one slot.
   */
  redis?: RedisClient;
  /** Prefix of the Redis keys (the deployment's prefix). */
  keyPrefix: string;
  logger: Logger;
}

const WINDOW_SECONDS = 60;

function makeLimiter(
  keyName: string,
  points: number,
  options: { redis?: RedisClient; keyPrefix: string },
): RateLimiterAbstract | null {
  if (points === 0) return null;
  const keyPrefix = `${options.keyPrefix}rl:${keyName}`;
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
 * Budgets of one kind of write (posts, edits, deletes, likes), each counted per its own key (a client
 * IP, an author, a comment) over a fixed one-minute window. Every attempt counts, valid or not (junk
 * costs the server work too). A limiter that fails for another reason than an exhausted budget lets
 * the write through and logs: a broken guard must not stop readers.
 */
export class RateBudgets<K extends string> {
  private readonly limiters: Array<[K, RateLimiterAbstract]> = [];
  private readonly what: string;
  private readonly logger: Logger;
  private readonly limitedLog = new LogThrottle(5000);
  private readonly failureLog = new LogThrottle(5000);

  constructor(options: RateBudgetOptions<K>) {
    this.what = options.what;
    this.logger = options.logger;
    for (const name of Object.keys(options.points) as K[]) {
      const limiter = makeLimiter(options.keyNames[name], options.points[name], options);
      if (limiter) this.limiters.push([name, limiter]);
    }
  }

  get enabled(): boolean {
    return this.limiters.length > 0;
  }

  /**
   * Counts one attempt against every budget whose key is given; rejects with AppError `rate_limited`
   * (with `retryAfter` seconds) when one is spent. `ip` names the client in the log (as a salted digest).
   */
  async consume(keys: Partial<Record<K, string>>, ip: string): Promise<void> {
    const checks: Array<[K, Promise<unknown>]> = [];
    for (const [name, limiter] of this.limiters) {
      const key = keys[name];
      if (key !== undefined) checks.push([name, limiter.consume(key)]);
    }
    const results = await Promise.allSettled(checks.map(([, check]) => check));
    let waitMs = 0;
    let limitedBy: K | null = null;
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      const which = checks[i]![0];
      if (result.reason instanceof RateLimiterRes) {
        if (result.reason.msBeforeNext >= waitMs) limitedBy = which;
        waitMs = Math.max(waitMs, result.reason.msBeforeNext);
      } else {
        this.failureLog.run((suppressed) =>
          this.logger.error(
            { err: result.reason, limiter: `${this.what}:${which}`, suppressed },
            'rate limiter failed; letting the request through',
          ),
        );
      }
    });
    if (limitedBy === null) return;
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    const limiter = `${this.what}:${String(limitedBy)}`;
    this.limitedLog.run((suppressed) =>
      this.logger.info({ limiter, client: logId(ip), retryAfter, suppressed }, `${this.what} rate limited`),
    );
    throw new AppError('rate_limited', `Too many ${this.what}; try again in ${retryAfter} s`, { retryAfter });
  }
}

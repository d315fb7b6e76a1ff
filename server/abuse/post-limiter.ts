import type { Logger } from '../logger.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { RedisClient } from '../redis/clients.ts';
import { authorKey, ipKey } from './keys.ts';
import { RateBudgets } from './rate-budgets.ts';

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

/**
 * Budgets for posting, per client IP and per author (the normalised name with the IP), over a fixed
 * one-minute window (see RateBudgets).
 */
export class PostRateLimiter {
  private readonly budgets: RateBudgets<'ip' | 'author'>;
  private readonly keys: Keyring;

  constructor(options: PostRateLimiterOptions) {
    this.keys = options.keys;
    this.budgets = new RateBudgets({
      what: 'comments',
      points: { ip: options.limits.perIp, author: options.limits.perAuthor },
      keyNames: { ip: 'post-ip:', author: 'post-author:' },
      keyPrefix: options.keyPrefix,
      logger: options.logger,
      ...(options.redis ? { redis: options.redis } : {}),
    });
  }

  get enabled(): boolean {
    return this.budgets.enabled;
  }

  /** Counts one post attempt; rejects with AppError `rate_limited` (with `retryAfter` seconds) when a budget is spent. */
  consume({ ip, name }: Poster): Promise<void> {
    const keys = this.keys;
    return this.budgets.consume(
      { ip: ipKey(keys, ip), ...(name === undefined ? {} : { author: authorKey(keys, name, ip) }) },
      ip,
    );
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

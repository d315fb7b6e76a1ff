import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Config, RedisNodeAddress } from '../config.ts';

/** A connection to a single Redis or to a Redis Cluster; both take the same data commands. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: one server (`REDIS_URL`) or some seed nodes of a cluster (`REDIS_CLUSTER_NODES`). */
export type RedisTarget =
  | { readonly kind: 'single'; readonly url: string }
  | { readonly kind: 'cluster'; readonly nodes: readonly RedisNodeAddress[] };

/** The configured Redis, or undefined when this instance runs alone. */
export function redisTarget(config: Pick<Config, 'redisUrl' | 'redisClusterNodes'>): RedisTarget | undefined {
  if (config.redisClusterNodes) return { kind: 'cluster', nodes: config.redisClusterNodes };
  if (config.redisUrl) return { kind: 'single', url: config.redisUrl };
  return undefined;
}

export interface RedisClientOptions {
  /**
   * `fail-fast`: a command fails at once while Redis (or the shard it needs) is unreachable, after at
   * most one retry; for work that has a fallback or is simply tried again (presence, rate limits).
   * `publisher`: the same, except that on a cluster, commands wait (in order) while a node connection
   * is being made, so a burst to a new master is not reordered; the caller fails fast itself while the
   * cluster client is not `ready`.
   * `subscriber`: commands wait in a queue while disconnected and subscriptions are restored on
   * reconnect; in a cluster it holds one sharded-subscriber connection per master (SSUBSCRIBE).
   */
  role: 'fail-fast' | 'publisher' | 'subscriber';
  /** Longest a command waits for its answer (fail-fast only); a hung Redis answers nothing at all. */
  commandTimeoutMs?: number;
}

/** Reconnect forever, backing off to at most 2 s between attempts. */
const reconnectDelay = (times: number): number => Math.min(times * 100, 2000);

/**
 * A client for `target`, configured for its role.
 *
 * Cluster specifics: the slot map is refreshed every 5 s as well as on MOVED and lost nodes (so a
 * promoted replica is found even when nothing else reports it); a fail-fast client or publisher gives
 * up a command after 3 immediate redirections (milliseconds while a shard has no master) instead of
 * ioredis' 16 spaced 100 ms apart.
 *
 * Why a cluster publisher queues: with the cluster's offline queue off, ioredis refuses a command
 * for a node whose connection is still being made and retries it 100 ms later through another
 * node, while the next commands, once connected, go straight through: the first burst to a new
 * master arrives out of order (seen in ioredis 5.11 and 6.0). Queued, they keep their order. Node
 * connections skip the INFO ready check for the same reason: PUBLISH may be written during it,
 * ahead of the commands queued before it.
 */
export function createRedisClient(target: RedisTarget, options: RedisClientOptions): RedisClient {
  const failFast = options.role !== 'subscriber';
  const connection: RedisOptions = {
    connectTimeout: 2000,
    ...(failFast ? { maxRetriesPerRequest: 1 } : { maxRetriesPerRequest: null }),
    ...(failFast && options.commandTimeoutMs !== undefined ? { commandTimeout: options.commandTimeoutMs } : {}),
  };
  if (target.kind === 'single') {
    return new Redis(target.url, {
      ...connection,
      retryStrategy: reconnectDelay,
      enableOfflineQueue: !failFast,
      autoResubscribe: !failFast,
    });
  }
  const clusterOptions: ClusterOptions = {
    clusterRetryStrategy: reconnectDelay,
    enableOfflineQueue: options.role !== 'fail-fast',
    shardedSubscribers: options.role === 'subscriber',
    slotsRefreshInterval: 5000,
    // Fail-fast work has a fallback or is tried again later: during a failover, give up within
    // milliseconds rather than retrying for seconds (16 redirections, 100 ms apart, by default).
    ...(failFast ? { maxRedirections: 3, retryDelayOnFailover: 0, retryDelayOnClusterDown: 0 } : {}),
    redisOptions: options.role === 'publisher' ? { ...connection, enableReadyCheck: false } : connection,
  };
  return new Cluster(
    target.nodes.map(({ host, port }) => ({ host, port })),
    clusterOptions,
  );
}

/** The Redis Cluster hash slot of a key or channel name (hash tags included), as ioredis computes it. */
export function hashSlot(name: string): number {
  return calculateSlot(name);
}

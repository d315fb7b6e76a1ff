import type { Redis } from 'ioredis';
import type { ArticleId } from '../../shared/schemas.ts';
import { withTimeout } from '../with-timeout.ts';
import type { PresenceStore } from './port.ts';

export interface RedisPresenceOptions {
  /** A connection of its own, failing fast (no offline queue): a tick that cannot reach Redis is skipped. */
  redis: Redis;
  /** Prefix of every key, as for the fan-out channels. */
  keyPrefix: string;
  instanceId: string;
  /** How long an instance counts as alive after its last tick (default 3000 ms). */
  heartbeatTtlMs?: number;
  /** How long an article's hash outlives its last writer or reader (default 60 000 ms). */
  hashTtlMs?: number;
  /** Longest a tick waits for Redis (default 800 ms, under the one-second tick). */
  commandTimeoutMs?: number;
}

/**
 * One tick as one script, so one round trip and one atomic step:
 * 1. refresh this instance's heartbeat key (`{prefix}presence-live:{instance}`, expiring after the TTL);
 * 2. write its changed counts into the per-article hashes (`{prefix}presence:{article}`, field = instance),
 *    deleting the field when the count is 0;
 * 3. for each article read, set this instance's own field to its local count where it differs (so a
 *    field lost to a Redis restart, or deleted while this instance was too slow to beat, heals at the
 *    next tick), sum the fields of live instances, delete fields whose instance's heartbeat expired
 *    (killed instances drop out within the TTL), and keep the hash from expiring while it is read.
 * ARGV: prefix, instance, heartbeat TTL, hash TTL, number of changed pairs, changed (article, count)…,
 * then read (article, local count)… . Keys are derived from the prefix: a single Redis, not a cluster.
 */
const SYNC_SCRIPT = `
local prefix, me = ARGV[1], ARGV[2]
local heartbeatTtl, hashTtl = tonumber(ARGV[3]), tonumber(ARGV[4])
local changed = tonumber(ARGV[5])
local liveKey = prefix .. 'presence-live:'
redis.call('SET', liveKey .. me, '1', 'PX', heartbeatTtl)
local i = 6
for _ = 1, changed do
  local key = prefix .. 'presence:' .. ARGV[i]
  local n = tonumber(ARGV[i + 1])
  if n > 0 then
    redis.call('HSET', key, me, n)
    redis.call('PEXPIRE', key, hashTtl)
  else
    redis.call('HDEL', key, me)
  end
  i = i + 2
end
local alive = {}
local totals = {}
while i <= #ARGV do
  local key = prefix .. 'presence:' .. ARGV[i]
  local mine = tonumber(ARGV[i + 1])
  local fields = redis.call('HGETALL', key)
  local sum, seenMe = mine, false
  for k = 1, #fields, 2 do
    local instance = fields[k]
    if instance == me then
      seenMe = true
      if tonumber(fields[k + 1]) ~= mine then
        if mine > 0 then redis.call('HSET', key, me, mine) else redis.call('HDEL', key, me) end
      end
    else
      local live = alive[instance]
      if live == nil then
        live = redis.call('EXISTS', liveKey .. instance) == 1
        alive[instance] = live
      end
      if live then sum = sum + tonumber(fields[k + 1]) else redis.call('HDEL', key, instance) end
    end
  end
  if not seenMe and mine > 0 then redis.call('HSET', key, me, mine) end
  if sum > 0 then redis.call('PEXPIRE', key, hashTtl) end
  totals[#totals + 1] = sum
  i = i + 2
end
return totals`;

/** Withdraws an instance: its heartbeat and its fields in the given articles. */
const LEAVE_SCRIPT = `
local prefix, me = ARGV[1], ARGV[2]
redis.call('DEL', prefix .. 'presence-live:' .. me)
for i = 3, #ARGV do redis.call('HDEL', prefix .. 'presence:' .. ARGV[i], me) end
return 0`;

/**
 * Readers counted across instances through Redis, with no Redis traffic per join or leave: each
 * instance sends, once per tick, only the counts that changed, and reads the totals of the articles
 * it has readers of, in one script call. An instance that stops ticking (killed) stops counting
 * within `heartbeatTtlMs`.
 */
export class RedisPresenceStore implements PresenceStore {
  private readonly redis: Redis;
  private readonly keyPrefix: string;
  private readonly instanceId: string;
  private readonly heartbeatTtlMs: number;
  private readonly hashTtlMs: number;
  private readonly commandTimeoutMs: number;
  /** Articles this instance has a field in, so `close` can withdraw them. */
  private readonly written = new Set<ArticleId>();

  constructor(options: RedisPresenceOptions) {
    this.redis = options.redis;
    this.keyPrefix = options.keyPrefix;
    this.instanceId = options.instanceId;
    this.heartbeatTtlMs = options.heartbeatTtlMs ?? 3000;
    this.hashTtlMs = options.hashTtlMs ?? 60_000;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 800;
  }

  async sync(
    changed: ReadonlyMap<ArticleId, number>,
    read: ReadonlyMap<ArticleId, number>,
  ): Promise<Map<ArticleId, number>> {
    const args: Array<string | number> = [
      this.keyPrefix,
      this.instanceId,
      this.heartbeatTtlMs,
      this.hashTtlMs,
      changed.size,
    ];
    for (const [articleId, count] of changed) args.push(articleId, count);
    const readIds = [...read.keys()];
    for (const articleId of readIds) args.push(articleId, read.get(articleId) ?? 0);
    const answer = (await withTimeout(this.redis.eval(SYNC_SCRIPT, 0, ...args), this.commandTimeoutMs)) as unknown;
    if (!Array.isArray(answer) || answer.length !== readIds.length)
      throw new Error('presence script answered an unexpected shape');
    for (const [articleId, count] of changed) {
      if (count > 0) this.written.add(articleId);
      else this.written.delete(articleId);
    }
    for (const [articleId, count] of read) if (count > 0) this.written.add(articleId);
    const totals = new Map<ArticleId, number>();
    readIds.forEach((articleId, index) => totals.set(articleId, Number(answer[index])));
    return totals;
  }

  async close(): Promise<void> {
    try {
      if (this.redis.status === 'ready') {
        await withTimeout(
          this.redis.eval(LEAVE_SCRIPT, 0, this.keyPrefix, this.instanceId, ...this.written),
          this.commandTimeoutMs,
        );
      }
    } catch {
      // Best effort: the heartbeat expires on its own.
    }
    try {
      await withTimeout(this.redis.quit(), this.commandTimeoutMs);
    } catch {
      this.redis.disconnect();
    }
  }
}

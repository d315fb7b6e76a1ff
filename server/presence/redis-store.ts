import type { ArticleId } from '../../shared/schemas.ts';
import { hashSlot, type RedisClient } from '../redis/clients.ts';
import { withTimeout } from '../with-timeout.ts';
import type { PresenceStore } from './port.ts';

export interface RedisPresenceOptions {
  /** A connection of its own, failing fast (no offline queue): a tick that cannot reach Redis is skipped. */
  redis: RedisClient;
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
 * Articles are spread over this many key groups. Every key of a group carries the group's hash tag,
 * so one script can touch them all on a Redis Cluster (one slot); the groups spread over the shards.
 * Changing it moves every key: instances of different versions would then count apart.
 */
export const PRESENCE_GROUPS = 64;

/** The group of an article: the low bits of its hash slot (any stable hash would do; this one is at hand). */
export function presenceGroup(articleId: ArticleId): number {
  return hashSlot(articleId) % PRESENCE_GROUPS;
}

/** Keys of one group: its liveness hash and its articles' hashes share the hash tag `{<group>}`. */
export function presenceKeys(keyPrefix: string, group: number) {
  return {
    live: `${keyPrefix}presence-live:{${group}}`,
    article: (articleId: ArticleId) => `${keyPrefix}presence:{${group}}:${articleId}`,
  };
}

/**
 * One tick of one key group as one script, so one atomic step per group (the groups of a tick are
 * sent together). Every key is declared (KEYS) and they share one hash tag, as Redis Cluster requires.
 *
 * KEYS[1]: the group's liveness hash (field = instance, value = the server-clock ms until which it is
 *   alive; field `~sweep` = when expired fields are next swept out).
 * KEYS[2..]: the group's article hashes (field = instance, value = its readers there).
 * ARGV: instance, heartbeat TTL ms, hash TTL ms, then one (mode, local count) pair per article key:
 *   mode `c` (changed: record the count, 0 deletes the field) or `r` (read: record it where it differs
 *   and answer the total).
 *
 * 1. Extend this instance's liveness in the group by the heartbeat TTL (server clock, so instances'
 *    clocks do not matter).
 * 2. For each article read, heal this instance's own field (so a field lost to a Redis restart, or
 *    deleted while this instance was too slow to beat, comes back), sum the fields of live instances,
 *    delete fields whose instance is no longer alive (killed instances drop out within the TTL), and
 *    keep the hash from expiring while it is read.
 * 3. At most once per hash TTL, drop expired instances from the liveness hash.
 * Answers the totals of the articles read, in KEYS order.
 */
const SYNC_SCRIPT = `
local me = ARGV[1]
local heartbeatTtl, hashTtl = tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local live = KEYS[1]
redis.call('HSET', live, me, now + heartbeatTtl)
redis.call('PEXPIRE', live, hashTtl)
local alive = {}
local totals = {}
for k = 2, #KEYS do
  local key = KEYS[k]
  local mode, mine = ARGV[2 * k], tonumber(ARGV[2 * k + 1])
  if mode == 'c' then
    if mine > 0 then
      redis.call('HSET', key, me, mine)
      redis.call('PEXPIRE', key, hashTtl)
    else
      redis.call('HDEL', key, me)
    end
  else
    local fields = redis.call('HGETALL', key)
    local sum, seenMe = mine, false
    for f = 1, #fields, 2 do
      local instance = fields[f]
      if instance == me then
        seenMe = true
        if tonumber(fields[f + 1]) ~= mine then
          if mine > 0 then redis.call('HSET', key, me, mine) else redis.call('HDEL', key, me) end
        end
      else
        local isAlive = alive[instance]
        if isAlive == nil then
          local aliveUntil = redis.call('HGET', live, instance)
          isAlive = aliveUntil ~= false and tonumber(aliveUntil) > now
          alive[instance] = isAlive
        end
        if isAlive then sum = sum + tonumber(fields[f + 1]) else redis.call('HDEL', key, instance) end
      end
    end
    if not seenMe and mine > 0 then redis.call('HSET', key, me, mine) end
    if sum > 0 then redis.call('PEXPIRE', key, hashTtl) end
    totals[#totals + 1] = sum
  end
end
if tonumber(redis.call('HGET', live, '~sweep') or '0') <= now then
  local fields = redis.call('HGETALL', live)
  for f = 1, #fields, 2 do
    if fields[f] ~= '~sweep' and tonumber(fields[f + 1]) <= now then redis.call('HDEL', live, fields[f]) end
  end
  redis.call('HSET', live, '~sweep', now + hashTtl)
end
return totals`;

/** Withdraws an instance from one group: KEYS[1] the liveness hash, KEYS[2..] its article hashes; ARGV[1] the instance. */
const LEAVE_SCRIPT = `
for k = 1, #KEYS do redis.call('HDEL', KEYS[k], ARGV[1]) end
return 0`;

/** The scripts as commands: ioredis sends EVALSHA, and the script itself only when a node does not know it yet. */
interface PresenceScripts {
  presenceSync(numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
  presenceLeave(numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
}

/** An article's part in one tick: `c` its count changed (not read any more), `r` it is read. */
interface GroupEntry {
  articleId: ArticleId;
  mode: 'c' | 'r';
  count: number;
}

/**
 * Readers counted across instances through Redis (a single Redis or a Redis Cluster), with no Redis
 * traffic per join or leave: each instance sends, once per tick, only the counts that changed, and
 * reads the totals of the articles it has readers of, in one script call per key group touched (the
 * calls are sent together, so a tick costs one round trip). An instance that stops ticking (killed) stops counting within `heartbeatTtlMs`.
 */
export class RedisPresenceStore implements PresenceStore {
  private readonly redis: RedisClient;
  private readonly scripts: PresenceScripts;
  private readonly keyPrefix: string;
  private readonly instanceId: string;
  private readonly heartbeatTtlMs: number;
  private readonly hashTtlMs: number;
  private readonly commandTimeoutMs: number;
  /** Articles this instance has a field in, so `close` can withdraw them. */
  private readonly written = new Set<ArticleId>();

  constructor(options: RedisPresenceOptions) {
    this.redis = options.redis;
    this.redis.defineCommand('presenceSync', { lua: SYNC_SCRIPT });
    this.redis.defineCommand('presenceLeave', { lua: LEAVE_SCRIPT });
    this.scripts = this.redis as unknown as PresenceScripts;
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
    const groups = new Map<number, GroupEntry[]>();
    const add = (entry: GroupEntry): void => {
      const group = presenceGroup(entry.articleId);
      const entries = groups.get(group);
      if (entries) entries.push(entry);
      else groups.set(group, [entry]);
    };
    for (const [articleId, count] of changed) add({ articleId, mode: 'c', count });
    for (const [articleId, count] of read) add({ articleId, mode: 'r', count });
    const answers = await withTimeout(
      Promise.all([...groups].map(([group, entries]) => this.syncGroup(group, entries))),
      this.commandTimeoutMs,
    );
    for (const [articleId, count] of changed) {
      if (count > 0) this.written.add(articleId);
      else this.written.delete(articleId);
    }
    for (const [articleId, count] of read) if (count > 0) this.written.add(articleId);
    return new Map(answers.flat());
  }

  async close(): Promise<void> {
    try {
      if (this.redis.status === 'ready') {
        const groups = new Map<number, ArticleId[]>();
        for (const articleId of this.written) {
          const group = presenceGroup(articleId);
          groups.set(group, [...(groups.get(group) ?? []), articleId]);
        }
        await withTimeout(
          Promise.all(
            [...groups].map(([group, articleIds]) => {
              const keys = presenceKeys(this.keyPrefix, group);
              return this.scripts.presenceLeave(
                articleIds.length + 1,
                keys.live,
                ...articleIds.map(keys.article),
                this.instanceId,
              );
            }),
          ),
          this.commandTimeoutMs,
        );
      }
    } catch {
      // Best effort: the liveness entry expires on its own.
    }
    try {
      await withTimeout(this.redis.quit(), this.commandTimeoutMs);
    } catch {
      this.redis.disconnect();
    }
  }

  /** Runs the sync script for one group; answers [article, total] for the articles read. */
  private async syncGroup(group: number, entries: readonly GroupEntry[]): Promise<Array<[ArticleId, number]>> {
    const keys = presenceKeys(this.keyPrefix, group);
    const args: Array<string | number> = [this.instanceId, this.heartbeatTtlMs, this.hashTtlMs];
    for (const entry of entries) args.push(entry.mode, entry.count);
    const answer: unknown = await this.scripts.presenceSync(
      entries.length + 1,
      keys.live,
      ...entries.map((entry) => keys.article(entry.articleId)),
      ...args,
    );
    const readIds = entries.filter((e) => e.mode === 'r').map((e) => e.articleId);
    if (!Array.isArray(answer) || answer.length !== readIds.length)
      throw new Error('presence script answered an unexpected shape');
    return readIds.map((articleId, index) => [articleId, Number(answer[index])]);
  }
}

import { Cluster } from 'ioredis';
import { hashSlot, type RedisClient } from '../redis/clients.ts';

/** Who serves a channel: the node key (`host:port`) of its master in a cluster, `redis` for a single Redis. */
export type ChannelOwner = string;

const SINGLE_OWNER: ChannelOwner = 'redis';

/**
 * Events of the link that matter to subscriptions:
 * - `lost(owner)`: subscriptions served by `owner` (every subscription when `owner` is null) may have
 *   stopped receiving: the connection carrying them closed.
 * - `changed()`: the link (re)connected or the cluster's slot map or subscriber connections changed:
 *   a good moment to check that every subscription is live where its channel is now served.
 */
export interface PubSubLinkEvents {
  lost(owner: ChannelOwner | null): void;
  changed(): void;
  message(channel: string, payload: string): void;
}

/**
 * Redis pub/sub as the fan-out uses it, over a single Redis (PUBLISH / SUBSCRIBE, one channel space) or
 * a Redis Cluster (SPUBLISH / SSUBSCRIBE, sharded pub/sub: a message touches only the shard that serves
 * its channel's slot, instead of being broadcast to every node as PUBLISH is). The publisher and the
 * subscriber are separate connections (a subscriber can do nothing else in RESP2); in a cluster the
 * subscriber holds one connection per master (ioredis' sharded subscribers).
 */
export class PubSubLink {
  readonly sharded: boolean;
  /** Hash slots of subscribed channels, computed once each (ownerOf runs for every subscription on topology changes). */
  private readonly slots = new Map<string, number>();

  constructor(
    readonly publisher: RedisClient,
    readonly subscriber: RedisClient,
  ) {
    this.sharded = subscriber instanceof Cluster;
    if (publisher instanceof Cluster !== this.sharded)
      throw new Error('publisher and subscriber must both be a single Redis or both a Redis Cluster');
  }

  /** Rejects at once while the cluster client is not connected (its offline queue only bridges node connects). */
  publish(channel: string, payload: string): Promise<unknown> {
    if (!this.sharded) return this.publisher.publish(channel, payload);
    if (this.publisher.status !== 'ready')
      return Promise.reject(new Error(`Redis Cluster is ${this.publisher.status}`));
    return this.publisher.spublish(channel, payload);
  }

  /**
   * Subscribes; resolves with the channels Redis confirmed (never rejects). `reassert` (cluster only)
   * first drops each channel from ioredis' own subscription list, so asserting a subscription again
   * never piles up duplicates there; the unsubscribe and subscribe travel on one connection, back to back.
   */
  async subscribe(channels: readonly string[], reassert = false): Promise<string[]> {
    if (channels.length === 0) return [];
    if (!this.sharded)
      return this.subscriber.subscribe(...channels).then(
        () => [...channels],
        () => [],
      );
    // One channel per SSUBSCRIBE: every command must stay within one slot, and channels rarely share one.
    const results = await Promise.allSettled(
      channels.map((channel) => {
        if (reassert) this.subscriber.sunsubscribe(channel).catch(() => undefined);
        return this.subscriber.ssubscribe(channel);
      }),
    );
    return channels.filter((_, index) => results[index]?.status === 'fulfilled');
  }

  async unsubscribe(channels: readonly string[]): Promise<void> {
    if (channels.length === 0) return;
    for (const channel of channels) this.slots.delete(channel);
    if (!this.sharded) await this.subscriber.unsubscribe(...channels);
    else await Promise.all(channels.map((channel) => this.subscriber.sunsubscribe(channel)));
  }

  /** The node now serving `channel`, as the subscriber's slot map says; null while the map has no owner for it. */
  ownerOf(channel: string): ChannelOwner | null {
    if (!(this.subscriber instanceof Cluster)) return SINGLE_OWNER;
    let slot = this.slots.get(channel);
    if (slot === undefined) {
      slot = hashSlot(channel);
      this.slots.set(channel, slot);
    }
    return this.subscriber.slots[slot]?.[0] ?? null;
  }

  /** Both connections can carry commands (in a cluster: the cluster client is connected). */
  get ready(): boolean {
    return this.publisher.status === 'ready' && this.subscriber.status === 'ready';
  }

  /** Attaches the handlers; returns a function that detaches them. */
  listen(events: PubSubLinkEvents): () => void {
    const subscriber = this.subscriber;
    const handlers: Array<[string, (...args: unknown[]) => void]> = [
      [this.sharded ? 'smessage' : 'message', (channel, payload) => events.message(String(channel), String(payload))],
      ['close', () => events.lost(null)],
      ['ready', () => events.changed()],
    ];
    if (this.sharded)
      handlers.push(
        // A sharded subscriber (or a pooled node connection) went away: ioredis passes its node key, or the client.
        ['-node', (client, nodeKey) => events.lost(typeof nodeKey === 'string' ? nodeKey : nodeKeyOf(client))],
        ['refresh', () => events.changed()],
        ['subscribersReady', () => events.changed()],
      );
    for (const [event, handler] of handlers) subscriber.on(event, handler);
    return () => {
      for (const [event, handler] of handlers) subscriber.off(event, handler);
    };
  }
}

/** `host:port` of an ioredis client, as the cluster's slot map names nodes; null when it cannot tell. */
function nodeKeyOf(client: unknown): ChannelOwner | null {
  const options = (client as { options?: { host?: unknown; port?: unknown } } | null)?.options;
  return typeof options?.host === 'string' && typeof options.port === 'number'
    ? `${options.host}:${options.port}`
    : null;
}

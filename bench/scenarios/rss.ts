import { setTimeout as sleep } from 'node:timers/promises';
import type { TargetSpec } from '../lib/servers.ts';
import { SubscriberPool } from '../lib/subscribers.ts';
import { withTarget, type Log } from './common.ts';

/** Connections opened and closed before the idle measurement. */
const WARMUP_CONNECTIONS = 200;

/** Server memory with `connections` idle subscribers (connected, subscribed, no traffic yet), after a full GC. */
export interface RssPoint {
  target: string;
  label: string;
  connections: number;
  rssMB: number;
  heapUsedMB: number;
  /** (RSS now − RSS with no connection) / connections; null at 0. */
  rssPerConnectionKB: number | null;
  heapPerConnectionKB: number | null;
  /** (RSS now − RSS at the previous count) / added connections: the cost of one more connection; null for the first two points. */
  rssMarginalKB: number | null;
}

const MB = 1048576;

/** Starts each target fresh, warms it up, measures it with no connection, then after ramping to each count. */
export async function runRss(options: {
  targets: readonly TargetSpec[];
  connections: readonly number[];
  runId: string;
  log: Log;
}): Promise<RssPoint[]> {
  const points: RssPoint[] = [];
  for (const spec of options.targets) {
    const articleIds = [`rss-${options.runId}-${spec.name}`];
    await withTarget(spec, options.runId, articleIds, async ({ target, pool }) => {
      // Warm the server up first (JIT-compiled handshake path, heap spaces sized), as any server that
      // has served before: otherwise those one-time costs are charged to the first connections.
      const warmup = new SubscriberPool({
        protocol: spec.protocol,
        batch: spec.batch,
        endpoints: target.endpoints,
        articleIds,
      });
      await warmup.grow(WARMUP_CONNECTIONS, () => 0);
      warmup.close();
      await sleep(1000);
      const idle = await target.stats({ gc: true });
      points.push({
        target: spec.name,
        label: spec.label,
        connections: 0,
        rssMB: idle.rssBytes / MB,
        heapUsedMB: idle.heapUsedBytes / MB,
        rssPerConnectionKB: null,
        heapPerConnectionKB: null,
        rssMarginalKB: null,
      });
      let previous: { count: number; rssBytes: number } | null = null;
      for (const count of [...options.connections].sort((a, b) => a - b)) {
        await pool.grow(count, () => 0);
        // Let handshake garbage and socket buffers settle before the collection.
        await sleep(1000);
        const now = await target.stats({ gc: true });
        const point: RssPoint = {
          target: spec.name,
          label: spec.label,
          connections: count,
          rssMB: now.rssBytes / MB,
          heapUsedMB: now.heapUsedBytes / MB,
          rssPerConnectionKB: (now.rssBytes - idle.rssBytes) / 1024 / count,
          heapPerConnectionKB: (now.heapUsedBytes - idle.heapUsedBytes) / 1024 / count,
          rssMarginalKB: previous ? (now.rssBytes - previous.rssBytes) / 1024 / (count - previous.count) : null,
        };
        previous = { count, rssBytes: now.rssBytes };
        points.push(point);
        options.log(
          `  ${spec.label}: ${count} idle connections: RSS ${point.rssMB.toFixed(1)} MB (${point.rssPerConnectionKB!.toFixed(1)} KB/conn${point.rssMarginalKB === null ? '' : `, ${point.rssMarginalKB.toFixed(1)} KB per added conn`}), heap ${point.heapUsedMB.toFixed(1)} MB (${point.heapPerConnectionKB!.toFixed(1)} KB/conn)`,
        );
      }
    });
  }
  return points;
}

import { oneLine, runPhase, warmUp, type CellResult } from '../lib/phase.ts';
import type { TargetSpec } from '../lib/servers.ts';
import { withTarget, type Log } from './common.ts';

export interface FanoutOptions {
  targets: readonly TargetSpec[];
  /** Ascending; the pool grows from one count to the next without reconnecting. */
  subscribers: readonly number[];
  rates: readonly number[];
  durationS: number;
  drainMs: number;
  runId: string;
  log: Log;
}

/**
 * One hot article: every subscriber watches it; for each subscriber count, each rate is one phase.
 * Subscribers of two-instance targets alternate between the instances; posts go to the first.
 */
export async function runFanout(options: FanoutOptions): Promise<CellResult[]> {
  const cells: CellResult[] = [];
  const counts = [...options.subscribers].sort((a, b) => a - b);
  for (const spec of options.targets) {
    const articleIds = [`hot-${options.runId}-${spec.name}`];
    options.log(`fan-out: ${spec.label}`);
    await withTarget(spec, options.runId, articleIds, async ({ target, pool, poster }) => {
      for (const count of counts) {
        const started = Date.now();
        await pool.grow(count, () => 0);
        options.log(`  ${count} subscribers connected in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        const ctx = {
          scenario: 'fanout' as const,
          target,
          pool,
          poster,
          articleIds,
          articleOf: () => 0,
          drainMs: options.drainMs,
        };
        if (count === counts[0]) await warmUp(ctx);
        for (const rate of options.rates) {
          const cell = await runPhase(ctx, rate, options.durationS);
          cells.push(cell);
          options.log(`  ${oneLine(cell)}`);
        }
      }
    });
  }
  return cells;
}

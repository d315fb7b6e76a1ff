import { cellHealthy, oneLine, runPhase, warmUp, type CellResult } from '../lib/phase.ts';
import type { TargetSpec } from '../lib/servers.ts';
import { withTarget, type Log } from './common.ts';

export interface SaturationResult {
  target: string;
  label: string;
  subscribers: number;
  /** Highest rate that kept p99 ≤ 1 s with nothing lost; null if the first step failed. */
  sustainedRate: number | null;
  /** First rate that failed; null if every step passed. */
  failedRate: number | null;
  steps: CellResult[];
}

export interface SaturationOptions {
  targets: readonly TargetSpec[];
  subscribers: number;
  rates: readonly number[];
  durationS: number;
  drainMs: number;
  runId: string;
  log: Log;
}

/** Step-up search on one hot article: raise the rate until p99 passes 1 s or anything is lost. */
export async function runSaturation(options: SaturationOptions): Promise<SaturationResult[]> {
  const results: SaturationResult[] = [];
  for (const spec of options.targets) {
    const articleIds = [`sat-${options.runId}-${spec.name}`];
    options.log(`saturation: ${spec.label}, ${options.subscribers} subscribers`);
    const result: SaturationResult = {
      target: spec.name,
      label: spec.label,
      subscribers: options.subscribers,
      sustainedRate: null,
      failedRate: null,
      steps: [],
    };
    await withTarget(spec, options.runId, articleIds, async ({ target, pool, poster }) => {
      await pool.grow(options.subscribers, () => 0);
      const ctx = {
        scenario: 'saturation' as const,
        target,
        pool,
        poster,
        articleIds,
        articleOf: () => 0,
        drainMs: options.drainMs,
      };
      await warmUp(ctx);
      for (const rate of [...options.rates].sort((a, b) => a - b)) {
        const cell = await runPhase(ctx, rate, options.durationS);
        result.steps.push(cell);
        const healthy = cellHealthy(cell);
        options.log(`  ${healthy ? 'ok  ' : 'FAIL'} ${oneLine(cell)}`);
        if (!healthy) {
          result.failedRate = rate;
          break;
        }
        result.sustainedRate = rate;
      }
    });
    results.push(result);
  }
  return results;
}

import { oneLine, runPhase, warmUp, type CellResult } from '../lib/phase.ts';
import type { TargetSpec } from '../lib/servers.ts';
import { seededRandom, withTarget, type Log } from './common.ts';

export interface ArticlesOptions {
  targets: readonly TargetSpec[];
  articles: number;
  perArticle: number;
  /** Comments per second over all articles. */
  rate: number;
  durationS: number;
  drainMs: number;
  runId: string;
  log: Log;
}

/** Many quiet articles: `articles × perArticle` subscribers, each comment to a random article (same sequence for every target). */
export async function runArticles(options: ArticlesOptions): Promise<CellResult[]> {
  const cells: CellResult[] = [];
  for (const spec of options.targets) {
    const articleIds = Array.from({ length: options.articles }, (_, i) => `many-${options.runId}-${spec.name}-${i}`);
    const random = seededRandom(42);
    const picks = Array.from({ length: Math.ceil(options.rate * options.durationS) + 1 }, () =>
      Math.floor(random() * options.articles),
    );
    options.log(`many articles: ${spec.label}`);
    await withTarget(spec, options.runId, articleIds, async ({ target, pool, poster }) => {
      await pool.grow(options.articles * options.perArticle, (i) => i % options.articles);
      const ctx = {
        scenario: 'articles' as const,
        target,
        pool,
        poster,
        articleIds,
        articleOf: (n: number) => picks[n] ?? 0,
        drainMs: options.drainMs,
      };
      await warmUp(ctx);
      const cell = await runPhase(ctx, options.rate, options.durationS);
      cells.push(cell);
      options.log(`  ${oneLine(cell)}`);
    });
  }
  return cells;
}

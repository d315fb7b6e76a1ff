import type { IdleReadersResult } from '../scenarios/idle-readers.ts';
import type { ImportResult } from '../scenarios/import.ts';
import type { RssPoint } from '../scenarios/rss.ts';
import type { SaturationResult } from '../scenarios/saturation.ts';
import type { WritePathResult } from '../scenarios/write-path.ts';
import type { MachineInfo } from './machine.ts';
import type { CellResult } from './phase.ts';
import type { TargetCheck } from './targets.ts';

/** Everything one run produced: the JSON file is exactly this. */
export interface BenchResults {
  mode: 'full' | 'quick' | 'custom';
  argv: string[];
  startedAt: string;
  finishedAt: string;
  durationS: number;
  machine: MachineInfo;
  targets: TargetCheck[];
  fanout: CellResult[];
  articles: CellResult[];
  saturation: SaturationResult[];
  rss: RssPoint[];
  writePath: WritePathResult | null;
  /** Idle readers of one instance (issue 16, item 4); absent in results written before the scenario existed. */
  idle?: IdleReadersResult | null;
  /** Import and export rates; absent in results written before the scenario existed. */
  imports?: ImportResult | null;
  /** Scenario groups that failed to run, with the error. */
  errors: Array<{ group: string; error: string }>;
}

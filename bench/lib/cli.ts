import { TARGETS, type TargetName, type TargetSpec } from './servers.ts';

export const GROUPS = ['write', 'rss', 'idle', 'fanout', 'hot', 'articles', 'saturation', 'import'] as const;
export type Group = (typeof GROUPS)[number];

/** Everything one run does; the defaults of a full run, or of `--quick`, adjusted by flags. */
export interface BenchPlan {
  mode: 'full' | 'quick' | 'custom';
  groups: Group[];
  outDir: string;
  write: { durationS: number; concurrency: number; openLoopRate: number };
  rss: { targets: TargetSpec[]; connections: number[] };
  /** Idle subscribed readers of one product instance, opened from several generator processes. */
  idle: { connections: number; workers: number };
  fanout: { targets: TargetSpec[]; subscribers: number[]; rates: number[]; durationS: number; drainMs: number };
  /** Fan-out cells beyond the grid: the largest room one generator process can hold, product and bare Socket.IO only. */
  hot: { targets: TargetSpec[]; subscribers: number[]; rates: number[]; durationS: number; drainMs: number };
  articles: {
    targets: TargetSpec[];
    articles: number;
    perArticle: number;
    rate: number;
    durationS: number;
    drainMs: number;
  };
  saturation: { targets: TargetSpec[]; subscribers: number; rates: number[]; durationS: number; drainMs: number };
  /** A generated Disqus export imported with `npm run comments` into SQLite and PostgreSQL, then exported. */
  import: { posts: number; threads: number };
}

const t = (...names: TargetName[]) => names.map((name) => TARGETS[name]);

function fullPlan(): BenchPlan {
  return {
    mode: 'full',
    groups: [...GROUPS],
    outDir: 'bench/results',
    write: { durationS: 5, concurrency: 32, openLoopRate: 500 },
    rss: { targets: t('ws', 'socketio', 'product', 'socketio-redis', 'product-redis'), connections: [1000, 5000] },
    idle: { connections: 18_000, workers: 4 },
    fanout: {
      targets: t('ws', 'socketio', 'product', 'product-nobatch', 'socketio-redis', 'product-redis'),
      subscribers: [100, 1000, 5000, 10_000],
      rates: [1, 10, 50],
      durationS: 6,
      drainMs: 6000,
    },
    hot: { targets: t('socketio', 'product'), subscribers: [18_000], rates: [10], durationS: 6, drainMs: 6000 },
    articles: {
      targets: t('ws', 'socketio', 'product', 'socketio-redis', 'product-redis'),
      articles: 1000,
      perArticle: 5,
      rate: 100,
      durationS: 10,
      drainMs: 8000,
    },
    saturation: {
      targets: t('ws', 'socketio', 'product'),
      subscribers: 5000,
      rates: [25, 50, 100, 200, 400, 800, 1600],
      durationS: 5,
      drainMs: 8000,
    },
    import: { posts: 100_000, threads: 5000 },
  };
}

function quickPlan(): BenchPlan {
  return {
    mode: 'quick',
    groups: [...GROUPS],
    outDir: 'bench/results/quick',
    write: { durationS: 2, concurrency: 16, openLoopRate: 500 },
    rss: { targets: t('product'), connections: [1000] },
    idle: { connections: 1000, workers: 2 },
    fanout: {
      targets: t('ws', 'socketio', 'product', 'product-redis'),
      subscribers: [100, 1000],
      rates: [10, 50],
      durationS: 2,
      drainMs: 3000,
    },
    hot: { targets: t('socketio', 'product'), subscribers: [2000], rates: [10], durationS: 2, drainMs: 3000 },
    articles: {
      targets: t('socketio', 'product'),
      articles: 200,
      perArticle: 5,
      rate: 50,
      durationS: 2,
      drainMs: 3000,
    },
    saturation: { targets: t('product'), subscribers: 1000, rates: [100, 400], durationS: 2, drainMs: 3000 },
    import: { posts: 2000, threads: 100 },
  };
}

export const USAGE = `Usage: npm run bench -- [options]
  (no option)            the full run (about 15-20 minutes), results in bench/results/latest.{json,md,svg}
  --quick                a short run of every scenario (under 2 minutes), results in bench/results/quick/
  --only=a,b             run only these groups: ${GROUPS.join(', ')}
  --targets=a,b          targets for fanout, articles, saturation and rss: ${Object.keys(TARGETS).join(', ')}
  --subs=100,1000        subscriber counts of the fan-out scenario
  --rates=1,10,50        comment rates (per second) of the fan-out scenario
  --duration=S           seconds per fan-out phase
  --sat-subs=N           subscribers of the saturation search
  --sat-rates=a,b        rates of the saturation search
  --idle-conns=N          idle subscribed readers of one instance (idle group; split over 4 generator processes)
  --import-posts=N       posts in the generated Disqus export of the import scenario (threads: N / 20)
  --render=FILE          rebuild the report and chart of a finished run from its latest.json
  --out=DIR              where results go (default: bench/results for a full run, bench/results/quick or bench/results/custom otherwise)
Example, one cell: npm run bench -- --only=fanout --targets=product,socketio --subs=5000 --rates=50`;

function numbers(value: string, flag: string): number[] {
  const list = value.split(',').map((part) => Number(part.trim()));
  if (list.length === 0 || list.some((n) => !Number.isFinite(n) || n <= 0))
    throw new Error(`${flag} needs positive numbers, got "${value}"`);
  return list;
}

/** Reads the command line; throws with a message for anything it does not understand. */
export function parseArgs(argv: readonly string[]): BenchPlan | 'help' {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') return 'help';
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unknown argument "${arg}"`);
    flags.set(match[1]!, match[2] ?? 'true');
  }
  const plan = flags.has('quick') ? quickPlan() : fullPlan();
  flags.delete('quick');
  let custom = false;
  for (const [flag, value] of flags) {
    custom = custom || flag !== 'out';
    switch (flag) {
      case 'only': {
        const groups = value.split(',').map((g) => g.trim());
        const unknown = groups.filter((g) => !(GROUPS as readonly string[]).includes(g));
        if (unknown.length > 0) throw new Error(`unknown group(s) ${unknown.join(', ')}; known: ${GROUPS.join(', ')}`);
        plan.groups = groups as Group[];
        break;
      }
      case 'targets': {
        const names = value.split(',').map((n) => n.trim());
        const unknown = names.filter((n) => !(n in TARGETS));
        if (unknown.length > 0)
          throw new Error(`unknown target(s) ${unknown.join(', ')}; known: ${Object.keys(TARGETS).join(', ')}`);
        const specs = names.map((n) => TARGETS[n as TargetName]);
        plan.fanout.targets = specs;
        plan.articles.targets = specs;
        plan.saturation.targets = specs;
        plan.rss.targets = specs;
        break;
      }
      case 'idle-conns':
        plan.idle.connections = numbers(value, '--idle-conns')[0]!;
        break;
      case 'subs':
        plan.fanout.subscribers = numbers(value, '--subs');
        break;
      case 'rates':
        plan.fanout.rates = numbers(value, '--rates');
        break;
      case 'duration':
        plan.fanout.durationS = numbers(value, '--duration')[0]!;
        break;
      case 'sat-subs':
        plan.saturation.subscribers = numbers(value, '--sat-subs')[0]!;
        break;
      case 'sat-rates':
        plan.saturation.rates = numbers(value, '--sat-rates');
        break;
      case 'import-posts': {
        const posts = numbers(value, '--import-posts')[0]!;
        plan.import = { posts, threads: Math.max(1, Math.round(posts / 20)) };
        break;
      }
      case 'out':
        plan.outDir = value;
        break;
      default:
        throw new Error(`unknown option --${flag}`);
    }
  }
  if (custom) {
    plan.mode = 'custom';
    if (!flags.has('out')) plan.outDir = 'bench/results/custom';
  }
  return plan;
}

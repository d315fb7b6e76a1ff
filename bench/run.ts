/**
 * `npm run bench` — the fan-out benchmark: the product side by side with bare ws and bare Socket.IO
 * baselines, driven by one load generator (this process) on 127.0.0.1. See `npm run bench -- --help`.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { nanoid } from 'nanoid';
import { renderChart } from './lib/chart.ts';
import { parseArgs, USAGE, type BenchPlan } from './lib/cli.ts';
import { machineInfo } from './lib/machine.ts';
import { renderMarkdown } from './lib/report.ts';
import type { BenchResults } from './lib/results.ts';
import { REDIS_URL, REPO_ROOT } from './lib/servers.ts';
import { checkTargets } from './lib/targets.ts';
import { runArticles } from './scenarios/articles.ts';
import { runFanout } from './scenarios/fanout.ts';
import { runImportBench } from './scenarios/import.ts';
import { runRss } from './scenarios/rss.ts';
import { runSaturation } from './scenarios/saturation.ts';
import { runWritePath } from './scenarios/write-path.ts';
import { runIdleReaders } from './scenarios/idle-readers.ts';

const started = Date.now();
const log = (line: string) =>
  process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

function redisReachable(): Promise<boolean> {
  const url = new URL(REDIS_URL);
  return new Promise((done) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 6379), timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      done(false);
    });
    socket.once('error', () => done(false));
  });
}

/** Fails early, with the reason, when the run cannot work on this machine. */
async function preflight(plan: BenchPlan, openFiles: string): Promise<void> {
  const wanted = [
    plan.groups.includes('fanout') ? Math.max(...plan.fanout.subscribers) : 0,
    plan.groups.includes('hot') ? Math.max(...plan.hot.subscribers) : 0,
    plan.groups.includes('saturation') ? plan.saturation.subscribers : 0,
    plan.groups.includes('articles') ? plan.articles.articles * plan.articles.perArticle : 0,
    plan.groups.includes('rss') ? Math.max(...plan.rss.connections) : 0,
  ];
  const needed = Math.max(...wanted) + 500;
  if (openFiles !== 'unlimited' && Number(openFiles) < needed) {
    throw new Error(
      `the generator may open ${needed} files but the limit is ${openFiles}: run \`ulimit -n 20000\` first`,
    );
  }
  const usesRedis = [
    ...plan.fanout.targets,
    ...plan.articles.targets,
    ...plan.saturation.targets,
    ...plan.rss.targets,
  ].some((t) => t.instances > 1);
  if (usesRedis && !(await redisReachable()))
    throw new Error(`two-instance targets need Redis at ${REDIS_URL} (set BENCH_REDIS_URL)`);
}

/** Writes the JSON, the markdown report and the chart of a run into `outDir`. */
function writeResults(results: BenchResults, outDir: string): boolean {
  mkdirSync(outDir, { recursive: true });
  const chart = renderChart(
    results.fanout,
    `p99 delivery latency, one hot article (${results.mode} run, ${results.machine.cores} cores)`,
  );
  // A run without fan-out cells has no chart: never leave an older run's chart beside these results.
  if (chart) writeFileSync(join(outDir, 'latest.svg'), chart);
  else rmSync(join(outDir, 'latest.svg'), { force: true });
  writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(outDir, 'latest.md'), renderMarkdown(results, chart ? 'latest.svg' : null));
  return chart !== null;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  // `--render=DIR/latest.json`: rebuild the targets, report and chart of a finished run (after a change to the report code).
  const render = argv.find((arg) => arg.startsWith('--render='));
  if (render) {
    const file = resolve(render.slice('--render='.length));
    const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
    results.targets = checkTargets({
      fanout: results.fanout,
      rss: results.rss,
      writePath: results.writePath,
      idle: results.idle ?? null,
    });
    writeResults(results, dirname(file));
    log(`rendered ${relative(REPO_ROOT, dirname(file)) || '.'}/latest.{json,md,svg} from ${relative(REPO_ROOT, file)}`);
    return 0;
  }
  let plan: BenchPlan | 'help';
  try {
    plan = parseArgs(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (plan === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const machine = machineInfo();
  await preflight(plan, machine.openFilesLimit);
  const runId = nanoid(6).replace(/[^A-Za-z0-9]/g, 'x');
  log(
    `${plan.mode} run ${runId}: ${plan.groups.join(', ')} on ${machine.cores} × ${machine.cpuModel}, load ${machine.loadavgStart.join(' ')}`,
  );

  const results: BenchResults = {
    mode: plan.mode,
    argv,
    startedAt: new Date(started).toISOString(),
    finishedAt: '',
    durationS: 0,
    machine,
    targets: [],
    fanout: [],
    articles: [],
    saturation: [],
    rss: [],
    writePath: null,
    idle: null,
    imports: null,
    errors: [],
  };
  const attempt = async (group: string, body: () => Promise<void>) => {
    if (!plan.groups.includes(group as BenchPlan['groups'][number])) return;
    try {
      await body();
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      results.errors.push({ group, error: message });
      log(`${group} FAILED: ${message}`);
    }
  };

  await attempt('write', async () => {
    results.writePath = await runWritePath({ ...plan.write, runId, log });
  });
  await attempt('rss', async () => {
    results.rss = await runRss({ ...plan.rss, runId, log });
  });
  await attempt('idle', async () => {
    results.idle = await runIdleReaders({ ...plan.idle, runId, log });
  });
  await attempt('fanout', async () => {
    results.fanout = await runFanout({ ...plan.fanout, runId, log });
  });
  await attempt('hot', async () => {
    results.fanout.push(...(await runFanout({ ...plan.hot, runId, log })));
  });
  await attempt('articles', async () => {
    results.articles = await runArticles({ ...plan.articles, runId, log });
  });
  await attempt('saturation', async () => {
    results.saturation = await runSaturation({ ...plan.saturation, runId, log });
  });
  await attempt('import', async () => {
    results.imports = await runImportBench({ ...plan.import, runId, log });
  });

  results.machine.loadavgEnd = loadavg().map((l) => Math.round(l * 100) / 100);
  results.finishedAt = new Date().toISOString();
  results.durationS = (Date.now() - started) / 1000;
  results.targets = checkTargets({
    fanout: results.fanout,
    rss: results.rss,
    writePath: results.writePath,
    idle: results.idle ?? null,
  });

  const outDir = resolve(REPO_ROOT, plan.outDir);
  const chart = writeResults(results, outDir);

  log(
    `done in ${Math.round(results.durationS)} s; results in ${relative(REPO_ROOT, outDir) || '.'}/latest.{json,md${chart ? ',svg' : ''}}`,
  );
  for (const check of results.targets)
    log(`  ${check.pass === null ? '  -  ' : check.pass ? ' met ' : 'MISSED'} ${check.target}: ${check.measured}`);
  if (results.errors.length > 0) {
    log(`${results.errors.length} group(s) failed: ${results.errors.map((e) => e.group).join(', ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

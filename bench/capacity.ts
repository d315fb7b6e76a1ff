/**
 * The capacity model of docs/capacity.md, as a script: `npm run capacity [-- --bench=FILE] [--readers=N]
 * [--articles=N] [--hot-readers=N] [--hot-rate=N] [--p99-ms=N]`.
 *
 * `--frame-bytes=N` sets the size of one frame on the wire for the egress estimate (default 420: a
 * comment of 200 characters as JSON with its WebSocket and Socket.IO framing).
 *
 * 1. Reads the costs a full `npm run bench` measured (by default bench/results/2026-11-28/latest.json, the last full run
 *    whose fan-out grid completed: the run of 2026-12-06 lost it to the machine's load).
 * 2. Checks the model against that run: for every single-instance hot-article cell of the product it
 *    predicts the server's CPU and the p99 delivery latency from the costs alone, and prints them
 *    beside what was measured, with the ratio. The model is only as good as that table.
 * 3. Sizes a site: readers over articles with a Zipf popularity (s = 1), comments proportional to
 *    readers, everything spread evenly over the instances by the balancer; it answers how many
 *    instances (one per core), how much memory, how many Redis messages and writes per second.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

interface Cell {
  target: string;
  instances: number;
  subscribers: number;
  articles: number;
  rate: number;
  deliveriesPerSec: number;
  server: { cpuCores: number; rssMB: number };
  delivery: { latency: { p50: number; p99: number } };
}

interface BenchRun {
  startedAt: string;
  machine: { cpuModel: string; cores: number; openFilesLimit: string; loadavgStart: number[] };
  fanout: Cell[];
  rss: Array<{ target: string; connections: number; rssPerConnectionKB: number | null }>;
  writePath: { httpMax: { postsPerSec: number; serverCpuCores: number } };
}

/** The broadcaster's window (server/socket/broadcaster.ts): a busy article waits windowFactor × its last flush. */
const WINDOW_FACTOR = 0.5;
/** Share of a core an instance may plan to use (the rest is headroom for bursts, GC, reconnect storms). */
const PLANNED_CORE = 0.7;
/** Connections one process may hold here (20,000 open files, minus the server's own). */
const CONNECTIONS_PER_PROCESS = 18_000;

function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const value = arg ? Number(arg.slice(name.length + 3)) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

/** The costs the model runs on, each from one measurement of the run (never fitted to the cells it predicts). */
interface Costs {
  /** Server CPU µs per frame written to one subscriber (a comment, or a batch of them): 1,000 × 10/s cell. */
  frameUs: number;
  /** Server CPU µs per post over HTTP (validation, store commit, publish): the write path at its maximum. */
  postUs: number;
  /** RSS per idle subscribed connection, KB (the product at 5,000 connections). */
  connectionKB: number;
}

function costsOf(run: BenchRun): Costs {
  const calm = run.fanout.find((c) => c.target === 'product' && c.subscribers === 1000 && c.rate === 10);
  const rss = run.rss.find((r) => r.target === 'product' && r.connections === 5000);
  if (!calm || !rss?.rssPerConnectionKB)
    throw new Error('The bench run lacks the 1,000 × 10/s cell or the RSS at 5,000');
  const postUs = (run.writePath.httpMax.serverCpuCores / run.writePath.httpMax.postsPerSec) * 1e6;
  // The calm cell's CPU also paid for its 10 posts/s; what is left is the frames (one per comment per subscriber).
  const frameUs = ((calm.server.cpuCores - (calm.rate * postUs) / 1e6) / calm.deliveriesPerSec) * 1e6;
  return { frameUs, postUs, connectionKB: rss.rssPerConnectionKB };
}

/**
 * One article on one instance: `subscribers` of it there, `rate` comments/s. Below saturation every
 * comment is one frame per subscriber; a busy article flushes at most once per (1 + windowFactor) ×
 * its flush time, so its frames per second are capped and each frame carries several comments.
 */
function articleLoad(costs: Costs, subscribers: number, rate: number) {
  const flushS = (subscribers * costs.frameUs) / 1e6;
  const maxFlushesPerS = 1 / ((1 + WINDOW_FACTOR) * flushS);
  const flushesPerS = Math.min(rate, maxFlushesPerS);
  const cpuCores = flushesPerS * flushS;
  const batched = rate > maxFlushesPerS;
  // A comment waits for the window in progress (up to a cycle) and then for its turn in the flush; the
  // p99 is near the worst of both. Unbatched, only its turn in the flush.
  const cycleS = (1 + WINDOW_FACTOR) * flushS;
  const p99Ms = (batched ? cycleS + flushS : flushS) * 1000;
  return { cpuCores, batched, p99Ms, flushesPerS };
}

function checkAgainst(run: BenchRun, costs: Costs): void {
  console.log('\nThe model against the measured run (one instance, one hot article, product with batching):\n');
  console.log(
    '| subscribers × comments/s | CPU predicted | CPU measured | ratio | p99 predicted | p99 measured | ratio |',
  );
  console.log('|---|--:|--:|--:|--:|--:|--:|');
  for (const cell of run.fanout) {
    if (cell.target !== 'product' || cell.instances !== 1 || cell.articles !== 1 || cell.subscribers < 1000) continue;
    const load = articleLoad(costs, cell.subscribers, cell.rate);
    const cpu = load.cpuCores + (cell.rate * costs.postUs) / 1e6;
    const measured = cell.server.cpuCores;
    const p99 = cell.delivery.latency.p99;
    console.log(
      `| ${cell.subscribers.toLocaleString('en')} × ${cell.rate}${load.batched ? ' (batched)' : ''} | ${cpu.toFixed(2)} | ${measured.toFixed(2)} | ${(cpu / measured).toFixed(2)} | ${load.p99Ms.toFixed(0)} ms | ${p99.toFixed(0)} ms | ${(load.p99Ms / p99).toFixed(2)} |`,
    );
  }
}

/** Readers of each article, most read first: Zipf (s = 1), scaled so they add up to `readers`, the first pinned to `hot`. */
function popularity(readers: number, articles: number, hot: number): number[] {
  const weights = Array.from({ length: articles - 1 }, (_, i) => 1 / (i + 2));
  const sum = weights.reduce((a, b) => a + b, 0);
  return [hot, ...weights.map((w) => ((readers - hot) * w) / sum)];
}

function size(costs: Costs): void {
  const readers = option('readers', 1_000_000);
  const articles = option('articles', 10_000);
  const hotReaders = option('hot-readers', 100_000);
  const hotRate = option('hot-rate', 50);
  const p99Goal = option('p99-ms', 250);
  const frameBytes = option('frame-bytes', 420);
  const perArticle = popularity(readers, articles, hotReaders);
  // Comments in proportion to readers: the hot article's rate per reader holds everywhere.
  const perReader = hotRate / hotReaders;
  const postsPerS = readers * perReader;

  const plan = (instances: number) => {
    let cpu = (postsPerS * costs.postUs) / 1e6 / instances;
    let hotP99 = 0;
    for (const [i, articleReaders] of perArticle.entries()) {
      const here = articleReaders / instances;
      if (here < 1e-6) continue;
      const load = articleLoad(costs, here, articleReaders * perReader);
      cpu += load.cpuCores;
      if (i === 0) hotP99 = load.p99Ms;
    }
    return { cpu, hotP99, connections: readers / instances };
  };
  let instances = 1;
  for (;;) {
    const p = plan(instances);
    if (p.cpu <= PLANNED_CORE && p.hotP99 <= p99Goal && p.connections <= CONNECTIONS_PER_PROCESS) break;
    instances += 1;
  }
  const chosen = plan(instances);
  const byLimit = (limit: string, needed: number) => `${limit}: ${needed}`;
  let cpuOnly = 1;
  while (plan(cpuOnly).cpu > PLANNED_CORE) cpuOnly += 1;
  let latencyOnly = 1;
  while (plan(latencyOnly).hotP99 > p99Goal) latencyOnly += 1;
  const fdOnly = Math.ceil(readers / CONNECTIONS_PER_PROCESS);
  const memoryGB = (readers * costs.connectionKB) / 1024 / 1024 + instances * 0.13;
  // Every instance holds readers of nearly every read article, so it subscribes to their channels: a
  // comment reaches one shard and is sent on to every instance subscribed (sharded pub/sub).
  const subscribedInstances = (articleReaders: number) => Math.min(instances, Math.max(1, articleReaders));
  const redisOutPerS = perArticle.reduce((sum, r) => sum + r * perReader * subscribedInstances(r), 0);

  console.log(
    `\nA site of ${readers.toLocaleString('en')} readers over ${articles.toLocaleString('en')} articles (Zipf), the hottest at ${hotReaders.toLocaleString('en')} readers and ${hotRate} comments/s:\n`,
  );
  console.log(
    `- comments: ${Math.round(postsPerS)} posts/s in all (${(perReader * 1000).toFixed(2)} per 1,000 readers per second)`,
  );
  console.log(`- instances (one per core, planned at ${PLANNED_CORE * 100}% of it): **${instances}**, the most of`);
  console.log(
    `  ${byLimit('CPU', cpuOnly)}, ${byLimit(`hot article p99 ≤ ${p99Goal} ms`, latencyOnly)}, ${byLimit(`${CONNECTIONS_PER_PROCESS.toLocaleString('en')} connections per process`, fdOnly)}`,
  );
  console.log(
    `- per instance: ${Math.round(chosen.connections).toLocaleString('en')} connections, ${chosen.cpu.toFixed(2)} core, hot article p99 ≈ ${chosen.hotP99.toFixed(0)} ms`,
  );
  console.log(
    `- memory: ≈ ${memoryGB.toFixed(1)} GB of RSS in all (${costs.connectionKB.toFixed(1)} KB per connection, 130 MB per process)`,
  );
  console.log(
    `- Redis: ${Math.round(postsPerS)} messages/s published, ≈ ${Math.round(redisOutPerS).toLocaleString('en')}/s delivered to instances`,
  );
  const framesPerS = perArticle.reduce((sum, r) => {
    const load = articleLoad(costs, r / instances, r * perReader);
    return sum + load.flushesPerS * r;
  }, 0);
  console.log(
    `- network: ≈ ${(framesPerS / 1e6).toFixed(1)} M frames/s to readers, ≈ ${((framesPerS * frameBytes * 8) / 1e9).toFixed(1)} Gbit/s at ${frameBytes} bytes a frame`,
  );
  console.log(`- store: ${Math.round(postsPerS)} writes/s (each post one transaction), plus likes and edits`);
}

const file = resolve(
  process.argv.find((a) => a.startsWith('--bench='))?.slice('--bench='.length) ??
    'bench/results/2026-11-28/latest.json',
);
const run = JSON.parse(readFileSync(file, 'utf8')) as BenchRun;
const costs = costsOf(run);
console.log(
  `Costs from ${file} (${run.startedAt}, ${run.machine.cores} × ${run.machine.cpuModel}, load ${run.machine.loadavgStart[0]} at the start):`,
);
console.log(`- ${costs.frameUs.toFixed(1)} µs of server CPU per frame to one subscriber`);
console.log(`- ${costs.postUs.toFixed(0)} µs of server CPU per post over HTTP`);
console.log(`- ${costs.connectionKB.toFixed(1)} KB of RSS per idle subscribed connection`);
checkAgainst(run, costs);
size(costs);

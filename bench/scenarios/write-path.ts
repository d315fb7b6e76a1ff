import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { latencyHistogram, recordMs, summarize, type LatencySummary } from '../lib/histogram.ts';
import { markedBody } from '../lib/marker.ts';
import { Poster, runOpenLoop } from '../lib/publisher.ts';
import { LeanPoster } from '../lib/lean-poster.ts';
import { benchSchema } from '../lib/postgres.ts';
import { REPO_ROOT, ServerProcess, startTarget, TARGETS, type Endpoint } from '../lib/servers.ts';
import type { Log } from './common.ts';

export interface WritePathResult {
  /** The comment service and SQLite store alone, one post after another, in their own process. */
  inProcess: {
    posts: number;
    postsPerSec: number;
    cpuUsPerPost: number;
    latency: LatencySummary;
    /**
     * The moderation pipeline in the same process: µs per check with the default settings and with
     * 1,000 banned and 1,000 suspect words, and the write path again with those lists (ratio of posts/s).
     */
    moderation?: {
      bannedWords: number;
      suspectWords: number;
      compileMs: number;
      usPerCheckEmpty: number;
      usPerCheckLists: number;
      postsPerSecWithLists: number;
      cpuUsPerPostWithLists: number;
      throughputRatio: number;
    };
  };
  /** Over HTTP, `concurrency` posters as fast as the server answers. */
  httpMax: ClosedLoopSummary & { concurrency: number };
  /** The same posters against a bare Express + better-sqlite3 insert endpoint (bench/baselines/express-sqlite.ts), in alternating rounds. */
  baselineMax?: ClosedLoopSummary;
  /** The same posters against Node's HTTP server with the same insert and no framework (bench/baselines/node-sqlite.ts): the machine's floor. */
  floorMax?: ClosedLoopSummary;
  /** The product on PostgreSQL (BENCH_DATABASE_URL), the same posters; absent when the database could not be reached. */
  postgresMax?: ClosedLoopSummary;
  /** Over HTTP on an open-loop schedule at `rate` posts/s; latency from each post's intended send time. */
  httpOpenLoop: { rate: number; posts: number; failed: number; latency: LatencySummary; serverEldP99: number };
}

/** Closed-loop posting over HTTP against one server, summed over its rounds. */
export interface ClosedLoopSummary {
  posts: number;
  failed: number;
  postsPerSec: number;
  latency: LatencySummary;
  serverCpuCores: number;
  serverCpuUsPerPost: number;
  serverEldP99: number;
  generatorCpuCores: number;
}

/** Product and baseline take turns this many times, so a burst of load from elsewhere falls on both. */
const ROUNDS = 4;

interface ClosedLoopRound {
  posts: number;
  failed: number;
  elapsedS: number;
  histogram: ReturnType<typeof latencyHistogram>;
  serverCpuUs: number;
  serverEldP99: number;
  generatorCpuUs: number;
}

/** A server the closed loop posts to, with its CPU and event-loop figures. */
interface Side {
  endpoint: Endpoint;
  stats: (options?: { reset?: boolean }) => Promise<{ cpuUs: number; eldP99: number }>;
}

/** One closed-loop round against a side, with the server's and the generator's CPU. */
async function measureRound(side: Side, concurrency: number, articles: readonly string[], forMs: number) {
  const lean = new LeanPoster(side.endpoint, concurrency);
  try {
    const before = await side.stats({ reset: true });
    const cpuBefore = process.cpuUsage();
    const measured = await closedLoop(lean, concurrency, articles, forMs);
    const cpu = process.cpuUsage(cpuBefore);
    const after = await side.stats();
    return {
      ...measured,
      serverCpuUs: after.cpuUs - before.cpuUs,
      serverEldP99: after.eldP99,
      generatorCpuUs: cpu.user + cpu.system,
    };
  } finally {
    lean.close();
  }
}

const describeMax = (m: ClosedLoopSummary) =>
  `${Math.round(m.postsPerSec)} posts/s (failed ${m.failed}), p50 ${m.latency.p50} p99 ${m.latency.p99} ms, server ${(m.serverCpuCores * 100).toFixed(0)}% CPU (${Math.round(m.serverCpuUsPerPost)} µs/post), generator ${(m.generatorCpuCores * 100).toFixed(0)}%`;

/** `concurrency` posters, each posting as soon as its last answer came, for `forMs`. */
async function closedLoop(
  poster: LeanPoster,
  concurrency: number,
  articles: readonly string[],
  forMs: number,
): Promise<Pick<ClosedLoopRound, 'posts' | 'failed' | 'elapsedS' | 'histogram'>> {
  const histogram = latencyHistogram();
  let posts = 0;
  let failed = 0;
  const start = performance.now();
  const deadline = start + forMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const sent = performance.now();
        const answer = await poster.post(worker, articles[(worker * 7 + i) % articles.length]!, markedBody(0, i));
        recordMs(histogram, answer.now - sent);
        if (answer.status >= 200 && answer.status < 300) posts += 1;
        else failed += 1;
      }
    }),
  );
  return { posts, failed, elapsedS: (performance.now() - start) / 1000, histogram };
}

function combineRounds(rounds: readonly ClosedLoopRound[]): ClosedLoopSummary {
  const histogram = latencyHistogram();
  let posts = 0;
  let failed = 0;
  let elapsedS = 0;
  let serverCpuUs = 0;
  let generatorCpuUs = 0;
  for (const round of rounds) {
    histogram.add(round.histogram);
    posts += round.posts;
    failed += round.failed;
    elapsedS += round.elapsedS;
    serverCpuUs += round.serverCpuUs;
    generatorCpuUs += round.generatorCpuUs;
  }
  return {
    posts,
    failed,
    postsPerSec: posts / elapsedS,
    latency: summarize(histogram),
    serverCpuCores: serverCpuUs / 1e6 / elapsedS,
    serverCpuUsPerPost: serverCpuUs / Math.max(1, posts),
    serverEldP99: Math.max(...rounds.map((r) => r.serverEldP99)),
    generatorCpuCores: generatorCpuUs / 1e6 / elapsedS,
  };
}

function runWorker(durationMs: number): Promise<WritePathResult['inProcess']> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/write-path-worker.ts', String(durationMs)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code !== 0 || !line) reject(new Error(`write-path worker failed (${code}):\n${out.slice(-4000)}`));
      else resolve(JSON.parse(line.slice('BENCH_RESULT '.length)) as WritePathResult['inProcess']);
    });
  });
}

/** Posts/s the store and service sustain alone and behind HTTP, and POST latency at a fixed rate. */
export async function runWritePath(options: {
  durationS: number;
  concurrency: number;
  openLoopRate: number;
  runId: string;
  log: Log;
}): Promise<WritePathResult> {
  options.log('write path: service + SQLite store in process');
  const inProcess = await runWorker(options.durationS * 1000);
  options.log(
    `  ${Math.round(inProcess.postsPerSec)} posts/s, p99 ${inProcess.latency.p99} ms, ${inProcess.cpuUsPerPost.toFixed(0)} µs CPU/post`,
  );
  const m = inProcess.moderation;
  if (m)
    options.log(
      `  moderation pipeline: ${m.usPerCheckEmpty.toFixed(1)} µs/comment (defaults), ${m.usPerCheckLists.toFixed(1)} µs/comment with ${m.bannedWords} banned + ${m.suspectWords} suspect words (compiled in ${m.compileMs.toFixed(1)} ms); write path with the lists ${Math.round(m.postsPerSecWithLists)} posts/s (×${m.throughputRatio.toFixed(2)})`,
    );

  const target = await startTarget(TARGETS.product, options.runId);
  const baseline = await ServerProcess.start('express-sqlite', 'bench/baselines/express-sqlite.ts', {});
  const floor = await ServerProcess.start('node-sqlite', 'bench/baselines/node-sqlite.ts', {});
  const poster = new Poster(target.postEndpoint, options.concurrency);
  const articles = Array.from({ length: 100 }, (_, i) => `write-${options.runId}-${i}`);
  let httpMax: WritePathResult['httpMax'];
  let baselineMax: ClosedLoopSummary;
  let floorMax: ClosedLoopSummary;
  let httpOpenLoop: WritePathResult['httpOpenLoop'];
  try {
    const bare = (server: ServerProcess): Side => ({
      endpoint: server.endpoint,
      stats: async (o) => {
        const s = await server.stats(o);
        return { cpuUs: s.cpuUs, eldP99: s.eld.p99 };
      },
    });
    const sides: Record<'product' | 'baseline' | 'floor', Side> = {
      product: { endpoint: target.postEndpoint, stats: (o) => target.stats(o) },
      baseline: bare(baseline),
      floor: bare(floor),
    };
    // Warm up both servers (JIT, SQLite pages) before measuring.
    for (const side of Object.values(sides)) await measureRound(side, options.concurrency, articles, 1000);

    options.log(
      `write path: HTTP, ${options.concurrency} concurrent posters, product, bare Express + better-sqlite3 and bare node:http + better-sqlite3 in ${ROUNDS} alternating rounds`,
    );
    const rounds: Record<keyof typeof sides, ClosedLoopRound[]> = { product: [], baseline: [], floor: [] };
    for (let round = 0; round < ROUNDS; round++)
      for (const name of ['floor', 'baseline', 'product'] as const)
        rounds[name].push(
          await measureRound(sides[name], options.concurrency, articles, (options.durationS * 1000) / ROUNDS),
        );
    httpMax = { concurrency: options.concurrency, ...combineRounds(rounds.product) };
    baselineMax = combineRounds(rounds.baseline);
    floorMax = combineRounds(rounds.floor);
    options.log(`  bare node:http + better-sqlite3: ${describeMax(floorMax)}`);
    options.log(`  bare Express + better-sqlite3: ${describeMax(baselineMax)}`);
    options.log(
      `  product: ${describeMax(httpMax)}; ×${(httpMax.postsPerSec / baselineMax.postsPerSec).toFixed(2)} of the baseline`,
    );

    options.log(`write path: HTTP, open loop at ${options.openLoopRate} posts/s`);
    const openHistogram = latencyHistogram();
    const count = Math.round(options.openLoopRate * options.durationS);
    let answered = 0;
    let openFailed = 0;
    await target.stats({ reset: true });
    await runOpenLoop(options.openLoopRate, count, performance.now() + 20, (n, dueAt) => {
      poster.post(articles[n % 100]!, markedBody(0, n), (ok, _status, now) => {
        answered += 1;
        if (!ok) openFailed += 1;
        recordMs(openHistogram, now - dueAt);
      });
    });
    const openDeadline = performance.now() + 10_000;
    while (answered < count && performance.now() < openDeadline) await new Promise((r) => setTimeout(r, 10));
    const openStats = await target.stats();
    httpOpenLoop = {
      rate: options.openLoopRate,
      posts: count,
      failed: openFailed + (count - answered),
      latency: summarize(openHistogram),
      serverEldP99: openStats.eldP99,
    };
    options.log(
      `  p50 ${httpOpenLoop.latency.p50} p99 ${httpOpenLoop.latency.p99} max ${httpOpenLoop.latency.max} ms, failed ${httpOpenLoop.failed}`,
    );
  } finally {
    poster.close();
    await Promise.all([target.stop(), baseline.stop(), floor.stop()]);
  }
  const postgresMax = await measurePostgres(options, articles);
  return { inProcess, httpMax, baselineMax, floorMax, httpOpenLoop, ...(postgresMax ? { postgresMax } : {}) };
}

/**
 * The product on PostgreSQL, the same closed loop (one go): posts are single statements on a pool,
 * so concurrent posts already overlap their round trips, and PostgreSQL commits concurrent
 * transactions with one WAL flush (its own group commit). Skipped, with a line, without a database.
 */
async function measurePostgres(
  options: { durationS: number; concurrency: number; runId: string; log: Log },
  articles: readonly string[],
): Promise<ClosedLoopSummary | undefined> {
  let schema: Awaited<ReturnType<typeof benchSchema>>;
  try {
    schema = await benchSchema(options.runId);
  } catch (error) {
    options.log(`write path on PostgreSQL skipped: ${(error as Error).message}`);
    return undefined;
  }
  try {
    const target = await startTarget(TARGETS.product, `${options.runId}-pg`, { DATABASE_URL: schema.url });
    try {
      const side: Side = { endpoint: target.postEndpoint, stats: (o) => target.stats(o) };
      await measureRound(side, options.concurrency, articles, 1000);
      options.log(`write path on PostgreSQL: HTTP, ${options.concurrency} concurrent posters`);
      const summary = combineRounds([
        await measureRound(side, options.concurrency, articles, options.durationS * 1000),
      ]);
      options.log(`  product on PostgreSQL: ${describeMax(summary)}`);
      return summary;
    } finally {
      await target.stop();
    }
  } finally {
    await schema.drop();
  }
}

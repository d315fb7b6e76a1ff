import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { latencyHistogram, recordMs, summarize, type LatencySummary } from '../lib/histogram.ts';
import { markedBody } from '../lib/marker.ts';
import { Poster, runOpenLoop } from '../lib/publisher.ts';
import { REPO_ROOT, startTarget, TARGETS } from '../lib/servers.ts';
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
  httpMax: {
    concurrency: number;
    posts: number;
    failed: number;
    postsPerSec: number;
    latency: LatencySummary;
    serverCpuCores: number;
    serverEldP99: number;
    generatorCpuCores: number;
  };
  /** Over HTTP on an open-loop schedule at `rate` posts/s; latency from each post's intended send time. */
  httpOpenLoop: { rate: number; posts: number; failed: number; latency: LatencySummary; serverEldP99: number };
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
  const poster = new Poster(target.postEndpoint, options.concurrency);
  const articles = Array.from({ length: 100 }, (_, i) => `write-${options.runId}-${i}`);
  try {
    // Warm up the server (JIT, SQLite pages) before measuring.
    for (let i = 0; i < 300; i++) await poster.postAndWait(articles[i % 100]!, markedBody(0, i));

    options.log(`write path: HTTP, ${options.concurrency} concurrent posters`);
    const closedHistogram = latencyHistogram();
    let posts = 0;
    let failed = 0;
    const before = await target.stats({ reset: true });
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    const deadline = start + options.durationS * 1000;
    await Promise.all(
      Array.from({ length: options.concurrency }, async (_, worker) => {
        for (let i = 0; performance.now() < deadline; i++) {
          const sent = performance.now();
          const answer = await poster.postAndWait(articles[(worker * 7 + i) % 100]!, markedBody(0, i));
          recordMs(closedHistogram, answer.now - sent);
          if (answer.ok) posts += 1;
          else failed += 1;
        }
      }),
    );
    const elapsedS = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const after = await target.stats();
    const httpMax: WritePathResult['httpMax'] = {
      concurrency: options.concurrency,
      posts,
      failed,
      postsPerSec: posts / elapsedS,
      latency: summarize(closedHistogram),
      serverCpuCores: (after.cpuUs - before.cpuUs) / 1e6 / elapsedS,
      serverEldP99: after.eldP99,
      generatorCpuCores: (cpu.user + cpu.system) / 1e6 / elapsedS,
    };
    options.log(
      `  ${Math.round(httpMax.postsPerSec)} posts/s (failed ${failed}), p50 ${httpMax.latency.p50} p99 ${httpMax.latency.p99} ms, server ${(httpMax.serverCpuCores * 100).toFixed(0)}% CPU, generator ${(httpMax.generatorCpuCores * 100).toFixed(0)}%`,
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
    const httpOpenLoop: WritePathResult['httpOpenLoop'] = {
      rate: options.openLoopRate,
      posts: count,
      failed: openFailed + (count - answered),
      latency: summarize(openHistogram),
      serverEldP99: openStats.eldP99,
    };
    options.log(
      `  p50 ${httpOpenLoop.latency.p50} p99 ${httpOpenLoop.latency.p99} max ${httpOpenLoop.latency.max} ms, failed ${httpOpenLoop.failed}`,
    );
    return { inProcess, httpMax, httpOpenLoop };
  } finally {
    poster.close();
    await target.stop();
  }
}

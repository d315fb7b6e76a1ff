import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { latencyHistogram, recordMs, summarize, type LatencySummary } from './histogram.ts';
import { markedBody } from './marker.ts';
import { runOpenLoop, type Poster } from './publisher.ts';
import { PhaseRecorder, type DeliveryResult } from './recorder.ts';
import type { RunningTarget } from './servers.ts';
import type { SubscriberPool } from './subscribers.ts';

/** Above this share of one core, the generator may be what limits a cell: the result is flagged. */
export const GENERATOR_CPU_FLAG = 0.8;

/** One measured phase: a target, its subscribers, a posting rate. */
export interface CellResult {
  scenario: 'fanout' | 'articles' | 'saturation';
  target: string;
  label: string;
  instances: number;
  subscribers: number;
  articles: number;
  rate: number;
  durationS: number;
  delivery: DeliveryResult;
  /** delivered / expected */
  deliveredRatio: number;
  deliveriesPerSec: number;
  posts: { sent: number; ok: number; failed: number; latency: LatencySummary };
  server: { cpuCores: number; cpuUsPerDelivery: number; eldP99: number; eldMax: number; rssMB: number };
  generator: { cpuCores: number; eldP99: number; overloaded: boolean };
  /** Subscribers disconnected during the phase. */
  disconnects: number;
  loadavg1: number;
}

const generatorEld = monitorEventLoopDelay({ resolution: 2 });
generatorEld.enable();

let nextPhase = 1;

export interface PhaseContext {
  scenario: CellResult['scenario'];
  target: RunningTarget;
  pool: SubscriberPool;
  poster: Poster;
  articleIds: readonly string[];
  /** Article index of comment n. */
  articleOf: (n: number) => number;
  /** After the last intended send, how long deliveries may still arrive before the rest count as lost. */
  drainMs: number;
}

/**
 * Posts `rate × durationS` comments on an open-loop schedule and records every delivery until all
 * expected ones arrived or the drain time passed. Server CPU and event-loop delay cover exactly the
 * phase (from the first send to the end of the drain).
 */
export async function runPhase(ctx: PhaseContext, rate: number, durationS: number): Promise<CellResult> {
  const { pool, target, poster } = ctx;
  const phase = nextPhase++;
  const count = Math.max(1, Math.round(rate * durationS));
  const recorder = new PhaseRecorder(phase, count, pool.articleSnapshot(), pool.subscribersPerArticle());
  pool.attach(recorder);
  const postLatency = latencyHistogram();
  let answered = 0;
  let ok = 0;

  const before = await target.stats({ reset: true });
  const disconnectsBefore = pool.disconnects;
  const cpuBefore = process.cpuUsage();
  generatorEld.reset();
  const startAt = performance.now() + 20;

  await runOpenLoop(rate, count, startAt, (n, dueAt) => {
    const article = ctx.articleOf(n);
    recorder.schedule(n, dueAt, article);
    poster.post(ctx.articleIds[article]!, markedBody(phase, n), (success, _status, now) => {
      answered += 1;
      if (success) ok += 1;
      recordMs(postLatency, now - dueAt);
    });
  });
  const lastDue = startAt + ((count - 1) * 1000) / rate;
  while (performance.now() < lastDue + ctx.drainMs && !(recorder.complete && answered === count)) await sleep(10);
  const end = performance.now();
  const cpu = process.cpuUsage(cpuBefore);
  const after = await target.stats();
  const generatorEldP99 = generatorEld.percentile(99) / 1e6;
  pool.detach(phase);
  target.assertAlive();

  const delivery = recorder.result();
  const wallS = (end - startAt) / 1000;
  const serverCpuUs = after.cpuUs - before.cpuUs;
  const generatorCores = (cpu.user + cpu.system) / 1e6 / wallS;
  const result: CellResult = {
    scenario: ctx.scenario,
    target: target.spec.name,
    label: target.spec.label,
    instances: target.spec.instances,
    subscribers: pool.size,
    articles: ctx.articleIds.length,
    rate,
    durationS,
    delivery,
    deliveredRatio: delivery.expected === 0 ? 1 : delivery.delivered / delivery.expected,
    deliveriesPerSec: delivery.spanMs > 0 ? delivery.delivered / (delivery.spanMs / 1000) : 0,
    posts: { sent: count, ok, failed: count - ok, latency: summarize(postLatency) },
    server: {
      cpuCores: serverCpuUs / 1e6 / wallS,
      cpuUsPerDelivery: delivery.delivered > 0 ? serverCpuUs / delivery.delivered : 0,
      eldP99: after.eldP99,
      eldMax: after.eldMax,
      rssMB: after.rssBytes / 1048576,
    },
    generator: { cpuCores: generatorCores, eldP99: generatorEldP99, overloaded: generatorCores > GENERATOR_CPU_FLAG },
    disconnects: pool.disconnects - disconnectsBefore,
    loadavg1: loadavg()[0] ?? 0,
  };
  postLatency.destroy();
  // Whatever is still in flight (a saturated server) must not spill into the next phase.
  if (!recorder.complete) await pool.quiet(500, 10_000);
  return result;
}

/**
 * A short unrecorded phase before the first measured one of a target: opens the poster's keep-alive
 * connections and warms the JIT of both ends, so the first cell is not charged for start-up.
 */
export async function warmUp(ctx: PhaseContext): Promise<void> {
  const phase = nextPhase++;
  const count = 20;
  const recorder = new PhaseRecorder(phase, count, ctx.pool.articleSnapshot(), ctx.pool.subscribersPerArticle());
  ctx.pool.attach(recorder);
  let answered = 0;
  const startAt = performance.now();
  await runOpenLoop(40, count, startAt, (n, dueAt) => {
    const article = ctx.articleOf(n);
    recorder.schedule(n, dueAt, article);
    ctx.poster.post(ctx.articleIds[article]!, markedBody(phase, n), () => (answered += 1));
  });
  const deadline = performance.now() + ctx.drainMs;
  while (performance.now() < deadline && !(recorder.complete && answered === count)) await sleep(10);
  ctx.pool.detach(phase);
  recorder.result();
  await ctx.pool.quiet(200, 5000);
}

/** Passes when p99 ≤ 1 s and nothing was lost, repeated or refused. */
export function cellHealthy(cell: CellResult): boolean {
  return (
    cell.delivery.latency.p99 <= 1000 &&
    cell.delivery.delivered === cell.delivery.expected &&
    cell.delivery.duplicates === 0 &&
    cell.posts.failed === 0
  );
}

export function oneLine(cell: CellResult): string {
  const d = cell.delivery;
  return (
    `${cell.label.padEnd(34)} subs=${String(cell.subscribers).padStart(5)} articles=${String(cell.articles).padStart(4)} rate=${String(cell.rate).padStart(4)}/s ` +
    `p50=${d.latency.p50.toFixed(1)} p99=${d.latency.p99.toFixed(1)} max=${d.latency.max.toFixed(0)} ms ` +
    `deliv=${d.delivered}/${d.expected} dup=${d.duplicates} ${Math.round(cell.deliveriesPerSec)}/s ` +
    `srvCPU=${(cell.server.cpuCores * 100).toFixed(0)}% ${cell.server.cpuUsPerDelivery.toFixed(1)}µs/dlv eld99=${cell.server.eldP99.toFixed(1)} ` +
    `gen=${(cell.generator.cpuCores * 100).toFixed(0)}%${cell.generator.overloaded ? '!' : ''} post99=${cell.posts.latency.p99.toFixed(1)} disc=${cell.disconnects}`
  );
}

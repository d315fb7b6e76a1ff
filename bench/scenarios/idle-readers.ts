import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IdleWorkerArm, IdleWorkerConfig, IdleWorkerReport } from '../idle-readers-worker.ts';
import { markedBody } from '../lib/marker.ts';
import { Poster } from '../lib/publisher.ts';
import { REPO_ROOT, startTarget, TARGETS } from '../lib/servers.ts';
import type { Log } from './common.ts';

/** The marker phase of the one comment sent to every idle reader. */
const PHASE = 77;
const MB = 1048576;

/** One instance holding many idle subscribed readers of one article (issue 16, item 4). */
export interface IdleReadersResult {
  connections: number;
  workers: number;
  /** Connections open and subscribed when the ramp ended. */
  opened: number;
  rampS: number;
  handshakesPerSec: number;
  /** The server before the first connection and with all of them, after a full GC. */
  rssMB0: number;
  heapMB0: number;
  rssMB: number;
  heapMB: number;
  rssPerConnectionKB: number;
  heapPerConnectionKB: number;
  /** Server CPU while every connection is idle (pings only), in cores. */
  idleCpuCores: number;
  /** One comment posted to the article: how long until it reached its readers. */
  reach: { delivered: number; expected: number; p50Ms: number; maxMs: number };
}

/** A generator process of bench/idle-readers-worker.ts, under the same 20,000-file limit as every process here. */
class IdleWorker {
  private readonly reports: IdleWorkerReport[] = [];
  private readonly waiters: Array<() => void> = [];
  private output = '';

  constructor(private readonly child: ChildProcess) {
    child.on('message', (report: IdleWorkerReport) => {
      this.reports.push(report);
      for (const wake of this.waiters.splice(0)) wake();
    });
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString('utf8')).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('exit', () => {
      this.reports.push({ type: 'failed', error: `worker exited: ${this.output}` });
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static start(config: IdleWorkerConfig): IdleWorker {
    const args = ['--import', 'tsx', 'bench/idle-readers-worker.ts'];
    const child = spawn('bash', ['-c', 'ulimit -n 20000 2>/dev/null; exec "$0" "$@"', process.execPath, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, IDLE_WORKER_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    return new IdleWorker(child);
  }

  /** The next report of this type (a failure rejects). */
  async next<T extends IdleWorkerReport['type']>(type: T): Promise<Extract<IdleWorkerReport, { type: T }>> {
    for (;;) {
      const index = this.reports.findIndex((r) => r.type === type || r.type === 'failed');
      if (index >= 0) {
        const [report] = this.reports.splice(index, 1);
        if (report!.type === 'failed') throw new Error(report!.error);
        return report as Extract<IdleWorkerReport, { type: T }>;
      }
      await new Promise<void>((wake) => this.waiters.push(wake));
    }
  }

  arm(message: IdleWorkerArm): void {
    this.child.send(message);
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.connected) this.child.send({ type: 'close' });
    setTimeout(() => this.child.kill('SIGKILL'), 5000).unref();
  }
}

/**
 * Opens `connections` subscribed readers of one article on one product instance, from `workers`
 * generator processes (each from its own 127.0.0.x address), measures the server's memory per
 * connection after a full GC, its CPU while they idle, the handshake rate of the ramp, and how long
 * one comment takes to reach all of them.
 */
export async function runIdleReaders(options: {
  connections: number;
  workers: number;
  runId: string;
  log: Log;
}): Promise<IdleReadersResult> {
  const target = await startTarget(TARGETS.product, options.runId);
  const articleId = `idle-${options.runId}`;
  const workers: IdleWorker[] = [];
  const poster = new Poster(target.postEndpoint, 1);
  try {
    await sleep(1000);
    const before = await target.stats({ gc: true });
    const { host, port } = target.postEndpoint;
    const per = Math.ceil(options.connections / options.workers);
    options.log(
      `idle readers: ${options.connections} subscribed connections to one instance from ${options.workers} generator processes`,
    );
    for (let i = 0; i < options.workers; i++)
      workers.push(
        IdleWorker.start({
          host,
          port,
          count: Math.min(per, options.connections - i * per),
          articleId,
          localAddress: `127.0.0.${2 + i}`,
          rampConcurrency: 100,
        }),
      );
    const opens = await Promise.all(workers.map((w) => w.next('open')));
    const opened = opens.reduce((sum, o) => sum + o.opened, 0);
    const rampS = (Math.max(...opens.map((o) => o.endEpochMs)) - Math.min(...opens.map((o) => o.startEpochMs))) / 1000;
    options.log(`  ${opened} open in ${rampS.toFixed(1)} s: ${Math.round(opened / rampS)} handshakes/s`);

    await sleep(2000);
    const idleFrom = await target.stats({ gc: true });
    const idleFromAt = performance.now();
    await sleep(10_000);
    const idleTo = await target.stats();
    const idleCpuCores = (idleTo.cpuUs - idleFrom.cpuUs) / 1e6 / ((performance.now() - idleFromAt) / 1000);
    const rssPerConnectionKB = (idleFrom.rssBytes - before.rssBytes) / 1024 / opened;
    const heapPerConnectionKB = (idleFrom.heapUsedBytes - before.heapUsedBytes) / 1024 / opened;
    options.log(
      `  RSS ${(idleFrom.rssBytes / MB).toFixed(1)} MB (${rssPerConnectionKB.toFixed(1)} KB per connection), heap ${(idleFrom.heapUsedBytes / MB).toFixed(1)} MB (${heapPerConnectionKB.toFixed(1)} KB per connection); idle CPU ${(idleCpuCores * 100).toFixed(1)}%`,
    );

    const sentAtEpochMs = performance.timeOrigin + performance.now();
    for (const worker of workers) worker.arm({ type: 'arm', phase: PHASE, sentAtEpochMs });
    const answer = await poster.postAndWait(articleId, markedBody(PHASE, 0));
    if (!answer.ok) throw new Error(`the post to the idle readers failed (${answer.status})`);
    const reached = await Promise.all(workers.map((w) => w.next('reached')));
    const reach = {
      delivered: reached.reduce((sum, r) => sum + r.delivered, 0),
      expected: reached.reduce((sum, r) => sum + r.expected, 0),
      // Each worker's median; the middle one stands for the whole (they hold equal shares).
      p50Ms: reached.map((r) => r.p50Ms).sort((a, b) => a - b)[Math.floor(reached.length / 2)]!,
      maxMs: Math.max(...reached.map((r) => r.maxMs)),
    };
    options.log(
      `  one comment reached ${reach.delivered}/${reach.expected} readers: p50 ${reach.p50Ms.toFixed(0)} ms, all within ${reach.maxMs.toFixed(0)} ms`,
    );
    return {
      connections: options.connections,
      workers: options.workers,
      opened,
      rampS,
      handshakesPerSec: opened / rampS,
      rssMB0: before.rssBytes / MB,
      heapMB0: before.heapUsedBytes / MB,
      rssMB: idleFrom.rssBytes / MB,
      heapMB: idleFrom.heapUsedBytes / MB,
      rssPerConnectionKB,
      heapPerConnectionKB,
      idleCpuCores,
      reach,
    };
  } finally {
    for (const worker of workers) worker.stop();
    poster.close();
    await target.stop();
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isStatsReply, type ServerStats, type StatsRequest } from './stats-responder.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Open files each server process may hold (the machine's hard limit is 20,000). */
const SERVER_NOFILE = 20_000;

export type TargetName = 'ws' | 'socketio' | 'socketio-redis' | 'product' | 'product-nobatch' | 'product-redis';
export type Protocol = 'ws' | 'socketio';

export interface TargetSpec {
  name: TargetName;
  /** Shown in tables and the chart. */
  label: string;
  protocol: Protocol;
  instances: 1 | 2;
  /** Subscribers ask for `comment:batch` (only the product knows it). */
  batch: boolean;
  kind: 'product' | 'ws' | 'socketio';
}

export const TARGETS: Record<TargetName, TargetSpec> = {
  ws: { name: 'ws', label: 'bare ws', protocol: 'ws', instances: 1, batch: false, kind: 'ws' },
  socketio: {
    name: 'socketio',
    label: 'bare Socket.IO',
    protocol: 'socketio',
    instances: 1,
    batch: false,
    kind: 'socketio',
  },
  'socketio-redis': {
    name: 'socketio-redis',
    label: 'bare Socket.IO ×2 (redis-adapter)',
    protocol: 'socketio',
    instances: 2,
    batch: false,
    kind: 'socketio',
  },
  product: {
    name: 'product',
    label: 'product (batch)',
    protocol: 'socketio',
    instances: 1,
    batch: true,
    kind: 'product',
  },
  'product-nobatch': {
    name: 'product-nobatch',
    label: 'product (no batch)',
    protocol: 'socketio',
    instances: 1,
    batch: false,
    kind: 'product',
  },
  'product-redis': {
    name: 'product-redis',
    label: 'product ×2 (Redis, batch)',
    protocol: 'socketio',
    instances: 2,
    batch: true,
    kind: 'product',
  },
};

export interface Endpoint {
  host: string;
  port: number;
}

/** A free TCP port on 127.0.0.1 (released before use; the tiny race is acceptable in a benchmark). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** One server child process: started with its open-file limit raised, stats over IPC, stopped with SIGTERM. */
export class ServerProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, (stats: ServerStats) => void>();
  private output = '';
  private exitCode: number | null | undefined = undefined;
  private readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-8000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('message', (message: unknown) => {
      if (!isStatsReply(message)) return;
      this.waiting.get(message.id)?.(message.stats);
      this.waiting.delete(message.id);
    });
    this.exited = new Promise((done) =>
      child.once('exit', (code) => {
        this.exitCode = code;
        done();
      }),
    );
  }

  /** Starts `node [flags] script` in the repo with `env`, and waits until GET /healthz answers 200. */
  static async start(
    name: string,
    script: string,
    env: Record<string, string>,
    nodeFlags: string[] = [],
  ): Promise<ServerProcess> {
    const port = await freePort();
    // BENCH_SERVER_NODE_FLAGS adds flags to every server process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile one.
    const extra = (process.env.BENCH_SERVER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    const args = ['--expose-gc', ...extra, '--import', 'tsx', ...nodeFlags, script];
    const child = spawn(
      'bash',
      ['-c', `ulimit -n ${SERVER_NOFILE} 2>/dev/null; exec "$0" "$@"`, process.execPath, ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', ...env },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    const server = new ServerProcess(name, port, child);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (server.exitCode !== undefined)
        throw new Error(`${name} exited with ${server.exitCode} before it was ready:\n${server.output}`);
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`${name} did not answer /healthz within 30 s:\n${server.output}`);
      }
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (res) => res.ok,
        () => false,
      );
      if (ok) return server;
      await sleep(100);
    }
  }

  get endpoint(): Endpoint {
    return { host: '127.0.0.1', port: this.port };
  }

  /** Asks the process for its figures; `gc` collects garbage first, `reset` restarts its delay histogram. */
  stats(options: { gc?: boolean; reset?: boolean } = {}): Promise<ServerStats> {
    const id = this.nextId++;
    return new Promise((resolveStats, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.name} did not answer a stats request within 60 s`));
      }, 60_000);
      this.waiting.set(id, (stats) => {
        clearTimeout(timer);
        resolveStats(stats);
      });
      const request: StatsRequest = { type: 'bench:stats', id, ...options };
      this.child.send(request);
    });
  }

  /** Sends the process a signal (SIGUSR2 writes a heap snapshot when started with --heapsnapshot-signal). */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after 15 s. */
  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(killer);
  }

  get crashed(): boolean {
    return this.exitCode !== undefined;
  }

  get log(): string {
    return this.output;
  }
}

/** The figures of a target, summed (CPU, memory) or maxed (event-loop delay) over its instances. */
export interface TargetStats {
  cpuUs: number;
  rssBytes: number;
  heapUsedBytes: number;
  eldP99: number;
  eldMax: number;
}

/** A running target: one or two server processes; subscribers are split across them, posts go to the first. */
export class RunningTarget {
  constructor(
    readonly spec: TargetSpec,
    readonly processes: ServerProcess[],
    private readonly cleanup: () => void,
  ) {}

  get endpoints(): Endpoint[] {
    return this.processes.map((p) => p.endpoint);
  }

  /** Where posts go. */
  get postEndpoint(): Endpoint {
    return this.processes[0]!.endpoint;
  }

  async stats(options: { gc?: boolean; reset?: boolean } = {}): Promise<TargetStats> {
    const all = await Promise.all(this.processes.map((p) => p.stats(options)));
    return {
      cpuUs: all.reduce((sum, s) => sum + s.cpuUs, 0),
      rssBytes: all.reduce((sum, s) => sum + s.rssBytes, 0),
      heapUsedBytes: all.reduce((sum, s) => sum + s.heapUsedBytes, 0),
      eldP99: Math.max(...all.map((s) => s.eld.p99)),
      eldMax: Math.max(...all.map((s) => s.eld.max)),
    };
  }

  /** Throws with the server's last output if a process died. */
  assertAlive(): void {
    const dead = this.processes.find((p) => p.crashed);
    if (dead) throw new Error(`${dead.name} died during the run:\n${dead.log}`);
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop()));
    this.cleanup();
  }
}

/**
 * Environment of a product instance for benchmarking: its own SQLite file, no demo data, warnings
 * only in the log, and the abuse guards that would throttle one load generator on 127.0.0.1 turned
 * off (posts and connections per IP). The slow-consumer cap stays at its default.
 */
function productEnv(dir: string, extra: Record<string, string>): Record<string, string> {
  return {
    SQLITE_PATH: join(dir, 'bench.db'),
    SEED_DEMO: 'false',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_POSTS_PER_MINUTE_IP: '0',
    RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: '0',
    MAX_CONNECTIONS_PER_IP: '0',
    ...extra,
  };
}

/** Starts a target's server process(es) for one run, each with its own temp dir and Redis prefix; `extraEnv` goes to product instances (DATABASE_URL, say). */
export async function startTarget(
  spec: TargetSpec,
  runId: string,
  extraEnv: Record<string, string> = {},
): Promise<RunningTarget> {
  const dir = mkdtempSync(join(tmpdir(), `live-comments-bench-${spec.name}-`));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const prefix = `bench:${runId}:${spec.name}:`;
  const processes: ServerProcess[] = [];
  try {
    for (let i = 0; i < spec.instances; i++) {
      const redis: Record<string, string> = spec.instances > 1 ? { REDIS_URL, REDIS_PREFIX: prefix } : {};
      const name = `${spec.name}#${i + 1}`;
      if (spec.kind === 'product') {
        processes.push(
          await ServerProcess.start(
            name,
            'server/main.ts',
            productEnv(dir, { ...redis, INSTANCE_ID: `bench-${i + 1}`, ...extraEnv }),
            ['--import', './bench/lib/probe.ts'],
          ),
        );
      } else if (spec.kind === 'socketio') {
        processes.push(await ServerProcess.start(name, 'bench/baselines/socketio-server.ts', redis));
      } else {
        processes.push(await ServerProcess.start(name, 'bench/baselines/ws-server.ts', {}));
      }
    }
  } catch (error) {
    await Promise.all(processes.map((p) => p.stop()));
    cleanup();
    throw error;
  }
  return new RunningTarget(spec, processes, cleanup);
}

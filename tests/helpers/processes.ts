/**
 * Real processes for fault tests: the app as child processes (`node --import tsx server/main.ts`, the
 * same code `npm start` runs), a redis-server of the test's own on a free port, and a private
 * PostgreSQL cluster in a temp dir. Each can be killed, paused or stopped for real. Every child is
 * also killed when the test process exits, so a failed test leaves nothing running.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

const run = promisify(execFile);

/** Children still running, killed on exit whatever happened to the test. */
const live = new Set<ChildProcess>();
const clusters = new Set<PrivatePostgres>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
  for (const cluster of clusters) cluster.stopSync();
});

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
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

/** Polls `check` every `everyMs` until it resolves true; throws with `what` after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** Resident memory of a process in bytes, from /proc. */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match?.[1]) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => child.once('exit', () => done()));
}

export interface AppProcessOptions {
  /** Added to a minimal environment (PATH, HOME, HOST=127.0.0.1, a free PORT, SEED_DEMO=false, LOG_LEVEL=info). */
  env: Record<string, string>;
  /** Shown in errors. */
  name?: string;
  /** Longest wait for GET /healthz (default 20 s). */
  readyTimeoutMs?: number;
  /** Node's arguments: the entry (default `--import tsx server/main.ts`, what `npm start` runs). */
  entry?: string[];
}

/** One app instance as a child process. Its stdout (JSON log lines) is kept for assertions. */
export class AppProcess {
  /** Every stdout line, in order (capped at the last 50,000). */
  readonly lines: string[] = [];
  private stderr = '';
  private partial = '';
  private readonly watchers = new Set<() => void>();

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop() ?? '';
      for (const line of parts) if (line !== '') this.lines.push(line);
      if (this.lines.length > 50_000) this.lines.splice(0, this.lines.length - 50_000);
      for (const watcher of [...this.watchers]) watcher();
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-8000);
    });
  }

  /** Starts the app and resolves once GET /healthz answers 200. */
  static async start(options: AppProcessOptions): Promise<AppProcess> {
    const port = await freePort();
    const name = options.name ?? `app:${port}`;
    const child = track(
      spawn(process.execPath, options.entry ?? ['--import', 'tsx', 'server/main.ts'], {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/tmp',
          HOST: '127.0.0.1',
          PORT: String(port),
          SEED_DEMO: 'false',
          LOG_LEVEL: 'info',
          ...options.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const app = new AppProcess(name, port, child);
    try {
      await until(
        `${name} did not answer /healthz`,
        async () => {
          if (app.exitCode !== null)
            throw new Error(`${name} exited (${app.exitCode}) before it was ready:\n${app.output}`);
          return (await fetch(`${app.url}/healthz`)).ok;
        },
        options.readyTimeoutMs ?? 20_000,
      );
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${app.output}`);
    }
    return app;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no pid`);
    return this.child.pid;
  }

  /** Exit code or signal name once the process ended; null while it runs. */
  get exitCode(): number | string | null {
    return this.child.exitCode ?? this.child.signalCode ?? null;
  }

  /** The last stderr and stdout, for error messages. */
  get output(): string {
    return `--- stderr\n${this.stderr}\n--- stdout (last 40 lines)\n${this.lines.slice(-40).join('\n')}`;
  }

  /** Stdout lines that are not one JSON object each (there should be none). */
  nonJsonLines(): string[] {
    return this.lines.filter((line) => {
      try {
        const value: unknown = JSON.parse(line);
        return typeof value !== 'object' || value === null || Array.isArray(value);
      } catch {
        return true;
      }
    });
  }

  /** Parsed log lines (lines that are not JSON objects are left out; see nonJsonLines). */
  logs(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const line of this.lines) {
      try {
        const value: unknown = JSON.parse(line);
        if (typeof value === 'object' && value !== null && !Array.isArray(value))
          out.push(value as Record<string, unknown>);
      } catch {
        // counted by nonJsonLines
      }
    }
    return out;
  }

  /** Resolves with the first log line (already logged or yet to come) that matches; rejects after `timeoutMs`. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolveLine, reject) => {
      const check = () => {
        const found = this.logs().find(match);
        if (!found) return;
        cleanup();
        resolveLine(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name}: no matching log line within ${timeoutMs} ms\n${this.output}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.watchers.delete(check);
      };
      this.watchers.add(check);
      check();
    });
  }

  rssBytes(): number {
    return rssBytes(this.pid);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGKILL, resolved once the process is gone. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await exited(this.child);
  }

  /** SIGTERM (graceful shutdown), SIGKILL after 15 s. Also resumes a paused process first. */
  async stop(): Promise<void> {
    if (this.exitCode !== null) return;
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited(this.child);
    clearTimeout(killer);
  }
}

/**
 * Two instances, A and B, over one SQLite file in `dir` (with `env` added), started together. Their
 * post budgets are far above any fault test's rate, so the limiter's Redis path (and its fallback)
 * runs without refusing.
 */
export function startInstancePair(dir: string, env: Record<string, string>): Promise<[AppProcess, AppProcess]> {
  const shared = {
    SQLITE_PATH: join(dir, 'shared.db'),
    RATE_LIMIT_POSTS_PER_MINUTE_IP: '100000',
    RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: '100000',
    ...env,
  };
  return Promise.all([AppProcess.start({ env: shared, name: 'A' }), AppProcess.start({ env: shared, name: 'B' })]);
}

/** Sends PING and resolves true on +PONG. */
function redisPing(port: number): Promise<boolean> {
  return new Promise((resolvePing) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolvePing(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

/** A redis-server of the test's own on a free port: no persistence, killable, pausable, restartable on the same port. */
export class RedisServer {
  private child: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    private readonly args: readonly string[],
  ) {}

  /** `args` are extra redis-server options, e.g. `['--client-output-buffer-limit', 'pubsub 256kb 128kb 1']`. */
  static async start(args: readonly string[] = []): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), args);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    if (this.child?.pid === undefined) throw new Error('redis-server is not running');
    return this.child.pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** (Re)starts redis-server on its port and waits for PONG. */
  async restart(): Promise<void> {
    if (this.running) throw new Error('redis-server is already running');
    this.child = track(
      spawn(
        'redis-server',
        [
          '--port',
          String(this.port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          tmpdir(),
          ...this.args,
        ],
        {
          stdio: 'ignore',
        },
      ),
    );
    await until(`redis-server did not answer on ${this.port}`, () => redisPing(this.port), 10_000, 20);
  }

  /** Sends `signal` (default SIGKILL) and waits until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGCONT');
    child.kill(signal);
    await exited(child);
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  stop(): Promise<void> {
    return this.kill('SIGKILL');
  }
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

function asPostgres(command: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  // initdb and postgres refuse to run as root.
  return run('runuser', ['-u', 'postgres', '--', join(PG_BIN, command), ...args], { timeout: 60_000 });
}

/**
 * A PostgreSQL cluster of the test's own (initdb in a temp dir, its own port and socket dir), run as
 * the `postgres` OS user. Stopping it never disturbs the machine's shared PostgreSQL.
 */
export class PrivatePostgres {
  private running = false;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async create(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'live-comments-pg-'));
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(dir, uid, gid);
    const cluster = new PrivatePostgres(dir, await freePort());
    clusters.add(cluster);
    try {
      await asPostgres('initdb', ['-D', cluster.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
      await cluster.start();
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** postgres:// URL of the cluster's `postgres` database. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    await asPostgres('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      join(this.dir, 'server.log'),
      '-o',
      options,
      '-w',
      '-t',
      '30',
      'start',
    ]);
    this.running = true;
  }

  /** `fast` disconnects clients and shuts down cleanly; `immediate` is a crash (recovery on next start). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!this.running) return;
    await asPostgres('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '30', 'stop']);
    this.running = false;
  }

  /** For process exit: stop without waiting on promises. */
  stopSync(): void {
    if (!this.running) return;
    spawnSync(
      'runuser',
      ['-u', 'postgres', '--', join(PG_BIN, 'pg_ctl'), '-D', this.dataDir, '-m', 'immediate', '-w', 'stop'],
      { stdio: 'ignore' },
    );
    this.running = false;
  }

  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => this.stopSync());
    clusters.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

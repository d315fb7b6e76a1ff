/**
 * Sizing figures for the README's "Scaling out" notes; prints a Markdown table, asserts nothing.
 *
 *   npm run build && node --import tsx scripts/measure-scale.ts
 *
 * Runs the compiled server (dist/, as the Docker image does) as child processes on 127.0.0.1: one
 * instance on SQLite, one on PostgreSQL, then two on PostgreSQL + Redis. For each: resident memory
 * when idle, then 10 concurrent posters (each posts, waits for the answer, posts again) on one
 * article for a fixed time; posts/s and answer latency. The load generator shares the machine
 * with the servers, so the figures are a floor for what a dedicated host does; the CPU time per post
 * (the server process, and the PostgreSQL backends serving it) barely depends on that contention.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { nanoid } from 'nanoid';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(ROOT, 'dist/server/main.js');
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const POSTERS = 10;
const SECONDS = Number(process.env.MEASURE_SECONDS ?? 8);

interface Instance {
  child: ChildProcess;
  url: string;
}

/** CPU time (user + system) a process has used, in ms, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0; // the process is gone
  }
}

/** PIDs of the PostgreSQL backends serving our instances (their application_name is `live-comments:<INSTANCE_ID>`). */
async function backendPids(): Promise<number[]> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const rows = (
      await client.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'live-comments:measure-%'",
      )
    ).rows;
    return rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

/** CPU used by `pids` between two snapshots; a process born in between counts from zero. */
function cpuSpent(before: Map<number, number>, pids: number[]): number {
  return pids.reduce((sum, pid) => sum + cpuMs(pid) - (before.get(pid) ?? 0), 0);
}

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) / 1024;
}

/** A TCP port that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts the compiled server. Its log lines (info level, one per request, as in production) go to
 * /dev/null rather than through a pipe to this busy process, which would slow the server down.
 */
async function start(env: Record<string, string>): Promise<Instance> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      SEED_DEMO: 'false',
      RATE_LIMIT_POSTS_PER_MINUTE_IP: '0',
      RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: '0',
      SOCKET_EVENTS_PER_10S: '0',
      MAX_CONNECTIONS_PER_IP: '0',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (
    !(await fetch(`${url}/readyz`).then(
      (res) => res.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`${url} did not become ready`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, url };
}

async function stop(instance: Instance): Promise<void> {
  if (instance.child.exitCode !== null) return;
  const exited = new Promise((resolve) => instance.child.once('exit', resolve));
  instance.child.kill('SIGTERM');
  await exited;
}

/** Resident memory after start-up and a short settle, with no clients. */
async function idleRss(instance: Instance): Promise<number> {
  await fetch(`${instance.url}/readyz`);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return rssMiB(instance.child.pid!);
}

/**
 * 10 closed-loop posters over the instances for SECONDS, all on one article (`spread` false: every
 * write waits for the article's row lock) or each on its own; posts/s, p50/p99 answer latency, non-2xx count.
 */
async function load(
  instances: Instance[],
  spread: boolean,
): Promise<{
  perSecond: number;
  p50: number;
  p99: number;
  failed: number;
  serverCpuPerPost: number;
  dbCpuPerPost: number;
}> {
  const run = nanoid(8);
  const serverPids = instances.map((i) => i.child.pid!);
  const serverBefore = new Map(serverPids.map((pid) => [pid, cpuMs(pid)]));
  const dbBefore = new Map((await backendPids()).map((pid) => [pid, cpuMs(pid)]));
  const latencies: number[] = [];
  let failed = 0;
  const deadline = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: POSTERS }, async (_, p) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const target = instances[(p + i) % instances.length]!;
        const started = performance.now();
        const articleId = spread ? `measure-${run}-${p}` : `measure-${run}`;
        const res = await fetch(`${target.url}/api/articles/${articleId}/comments`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ author: { name: `Poster ${p}` }, body: `post ${i} from ${p}`, clientId: nanoid() }),
        });
        await res.arrayBuffer();
        if (res.status === 201) latencies.push(performance.now() - started);
        else failed += 1;
      }
    }),
  );
  const serverCpu = cpuSpent(serverBefore, serverPids);
  const dbCpu = cpuSpent(dbBefore, await backendPids());
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  const posts = Math.max(1, latencies.length);
  return {
    perSecond: latencies.length / SECONDS,
    p50: at(0.5),
    p99: at(0.99),
    failed,
    serverCpuPerPost: serverCpu / posts,
    dbCpuPerPost: dbCpu / posts,
  };
}

async function withSchema<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const schema = `lc_measure_${nanoid(8)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x')}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  try {
    return await fn(url.toString());
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

async function main(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error('dist/server/main.js is missing: run npm run build first');
  const rows: string[] = [];
  const row = async (setup: string, rss: string, instances: Instance[]): Promise<void> => {
    for (const spread of [false, true]) {
      const result = await load(instances, spread);
      const db = setup.includes('PostgreSQL') ? `${result.dbCpuPerPost.toFixed(2)} ms` : '(in server)';
      rows.push(
        `| ${setup} | ${spread ? '10 (one each)' : '1'} | ${rss} | ${result.perSecond.toFixed(0)} | ${result.p50.toFixed(1)} ms | ${result.p99.toFixed(1)} ms | ${result.serverCpuPerPost.toFixed(2)} ms | ${db} | ${result.failed} |`,
      );
    }
  };

  const dir = mkdtempSync(join(tmpdir(), 'lc-measure-'));
  try {
    const sqlite = await start({ SQLITE_PATH: join(dir, 'comments.db'), INSTANCE_ID: 'measure-0' });
    const rss = await idleRss(sqlite);
    await row('1 instance, SQLite, in-process fan-out', `${rss.toFixed(0)} MiB`, [sqlite]);
    await stop(sqlite);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  await withSchema(async (url) => {
    const one = await start({ DATABASE_URL: url, INSTANCE_ID: 'measure-0' });
    const rss = await idleRss(one);
    await row('1 instance, PostgreSQL, in-process fan-out', `${rss.toFixed(0)} MiB`, [one]);
    await stop(one);
  });

  await withSchema(async (url) => {
    const prefix = `measure:${nanoid(6)}:`;
    const pair = [
      await start({ DATABASE_URL: url, REDIS_URL, REDIS_PREFIX: prefix, INSTANCE_ID: 'measure-1' }),
      await start({ DATABASE_URL: url, REDIS_URL, REDIS_PREFIX: prefix, INSTANCE_ID: 'measure-2' }),
    ];
    const rss = await Promise.all(pair.map(idleRss));
    await row('2 instances, PostgreSQL + Redis (posts split)', `${rss.map((r) => r.toFixed(0)).join(' / ')} MiB`, pair);
    await Promise.all(pair.map(stop));
  });

  console.log(
    `${POSTERS} concurrent closed-loop posters, ${SECONDS} s per row, servers and load generator on one machine:\n`,
  );
  console.log(
    '| setup | articles | RSS idle | posts/s | p50 | p99 | server CPU / post | PostgreSQL CPU / post | non-201 |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const line of rows) console.log(line);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/**
 * `npm run cluster`: the docker-compose topologies from local processes, for machines without a
 * Docker engine (see cluster-topology.ts).
 *
 *   npm run cluster                           app1 and app2 over the machine's PostgreSQL and Redis
 *   npm run cluster -- --profile single       one instance on a SQLite file (compose's `single`)
 *   npm run cluster -- --env-file path        settings from that file instead of `.env`
 *
 * Each instance gets, like its compose service, the settings of the env file (`.env` when it exists),
 * overridden by this script's own environment, overridden by the topology's names.
 *
 * Output: the instances' JSON log lines on stdout, unchanged, then one JSON line
 * `{"msg":"cluster ready","profile","instances":[{"service","url"}…]}` once every instance answers
 * /readyz. SIGINT or SIGTERM stops the instances gracefully (each drains and exits within 10 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs, parseEnv } from 'node:util';
import pg from 'pg';
import {
  localInstanceEnvironment,
  localPorts,
  localSettingsFrom,
  PROFILE_NAMES,
  profileInstances,
  type ProfileName,
  type TopologyInstance,
} from './cluster-topology.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Longest wait for an instance to listen and answer /readyz. */
const START_TIMEOUT_MS = 30_000;

interface Running {
  instance: TopologyInstance;
  child: ChildProcess;
  port: Promise<number>;
}

function say(message: string): void {
  process.stderr.write(`[cluster] ${message}\n`);
}

/** Creates the database named in `url` when it does not exist yet (the local default `live_comments`). */
async function ensureDatabase(url: string): Promise<void> {
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return;
  } catch (error) {
    if ((error as { code?: unknown }).code !== '3D000') throw error;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  target.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: target.toString(), connectionTimeoutMillis: 5000 });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    say(`created database ${name}`);
  } catch (error) {
    if ((error as { code?: unknown }).code !== '42P04') throw error; // created meanwhile by someone else
  } finally {
    await admin.end();
  }
}

/** Starts one instance; its stdout lines are passed through, and the port it reports listening on resolves `port`. */
function startInstance(instance: TopologyInstance, env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${instance.service} did not start within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    child.once('exit', (code) => reject(new Error(`${instance.service} exited with code ${code} before listening`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      process.stdout.write(`${line}\n`);
      try {
        const entry = JSON.parse(line) as { msg?: unknown; port?: unknown };
        if (
          typeof entry.msg === 'string' &&
          entry.msg.startsWith('live comments listening') &&
          typeof entry.port === 'number'
        ) {
          clearTimeout(timer);
          resolve(entry.port);
        }
      } catch {
        // Not a JSON line (a crash trace): passed through above, nothing to read from it.
      }
    });
  });
  port.catch(() => undefined);
  return { instance, child, port };
}

async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const ok = await fetch(`${url}/readyz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url}/readyz did not answer 200 within ${START_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Options {
  profile: ProfileName;
  /** Settings every instance reads, as compose's `env_file` gives them; empty when there is no file. */
  fileEnv: Record<string, string>;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: { profile: { type: 'string', default: 'cluster' }, 'env-file': { type: 'string' } },
  });
  const profile = PROFILE_NAMES.find((name) => name === values.profile);
  if (profile === undefined) throw new Error(`--profile must be one of ${PROFILE_NAMES.join(', ')}`);
  const explicit = values['env-file'];
  const path = explicit ?? `${ROOT}.env`;
  if (explicit === undefined && !existsSync(path)) return { profile, fileEnv: {} };
  say(`settings from ${path}`);
  return { profile, fileEnv: parseEnv(readFileSync(path, 'utf8')) as Record<string, string> };
}

async function main(): Promise<void> {
  const { profile, fileEnv } = readOptions();
  const settings = localSettingsFrom(process.env);
  const ports = localPorts(profile, process.env);
  if (profile === 'cluster') await ensureDatabase(settings.databaseUrl);

  const running = profileInstances(profile).map((instance, i) =>
    startInstance(instance, {
      ...fileEnv,
      ...process.env,
      ...localInstanceEnvironment(profile, instance, ports[i] ?? 0, settings),
    }),
  );

  let stopping = false;
  const stop = async (code: number): Promise<never> => {
    stopping = true;
    for (const { child } of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.all(
      running.map(({ child }) =>
        child.exitCode !== null || child.signalCode !== null
          ? Promise.resolve()
          : new Promise((resolve) => child.once('exit', resolve)),
      ),
    );
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      say(`${signal}: stopping the instances`);
      void stop(0);
    });
  }
  for (const { instance, child } of running) {
    child.once('exit', (code, signal) => {
      if (stopping) return;
      say(`${instance.service} exited (${signal ?? `code ${code}`}); stopping the cluster`);
      void stop(1);
    });
  }

  try {
    const urls = await Promise.all(running.map(async ({ port }) => `http://${settings.host}:${await port}`));
    await Promise.all(urls.map(waitReady));
    const instances = running.map(({ instance }, i) => ({ service: instance.service, url: urls[i] }));
    process.stdout.write(
      `${JSON.stringify({ level: 30, time: new Date().toISOString(), msg: 'cluster ready', profile, instances })}\n`,
    );
    say(
      `ready: ${instances.map((i) => `${i.service} ${i.url}`).join(', ')} (${profile === 'single' ? `SQLite ${settings.sqlitePath}` : 'one Redis, one PostgreSQL'}; Ctrl-C stops ${instances.length === 1 ? 'it' : 'them'})`,
    );
  } catch (error) {
    say(error instanceof Error ? error.message : String(error));
    await stop(1);
  }
}

main().catch((error: unknown) => {
  say(`failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

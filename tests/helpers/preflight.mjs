// Checks, before any test runs, that every service and tool the suite needs is there, and says
// exactly which one is missing. A missing service fails the run: tests are never skipped for it.
import { connect } from 'node:net';
import { existsSync } from 'node:fs';

const checks = [
  {
    name: 'Redis',
    host: '127.0.0.1',
    port: 6379,
    hint: 'start it: redis-server --daemonize yes --port 6379 --save "" --appendonly no',
  },
  {
    name: 'PostgreSQL',
    host: '127.0.0.1',
    port: 5432,
    hint: 'start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  },
];

/** The database the PostgreSQL tests use (each in a fresh schema of its own): it must accept a query, not just a connection. */
const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function postgresAnswers() {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

function reachable({ host, port }) {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

const missing = [];
for (const check of checks) {
  if (!(await reachable(check)))
    missing.push(`${check.name} is not answering on ${check.host}:${check.port} (${check.hint})`);
}
if (!missing.some((m) => m.startsWith('PostgreSQL'))) {
  const problem = await postgresAnswers();
  if (problem)
    missing.push(
      `PostgreSQL does not accept queries on ${TEST_DATABASE_URL.replace(/\/\/[^@]*@/, '//')}: ${problem} (the suite needs the database of TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test, open to that user)`,
    );
}
// The browser tests drive Debian's Chromium; they never download a browser.
const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM))
  missing.push(
    `Chromium is missing at ${CHROMIUM} (the browser tests in tests/e2e drive it; install it: apt-get update && apt-get install -y chromium)`,
  );
// The Redis Cluster tests start a private six-node cluster (tests/helpers/redis-cluster.ts) with these.
for (const tool of ['redis-server', 'redis-cli']) {
  const onPath = (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(`${dir}/${tool}`));
  if (!onPath)
    missing.push(
      `${tool} is not on PATH (the Redis Cluster tests run it; install it: apt-get install -y redis-server)`,
    );
}
for (const tool of (process.env.PREFLIGHT_FILES ?? '').split(',').filter(Boolean)) {
  if (!existsSync(tool)) missing.push(`${tool} is missing`);
}
if (missing.length > 0) {
  console.error(
    `\nThe test suite needs services that are not available:\n${missing.map((m) => `  - ${m}`).join('\n')}\n`,
  );
  process.exit(1);
}

// Checks, before any test runs, that every service and tool the suite needs is there, and says
// exactly which one is missing. A missing service fails the run: tests are never skipped for it.
import { connect } from 'node:net';
import { existsSync } from 'node:fs';

const checks = [
  { name: 'Redis', host: '127.0.0.1', port: 6379, hint: 'start it: redis-server --daemonize yes --port 6379 --save "" --appendonly no' },
];

function reachable({ host, port }) {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(false));
  });
}

const missing = [];
for (const check of checks) {
  if (!(await reachable(check))) missing.push(`${check.name} is not answering on ${check.host}:${check.port} (${check.hint})`);
}
for (const tool of (process.env.PREFLIGHT_FILES ?? '').split(',').filter(Boolean)) {
  if (!existsSync(tool)) missing.push(`${tool} is missing`);
}
if (missing.length > 0) {
  console.error(`\nThe test suite needs services that are not available:\n${missing.map((m) => `  - ${m}`).join('\n')}\n`);
  process.exit(1);
}

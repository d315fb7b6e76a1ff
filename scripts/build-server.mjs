// Compiles the server and shared code to JavaScript (tsconfig.build.json) and copies the seed data beside
// it: what `npm run start:prod` and the Docker image run. `node scripts/build-server.mjs [outDir]`
// (default dist; the production-build test compiles into a directory of its own).
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const outDir = resolve(root, process.argv[2] ?? 'dist');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync(outDir, { recursive: true, force: true }); // no stale module from a file since deleted
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', outDir], {
  cwd: root,
  stdio: 'inherit',
});
cpSync(join(root, 'server/seed/data'), join(outDir, 'server/seed/data'), { recursive: true });

import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppProcess, REPO_ROOT } from '../helpers/processes.ts';

// `npm run build && npm run start:prod`, the path without Docker (and what the image runs): the compiled
// server must start on its own, find the widget and the seed data, and import nothing that a production
// install (`npm ci --omit=dev`) leaves out. Compiled into a directory of its own, so the suite's other
// tests never see a half-written build.
const run = promisify(execFile);
const outDir = join(REPO_ROOT, `.prod-build-${process.pid}`);
const dataDir = mkdtempSync(join(tmpdir(), 'live-comments-prod-'));
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  scripts: Record<string, string>;
};

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.js'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The package a bare specifier names: `pino`, `@scope/name`, `rate-limiter-flexible/lib/x` → its package. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

let app: AppProcess | null = null;

beforeAll(async () => {
  await run(process.execPath, ['scripts/build-server.mjs', outDir], { cwd: REPO_ROOT });
}, 240_000);

afterAll(async () => {
  await app?.stop();
  rmSync(outDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the production build', () => {
  it('is what start:prod and the image run', () => {
    expect(pkg.scripts['start:prod']).toBe('node dist/server/main.js');
    expect(pkg.scripts.build).toContain('scripts/build-server.mjs');
  });

  it('imports only Node built-ins, its own files and production dependencies', () => {
    const files = jsFiles(outDir);
    expect(files.length).toBeGreaterThan(50);
    const outside = new Map<string, string>();
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(
        /(?:^|[;\s])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm,
      )) {
        const specifier = match[1] ?? match[2]!;
        if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
        const name = packageOf(specifier);
        if (!(name in pkg.dependencies)) outside.set(name, relative(outDir, file));
      }
    }
    expect(Object.fromEntries(outside)).toEqual({});
  });

  it('starts with NODE_ENV=production, seeds the sample article, serves the widget and takes a comment', async () => {
    app = await AppProcess.start({
      name: 'compiled',
      entry: [join(outDir, 'server/main.js')],
      env: { NODE_ENV: 'production', SEED_DEMO: 'true', SQLITE_PATH: join(dataDir, 'comments.db') },
      readyTimeoutMs: 30_000,
    });
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    const widget = await fetch(`${app.url}/widget.js`);
    expect(widget.status).toBe(200);
    expect((await widget.text()).length).toBeGreaterThan(10_000);
    const seeded = (await (await fetch(`${app.url}/api/articles/putin-china-visit/comments?limit=50`)).json()) as {
      comments: unknown[];
    };
    expect(seeded.comments.length).toBeGreaterThan(0);
    const posted = await fetch(`${app.url}/api/articles/prod-check/comments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ author: { name: 'Ops' }, body: 'from the compiled server' }),
    });
    expect(posted.status).toBe(201);
  }, 60_000);
});

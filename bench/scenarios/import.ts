import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { writeDisqusExport, type DisqusExportShape } from '../lib/disqus-export.ts';
import { REPO_ROOT } from '../lib/servers.ts';
import type { Log } from './common.ts';

/** PostgreSQL for the import benchmark: a fresh schema on this database, dropped afterwards. */
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface ToolRun {
  seconds: number;
  comments: number;
  commentsPerSec: number;
  cpuSeconds: number;
  maxRssMB: number;
}

export interface ImportResult {
  file: DisqusExportShape & { gzippedMB: number };
  stores: Array<{ store: 'sqlite' | 'postgres'; import: ToolRun; export: ToolRun }>;
}

/** Runs bench/import-worker.ts (the CLI in a process of its own) on the store `env` selects. */
function runTool(command: 'import' | 'export', file: string, env: Record<string, string>): Promise<ToolRun> {
  const storeEnv = { ...process.env, ...env };
  // The tool must work on the store alone: no instance is told (that is measured elsewhere).
  delete storeEnv.REDIS_URL;
  delete storeEnv.REDIS_CLUSTER_NODES;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/import-worker.ts', command, file], {
      cwd: REPO_ROOT,
      env: storeEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code !== 0 || !line) return reject(new Error(`${command} worker failed (${code}):\n${out.slice(-4000)}`));
      const run = JSON.parse(line.slice('BENCH_RESULT '.length)) as Omit<ToolRun, 'commentsPerSec'>;
      resolve({ ...run, commentsPerSec: run.comments / run.seconds });
    });
  });
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Imports a generated Disqus export of `posts` posts in `threads` threads with `npm run comments`
 * into an empty SQLite file and an empty PostgreSQL schema, then exports each store again: comments/s,
 * CPU and peak RSS of the tool, which streams, so RSS must not grow with the file.
 */
export async function runImportBench(options: {
  posts: number;
  threads: number;
  runId: string;
  log: Log;
}): Promise<ImportResult> {
  const dir = mkdtempSync(join(tmpdir(), 'live-comments-bench-import-'));
  try {
    const source = join(dir, 'disqus.xml.gz');
    options.log(`import: generating a Disqus export of ${options.posts} posts in ${options.threads} threads`);
    const shape = await writeDisqusExport(source, options.posts, options.threads);
    const file = { ...shape, gzippedMB: statSync(source).size / 1e6 };
    options.log(`  ${(shape.bytes / 1e6).toFixed(1)} MB of XML, ${file.gzippedMB.toFixed(1)} MB gzipped`);
    const stores: ImportResult['stores'] = [];
    const measure = async (store: 'sqlite' | 'postgres', env: Record<string, string>) => {
      options.log(`import: ${store}`);
      const imported = await runTool('import', source, env);
      options.log(
        `  imported ${imported.comments} comments in ${imported.seconds.toFixed(1)} s: ${Math.round(imported.commentsPerSec)}/s, ${imported.cpuSeconds.toFixed(1)} s CPU, peak RSS ${Math.round(imported.maxRssMB)} MB`,
      );
      const exported = await runTool('export', join(dir, `${store}-export.jsonl.gz`), env);
      options.log(
        `  exported ${exported.comments} comments in ${exported.seconds.toFixed(1)} s: ${Math.round(exported.commentsPerSec)}/s, peak RSS ${Math.round(exported.maxRssMB)} MB`,
      );
      stores.push({ store, import: imported, export: exported });
    };
    await measure('sqlite', { SQLITE_PATH: join(dir, 'comments.db') });
    const schema = `lc_bench_import_${options.runId.toLowerCase()}`;
    await admin(`CREATE SCHEMA ${schema}`);
    try {
      const url = new URL(DATABASE_URL);
      url.searchParams.set('options', `-c search_path=${schema}`);
      await measure('postgres', { DATABASE_URL: url.toString() });
    } finally {
      await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
    return { file, stores };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

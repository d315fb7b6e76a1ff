import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { ImportFormatSchema, type ImportProgress, type ImportSummary } from '../shared/import-export.ts';
import { createFanOut } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import type { FanOut } from './fanout/port.ts';
import { fanOutAnnouncer } from './import/announcer.ts';
import { ImportFileError } from './import/errors.ts';
import { openKeyring } from './keys/server-secret.ts';
import { runImport } from './import/importer.ts';
import { loadMapFile } from './import/mapping.ts';
import { writeNativeExport } from './import/native.ts';
import { createLogger } from './logger.ts';
import { Metrics } from './metrics.ts';
import { openStore, storeKind } from './storage/open-store.ts';
import { redisTarget } from './redis/clients.ts';

export const HELP = `Usage: npm run comments -- <command> [options]

Moves comments in and out of the store the server uses (SQLITE_PATH, or DATABASE_URL for PostgreSQL),
safely while instances are running. Details: docs/import-export.md.

Commands:
  import --format disqus|wxr|native --file PATH [--map map.csv] [--dry-run] [--keep-closed]
      Imports a Disqus XML export, a WordPress WXR export or a native export (gzip is recognised;
      PATH - reads standard input). Re-running adds nothing twice and never deletes a comment.
      --map map.csv   source,articleId lines: a Disqus thread id or link, a WordPress post id, name
                      or link, or (native) an article id, and the article id to import it into
      --dry-run       prints the whole mapping, collisions and orphans, and writes nothing
      --keep-closed   locks the articles whose source thread is closed
  export --file PATH
      Writes every comment, article state and ban as gzipped JSON lines (PATH - writes standard
      output): the backup, restored with import --format native, into a store of either kind.
  help
      Shows this text.

With REDIS_URL set, running instances are told about every article an import changed (open widgets
catch up at once); without it they show the new comments on their next load or reconnect.`;

type Output = (line: string) => void;

/** Shows progress: a bar on a terminal (records, rate, elapsed), a plain line every two seconds otherwise. */
function progressView(tty: boolean, err: Output): { update(p: ImportProgress): void; stop(): void } {
  const started = Date.now();
  if (tty) {
    const bar = new SingleBar({
      format: ' {phase} |{bar}| {percentage}% | {records} records | {rate}/s | {duration_formatted}',
      hideCursor: true,
      etaBuffer: 50,
      stream: process.stderr,
    });
    let started_ = false;
    return {
      update(p) {
        const reading = p.phase === 'reading' || p.phase === 'resolving';
        const total = reading ? 1 : Math.max(1, p.toWrite);
        const value = reading ? 0 : p.written;
        const seconds = Math.max(0.001, (Date.now() - started) / 1000);
        const payload = {
          phase: p.phase.padEnd(10),
          records: p.records,
          rate: Math.round((reading ? p.records : p.written) / seconds),
        };
        if (!started_) {
          bar.start(total, value, payload);
          started_ = true;
        } else {
          bar.setTotal(total);
          bar.update(value, payload);
        }
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    update(p) {
      const now = Date.now();
      if (now - last < 2000 && p.phase !== 'done') return;
      last = now;
      const seconds = (now - started) / 1000;
      err(
        `${p.phase}: ${p.records} records read (${(p.bytes / 1e6).toFixed(1)} MB), ${p.written}/${p.toWrite} comments written, ${seconds.toFixed(0)} s`,
      );
    },
    stop: () => undefined,
  };
}

export function formatSummary(summary: ImportSummary, seconds: number): string[] {
  const s = summary.skipped;
  const verb = summary.dryRun ? 'would import' : 'imported';
  return [
    `${summary.dryRun ? 'Dry run (nothing written)' : 'Done'} in ${seconds.toFixed(1)} s: ${summary.records} records read`,
    `threads:  ${summary.threads.read} read, ${summary.threads.mapped} mapped to an article, ${summary.threads.unmapped} without one, ${summary.threads.collisions} sharing an article (${summary.articles} articles)`,
    `comments: ${verb} ${summary.imported}, held for review ${summary.held}, placeholders ${summary.placeholders}, already present ${summary.alreadyPresent}, bodies cut ${summary.truncated}`,
    `skipped:  spam ${s.spam}, deleted ${s.deleted}, pings ${s.pings}, duplicates ${s.duplicates}, orphans ${s.orphans}, empty ${s.empty}`,
    ...(summary.locked > 0 || summary.bans > 0
      ? [`articles locked ${summary.locked}, bans restored ${summary.bans}`]
      : []),
    ...summary.notes.map((note) => `  - ${note}`),
  ];
}

interface Io {
  out: Output;
  err: Output;
  tty: boolean;
}

async function withFanOut<T>(config: Config, use: (fanout: FanOut | null) => Promise<T>): Promise<T> {
  if (!redisTarget(config)) return use(null);
  const logger = createLogger('silent', config.instanceId);
  const fanout = await createFanOut(config, logger, new Metrics(config.instanceId));
  try {
    return await use(fanout);
  } finally {
    await fanout.close();
  }
}

async function importCommand(args: string[], config: Config, io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      format: { type: 'string' },
      file: { type: 'string' },
      map: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'keep-closed': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const format = ImportFormatSchema.safeParse(values.format);
  if (!format.success) throw new UsageError('import needs --format disqus, wxr or native');
  if (!values.file) throw new UsageError('import needs --file PATH (- for standard input)');
  const map = values.map ? await loadMapFile(values.map) : new Map<string, string>();
  const store = await openStore(config);
  const started = Date.now();
  const view = progressView(io.tty, io.err);
  try {
    // The instances' keyring: imported authors get the ban keys the server would give them.
    const { keys } = await openKeyring(config.secretKey, store);
    const summary = await withFanOut(config, (fanout) =>
      runImport({
        format: format.data,
        input: values.file ?? '-',
        store,
        keys,
        map,
        dryRun: values['dry-run'],
        keepClosed: values['keep-closed'],
        ...(fanout ? { announcer: fanOutAnnouncer(fanout) } : {}),
        onProgress: (p) => view.update(p),
        onReport: io.out,
      }),
    );
    view.stop();
    for (const line of formatSummary(summary, (Date.now() - started) / 1000)) io.out(line);
    if (!summary.dryRun && !redisTarget(config) && summary.articles > 0)
      io.out(
        'No REDIS_URL or REDIS_CLUSTER_NODES: running instances were not told. Open widgets show the imported comments when they next load or reconnect; import through the admin API (POST /api/admin/import) to update them live.',
      );
    return 0;
  } finally {
    view.stop();
    await store.close();
  }
}

async function exportCommand(args: string[], config: Config, io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { file: { type: 'string' } }, strict: true });
  if (!values.file) throw new UsageError('export needs --file PATH (- for standard output)');
  const store = await openStore(config);
  const started = Date.now();
  try {
    const output = values.file === '-' ? process.stdout : createWriteStream(values.file);
    const comments = await writeNativeExport(store, output);
    const seconds = (Date.now() - started) / 1000;
    const size = values.file === '-' ? '' : `, ${((await stat(values.file)).size / 1e6).toFixed(1)} MB`;
    io.err(`Exported ${comments} comments from ${storeKind(config)} in ${seconds.toFixed(1)} s${size}`);
    return 0;
  } finally {
    await store.close();
  }
}

class UsageError extends Error {}

/** Runs one command; resolves with the process exit code (0 done, 1 failed, 2 usage, 78 configuration). */
export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      io.out(HELP);
      return command === undefined ? 2 : 0;
    }
    const config = loadConfig();
    if (command === 'import') return await importCommand(args, config, io);
    if (command === 'export') return await exportCommand(args, config, io);
    throw new UsageError(`Unknown command "${command}"`);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`${(error as Error).message}\n\n${HELP}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      io.err(error.message);
      return 78;
    }
    if (error instanceof ImportFileError) {
      io.err(`The file cannot be imported, nothing was written: ${error.message}`);
      return 1;
    }
    io.err(`Failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    tty: process.stderr.isTTY === true,
  }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
}

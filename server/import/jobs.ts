import type { Readable } from 'node:stream';
import { nanoid } from 'nanoid';
import { ImportJobSchema, type ImportFormat, type ImportJob, type ImportProgress } from '../../shared/import-export.ts';
import type { FanOut } from '../fanout/port.ts';
import type { Logger } from '../logger.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { CommentStore } from '../storage/port.ts';
import { fanOutAnnouncer } from './announcer.ts';
import { runImport } from './importer.ts';

/** Largest upload the admin API takes (as sent); bigger files go through the CLI, which has no limit. */
export const IMPORT_MAX_BYTES = 512 * 1024 * 1024;
/** Largest it may decompress to: bounds the staging area's disk. */
export const IMPORT_MAX_INFLATED_BYTES = 2 * 1024 * 1024 * 1024;
/** How often a running job's document (progress, heartbeat) is saved. */
const HEARTBEAT_MS = 1000;
/** A running job whose heartbeat is older than this ran on an instance that stopped. */
export const JOB_STALE_MS = 60_000;
/** Dry-run report lines kept in the job document; the CLI prints them all. */
const REPORT_MAX_LINES = 2000;

export interface ImportJobsDeps {
  store: CommentStore;
  /** Derives imported authors' ban keys. */
  keys: Keyring;
  fanout: FanOut;
  instanceId: string;
  logger: Logger;
  now?: () => Date;
}

/** What `start` settles with once the upload is read: the job, or the reason the file was refused (nothing written). */
export type JobStart = { kind: 'started'; job: ImportJob } | { kind: 'refused'; error: unknown; job: ImportJob };

/**
 * Import jobs of the admin API. A job runs on the instance that took the upload (the body streams
 * into the importer's staging area as it arrives); its document (state, progress, summary) lives in the
 * store and is saved every second, so any instance behind the balancer answers `GET …/import/:job`. If
 * that instance stops, the job stops with it: its heartbeat goes stale and every instance reports it
 * `interrupted`; what it wrote stays, and running the import again adds only what is missing.
 */
export class ImportJobs {
  readonly #deps: ImportJobsDeps;
  readonly #running = new Map<string, AbortController>();
  readonly #done = new Set<Promise<unknown>>();

  constructor(deps: ImportJobsDeps) {
    this.#deps = deps;
  }

  /** Starts an import of `body`; resolves once the body is read (started) or refused (a malformed file). */
  start(format: ImportFormat, body: Readable, options: { dryRun: boolean; keepClosed: boolean }): Promise<JobStart> {
    const now = (): string => (this.#deps.now ?? (() => new Date()))().toISOString();
    const job: ImportJob = {
      id: nanoid(16),
      format,
      state: 'running',
      dryRun: options.dryRun,
      instanceId: this.#deps.instanceId,
      createdAt: now(),
      updatedAt: now(),
      progress: { phase: 'reading', bytes: 0, records: 0, written: 0, toWrite: 0 },
      summary: null,
      report: [],
      error: null,
    };
    const abort = new AbortController();
    this.#running.set(job.id, abort);
    let lastSave = 0;
    let saving: Promise<void> = Promise.resolve();
    const save = (): Promise<void> => {
      job.updatedAt = now();
      const data = JSON.stringify(job);
      saving = saving
        .then(() => this.#deps.store.putImportJob(job.id, job.updatedAt, data))
        .catch((error: unknown) => this.#deps.logger.warn({ err: error, job: job.id }, 'could not save import job'));
      return saving;
    };
    return new Promise<JobStart>((settle) => {
      let read = false;
      const onProgress = (progress: ImportProgress): void => {
        job.progress = progress;
        if (!read && progress.phase !== 'reading') {
          read = true;
          void save().then(() => settle({ kind: 'started', job: { ...job } }));
          return;
        }
        if (Date.now() - lastSave >= HEARTBEAT_MS) {
          lastSave = Date.now();
          void save();
        }
      };
      const heartbeat = setInterval(() => void save(), HEARTBEAT_MS * 10);
      heartbeat.unref();
      const run = save()
        .then(() =>
          runImport({
            format,
            input: body,
            store: this.#deps.store,
            keys: this.#deps.keys,
            dryRun: options.dryRun,
            keepClosed: options.keepClosed,
            announcer: fanOutAnnouncer(this.#deps.fanout),
            onProgress,
            onReport: (line) => {
              if (job.report.length < REPORT_MAX_LINES) job.report.push(line);
            },
            limits: { maxBytes: IMPORT_MAX_BYTES, maxInflatedBytes: IMPORT_MAX_INFLATED_BYTES },
            signal: abort.signal,
          }),
        )
        .then(
          (summary) => {
            job.state = 'done';
            job.summary = summary;
          },
          (error: unknown) => {
            job.state = 'failed';
            job.error = { message: error instanceof Error ? error.message : String(error) };
            if (!read) settle({ kind: 'refused', error, job: { ...job } });
            else this.#deps.logger.warn({ err: error, job: job.id }, 'import job failed');
          },
        )
        .then(() => save())
        .finally(() => {
          clearInterval(heartbeat);
          this.#running.delete(job.id);
          this.#done.delete(run);
        });
      this.#done.add(run);
    });
  }

  /** A job as any instance sees it; a running job whose heartbeat stopped is `interrupted`. Null when unknown. */
  async get(id: string): Promise<ImportJob | null> {
    const data = await this.#deps.store.getImportJob(id);
    if (data === null) return null;
    const job = ImportJobSchema.parse(JSON.parse(data));
    const age = (this.#deps.now ?? (() => new Date()))().getTime() - Date.parse(job.updatedAt);
    if (job.state === 'running' && !this.#running.has(id) && age > JOB_STALE_MS)
      return { ...job, state: 'interrupted' };
    return job;
  }

  /** Stops the jobs running here (shutdown): each ends `failed`, saying so; what they wrote stays. */
  async stop(): Promise<void> {
    for (const abort of this.#running.values()) abort.abort(new Error('The instance running the import shut down'));
    await Promise.allSettled([...this.#done]);
  }
}

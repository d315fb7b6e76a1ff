import {
  ImportFormatSchema,
  type ImportFormat,
  type ImportJob,
  type ImportSummary,
} from '../../shared/import-export.ts';
import { toWidgetError, type WidgetError } from '../protocol.ts';
import { h } from '../view/dom.ts';
import type { AdminApi } from './admin-api.ts';

/** The import job this tab watches, so a reload shows it again (its progress, or its summary). */
const JOB_KEY = 'live-comments:import-job';
/** How often a running job is asked for its progress (the server saves it every second). */
const POLL_MS = 1000;
/** Waits after a failed poll: the instance may be restarting, or the network away for a moment. */
const RETRY_MS = [2000, 4000, 8000, 15_000];

const FORMATS: ReadonlyArray<readonly [ImportFormat, string]> = [
  ['disqus', 'Disqus (XML export)'],
  ['wxr', 'WordPress (WXR export)'],
  ['native', 'Live Comments export (.jsonl.gz)'],
];

const PHASES: Record<ImportJob['progress']['phase'], string> = {
  reading: 'Reading the file',
  resolving: 'Matching threads to articles and replies to their parents',
  writing: 'Writing comments',
  announcing: 'Telling open pages',
  done: 'Done',
};

/** What the panel needs from the page: the signed-in API, the page's screen-reader announcer, and sign-out on a refused token. */
export interface ImportPanelHost {
  api(): AdminApi | null;
  announce(text: string): void;
  /** True when the failure was the token being refused (the page then signs out). */
  tokenRefused(failure: WidgetError): boolean;
  /** An import wrote comments: the page reads its feed and held queue again (imports push no comment one by one). */
  imported(): void;
}

const numbers = new Intl.NumberFormat('en');
const count = (value: number): string => numbers.format(value);

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

const storedJob = {
  read(): string | null {
    try {
      return sessionStorage.getItem(JOB_KEY);
    } catch {
      return null;
    }
  },
  write(jobId: string | null): void {
    try {
      if (jobId === null) sessionStorage.removeItem(JOB_KEY);
      else sessionStorage.setItem(JOB_KEY, jobId);
    } catch {
      // Without sessionStorage a reload forgets the job; the import itself goes on.
    }
  },
};

/**
 * The Import and export section of /admin: uploads a Disqus, WordPress or native file as an import
 * job of the admin API (`POST /api/admin/import`), follows its progress until it ends (polling `GET
 * /api/admin/import/:job`, which any instance answers) and shows its summary, or the dry run's mapping;
 * and downloads the native export (`GET /api/admin/export`, fetched with the token and saved from a
 * Blob). Progress is shown, not read out: the screen reader hears when a job starts, ends or fails.
 */
export class ImportPanel {
  readonly element: HTMLElement;
  readonly #host: ImportPanelHost;

  readonly #format = h('select', { attrs: { id: 'import-format', 'data-action': 'import-format' } });
  readonly #file = h('input', {
    attrs: {
      id: 'import-file',
      type: 'file',
      accept: '.xml,.gz,.jsonl,.json,application/xml,text/xml,application/gzip',
      'aria-describedby': 'import-file-hint',
    },
  });
  readonly #dryRun = h('input', { attrs: { id: 'import-dry-run', type: 'checkbox' } });
  readonly #keepClosed = h('input', { attrs: { id: 'import-keep-closed', type: 'checkbox' } });
  readonly #start = h('button', {
    class: 'primary',
    text: 'Import',
    attrs: { type: 'submit', 'data-action': 'import-start' },
  });
  readonly #formError = h('p', { class: 'error', attrs: { role: 'alert' } });

  readonly #job = h('div', { class: 'job', attrs: { hidden: '' } });
  readonly #jobTitle = h('h4', { attrs: { id: 'import-job-title', tabindex: '-1' } });
  readonly #progress = h('progress', { attrs: { 'aria-labelledby': 'import-job-title', max: '1' } });
  readonly #progressText = h('p', { class: 'progress-text' });
  readonly #jobError = h('p', { class: 'error', attrs: { role: 'alert' } });
  readonly #summary = h('div', { class: 'summary', attrs: { hidden: '' } });

  readonly #exportButton = h('button', { text: 'Download export', attrs: { type: 'button', 'data-action': 'export' } });
  readonly #exportStatus = h('p', { class: 'muted', attrs: { role: 'status' } });
  readonly #exportError = h('p', { class: 'error', attrs: { role: 'alert' } });

  /** The job being followed; a new upload, or sign-out, stops following the previous one. */
  #watching: symbol | null = null;
  #busy = false;
  /** The name of the file being imported; null for a job followed again after a reload. */
  #fileName: string | null = null;

  constructor(host: ImportPanelHost) {
    this.#host = host;
    for (const [value, label] of FORMATS) this.#format.append(h('option', { text: label, attrs: { value } }));

    const form = h(
      'form',
      { class: 'import-form', attrs: { 'aria-labelledby': 'import-form-title', novalidate: '' } },
      [
        h('div', { class: 'field' }, [h('label', { text: 'Format', attrs: { for: 'import-format' } }), this.#format]),
        h('div', { class: 'field' }, [
          h('label', { text: 'File', attrs: { for: 'import-file' } }),
          this.#file,
          h('p', {
            class: 'hint',
            text: 'XML or JSON lines, gzipped or not, up to 512 MB (larger files: the command line).',
            attrs: { id: 'import-file-hint' },
          }),
        ]),
        h('div', { class: 'check' }, [
          this.#dryRun,
          h('label', {
            text: 'Dry run: check the file and show how threads map to articles, write nothing',
            attrs: { for: 'import-dry-run' },
          }),
        ]),
        h('div', { class: 'check' }, [
          this.#keepClosed,
          h('label', {
            text: 'Keep closed threads closed (lock their articles)',
            attrs: { for: 'import-keep-closed' },
          }),
        ]),
        this.#formError,
        h('div', { class: 'actions' }, [this.#start]),
      ],
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#upload();
    });
    this.#dryRun.addEventListener('change', () => {
      this.#start.textContent = this.#dryRun.checked ? 'Check the file' : 'Import';
    });

    this.#job.append(this.#jobTitle, this.#progress, this.#progressText, this.#jobError, this.#summary);
    this.#exportButton.addEventListener('click', () => void this.#export());

    this.element = h('section', { class: 'import-export', attrs: { 'aria-labelledby': 'import-title' } }, [
      h('h2', { text: 'Import and export', attrs: { id: 'import-title' } }),
      h('p', {
        class: 'hint',
        text: 'An import adds comments from Disqus, WordPress or an export of this server, keeping their threads, authors and times. It never changes or deletes a comment, and running it again adds nothing twice.',
      }),
      h('h3', { text: 'Import comments', attrs: { id: 'import-form-title' } }),
      form,
      this.#job,
      h('h3', { text: 'Export', attrs: { id: 'export-title' } }),
      h('p', {
        class: 'hint',
        text: 'Every comment, article setting and ban as one gzipped file: a backup, or a move to another server or store (import it as a Live Comments export).',
      }),
      h('div', { class: 'actions' }, [this.#exportButton]),
      this.#exportStatus,
      this.#exportError,
    ]);
  }

  /** After sign-in: follows the job this tab started before a reload, if any. */
  resume(): void {
    const jobId = storedJob.read();
    const api = this.#host.api();
    if (jobId === null || api === null || this.#watching !== null) return;
    this.#fileName = null;
    this.#job.hidden = false;
    this.#jobTitle.textContent = 'The last import';
    this.#progressText.textContent = 'Looking up the last import…';
    void this.#follow(api, jobId, false);
  }

  /** Sign-out: stop following, forget the job, clear what was shown. */
  /** The page is replaced (another language): stops following the job, which the next page follows again. */
  stop(): void {
    this.#watching = null;
  }

  reset(): void {
    this.#watching = null;
    this.#busy = false;
    this.#start.removeAttribute('aria-disabled');
    storedJob.write(null);
    this.#job.hidden = true;
    this.#summary.replaceChildren();
    this.#formError.textContent = '';
    this.#exportStatus.textContent = '';
    this.#exportError.textContent = '';
    this.#file.value = '';
  }

  // ---- import ---------------------------------------------------------------------------------

  async #upload(): Promise<void> {
    const api = this.#host.api();
    if (!api || this.#busy) return;
    const file = this.#file.files?.[0];
    const format = ImportFormatSchema.safeParse(this.#format.value);
    if (!file || !format.success) {
      this.#formError.textContent = 'Choose the file to import.';
      this.#file.focus();
      return;
    }
    this.#formError.textContent = '';
    const dryRun = this.#dryRun.checked;
    this.#fileName = file.name;
    this.#setBusy(true);
    const watch = Symbol('job');
    this.#watching = watch;
    storedJob.write(null);
    this.#job.hidden = false;
    this.#summary.hidden = true;
    this.#summary.replaceChildren();
    this.#jobError.textContent = '';
    this.#jobTitle.textContent = `${dryRun ? 'Dry run of' : 'Importing'} ${file.name}`;
    this.#showSent(0, file.size);
    this.#host.announce(`${dryRun ? 'Checking' : 'Importing'} ${file.name}.`);
    let job: ImportJob;
    try {
      job = await api.startImport(
        file,
        { format: format.data, dryRun, keepClosed: this.#keepClosed.checked },
        (sent, total) => this.#watching === watch && this.#showSent(sent, total),
      );
    } catch (error) {
      if (this.#watching !== watch) return;
      this.#watching = null;
      this.#setBusy(false);
      const failure = toWidgetError(error);
      if (this.#host.tokenRefused(failure)) return;
      this.#jobTitle.textContent = `${file.name}: not imported`;
      this.#progress.value = 0;
      this.#progressText.textContent = '';
      this.#jobError.textContent = failure.message;
      this.#host.announce(`${file.name} was not imported.`);
      this.#focusResult();
      return;
    }
    if (this.#watching !== watch) return;
    storedJob.write(job.id);
    this.#showJob(job);
    await this.#follow(api, job.id, true, watch);
  }

  /** Polls the job until it ends, showing its progress, then its summary or its error. */
  async #follow(api: AdminApi, jobId: string, started: boolean, watch = Symbol('job')): Promise<void> {
    this.#watching = watch;
    this.#setBusy(true);
    let failures = 0;
    for (;;) {
      if (this.#watching !== watch) return;
      let job: ImportJob;
      try {
        job = await api.importJob(jobId);
        failures = 0;
      } catch (error) {
        if (this.#watching !== watch) return;
        const failure = toWidgetError(error);
        if (this.#host.tokenRefused(failure)) return;
        if (failure.code === 'not_found' || failures >= RETRY_MS.length) {
          this.#end(watch);
          if (failure.code === 'not_found') {
            storedJob.write(null);
            this.#job.hidden = !started;
          }
          this.#jobError.textContent =
            failure.code === 'not_found'
              ? 'This import is not known to the server any more.'
              : `Lost track of the import: ${failure.message} It goes on on the server; reload the page to look again.`;
          return;
        }
        this.#progressText.textContent = `${failure.message} Trying again…`;
        await sleep(RETRY_MS[failures++] ?? POLL_MS);
        continue;
      }
      if (this.#watching !== watch) return;
      this.#showJob(job);
      if (job.state !== 'running') {
        this.#end(watch);
        this.#finish(job, started);
        return;
      }
      await sleep(POLL_MS);
    }
  }

  #end(watch: symbol): void {
    if (this.#watching === watch) this.#watching = null;
    this.#setBusy(false);
  }

  #setBusy(busy: boolean): void {
    this.#busy = busy;
    // Not `disabled`: a disabled button would drop the keyboard focus to the page's top.
    if (busy) this.#start.setAttribute('aria-disabled', 'true');
    else this.#start.removeAttribute('aria-disabled');
  }

  #showSent(sent: number, total: number): void {
    if (total > 0 && sent >= total) {
      this.#progress.removeAttribute('value');
      this.#progressText.textContent = `Sent ${formatBytes(total)}; the server is reading it…`;
      return;
    }
    this.#progress.value = total > 0 ? sent / total : 0;
    this.#progressText.textContent = `Uploading: ${formatBytes(sent)} of ${formatBytes(total)}`;
  }

  #showJob(job: ImportJob): void {
    const { progress } = job;
    const elapsed = formatDuration(Date.parse(job.updatedAt) - Date.parse(job.createdAt));
    if (job.state === 'done' || progress.phase === 'announcing' || progress.phase === 'done') this.#progress.value = 1;
    else if (progress.phase === 'writing' && progress.toWrite > 0)
      this.#progress.value = progress.written / progress.toWrite;
    // Reading the last bytes, resolving the tree: no measure of how far along, so an indeterminate bar.
    else if (job.state === 'running') this.#progress.removeAttribute('value');
    const parts = [PHASES[progress.phase], `${count(progress.records)} records read`];
    if (progress.toWrite > 0 && !job.dryRun)
      parts.push(`${count(progress.written)} of ${count(progress.toWrite)} written`);
    this.#progressText.textContent =
      job.state === 'running' ? [...parts, elapsed].join(' · ') : [`Took ${elapsed}`, ...parts.slice(1)].join(' · ');
  }

  /** The job ended: its summary (and a dry run's report), or why it stopped. */
  #finish(job: ImportJob, started: boolean): void {
    const file = this.#fileName;
    if (job.state === 'done' && job.summary) {
      const last = `The last ${job.dryRun ? 'dry run' : 'import'} (${job.format})`;
      if (job.dryRun)
        this.#jobTitle.textContent = `${file === null ? last : `Dry run of ${file}`}: nothing was written`;
      else this.#jobTitle.textContent = file === null ? `${last}: done` : `Imported ${file}`;
      this.#renderSummary(job.summary, job.report);
      const s = job.summary;
      if (!job.dryRun && s.imported + s.held + s.placeholders > 0) this.#host.imported();
      const skipped = Object.values(s.skipped).reduce((sum, n) => sum + n, 0);
      this.#host.announce(
        `${job.dryRun ? 'Dry run done' : 'Import done'}: ${count(s.imported)} ${job.dryRun ? 'to import' : 'imported'}, ${count(skipped)} skipped.`,
      );
    } else {
      this.#jobTitle.textContent = `${this.#fileName ?? 'The last import'}: stopped`;
      this.#jobError.textContent =
        job.state === 'interrupted'
          ? 'The server instance running this import stopped. What it wrote stays: run the import again and it adds only what is missing.'
          : `${job.error?.message ?? 'The import failed.'} What was written stays: run the import again and it adds only what is missing.`;
      this.#host.announce('The import stopped.');
    }
    if (started) this.#focusResult();
  }

  /** Moves the focus to the result, unless the moderator has gone on to something else meanwhile. */
  #focusResult(): void {
    const active = document.activeElement;
    if (active === null || active === document.body || active === this.#start) this.#jobTitle.focus();
  }

  #renderSummary(s: ImportSummary, report: readonly string[]): void {
    const rows: Array<[string, string]> = [
      [
        'Source threads',
        `${count(s.threads.read)} (${count(s.threads.mapped)} with an article id, ${count(s.threads.unmapped)} without, ${count(s.threads.collisions)} sharing one)`,
      ],
      ['Articles', count(s.articles)],
      ['Comments in the file', count(s.records)],
      [s.dryRun ? 'To import' : 'Imported', count(s.imported)],
      ['Held for review', count(s.held)],
      ['Kept as removed placeholders', count(s.placeholders)],
      ['Already imported before', count(s.alreadyPresent)],
    ];
    if (s.truncated > 0) rows.push(['Bodies cut to the length limit', count(s.truncated)]);
    if (s.locked > 0) rows.push(['Articles locked', count(s.locked)]);
    if (s.bans > 0) rows.push(['Bans', count(s.bans)]);
    const skipped = Object.entries(s.skipped).filter(([, n]) => n > 0);
    rows.push([
      'Skipped',
      skipped.length === 0 ? 'none' : skipped.map(([reason, n]) => `${count(n)} ${reason}`).join(', '),
    ]);
    const list = h('dl', { class: 'counts' });
    for (const [term, value] of rows) list.append(h('dt', { text: term }), h('dd', { text: value }));
    const children: Node[] = [list];
    if (s.notes.length > 0)
      children.push(
        h('h5', { text: 'Why', attrs: { id: 'import-notes-title' } }),
        h(
          'ul',
          { class: 'notes', attrs: { 'aria-labelledby': 'import-notes-title' } },
          s.notes.map((note) => h('li', { text: note })),
        ),
      );
    if (report.length > 0)
      children.push(
        h('h5', { text: 'Threads to articles, collisions and orphans', attrs: { id: 'import-report-title' } }),
        // Focusable so a keyboard can scroll it; a region so a screen reader can find it.
        h('pre', {
          class: 'report',
          text: report.join('\n'),
          attrs: { tabindex: '0', role: 'region', 'aria-labelledby': 'import-report-title' },
        }),
      );
    this.#summary.replaceChildren(...children);
    this.#summary.hidden = false;
  }

  // ---- export ---------------------------------------------------------------------------------

  async #export(): Promise<void> {
    const api = this.#host.api();
    if (!api || this.#exportButton.getAttribute('aria-disabled') === 'true') return;
    this.#exportButton.setAttribute('aria-disabled', 'true');
    this.#exportError.textContent = '';
    this.#exportStatus.textContent = 'Preparing the export…';
    try {
      const { blob, fileName } = await api.export();
      const url = URL.createObjectURL(blob);
      const link = h('a', { attrs: { href: url, download: fileName, hidden: '' } });
      document.body.append(link);
      link.click();
      link.remove();
      // Revoked later, not at once: the browser reads the Blob after the click returns.
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      this.#exportStatus.textContent = `Saved ${fileName} (${formatBytes(blob.size)}).`;
    } catch (error) {
      const failure = toWidgetError(error);
      if (this.#host.tokenRefused(failure)) return;
      this.#exportStatus.textContent = '';
      this.#exportError.textContent = `The export failed: ${failure.message}`;
    } finally {
      this.#exportButton.removeAttribute('aria-disabled');
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

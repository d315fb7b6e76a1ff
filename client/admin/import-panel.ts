import {
  ImportFormatSchema,
  type ImportFormat,
  type ImportJob,
  type ImportSummary,
} from '../../shared/import-export.ts';
import { toWidgetError, type WidgetError } from '../protocol.ts';
import { h } from '../view/dom.ts';
import type { AdminApi } from './admin-api.ts';
import type { AdminStrings, AdminTextKey } from './admin-strings.ts';

/** The import job this tab watches, so a reload shows it again (its progress, or its summary). */
const JOB_KEY = 'live-comments:import-job';
/** How often a running job is asked for its progress (the server saves it every second). */
const POLL_MS = 1000;
/** Waits after a failed poll: the instance may be restarting, or the network away for a moment. */
const RETRY_MS = [2000, 4000, 8000, 15_000];

const FORMATS: readonly ImportFormat[] = ['disqus', 'wxr', 'native'];
/** Why records were skipped, in the order the summary lists them. */
const SKIPS = ['spam', 'deleted', 'pings', 'duplicates', 'orphans', 'empty'] as const;

/** What the panel needs from the page: the signed-in API, the page's screen-reader announcer, and sign-out on a refused token. */
export interface ImportPanelHost {
  api(): AdminApi | null;
  announce(text: string): void;
  /** True when the failure was the token being refused (the page then signs out). */
  tokenRefused(failure: WidgetError): boolean;
  /** An import wrote comments: the page reads its feed and held queue again (imports push no comment one by one). */
  imported(): void;
}

/** A size as the page's language writes it: "512 byte", "1.5 kB", "12 MB". */
function formatBytes(bytes: number, locale: string): string {
  const units = ['kilobyte', 'megabyte', 'gigabyte'] as const;
  let value = bytes;
  let unit: (typeof units)[number] | 'byte' = 'byte';
  for (const next of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  const digits = unit !== 'byte' && value < 10 ? 1 : 0;
  return new Intl.NumberFormat(locale, {
    style: 'unit',
    unit,
    unitDisplay: 'short',
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  }).format(value);
}

/** A duration as the page's language writes it: "5 sec", "1 min, 5 sec". */
function formatDuration(ms: number, strings: AdminStrings): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const unit = (n: number, name: 'minute' | 'second') =>
    new Intl.NumberFormat(strings.locale, { style: 'unit', unit: name, unitDisplay: 'short' }).format(n);
  return seconds < 60
    ? unit(seconds, 'second')
    : strings.list([unit(Math.floor(seconds / 60), 'minute'), unit(seconds % 60, 'second')]);
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
  readonly #strings: AdminStrings;

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
  readonly #start = h('button', { class: 'primary', attrs: { type: 'submit', 'data-action': 'import-start' } });
  readonly #formError = h('p', { class: 'error', attrs: { role: 'alert' } });

  readonly #job = h('div', { class: 'job', attrs: { hidden: '' } });
  readonly #jobTitle = h('h4', { attrs: { id: 'import-job-title', tabindex: '-1' } });
  readonly #progress = h('progress', { attrs: { 'aria-labelledby': 'import-job-title', max: '1' } });
  readonly #progressText = h('p', { class: 'progress-text' });
  readonly #jobError = h('p', { class: 'error', attrs: { role: 'alert' } });
  readonly #summary = h('div', { class: 'summary', attrs: { hidden: '' } });

  readonly #exportButton = h('button', { attrs: { type: 'button', 'data-action': 'export' } });
  readonly #exportStatus = h('p', { class: 'muted', attrs: { role: 'status' } });
  readonly #exportError = h('p', { class: 'error', attrs: { role: 'alert' } });

  /** The job being followed; a new upload, or sign-out, stops following the previous one. */
  #watching: symbol | null = null;
  #busy = false;
  /** The name of the file being imported; null for a job followed again after a reload. */
  #fileName: string | null = null;

  constructor(host: ImportPanelHost, strings: AdminStrings) {
    this.#host = host;
    this.#strings = strings;
    const t = strings;
    for (const format of FORMATS)
      this.#format.append(h('option', { text: t.text(`admin.import.${format}`), attrs: { value: format } }));
    this.#start.textContent = t.text('admin.import.start');
    this.#exportButton.textContent = t.text('admin.import.download');

    const form = h(
      'form',
      { class: 'import-form', attrs: { 'aria-labelledby': 'import-form-title', novalidate: '' } },
      [
        h('div', { class: 'field' }, [
          h('label', { text: t.text('admin.import.format'), attrs: { for: 'import-format' } }),
          this.#format,
        ]),
        h('div', { class: 'field' }, [
          h('label', { text: t.text('admin.import.file'), attrs: { for: 'import-file' } }),
          this.#file,
          h('p', { class: 'hint', text: t.text('admin.import.fileHint'), attrs: { id: 'import-file-hint' } }),
        ]),
        h('div', { class: 'check' }, [
          this.#dryRun,
          h('label', { text: t.text('admin.import.dryRun'), attrs: { for: 'import-dry-run' } }),
        ]),
        h('div', { class: 'check' }, [
          this.#keepClosed,
          h('label', { text: t.text('admin.import.keepClosed'), attrs: { for: 'import-keep-closed' } }),
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
      this.#start.textContent = t.text(this.#dryRun.checked ? 'admin.import.check' : 'admin.import.start');
    });

    this.#job.append(this.#jobTitle, this.#progress, this.#progressText, this.#jobError, this.#summary);
    this.#exportButton.addEventListener('click', () => void this.#export());

    this.element = h('section', { class: 'import-export', attrs: { 'aria-labelledby': 'import-title' } }, [
      h('h2', { text: t.text('admin.import.title'), attrs: { id: 'import-title' } }),
      h('p', { class: 'hint', text: t.text('admin.import.hint') }),
      h('h3', { text: t.text('admin.import.formTitle'), attrs: { id: 'import-form-title' } }),
      form,
      this.#job,
      h('h3', { text: t.text('admin.import.exportTitle'), attrs: { id: 'export-title' } }),
      h('p', { class: 'hint', text: t.text('admin.import.exportHint') }),
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
    this.#jobTitle.textContent = this.#strings.text('admin.import.last');
    this.#progressText.textContent = this.#strings.text('admin.import.lookingUp');
    void this.#follow(api, jobId, false);
  }

  /** The page is replaced (another language): stops following the job, which the next page follows again. */
  stop(): void {
    this.#watching = null;
  }

  /** Sign-out: stop following, forget the job, clear what was shown. */
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
    const t = this.#strings;
    const api = this.#host.api();
    if (!api || this.#busy) return;
    const file = this.#file.files?.[0];
    const format = ImportFormatSchema.safeParse(this.#format.value);
    if (!file || !format.success) {
      this.#formError.textContent = t.text('admin.import.chooseFile');
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
    const named = { file: file.name };
    this.#jobTitle.textContent = t.text(dryRun ? 'admin.import.dryRunOf' : 'admin.import.importing', named);
    this.#showSent(0, file.size);
    this.#host.announce(t.text(dryRun ? 'admin.import.checkingAnnounce' : 'admin.import.importingAnnounce', named));
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
      this.#jobTitle.textContent = t.text('admin.import.notImported', named);
      this.#progress.value = 0;
      this.#progressText.textContent = '';
      // The server's message names the line and what is wrong with it: shown as it is, in English.
      this.#jobError.textContent = failure.message;
      this.#host.announce(t.text('admin.import.notImportedAnnounce', named));
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
              ? this.#strings.text('admin.import.unknown')
              : this.#strings.text('admin.import.lost', { error: this.#strings.error(failure) });
          return;
        }
        this.#progressText.textContent = this.#strings.text('admin.import.retrying', {
          error: this.#strings.error(failure),
        });
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
      this.#progressText.textContent = this.#strings.text('admin.import.sent', {
        size: formatBytes(total, this.#strings.locale),
      });
      return;
    }
    this.#progress.value = total > 0 ? sent / total : 0;
    this.#progressText.textContent = this.#strings.text('admin.import.uploading', {
      sent: formatBytes(sent, this.#strings.locale),
      total: formatBytes(total, this.#strings.locale),
    });
  }

  #showJob(job: ImportJob): void {
    const { progress } = job;
    const t = this.#strings;
    const elapsed = formatDuration(Date.parse(job.updatedAt) - Date.parse(job.createdAt), t);
    if (job.state === 'done' || progress.phase === 'announcing' || progress.phase === 'done') this.#progress.value = 1;
    else if (progress.phase === 'writing' && progress.toWrite > 0)
      this.#progress.value = progress.written / progress.toWrite;
    // Reading the last bytes, resolving the tree: no measure of how far along, so an indeterminate bar.
    else if (job.state === 'running') this.#progress.removeAttribute('value');
    const parts = [t.text(`admin.import.phase.${progress.phase}`), t.count('admin.import.read', progress.records)];
    if (progress.toWrite > 0 && !job.dryRun)
      parts.push(t.text('admin.import.written', { written: progress.written, total: progress.toWrite }));
    this.#progressText.textContent =
      job.state === 'running'
        ? [...parts, elapsed].join(' · ')
        : [t.text('admin.import.took', { time: elapsed }), ...parts.slice(1)].join(' · ');
  }

  /** The job ended: its summary (and a dry run's report), or why it stopped. */
  #finish(job: ImportJob, started: boolean): void {
    const file = this.#fileName;
    const t = this.#strings;
    if (job.state === 'done' && job.summary) {
      const last = t.text(job.dryRun ? 'admin.import.lastDryRun' : 'admin.import.lastImport', { format: job.format });
      if (job.dryRun)
        this.#jobTitle.textContent = t.text('admin.import.nothingWritten', {
          what: file === null ? last : t.text('admin.import.dryRunOf', { file }),
        });
      else
        this.#jobTitle.textContent =
          file === null ? t.text('admin.import.lastDone', { what: last }) : t.text('admin.import.imported', { file });
      this.#renderSummary(job.summary, job.report);
      const s = job.summary;
      if (!job.dryRun && s.imported + s.held + s.placeholders > 0) this.#host.imported();
      const skipped = Object.values(s.skipped).reduce((sum, n) => sum + n, 0);
      this.#host.announce(
        t.text(job.dryRun ? 'admin.import.dryRunDone' : 'admin.import.importDone', { imported: s.imported, skipped }),
      );
    } else {
      this.#jobTitle.textContent = t.text('admin.import.stopped', {
        what: this.#fileName ?? t.text('admin.import.last'),
      });
      // The server's reason for a failed import is its own (English) message.
      this.#jobError.textContent =
        job.state === 'interrupted'
          ? t.text('admin.import.interrupted')
          : t.text('admin.import.failed', { error: job.error?.message ?? t.text('admin.import.failedDefault') });
      this.#host.announce(t.text('admin.import.stoppedAnnounce'));
    }
    if (started) this.#focusResult();
  }

  /** Moves the focus to the result, unless the moderator has gone on to something else meanwhile. */
  #focusResult(): void {
    const active = document.activeElement;
    if (active === null || active === document.body || active === this.#start) this.#jobTitle.focus();
  }

  #renderSummary(s: ImportSummary, report: readonly string[]): void {
    const t = this.#strings;
    const count = (n: number) => t.number(n);
    const rows: Array<[AdminTextKey, string]> = [
      ['admin.import.threads', t.text('admin.import.threadsValue', { ...s.threads })],
      ['admin.articles', count(s.articles)],
      ['admin.import.records', count(s.records)],
      [s.dryRun ? 'admin.import.toImport' : 'admin.import.importedCount', count(s.imported)],
      ['admin.held', count(s.held)],
      ['admin.import.placeholders', count(s.placeholders)],
      ['admin.import.already', count(s.alreadyPresent)],
    ];
    if (s.truncated > 0) rows.push(['admin.import.truncated', count(s.truncated)]);
    if (s.locked > 0) rows.push(['admin.import.locked', count(s.locked)]);
    if (s.bans > 0) rows.push(['admin.bans', count(s.bans)]);
    const skipped = SKIPS.filter((reason) => s.skipped[reason] > 0);
    rows.push([
      'admin.import.skipped',
      skipped.length === 0
        ? t.text('admin.import.none')
        : t.list(skipped.map((reason) => t.text(`admin.import.skip.${reason}`, { count: s.skipped[reason] }))),
    ]);
    const list = h('dl', { class: 'counts' });
    for (const [term, value] of rows) list.append(h('dt', { text: t.text(term) }), h('dd', { text: value }));
    const children: Node[] = [list];
    if (s.notes.length > 0)
      children.push(
        h('h5', { text: t.text('admin.import.why'), attrs: { id: 'import-notes-title' } }),
        h(
          'ul',
          { class: 'notes', attrs: { 'aria-labelledby': 'import-notes-title' } },
          s.notes.map((note) => h('li', { text: note })),
        ),
      );
    if (report.length > 0)
      children.push(
        h('h5', { text: t.text('admin.import.reportTitle'), attrs: { id: 'import-report-title' } }),
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
    const t = this.#strings;
    this.#exportStatus.textContent = t.text('admin.import.preparing');
    try {
      const { blob, fileName } = await api.export();
      const url = URL.createObjectURL(blob);
      const link = h('a', { attrs: { href: url, download: fileName, hidden: '' } });
      document.body.append(link);
      link.click();
      link.remove();
      // Revoked later, not at once: the browser reads the Blob after the click returns.
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      this.#exportStatus.textContent = t.text('admin.import.saved', {
        file: fileName,
        size: formatBytes(blob.size, t.locale),
      });
    } catch (error) {
      const failure = toWidgetError(error);
      if (this.#host.tokenRefused(failure)) return;
      this.#exportStatus.textContent = '';
      this.#exportError.textContent = t.text('admin.import.exportFailed', { error: t.error(failure) });
    } finally {
      this.#exportButton.removeAttribute('aria-disabled');
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

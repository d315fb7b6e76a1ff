import { REPORT_REASONS, type ReportedComment } from '../../shared/reports.ts';
import type { ModeratedComment } from '../../shared/moderation.ts';
import { h } from '../view/dom.ts';
import type { AdminApi } from './admin-api.ts';
import type { AdminStrings } from './admin-strings.ts';
import { KeyedList } from './keyed-list.ts';
import { articleLink, button, time } from './controls.ts';
import { reasonLabel, type QueueFilters } from './queue-filters.ts';

/** What the panel needs of the page around it. */
export interface ReportsPanelHost {
  /** Runs a moderator action; its failure is shown by the page, never thrown. */
  act<T>(run: (api: AdminApi) => Promise<T>, done: (result: T) => void): Promise<void>;
  announce(text: string): void;
  /** Changes the queue: now, and again (`again` true) over the answer of a reload in flight, which may be older. */
  change(apply: (again: boolean) => void): void;
  /** A comment changed by an action here (restored, removed), for the live feed. */
  changed(comment: ModeratedComment): void;
  /** Opens the page's ban form for the comment's author; `banForm` answers it while it is open. */
  openBan(commentId: string): void;
  banForm(commentId: string): HTMLFormElement | null;
  /** The queue changed: the page renders again (its counts, the filters' articles, this list). */
  refresh(): void;
  /** The review queue's filters, shared with the held comments. */
  filters: QueueFilters;
}

/**
 * The comments readers reported, waiting for review (GET /api/admin/reports, live through
 * `admin:report` from every instance): each with its state (still public, or out of view since the
 * reports reached REPORT_HOLD_THRESHOLD), the reports per reason and the latest notes, and Keep /
 * Remove / Ban author. The queue's filters narrow the list; an entry closed anywhere leaves it. Part of
 * the page's review queue, beside the held comments.
 */
export class ReportsPanel {
  readonly element: HTMLElement;
  readonly #host: ReportsPanelHost;
  readonly #strings: AdminStrings;
  readonly #entries = new Map<string, ReportedComment>();
  readonly #title = h('h3', { attrs: { id: 'reported-title', tabindex: '-1' } });
  readonly #empty = h('p', { class: 'empty' });
  readonly #list: KeyedList<ReportedComment>;

  constructor(host: ReportsPanelHost, strings: AdminStrings) {
    this.#host = host;
    this.#strings = strings;
    this.#title.textContent = strings.text('admin.reported');
    this.#empty.textContent = strings.text('admin.reportedNone');
    this.#list = new KeyedList({
      label: strings.text('admin.reportedList'),
      id: (entry) => entry.comment.id,
      version: (entry) =>
        `${entry.state}|${entry.reports}|${entry.comment.seq}|${host.banForm(entry.comment.id) !== null}`,
      render: (entry) => this.#renderEntry(entry),
    });
    this.element = h('div', { class: 'queue-part' }, [this.#title, this.#empty, this.#list.element]);
  }

  /** How many reported comments wait (whatever the filters show). */
  get size(): number {
    return this.#entries.size;
  }

  has(commentId: string): boolean {
    return this.#entries.has(commentId);
  }

  row(commentId: string): HTMLLIElement | undefined {
    return this.#list.row(commentId);
  }

  /** The queue as the server answered it (after sign-in and every reconnect). */
  replace(entries: readonly ReportedComment[]): void {
    this.#entries.clear();
    for (const entry of entries) this.#entries.set(entry.comment.id, entry);
    this.#host.refresh();
  }

  /** One entry as `admin:report` or an action answered it: a closed one leaves the queue; a new one is announced. */
  apply(entry: ReportedComment, announce = true): void {
    const known = this.#entries.get(entry.comment.id);
    if (entry.state === 'closed') {
      if (!known) return;
      this.#entries.delete(entry.comment.id);
    } else {
      // Pushes may overtake each other across instances: the later report count (or change) wins.
      if (known && known.reports > entry.reports && known.comment.seq >= entry.comment.seq) return;
      if (!known && announce)
        this.#host.announce(this.#strings.text('admin.reportedAnnounce', { name: entry.comment.author.name }));
      this.#entries.set(entry.comment.id, entry);
    }
    this.#host.refresh();
  }

  /** The articles with reported comments waiting (for the article filter). */
  articles(): string[] {
    return [...this.#entries.values()].map((entry) => entry.comment.articleId);
  }

  clear(): void {
    this.#entries.clear();
    this.#host.refresh();
  }

  render(): void {
    const all = [...this.#entries.values()].sort(
      (a, b) => Date.parse(a.firstReportedAt) - Date.parse(b.firstReportedAt),
    );
    const filters = this.#host.filters;
    const shown = all.filter((entry) =>
      filters.shows({ kind: 'reported', articleId: entry.comment.articleId, reasons: entry.reasons }),
    );
    const t = this.#strings;
    this.#title.textContent =
      all.length > 0 ? t.text('admin.reportedCount', { count: all.length }) : t.text('admin.reported');
    this.#empty.hidden = shown.length > 0;
    this.#empty.textContent =
      all.length > 0 && filters.active ? t.text('admin.reportedNoMatch') : t.text('admin.reportedNone');
    this.#list.update(shown);
  }

  #renderEntry(entry: ReportedComment): Array<Node | string> {
    const { comment } = entry;
    const t = this.#strings;
    const name = comment.author.name;
    const hidden = entry.state === 'hidden';
    const meta = h('p', { class: 'meta' }, [
      ...t.nodes('admin.byOn', {
        name: h('strong', { class: 'author', text: name, attrs: { dir: 'auto' } }),
        article: articleLink(comment.articleId),
      }),
      ' · ',
      time(comment.createdAt, t),
      ' · ',
      h('span', {
        class: hidden ? 'badge' : 'muted',
        text: t.text(hidden ? 'admin.outOfView' : entry.kept ? 'admin.publicKept' : 'admin.public'),
      }),
    ]);
    const reasons = REPORT_REASONS.filter((reason) => entry.reasons[reason] > 0).map((reason) =>
      t.text('admin.reasonCount', { reason: reasonLabel(reason, t), count: entry.reasons[reason] }),
    );
    const summary = h('p', {
      class: 'hold-reason',
      text: t.text('admin.reportSummary', {
        reports: t.count('admin.reports', entry.reports),
        reasons: t.list(reasons),
      }),
    });
    const notes = entry.notes.map((note) =>
      h('p', { class: 'report-note', text: t.text('admin.quoted', { text: note }), attrs: { dir: 'auto' } }),
    );
    const text = comment.status === 'removed' ? (comment.originalBody ?? '') : comment.body;
    const actions = h('div', { class: 'actions' }, [
      button(
        t.text(hidden ? 'admin.keepRestore' : 'admin.keep'),
        'approve',
        () =>
          void this.#host.act(
            (api) => api.keepReported(comment.id),
            (after) => {
              this.#host.change((again) => this.apply(after, !again));
              this.#host.changed(after.comment);
              this.#host.announce(t.text('admin.kept', { name }));
            },
          ),
        { class: 'primary', 'aria-label': t.text('admin.keepBy', { name }), 'aria-keyshortcuts': 'A' },
      ),
    ]);
    if (comment.status !== 'removed' || comment.removedBy === 'moderator')
      actions.append(
        button(
          t.text('admin.remove'),
          'reject',
          () =>
            void this.#host.act(
              (api) => api.remove(comment.id),
              (removed) => {
                this.#host.change(() => this.#entries.delete(comment.id));
                this.#host.refresh();
                this.#host.changed(removed);
                this.#host.announce(t.text('admin.removed', { name }));
              },
            ),
          { 'aria-label': t.text('admin.removeReportedBy', { name }), 'aria-keyshortcuts': 'R' },
        ),
      );
    if (comment.authorKey !== null)
      actions.append(
        button(t.text('admin.banAuthor'), 'ban', () => this.#host.openBan(comment.id), {
          'aria-label': t.text('admin.banName', { name }),
          'aria-expanded': String(this.#host.banForm(comment.id) !== null),
          'aria-keyshortcuts': 'B',
        }),
      );
    const form = this.#host.banForm(comment.id);
    return [
      meta,
      summary,
      ...notes,
      ...(text ? [h('p', { class: 'body', text, attrs: { dir: 'auto' } })] : []),
      actions,
      ...(form ? [form] : []),
    ];
  }
}

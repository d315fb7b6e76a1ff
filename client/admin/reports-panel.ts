import { REPORT_REASONS, type ReportedComment } from '../../shared/reports.ts';
import type { ModeratedComment } from '../../shared/moderation.ts';
import { h, plural } from '../view/dom.ts';
import type { AdminApi } from './admin-api.ts';
import { KeyedList } from './keyed-list.ts';
import { articleLink, button, time } from './controls.ts';
import { reasonLabel, type QueueFilters } from './queue-filters.ts';

/** What the panel needs of the page around it. */
export interface ReportsPanelHost {
  /** Runs a moderator action; its failure is shown by the page, never thrown. */
  act<T>(run: (api: AdminApi) => Promise<T>, done: (result: T) => void): Promise<void>;
  announce(text: string): void;
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
  readonly #entries = new Map<string, ReportedComment>();
  readonly #title = h('h3', { text: 'Reported by readers', attrs: { id: 'reported-title', tabindex: '-1' } });
  readonly #empty = h('p', { class: 'empty', text: 'No reported comments wait for review.' });
  readonly #list: KeyedList<ReportedComment>;

  constructor(host: ReportsPanelHost) {
    this.#host = host;
    this.#list = new KeyedList({
      label: 'Reported comments',
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

  /** One entry as `admin:report` or an action answered it: a closed one leaves the queue. */
  apply(entry: ReportedComment): void {
    const known = this.#entries.get(entry.comment.id);
    if (entry.state === 'closed') {
      if (!known) return;
      this.#entries.delete(entry.comment.id);
    } else {
      // Pushes may overtake each other across instances: the later report count (or change) wins.
      if (known && known.reports > entry.reports && known.comment.seq >= entry.comment.seq) return;
      if (!known) this.#host.announce(`A comment by ${entry.comment.author.name} was reported.`);
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
    this.#title.textContent = all.length > 0 ? `Reported by readers (${all.length})` : 'Reported by readers';
    this.#empty.hidden = shown.length > 0;
    this.#empty.textContent =
      all.length > 0 && filters.active
        ? 'No reported comment matches these filters.'
        : 'No reported comments wait for review.';
    this.#list.update(shown);
  }

  #renderEntry(entry: ReportedComment): Array<Node | string> {
    const { comment } = entry;
    const who = comment.author.name;
    const hidden = entry.state === 'hidden';
    const meta = h('p', { class: 'meta' }, [
      h('strong', { class: 'author', text: who, attrs: { dir: 'auto' } }),
      ' on ',
      articleLink(comment.articleId),
      ' · ',
      time(comment.createdAt),
      ' · ',
      h('span', {
        class: hidden ? 'badge' : 'muted',
        text: hidden ? 'out of view until reviewed' : entry.kept ? 'public (kept before)' : 'public',
      }),
    ]);
    const reasons = REPORT_REASONS.filter((reason) => entry.reasons[reason] > 0)
      .map((reason) => `${reasonLabel(reason)} ${entry.reasons[reason]}`)
      .join(', ');
    const summary = h('p', {
      class: 'hold-reason',
      text: `${plural(entry.reports, 'report', 'reports')}: ${reasons}`,
    });
    const notes = entry.notes.map((note) =>
      h('p', { class: 'report-note', text: `“${note}”`, attrs: { dir: 'auto' } }),
    );
    const text = comment.status === 'removed' ? (comment.originalBody ?? '') : comment.body;
    const actions = h('div', { class: 'actions' }, [
      button(
        hidden ? 'Keep and restore' : 'Keep',
        'approve',
        () =>
          void this.#host.act(
            (api) => api.keepReported(comment.id),
            (after) => {
              this.apply(after);
              this.#host.changed(after.comment);
              this.#host.announce(`Comment by ${who} kept.`);
            },
          ),
        { class: 'primary', 'aria-label': `Keep comment by ${who}`, 'aria-keyshortcuts': 'A' },
      ),
    ]);
    if (comment.status !== 'removed' || comment.removedBy === 'moderator')
      actions.append(
        button(
          'Remove',
          'reject',
          () =>
            void this.#host.act(
              (api) => api.remove(comment.id),
              (removed) => {
                this.#entries.delete(comment.id);
                this.#host.refresh();
                this.#host.changed(removed);
                this.#host.announce(`Comment by ${who} removed.`);
              },
            ),
          { 'aria-label': `Remove reported comment by ${who}`, 'aria-keyshortcuts': 'R' },
        ),
      );
    if (comment.authorKey !== null)
      actions.append(
        button('Ban author…', 'ban', () => this.#host.openBan(comment.id), {
          'aria-label': `Ban ${who}`,
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

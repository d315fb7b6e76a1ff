import { REPORT_REASONS, type ReportReason } from '../../shared/report-reasons.ts';
import { h } from '../view/dom.ts';
import type { AdminStrings } from './admin-strings.ts';

/** What a filter sees of a queue item: held (by pre-moderation or the rules) or reported, and where. */
export type QueueItem =
  | { kind: 'held'; articleId: string; byRules: boolean }
  | { kind: 'reported'; articleId: string; reasons: Readonly<Record<ReportReason, number>> };

/** How a reason reads in the queue (shorter than the Report form's words for readers). */
export function reasonLabel(reason: ReportReason, strings: AdminStrings): string {
  return strings.text(`admin.reason.${reason}`);
}

/**
 * The review queue's filters, over held and reported comments alike: why an item waits (held under
 * pre-moderation, held by the moderation rules, or reported for a given reason) and its article.
 */
export class QueueFilters {
  readonly element: HTMLElement;
  readonly #why = h('select', { attrs: { id: 'queue-why' } });
  readonly #article = h('select', { attrs: { id: 'queue-article' } });
  readonly #strings: AdminStrings;
  /** Articles offered, as last set (the select is rebuilt only when they change). */
  #articles = '';

  constructor(changed: () => void, strings: AdminStrings) {
    this.#strings = strings;
    const t = strings;
    this.#why.setAttribute('aria-label', t.text('admin.filterReason'));
    this.#article.setAttribute('aria-label', t.text('admin.filterArticle'));
    const option = (value: string, text: string) => h('option', { text, attrs: { value } });
    this.#why.append(
      option('', t.text('admin.anyReason')),
      option('held:premoderation', t.text('admin.heldPremoderation')),
      option('held:rules', t.text('admin.heldRules')),
      ...REPORT_REASONS.map((reason) =>
        option(`reported:${reason}`, t.text('admin.reportedFor', { reason: reasonLabel(reason, t) })),
      ),
    );
    this.#article.append(option('', t.text('admin.allArticles')));
    for (const select of [this.#why, this.#article]) select.addEventListener('change', changed);
    this.element = h('div', { class: 'filters' }, [this.#why, this.#article]);
  }

  /** Offers the articles that have items waiting; a chosen article with none left goes back to all. */
  offer(articleIds: Iterable<string>): void {
    const articles = [...new Set(articleIds)].sort();
    if (articles.join('\n') === this.#articles) return;
    const chosen = this.#article.value;
    this.#articles = articles.join('\n');
    this.#article.replaceChildren(h('option', { text: this.#strings.text('admin.allArticles'), attrs: { value: '' } }));
    for (const articleId of articles)
      this.#article.append(h('option', { text: articleId, attrs: { value: articleId } }));
    this.#article.value = articles.includes(chosen) ? chosen : '';
  }

  /** Whether an item passes both filters. */
  shows(item: QueueItem): boolean {
    const article = this.#article.value;
    if (article !== '' && item.articleId !== article) return false;
    const why = this.#why.value;
    if (why === '') return true;
    if (item.kind === 'held') return why === (item.byRules ? 'held:rules' : 'held:premoderation');
    return why.startsWith('reported:') && item.reasons[why.slice('reported:'.length) as ReportReason] > 0;
  }

  /** Whether any filter is set (an empty list then says that nothing matches, not that nothing waits). */
  get active(): boolean {
    return this.#why.value !== '' || this.#article.value !== '';
  }
}

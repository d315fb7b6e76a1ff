import { REPORT_REASONS, type ReportReason } from '../../shared/report-reasons.ts';
import { h } from '../view/dom.ts';

/** What a filter sees of a queue item: held (by pre-moderation or the rules) or reported, and where. */
export type QueueItem =
  | { kind: 'held'; articleId: string; byRules: boolean }
  | { kind: 'reported'; articleId: string; reasons: Readonly<Record<ReportReason, number>> };

const REASON_LABELS: Record<ReportReason, string> = {
  spam: 'spam',
  abuse: 'abuse',
  off_topic: 'off topic',
  other: 'other',
};

/** How a reason reads in the queue. */
export function reasonLabel(reason: ReportReason): string {
  return REASON_LABELS[reason];
}

/**
 * The review queue's filters, over held and reported comments alike: why an item waits (held under
 * pre-moderation, held by the moderation rules, or reported for a given reason) and its article.
 */
export class QueueFilters {
  readonly element: HTMLElement;
  readonly #why = h('select', { attrs: { id: 'queue-why', 'aria-label': 'Filter by reason' } });
  readonly #article = h('select', { attrs: { id: 'queue-article', 'aria-label': 'Filter by article' } });
  /** Articles offered, as last set (the select is rebuilt only when they change). */
  #articles = '';

  constructor(changed: () => void) {
    const option = (value: string, text: string) => h('option', { text, attrs: { value } });
    this.#why.append(
      option('', 'Any reason'),
      option('held:premoderation', 'Held: pre-moderation'),
      option('held:rules', 'Held: by the rules'),
      ...REPORT_REASONS.map((reason) => option(`reported:${reason}`, `Reported: ${REASON_LABELS[reason]}`)),
    );
    this.#article.append(option('', 'All articles'));
    for (const select of [this.#why, this.#article]) select.addEventListener('change', changed);
    this.element = h('div', { class: 'filters' }, [this.#why, this.#article]);
  }

  /** Offers the articles that have items waiting; a chosen article with none left goes back to all. */
  offer(articleIds: Iterable<string>): void {
    const articles = [...new Set(articleIds)].sort();
    if (articles.join('\n') === this.#articles) return;
    const chosen = this.#article.value;
    this.#articles = articles.join('\n');
    this.#article.replaceChildren(h('option', { text: 'All articles', attrs: { value: '' } }));
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

import type { Comment } from '../../shared/schemas.ts';
import { readerId } from '../local-store.ts';
import { loadPart } from '../parts.ts';
import { toWidgetError } from '../protocol.ts';
import type { ReportPanel } from '../report/report-panel.ts';
import type { SessionContext } from './context.ts';

/**
 * The Report action: its form is widget-report.js (client/report/), loaded the first time the reader
 * presses Report; it opens under the comment like a reply form. The part does the rest with this
 * object (the session it reports from, and which comment's form is open).
 */
export class Reporting {
  /** The comment being reported, while its form is open. */
  target: Comment | null = null;
  panel: ReportPanel | null = null;

  constructor(readonly context: SessionContext) {}

  open(comment: Comment): void {
    loadPart(this.context.config.base, 'report').then(
      ({ ReportPanel }) => (this.panel ??= new ReportPanel(this, readerId)).open(comment),
      (error: unknown) => {
        const { strings } = this.context.config;
        this.context.announce(strings.text('cannotReport', { error: strings.error(toWidgetError(error)) }));
      },
    );
  }
}

import type { Comment } from '../../shared/schemas.ts';
import { readerId } from '../local-store.ts';
import { loadPart } from '../parts.ts';
import { toWidgetError } from '../protocol.ts';
import type { ReportPanel } from '../report/report-panel.ts';
import type { SessionContext } from './context.ts';

/**
 * The Report action: its form is widget-report.js (client/report/), loaded the first time the reader
 * presses Report; it opens under the comment like a reply form.
 */
export class Reporting {
  /** The comment being reported, while its form is open. */
  target: Comment | null = null;
  panel: ReportPanel | null = null;
  readonly #context: SessionContext;

  constructor(context: SessionContext) {
    this.#context = context;
  }

  async open(comment: Comment): Promise<void> {
    const context = this.#context;
    try {
      const { ReportPanel } = await loadPart(context.config.base, 'report');
      this.panel ??= new ReportPanel({
        send: (commentId, report) =>
          context.retrying(() =>
            context.api.send(`api/comments/${encodeURIComponent(commentId)}/report`, {
              readerId: readerId(),
              ...report,
            }),
          ),
        describe: (error) => toWidgetError(error).message,
        announce: (text) => context.announce(text),
        close: () => this.close(),
      });
      this.target = comment;
      this.panel.open(comment);
      context.render();
      this.panel.shown();
    } catch (error) {
      context.announce(`Reporting is not available now: ${toWidgetError(error).message}`);
    }
  }

  /** Closes the form; the focus goes back to the comment's Report button. */
  close(): void {
    const id = this.target?.id ?? null;
    this.target = null;
    this.#context.refocus(id, '.report-button');
  }
}

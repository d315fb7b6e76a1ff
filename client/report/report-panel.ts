import { REPORT_NOTE_MAX, type ReportReason } from '../../shared/report-reasons.ts';
import { h } from '../view/dom.ts';

/**
 * What the Report form needs from the widget. Passed in, not imported: the form is a part loaded on
 * first use (widget-report.js, client/parts.ts), and what it needs of the page (the server, the
 * reader's id and sign-in) lives in widget.js.
 */
export interface ReportPanelHost {
  /**
   * Sends the report (`POST /api/comments/:id/report` with the reader's per-browser id, signed in:
   * as the member); rejects with an error `describe` can word.
   */
  send(commentId: string, report: { reason: ReportReason; note?: string }): Promise<unknown>;
  /** The reader's words for what went wrong. */
  describe(error: unknown): string;
  announce(text: string): void;
  /** The reader closed the form (Cancel, Escape, or Close after sending). */
  close(): void;
}

const CSS = `
.report-form fieldset { border: 0; margin: 0; padding: 0; }
.report-form legend { font-weight: 600; padding: 0; margin-bottom: 0.25em; }
.report-form .reason { display: block; margin: 0.15em 0; }
.report-form input[type='text'] { display: block; width: 100%; box-sizing: border-box; margin: 0.25em 0; }
`;
let shared: CSSStyleSheet | null = null;
/** One sheet for every widget on the page. */
function sheet(): CSSStyleSheet {
  if (!shared) {
    shared = new CSSStyleSheet();
    shared.replaceSync(CSS);
  }
  return shared;
}

const REASONS: ReadonlyArray<readonly [ReportReason, string]> = [
  ['spam', 'Spam or advertising'],
  ['abuse', 'Abuse or harassment'],
  ['off_topic', 'Off topic'],
  ['other', 'Something else'],
];

/**
 * The form a reader reports a comment with (`POST /api/comments/:id/report`): a reason, an optional
 * note for the moderators, then a thank-you. It never says how many others reported the comment.
 */
export class ReportPanel {
  readonly element: HTMLFormElement;
  readonly #host: ReportPanelHost;
  readonly #legend = h('legend', { text: 'Why are you reporting this comment?' });
  readonly #radios: HTMLInputElement[] = [];
  readonly #note = h('input', {
    part: 'input',
    attrs: { id: 'lc-report-note', type: 'text', maxlength: String(REPORT_NOTE_MAX), autocomplete: 'off' },
  });
  readonly #error = h('p', { class: 'error', attrs: { role: 'alert' } });
  readonly #fields: HTMLElement;
  readonly #send = h('button', {
    class: 'primary',
    part: 'button submit-button',
    text: 'Send report',
    attrs: { type: 'submit' },
  });
  readonly #thanks = h('p', { class: 'hint', attrs: { hidden: '', tabindex: '-1' } });
  readonly #closeButton = h('button', { part: 'button', text: 'Cancel', attrs: { type: 'button' } });
  #commentId = '';
  #sent = false;

  constructor(host: ReportPanelHost) {
    this.#host = host;
    const fieldset = h('fieldset', { class: 'reasons' }, [this.#legend]);
    for (const [reason, label] of REASONS) {
      const radio = h('input', { attrs: { type: 'radio', name: 'lc-report-reason', value: reason } });
      this.#radios.push(radio);
      fieldset.append(h('label', { class: 'reason' }, [radio, ` ${label}`]));
    }
    this.#fields = h('div', {}, [
      fieldset,
      h('label', { text: 'Note for the moderators (optional)', attrs: { for: 'lc-report-note' } }),
      this.#note,
      this.#error,
    ]);
    this.#closeButton.addEventListener('click', () => host.close());
    this.element = h('form', { class: 'report-form', part: 'form', attrs: { novalidate: '' } }, [
      this.#fields,
      this.#thanks,
      h('div', { class: 'buttons' }, [this.#send, this.#closeButton]),
    ]);
    this.element.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!this.#send.disabled && !this.#sent) void this.#submit();
    });
    this.element.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        host.close();
      }
    });
  }

  /** Opens the form empty for a comment; focus goes to the first reason. */
  open(comment: { id: string; author: { name: string } }): void {
    this.#commentId = comment.id;
    this.#sent = false;
    this.element.setAttribute('aria-label', `Report comment by ${comment.author.name}`);
    for (const radio of this.#radios) radio.checked = false;
    this.#note.value = '';
    this.#error.textContent = '';
    this.#fields.hidden = false;
    this.#thanks.hidden = true;
    this.#send.hidden = false;
    this.#send.disabled = false;
    this.#closeButton.textContent = 'Cancel';
  }

  /**
   * Called once the form is in the widget: adopts its few style rules into the widget's shadow root
   * (a constructed sheet, as widget.js does, so a strict style-src CSP allows it) and focuses the
   * first reason.
   */
  shown(): void {
    const root = this.element.getRootNode();
    if (root instanceof ShadowRoot && !root.adoptedStyleSheets.includes(sheet()))
      root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet()];
    this.#radios[0]?.focus();
  }

  async #submit(): Promise<void> {
    const reason = this.#radios.find((radio) => radio.checked)?.value as ReportReason | undefined;
    if (reason === undefined) {
      this.#error.textContent = 'Choose a reason.';
      this.#radios[0]?.focus();
      return;
    }
    const note = this.#note.value.trim();
    const host = this.#host;
    const commentId = this.#commentId;
    this.#send.disabled = true;
    this.#error.textContent = '';
    try {
      await host.send(commentId, { reason, ...(note ? { note } : {}) });
      if (commentId !== this.#commentId) return;
      this.#sent = true;
      this.#fields.hidden = true;
      this.#send.hidden = true;
      this.#closeButton.textContent = 'Close';
      this.#thanks.textContent = 'Thank you. A moderator will review this comment.';
      this.#thanks.hidden = false;
      this.#thanks.focus();
      host.announce('Report sent. Thank you.');
    } catch (error) {
      if (commentId !== this.#commentId) return;
      this.#error.textContent = `Not sent: ${host.describe(error)}`;
      this.#send.disabled = false;
    }
  }
}

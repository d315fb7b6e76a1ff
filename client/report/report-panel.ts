import { REPORT_NOTE_MAX, type ReportReason } from '../../shared/report-reasons.ts';
import { EN_REPORT } from '../i18n/en-parts.ts';
import type { Strings } from '../i18n/strings.ts';
import { h } from '../view/dom.ts';
import { adoptPartSheet } from '../view/part-sheet.ts';

/**
 * What the Report form needs from the widget (client/session/reporting.ts), passed in, not imported:
 * the form is a part loaded on first use (widget-report.js, client/parts.ts). Only what it uses.
 */
export interface ReportingHost {
  /** The comment whose form is open; the session renders the form under it. */
  target: { id: string } | null;
  readonly context: {
    readonly config: { readonly strings: Strings };
    readonly api: { send(path: string, body: object): Promise<unknown> };
    /** Runs a write; signed in, once more with a fresh token if the server says it expired. */
    retrying<T>(action: () => Promise<T>): Promise<T>;
    announce(text: string): void;
    render(): void;
    refocus(commentId: string | null, selector: string | null): void;
  };
}

const CSS = `
.report-form fieldset { border: 0; margin: 0; padding: 0; }
.report-form legend { font-weight: 600; padding: 0; margin-bottom: 0.25em; }
/* The widget's inputs are full-width text fields: a radio is a small box beside its label. */
.report-form .reason { display: flex; align-items: center; gap: 0.5em; margin: 0.25em 0; font-weight: normal; font-size: 1em; }
.report-form input[type='radio'] { width: auto; margin: 0; padding: 0; flex: none; }
.report-form input[type='text'] { display: block; width: 100%; box-sizing: border-box; margin: 0.25em 0; }
`;

const REASONS: readonly ReportReason[] = ['spam', 'abuse', 'off_topic', 'other'];

/**
 * The form a reader reports a comment with (`POST /api/comments/:id/report`): a reason, an optional
 * note for the moderators, then a thank-you. It never says how many others reported the comment.
 */
export class ReportPanel {
  readonly element: HTMLFormElement;
  readonly #host: ReportingHost;
  readonly #readerId: () => string;

  readonly #radios: HTMLInputElement[] = [];
  readonly #note = h('input', {
    part: 'input',
    attrs: { id: 'lc-report-note', type: 'text', maxlength: String(REPORT_NOTE_MAX), autocomplete: 'off' },
  });
  readonly #error = h('p', { class: 'error', attrs: { role: 'alert' } });
  readonly #fields: HTMLElement;
  readonly #send = h('button', { class: 'primary', part: 'button submit-button', attrs: { type: 'submit' } });
  readonly #thanks = h('p', { class: 'hint', attrs: { hidden: '', tabindex: '-1' } });
  readonly #closeButton = h('button', { part: 'button', attrs: { type: 'button' } });
  readonly #strings: Strings;
  #commentId = '';
  #sent = false;

  /** `readerId`: the reader's per-browser id (the one likes use): one report per reader per comment. */
  constructor(host: ReportingHost, readerId: () => string) {
    this.#host = host;
    this.#readerId = readerId;
    const strings = (this.#strings = host.context.config.strings);
    strings.add(EN_REPORT);
    this.#send.textContent = strings.text('sendReport');
    const fieldset = h('fieldset', { class: 'reasons' }, [h('legend', { text: strings.text('reportWhy') })]);
    for (const reason of REASONS) {
      const radio = h('input', { attrs: { type: 'radio', name: 'lc-report-reason', value: reason } });
      this.#radios.push(radio);
      fieldset.append(h('label', { class: 'reason' }, [radio, ` ${strings.text(`reason.${reason}`)}`]));
    }
    this.#fields = h('div', {}, [
      fieldset,
      h('label', { text: strings.text('reportNote'), attrs: { for: 'lc-report-note' } }),
      this.#note,
      this.#error,
    ]);
    this.#closeButton.addEventListener('click', () => this.#close());
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
        this.#close();
      }
    });
  }

  /** Opens the form empty under a comment (the session renders it there); focus goes to the first reason. */
  open(comment: { id: string; author: { name: string } }): void {
    this.#host.target = comment;
    this.#commentId = comment.id;
    this.#sent = false;
    const strings = this.#strings;
    this.element.setAttribute('aria-label', strings.text('reportBy', { name: comment.author.name }));
    for (const radio of this.#radios) radio.checked = false;
    this.#note.value = '';
    this.#error.textContent = '';
    this.#fields.hidden = false;
    this.#thanks.hidden = true;
    this.#send.hidden = false;
    this.#send.disabled = false;
    this.#closeButton.textContent = strings.text('cancel');
    this.#host.context.render();
    this.#shown();
  }

  /** Closes the form; the focus goes back to the comment's Report button. */
  #close(): void {
    const id = this.#host.target?.id ?? null;
    this.#host.target = null;
    this.#host.context.refocus(id, '.report-button');
  }

  /**
   * Once the form is in the widget: adopts its few style rules into the widget's shadow root
   * (a constructed sheet, as widget.js does, so a strict style-src CSP allows it) and focuses the
   * first reason.
   */
  #shown(): void {
    adoptPartSheet(this.element, CSS);
    this.#radios[0]?.focus();
  }

  async #submit(): Promise<void> {
    const reason = this.#radios.find((radio) => radio.checked)?.value as ReportReason | undefined;
    if (reason === undefined) {
      this.#error.textContent = this.#strings.text('chooseReason');
      this.#radios[0]?.focus();
      return;
    }
    const note = this.#note.value.trim();
    const host = this.#host;
    const commentId = this.#commentId;
    this.#send.disabled = true;
    this.#error.textContent = '';
    try {
      const { context } = host;
      const { strings } = context.config;
      await context.retrying(() =>
        context.api.send(`api/comments/${encodeURIComponent(commentId)}/report`, {
          readerId: this.#readerId(),
          reason,
          ...(note ? { note } : {}),
        }),
      );
      if (commentId !== this.#commentId) return;
      this.#sent = true;
      this.#fields.hidden = true;
      this.#send.hidden = true;
      this.#closeButton.textContent = strings.text('close');
      this.#thanks.textContent = strings.text('reportThanks');
      this.#thanks.hidden = false;
      this.#thanks.focus();
      context.announce(strings.text('reportSent'));
    } catch (error) {
      if (commentId !== this.#commentId) return;
      // The widget's own errors (a WidgetError: a code and a message) are worded for readers already.
      const strings = this.#strings;
      const said =
        error instanceof Error && error.name === 'WidgetError'
          ? strings.error(error as Error & { code: string })
          : strings.text('somethingWrong');
      this.#error.textContent = strings.text('notSent', { error: said });
      this.#send.disabled = false;
    }
  }
}

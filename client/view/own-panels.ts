import type { Strings } from '../i18n/strings.ts';
import { h } from './dom.ts';
import css from './own-panels.css';
import { adoptPartSheet } from './part-sheet.ts';

/**
 * Adopts the panels' few style rules into the widget's shadow root once a panel is in it. They are
 * kept out of widget.css (only readers with comments of their own see these panels: room in
 * widget.js's budget); client/view/part-sheet.ts adopts them as every part's sheet is.
 */
export function adoptPanelStyles(panel: HTMLElement): void {
  adoptPartSheet(panel, css);
}

/** Escape (and the Cancel button) call `cancel`; Control+Enter in the text submits. */
function onKeys(element: HTMLElement, cancel: () => void): void {
  element.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      cancel();
    }
  });
}

/** The inline form that edits the reader's own comment in place of its text. */
export class EditForm {
  readonly element: HTMLFormElement;
  readonly text: HTMLTextAreaElement;
  readonly #error = h('p', { class: 'error', attrs: { role: 'alert', id: 'lc-edit-error' } });
  readonly #save = h('button', { class: 'primary', part: 'button submit-button', attrs: { type: 'submit' } });
  readonly #strings: Strings;

  constructor(strings: Strings, onSave: (body: string) => void, onCancel: () => void) {
    this.#strings = strings;
    this.text = h('textarea', {
      part: 'input',
      attrs: { id: 'lc-edit-body', rows: '3', 'aria-describedby': 'lc-edit-error' },
    });
    const cancel = h('button', { part: 'button', text: strings.text('cancel'), attrs: { type: 'button' } });
    cancel.addEventListener('click', onCancel);
    this.element = h(
      'form',
      { class: 'edit-form', part: 'form', attrs: { novalidate: '', 'aria-label': strings.text('editYours') } },
      [
        h('label', { class: 'sr-only', text: strings.text('yourComment'), attrs: { for: 'lc-edit-body' } }),
        this.text,
        this.#error,
        h('div', { class: 'buttons' }, [this.#save, cancel]),
      ],
    );
    this.element.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!this.#save.disabled) onSave(this.text.value);
    });
    this.text.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.element.requestSubmit();
      }
    });
    onKeys(this.element, onCancel);
  }

  /** Starts editing `body`, with the caret at its end. */
  open(body: string): void {
    this.text.value = body;
    this.busy(false);
    this.showError('');
  }

  focus(): void {
    this.text.focus();
    this.text.setSelectionRange(this.text.value.length, this.text.value.length);
  }

  busy(saving: boolean): void {
    this.#save.disabled = saving;
    this.#save.textContent = this.#strings.text(saving ? 'saving' : 'save');
  }

  showError(message: string): void {
    this.#error.textContent = message;
    this.text.setAttribute('aria-invalid', String(message !== ''));
  }
}

/** "Delete your comment?" with the two answers; Cancel gets the focus (the harmless choice). */
export class ConfirmDelete {
  readonly element: HTMLDivElement;
  readonly cancel: HTMLButtonElement;
  readonly #confirm: HTMLButtonElement;
  readonly #error = h('p', { class: 'error', attrs: { role: 'alert' } });
  readonly #strings: Strings;

  constructor(strings: Strings, onConfirm: () => void, onCancel: () => void) {
    this.#strings = strings;
    this.#confirm = h('button', { class: 'danger', part: 'button', attrs: { type: 'button' } });
    this.#confirm.addEventListener('click', onConfirm);
    this.cancel = h('button', { part: 'button', text: strings.text('cancel'), attrs: { type: 'button' } });
    this.cancel.addEventListener('click', onCancel);
    this.element = h('div', { class: 'confirm', attrs: { role: 'group', 'aria-labelledby': 'lc-confirm-text' } }, [
      h('p', { text: strings.text('confirmDelete'), attrs: { id: 'lc-confirm-text' } }),
      h('div', { class: 'buttons' }, [this.#confirm, this.cancel]),
      this.#error,
    ]);
    onKeys(this.element, onCancel);
  }

  reset(): void {
    this.busy(false);
    this.showError('');
  }

  busy(deleting: boolean): void {
    this.#confirm.disabled = deleting;
    this.#confirm.textContent = this.#strings.text(deleting ? 'deleting' : 'yesDelete');
  }

  showError(message: string): void {
    this.#error.textContent = message;
  }
}

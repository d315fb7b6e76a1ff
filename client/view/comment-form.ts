import type { FieldIssue } from '../../shared/errors.ts';
import { LIMITS } from '../../shared/schemas.ts';
import type { Strings } from '../i18n/strings.ts';
import { h } from './dom.ts';

export interface FormValues {
  name: string;
  body: string;
}

export interface CommentFormOptions {
  /** Makes the ids of this form's fields unique inside the shadow root. */
  idPrefix: string;
  submitLabel: 'post' | 'reply';
  strings: Strings;
  onSubmit(values: FormValues): void;
  /** Present for the inline reply form: adds a Cancel button; Escape cancels too. */
  onCancel?: () => void;
}

/**
 * The comment form: fields labelled "Name" and "Comment", a submit button, and an error under each
 * field (tied to it with aria-describedby) for what the shared schema or the server says about it.
 */
export class CommentForm {
  readonly element: HTMLFormElement;
  readonly name: HTMLInputElement;
  readonly body: HTMLTextAreaElement;
  readonly #nameError: HTMLParagraphElement;
  readonly #bodyError: HTMLParagraphElement;
  readonly #formError: HTMLParagraphElement;
  readonly #strings: Strings;

  constructor(options: CommentFormOptions) {
    const strings = (this.#strings = options.strings);
    const id = (suffix: string) => `${options.idPrefix}-${suffix}`;
    this.name = h('input', {
      part: 'input',
      attrs: {
        id: id('name'),
        name: 'name',
        type: 'text',
        autocomplete: 'nickname',
        'aria-describedby': id('name-error'),
        enterkeyhint: 'next',
      },
    });
    this.body = h('textarea', {
      part: 'input',
      attrs: { id: id('body'), name: 'body', rows: '3', 'aria-describedby': `${id('body-error')} ${id('hint')}` },
    });
    this.#nameError = h('p', { class: 'field-error', attrs: { id: id('name-error') } });
    this.#bodyError = h('p', { class: 'field-error', attrs: { id: id('body-error') } });
    this.#formError = h('p', { class: 'error', attrs: { role: 'alert' } });
    const hint = h('p', {
      class: 'sr-only',
      text: strings.text('formHint'),
      attrs: { id: id('hint') },
    });
    const submit = h('button', {
      class: 'primary',
      part: 'button submit-button',
      text: strings.text(options.submitLabel),
      attrs: { type: 'submit' },
    });
    const buttons = h('div', { class: 'buttons' }, [submit]);
    if (options.onCancel) {
      const cancel = h('button', { part: 'button', text: strings.text('cancel'), attrs: { type: 'button' } });
      cancel.addEventListener('click', () => options.onCancel?.());
      buttons.append(cancel);
    }
    this.element = h(
      'form',
      { class: options.onCancel ? 'reply-form' : 'compose', part: 'form', attrs: { novalidate: '' } },
      [
        h('label', { text: strings.text('name'), attrs: { for: id('name') } }),
        this.name,
        this.#nameError,
        h('label', { text: strings.text('comment'), attrs: { for: id('body') } }),
        this.body,
        hint,
        this.#bodyError,
        this.#formError,
        buttons,
      ],
    );
    this.element.addEventListener('submit', (event) => {
      event.preventDefault();
      options.onSubmit({ name: this.name.value, body: this.body.value });
    });
    this.body.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.element.requestSubmit();
      }
    });
    if (options.onCancel) {
      this.element.addEventListener('keydown', (event) => {
        if (event.key === 'Escape') {
          event.preventDefault();
          options.onCancel?.();
        }
      });
    }
  }

  /**
   * Shows each issue next to its field (`author.name` under Name, `body` under Comment, anything
   * else above the buttons) and moves focus to the first field in trouble.
   */
  showIssues(issues: readonly FieldIssue[], fallback = ''): void {
    this.clearIssues();
    const strings = this.#strings;
    const say = (field: HTMLInputElement | HTMLTextAreaElement | null, issue: FieldIssue) => {
      const value = field?.value.trim();
      const [empty, long, max] =
        field === this.name
          ? (['nameEmpty', 'nameTooLong', LIMITS.nameMax] as const)
          : (['bodyEmpty', 'bodyTooLong', LIMITS.bodyMax] as const);
      // The shared schema's and the server's messages are English: the widget words the two it checks itself.
      if (value === '') return strings.text(empty);
      if (value !== undefined && value.length > max) return strings.text(long, { max });
      return strings.error({ code: 'invalid_input', message: issue.message });
    };
    const forName = issues
      .filter((issue) => issue.path === 'author.name' || issue.path === 'author')
      .map((issue) => say(this.name, issue));
    const forBody = issues.filter((issue) => issue.path === 'body').map((issue) => say(this.body, issue));
    const other = issues
      .filter((issue) => !['author.name', 'author', 'body'].includes(issue.path))
      .map((issue) => say(null, issue));
    this.#nameError.textContent = forName.join(' ');
    this.#bodyError.textContent = forBody.join(' ');
    this.#formError.textContent = (
      other.length > 0 ? other : forName.length + forBody.length === 0 ? [fallback] : []
    ).join(' ');
    this.name.setAttribute('aria-invalid', String(forName.length > 0));
    this.body.setAttribute('aria-invalid', String(forBody.length > 0));
    if (forName.length > 0) this.name.focus();
    else if (forBody.length > 0) this.body.focus();
  }

  clearIssues(): void {
    this.#nameError.textContent = '';
    this.#bodyError.textContent = '';
    this.#formError.textContent = '';
    this.name.removeAttribute('aria-invalid');
    this.body.removeAttribute('aria-invalid');
  }

  /** Puts text back (a refused post) so nothing the reader typed is lost. */
  fill(values: Partial<FormValues>): void {
    if (values.name !== undefined) this.name.value = values.name;
    if (values.body !== undefined) this.body.value = values.body;
  }

  focus(): void {
    (this.name.value.trim() === '' ? this.name : this.body).focus();
  }
}

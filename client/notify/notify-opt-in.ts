import type { FieldIssue } from '../../shared/errors.ts';
import { EMAIL_MAX, EMAIL_PATTERN } from '../../shared/email-address.ts';
import type { NotifyRequest, NotifyStatus } from '../../shared/reply-emails.ts';
import { EN_NOTIFY } from '../i18n/en-parts.ts';
import type { Strings } from '../i18n/strings.ts';
import { readClaims } from '../member/token.ts';
import { h } from '../view/dom.ts';
import { adoptPartSheet } from '../view/part-sheet.ts';
import { readNotifyEmail, saveNotifyEmail } from './notify-store.ts';

/** A post the server refused (a WidgetError): its code, message and issues by field. */
export interface RefusedPost {
  code: string;
  message: string;
  issues: readonly FieldIssue[];
}

/** A comment form the opt-in goes into (client/view/comment-form.ts): only its element is used. */
export interface NotifyForm {
  readonly element: HTMLFormElement;
}

const CSS = `
.notify, .notify-address { display: grid; gap: 0.4em; }
.notify[hidden], .notify [hidden] { display: none; }
/* The widget's inputs are full-width text fields: the checkbox is a small box beside its label. */
.notify-check { display: flex; align-items: center; gap: 0.5em; font-weight: normal; font-size: 1em; }
.notify-check input { width: auto; margin: 0; padding: 0; flex: none; }
.notify-hint, .notify-status { margin: 0; font-size: 0.875em; color: var(--_muted); }
/* Empty, the live region stays in the accessibility tree (so its first message is announced) but takes no room. */
.notify-status:empty { margin-top: -0.4em; }
`;

let forms = 0;

/** The page the widget is on, as reply e-mails link to it (`<pageUrl>#comment-<id>`): the fragment is the server's to set. */
const pageUrl = () => location.href.split('#')[0]!;

/**
 * "Email me when someone replies" in one comment form: a checkbox, and once it is checked an e-mail
 * field (pre-filled with the address the reader used last) with a hint that a confirmation comes
 * first, or for a signed-in member whose token carries an address, where the e-mails go.
 */
class OptInField {
  readonly block: HTMLDivElement;
  readonly check: HTMLInputElement;
  readonly email: HTMLInputElement;
  readonly #label: HTMLLabelElement;
  readonly #error: HTMLParagraphElement;
  readonly #hint: HTMLParagraphElement;
  /** Where what became of a post's `notify` is shown, until the next post: a live region from the start. */
  readonly status: HTMLParagraphElement;
  readonly #address: HTMLDivElement;

  constructor(
    form: NotifyForm,
    readonly strings: Strings,
    readonly memberEmail: () => string | null,
  ) {
    const id = (suffix: string) => `lc-notify-${forms}-${suffix}`;
    forms += 1;
    this.check = h('input', { attrs: { type: 'checkbox', id: id('check'), 'aria-controls': id('address') } });
    this.email = h('input', {
      part: 'input',
      attrs: {
        id: id('email'),
        type: 'email',
        autocomplete: 'email',
        spellcheck: 'false',
        maxlength: String(EMAIL_MAX),
        'aria-describedby': `${id('error')} ${id('hint')}`,
      },
    });
    this.#label = h('label', { text: strings.text('notifyEmail'), attrs: { for: id('email') } });
    this.#error = h('p', { class: 'field-error', attrs: { id: id('error') } });
    this.#hint = h('p', { class: 'notify-hint', attrs: { id: id('hint') } });
    this.#address = h('div', { class: 'notify-address', attrs: { id: id('address'), hidden: '' } }, [
      this.#label,
      this.email,
      this.#error,
      this.#hint,
    ]);
    this.status = h('p', { class: 'notify-status', attrs: { role: 'status' } });
    this.block = h('div', { class: 'notify', part: 'notify' }, [
      h('label', { class: 'notify-check' }, [this.check, ` ${strings.text('notifyMe')}`]),
      this.#address,
      this.status,
    ]);
    this.check.addEventListener('change', () => this.#shown());
    // Above the form's own error and its buttons: the opt-in belongs to what is being written.
    const element = form.element;
    const anchor = element.querySelector(':scope > .error') ?? element.querySelector(':scope > .buttons');
    if (anchor) anchor.before(this.block);
    else element.append(this.block);
    // The reply form is in the widget only while open: it gets the sheet the new-comment form adopted.
    adoptPartSheet(this.block, CSS);
  }

  /** Shows the address part as the checkbox says: the field (pre-filled) for a guest, the token's address for a member. */
  #shown(): void {
    adoptPartSheet(this.block, CSS);
    const checked = this.check.checked;
    const member = this.memberEmail();
    this.#address.hidden = !checked;
    this.#label.hidden = this.email.hidden = member !== null;
    this.#hint.textContent =
      member === null ? this.strings.text('notifyHint') : this.strings.text('notifyMemberHint', { email: member });
    if (checked && member === null && this.email.value === '') this.email.value = readNotifyEmail();
    if (!checked) this.showError('');
  }

  /**
   * The post's `notify`: undefined when the box is not checked, null when the address is not one
   * (said under the field, which gets the focus), else the request; the form then starts afresh.
   */
  request(): NotifyRequest | null | undefined {
    if (!this.check.checked) return undefined;
    const member = this.memberEmail();
    const email = this.email.value.trim();
    if (member === null && !EMAIL_PATTERN.test(email)) {
      this.showError(this.strings.text('notifyInvalid'));
      this.email.focus();
      return null;
    }
    if (member === null) saveNotifyEmail(email);
    this.check.checked = false;
    this.#shown();
    return member === null ? { email, pageUrl: pageUrl() } : { pageUrl: pageUrl() };
  }

  /** A refused post came back into the form: the opt-in as it was asked, and what the server said of it. */
  restore(notify: NotifyRequest, error: RefusedPost): void {
    this.check.checked = true;
    if (notify.email !== undefined) this.email.value = notify.email;
    this.#shown();
    const paths = error.issues.map((issue) => issue.path).filter((path) => path.startsWith('notify'));
    if (paths.length === 0) return;
    // An address the server refused is worded like the widget's own check; anything else (the page's
    // origin is not allowed, the server no longer sends e-mail) as the widget words the refusal.
    this.showError(paths.includes('notify.email') ? this.strings.text('notifyInvalid') : this.strings.error(error));
    if (!this.email.hidden) this.email.focus();
  }

  showError(message: string): void {
    this.#error.textContent = message;
    if (message === '') this.email.removeAttribute('aria-invalid');
    else this.email.setAttribute('aria-invalid', 'true');
  }
}

/**
 * Reply e-mails' opt-in (docs/notifications.md "Reply e-mails"), in the new-comment form and the reply
 * form. The widget asks it for a post's `notify` when the reader sends, tells it the answer, and
 * gives back a refused post's `notify` with the server's issues.
 */
export class NotifyOptIn {
  readonly #fields = new Map<HTMLFormElement, OptInField>();
  readonly #first: OptInField;

  /**
   * Passed in by the widget (client/session/posting.ts), not imported: this is a part loaded only when
   * the server sends reply e-mails (widget-notify.js, client/parts.ts). `strings`: the widget's words
   * (the opt-in adds its English, EN_NOTIFY); `token`: the reader's member token (null for a guest);
   * `forms`: the new-comment form first (where the answer is said), then the reply form.
   */
  constructor(strings: Strings, token: () => string | null, forms: readonly NotifyForm[]) {
    strings.add(EN_NOTIFY);
    const memberEmail = () => {
      const current = token();
      return current === null ? null : (readClaims(current)?.email ?? null);
    };
    for (const form of forms) this.#fields.set(form.element, new OptInField(form, strings, memberEmail));
    this.#first = this.#fields.get(forms[0]!.element)!;
  }

  /** The `notify` of a post sent from `form`: see OptInField.request. */
  request(form: NotifyForm): NotifyRequest | null | undefined {
    this.#first.status.textContent = '';
    return this.#fields.get(form.element)?.request();
  }

  /**
   * A post's answer: what became of its `notify`, if it asked, is shown under the new-comment form (the
   * reply form has closed) until the next post, and said to screen readers (a live region of its own,
   * beside the widget's "posted").
   */
  answered(result: { notify?: NotifyStatus | undefined }): void {
    if (result.notify === undefined) return;
    const field = this.#first;
    field.status.textContent = field.strings.text(result.notify === 'confirm' ? 'notifyConfirm' : 'notifySubscribed');
  }

  /**
   * A refused post is back in `form`: the opt-in as it asked (if it did), with what the server said of
   * it under the field. Answers the other issues, for the form to show.
   */
  refused(form: NotifyForm, post: { notify?: NotifyRequest | undefined }, error: RefusedPost): FieldIssue[] {
    if (post.notify) this.#fields.get(form.element)?.restore(post.notify, error);
    return error.issues.filter((issue) => !issue.path.startsWith('notify'));
  }
}

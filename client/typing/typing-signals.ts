import type { TypingChanged } from '../../shared/typing.ts';
import type { SharedConnection } from '../connection-pool.ts';
import type { SessionContext } from '../session/context.ts';
import { EN_TYPING } from '../i18n/en-parts.ts';
import type { Strings } from '../i18n/strings.ts';
import { h } from '../view/dom.ts';
import { adoptPartSheet } from '../view/part-sheet.ts';
import css from './typing.css';
import { TypingSender } from './typing-sender.ts';

/**
 * "Someone is writing…" for one widget: sends where its reader writes (TypingSender) and shows where
 * others write, from `typing:changed`: above the thread for new comments, and under the comment
 * being answered for replies (`line(id)`, placed by the thread view). Counts only, no names.
 */
export class TypingSignals {
  readonly sender: TypingSender;
  readonly #context: SessionContext;
  readonly #strings: Strings;
  /** Others writing, by place: a comment id for replies, `''` for new comments. */
  readonly #counts = new Map<string, number>();
  readonly #lines = new Map<string, HTMLElement>();
  readonly #top = h('p', { class: 'typing', part: 'typing', attrs: { hidden: '' } });

  constructor(context: SessionContext, connection: SharedConnection) {
    this.#context = context;
    this.#strings = context.config.strings;
    this.#strings.add(EN_TYPING);
    this.sender = new TypingSender(connection, context.config.articleId);
    const { list } = context.thread;
    list.before(this.#top);
    adoptPartSheet(list, css);
    // Typing in the new-comment or reply form tells the others; leaving that form or sending it ends it.
    for (const type of ['input', 'focusout', 'submit']) list.parentElement?.addEventListener(type, this.#seen);
  }

  /**
   * An `input`, `focusout` or `submit` in the widget: typing in the comment field of the new-comment or
   * reply form counts as writing there; leaving that form, or sending it, stops.
   */
  readonly #seen = (event: Event): void => {
    const target = event.target as HTMLElement;
    const form = target.closest('form');
    if (event.type === 'input') {
      // The new-comment form, or the reply form, which sits in the row of the comment it answers.
      if (target.tagName !== 'TEXTAREA') return;
      if (form?.classList.contains('compose')) this.sender.typed(null);
      else if (form?.classList.contains('reply-form')) this.sender.typed(form.closest('li')?.dataset.id ?? null);
      return;
    }
    const next = (event as FocusEvent).relatedTarget;
    if (event.type === 'submit' || !(next instanceof Node && form?.contains(next))) this.sender.stop();
  };

  /** A `typing:changed` of this article; null: the connection dropped, nobody is known to write. */
  changed(typing: TypingChanged | null): void {
    if (typing === null) this.#counts.clear();
    else if (typing.count > 0) this.#counts.set(typing.parentId ?? '', typing.count);
    else this.#counts.delete(typing.parentId ?? '');
    const writing = this.#counts.get('') ?? 0;
    this.#top.hidden = writing === 0;
    if (writing > 0) this.#top.textContent = this.#strings.count('typingNew', writing);
    this.#context.render();
  }

  /** The line under a comment others are answering; null when nobody is. */
  line(commentId: string): HTMLElement | null {
    const count = this.#counts.get(commentId);
    if (count === undefined) {
      this.#lines.delete(commentId);
      return null;
    }
    let line = this.#lines.get(commentId);
    if (!line) this.#lines.set(commentId, (line = h('p', { class: 'typing', part: 'typing' })));
    line.textContent = this.#strings.count('typingReply', count);
    return line;
  }

  stop(): void {
    this.sender.stop();
    this.#top.remove();
    for (const type of ['input', 'focusout', 'submit'])
      this.#context.thread.list.parentElement?.removeEventListener(type, this.#seen);
  }
}

import type { Comment } from '../../shared/schemas.ts';
import type { Strings } from '../i18n/strings.ts';
import { h } from '../view/dom.ts';
import type { ThreadView } from '../view/thread-view.ts';

export interface CatchUpHooks {
  readonly strings: Strings;
  announce(text: string): void;
  render(): void;
}

/**
 * Comments that arrive live while the reader is inside the thread. Inserting them above the reader
 * would move the text they are reading, so they wait behind the "N new comments" button (or until
 * the reader scrolls out of the thread) and are shown together.
 */
export class CatchUp {
  /** Ids of arrived comments not shown yet (the render hides them). */
  readonly unrevealed = new Set<string>();
  readonly button = h('button', {
    class: 'new-button',
    part: 'new-comments',
    attrs: { type: 'button', hidden: '' },
  });
  readonly #thread: ThreadView;
  readonly #hooks: CatchUpHooks;
  readonly #onScroll = () => {
    if (this.unrevealed.size > 0 && !this.#readerInsideThread()) this.reveal(false);
  };

  constructor(thread: ThreadView, hooks: CatchUpHooks) {
    this.#thread = thread;
    this.#hooks = hooks;
    this.button.addEventListener('click', () => this.reveal(true));
  }

  /** Comments of others that just arrived: held back if the reader is reading, announced either way. */
  arrive(arriving: readonly Comment[]): void {
    if (arriving.length === 0) return;
    if (this.unrevealed.size > 0 || this.#readerInsideThread()) {
      for (const comment of arriving) this.unrevealed.add(comment.id);
      if (this.unrevealed.size === arriving.length)
        window.addEventListener('scroll', this.#onScroll, { capture: true, passive: true });
      this.#hooks.announce(this.#hooks.strings.count('newHeld', this.unrevealed.size));
    } else {
      const { strings } = this.#hooks;
      const { name } = arriving[0]!.author;
      this.#hooks.announce(
        arriving.length > 1
          ? strings.count('newComments', arriving.length)
          : name
            ? strings.text('newCommentFrom', { name })
            : strings.text('newComment'),
      );
    }
  }

  /** The reader's own comment is never held back. */
  forget(commentId: string): void {
    this.unrevealed.delete(commentId);
  }

  /** Shows every held-back comment; with `moveFocus`, takes the reader to the first of them in thread order. */
  reveal(moveFocus: boolean): void {
    const revealed = new Set(this.unrevealed);
    this.clear();
    this.#hooks.render();
    if (!moveFocus) return;
    const first = [...this.#thread.list.children].find((li) => revealed.has(li.getAttribute('data-id') ?? ''));
    if (first instanceof HTMLElement) {
      first.scrollIntoView({ block: 'start' });
      first.focus({ preventScroll: true });
    }
  }

  /** Forgets the held-back comments (they are shown by the next render) and stops watching the scroll. */
  clear(): void {
    this.unrevealed.clear();
    window.removeEventListener('scroll', this.#onScroll, { capture: true });
  }

  /** Updates the button for the next render. */
  render(): void {
    this.button.hidden = this.unrevealed.size === 0;
    this.button.textContent = this.#hooks.strings.count('newComments', this.unrevealed.size);
  }

  #readerInsideThread(): boolean {
    const rect = this.#thread.list.getBoundingClientRect();
    return rect.height > 0 && rect.top < 0 && rect.bottom > 0;
  }
}

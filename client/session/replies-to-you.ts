import { readSeenReplies, saveSeenReplies } from '../storage.ts';
import type { Comment } from '../../shared/schemas.ts';
import type { ThreadRow } from '../thread-model.ts';
import { EN_OWN } from '../i18n/en-parts.ts';
import type { Strings } from '../i18n/strings.ts';
import { h } from '../view/dom.ts';
import type { Entry, ThreadView } from '../view/thread-view.ts';

/**
 * "N new replies to you": replies to the reader's own comments (posted from this browser) that they
 * have not been shown yet, live and after a reload (what was shown is kept in localStorage). Each
 * press of the button takes them to the next one in thread order. Part of widget-own.js: what it
 * needs of widget.js (the thread) is passed in, never imported (zod would come along); what it keeps is
 * client/storage.ts's, which has none.
 */
export class RepliesToYou {
  readonly button = h('button', {
    class: 'quiet to-you-button',
    part: 'replies-to-you',
    attrs: { type: 'button', hidden: '' },
  });
  readonly #articleId: string;
  readonly #thread: ThreadView;
  readonly #seen: string[];
  readonly #strings: Strings;
  /** Unseen replies to the reader, in thread order, as of the last render. */
  #unseen: string[] = [];

  constructor(articleId: string, thread: ThreadView, render: () => void, strings: Strings) {
    this.#strings = strings;
    strings.add(EN_OWN);
    this.#articleId = articleId;
    this.#thread = thread;
    this.#seen = readSeenReplies(articleId);
    this.button.addEventListener('click', () => {
      const next = this.#unseen[0];
      if (next === undefined) return;
      this.#seen.push(next);
      saveSeenReplies(this.#articleId, this.#seen);
      render();
      // Focus scrolls the row into view, and screen readers read it.
      this.#thread.element(next)?.focus();
    });
  }

  /** Counts the unseen replies to the reader among the rows shown. */
  render(rows: ReadonlyArray<ThreadRow<Entry>>, isOwn: (commentId: string) => boolean): void {
    this.#unseen = rows
      .map((row) => row.item)
      .filter(
        (item): item is Comment =>
          !('kind' in item) &&
          item.status === 'visible' &&
          item.parentId !== null &&
          isOwn(item.parentId) &&
          !isOwn(item.id) &&
          !this.#seen.includes(item.id),
      )
      .map((comment) => comment.id);
    const count = this.#unseen.length;
    this.button.hidden = count === 0;
    this.button.textContent = this.#strings.count('repliesToYou', count);
  }
}

import { EN_PERMALINK } from '../i18n/en-parts.ts';
import type { SessionContext } from '../session/context.ts';
import { adoptPartSheet } from '../view/part-sheet.ts';
import css from './permalink.css';

/** How many further pages (and pages of one thread's replies) a permalink may load to reach its comment. */
const MAX_PAGES = 50;
/** How long the Link button says the link was copied. */
const COPIED_MS = 2000;

/** The address of a comment: the host page's, with `#comment-<id>` as its hash. */
export function commentLink(commentId: string): string {
  const url = new URL(location.href);
  url.hash = `comment-${commentId}`;
  return url.href;
}

/**
 * Brings a permalink's comment into the thread: asks the server for its thread, loads further pages
 * until that thread is in, then that thread's replies until the comment is; resolves with whether it
 * is in the thread now. Each step stops when a load brings nothing new (a failure is shown by the
 * feed's own error line). Rejects when the server does not know the comment in this article.
 */
export async function reachComment(context: SessionContext, commentId: string): Promise<boolean> {
  const { feed } = context;
  if (feed.comments.has(commentId)) return true;
  const { threadId } = await context.api.locate(context.config.articleId, commentId);
  /** Loads with `load` until `reached`, while `more` says there is more; stops when a load brings nothing. */
  const loadUntil = async (reached: () => boolean, more: () => boolean, load: () => Promise<void>) => {
    for (let pages = 0; !reached() && more() && pages < MAX_PAGES; pages += 1) {
      const before = feed.comments.size;
      await load();
      if (feed.comments.size === before) break;
    }
  };
  await loadUntil(
    () => feed.comments.has(threadId),
    () => feed.hasMore,
    () => feed.loadMore(),
  );
  await loadUntil(
    () => feed.comments.has(commentId),
    () => feed.moreReplies(threadId) !== null,
    () => feed.loadReplies(threadId),
  );
  return feed.comments.has(commentId);
}

/** `#comment-<id>`: the address of a comment. */
const FRAGMENT = /^#comment-([\w-]{21})$/;

/**
 * Opens a permalink (`hash`, the page's `#comment-<id>`): loads what holds the comment, then scrolls it to the middle of the view, marks it
 * (`data-target`, outlined by the widget's style) and moves the focus there, as an anchor would. A
 * comment this article does not have is left alone (another widget on the page may hold it).
 */
export async function reveal(context: SessionContext, hash: string): Promise<void> {
  const commentId = FRAGMENT.exec(hash)?.[1];
  if (commentId === undefined) return;
  const found = await reachComment(context, commentId).catch(() => false);
  if (!found) return;
  context.render();
  const row = context.thread.element(commentId);
  if (!row) return;
  for (const marked of context.thread.list.querySelectorAll('[data-target]')) marked.removeAttribute('data-target');
  adoptPartSheet(row, css);
  row.setAttribute('data-target', '');
  row.scrollIntoView({ block: 'center' });
  row.focus({ preventScroll: true });
}

/**
 * The Link action: copies the comment's address, and says so on the button for a moment; where the
 * page may not write the clipboard, puts the address in the address bar instead and says that.
 */
export async function copyLink(context: SessionContext, commentId: string, button: HTMLElement): Promise<void> {
  const { strings } = context.config;
  strings.add(EN_PERMALINK);
  const link = commentLink(commentId);
  let said: string;
  try {
    await navigator.clipboard.writeText(link);
    said = strings.text('linkCopied');
  } catch {
    history.replaceState(history.state, '', link);
    said = strings.text('linkInAddress');
  }
  context.announce(said);
  const label = button.textContent;
  button.textContent = said;
  setTimeout(() => (button.textContent = label), COPIED_MS);
}

import type { Comment } from '../../shared/schemas.ts';
import { splitLinks } from '../linkify.ts';
import type { PendingPost } from '../posting.ts';
import type { ThreadRow } from '../thread-model.ts';
import { formatAbsolute, formatRelative } from '../time-format.ts';
import { h } from './dom.ts';

/** A row of the thread: a stored comment, or the reader's post on its way. */
export type Entry = Comment | PendingPost;

export function isPending(entry: Entry): entry is PendingPost {
  return 'kind' in entry && entry.kind === 'pending';
}

export interface ThreadViewHooks {
  now(): number;
  isOwn(commentId: string): boolean;
  reply(comment: Comment): void;
  retry(clientId: string): void;
  discard(clientId: string): void;
}

interface Rendered {
  li: HTMLLIElement;
  key: string;
}

/** Only http(s) links, opened in a new tab, marked as user content that passes no ranking or opener. */
export const LINK_REL = 'nofollow noopener ugc';

/** Fills `container` with the text of a comment: text nodes, and anchors for http(s) links only. */
export function appendLinkedText(container: HTMLElement, text: string): void {
  for (const part of splitLinks(text)) {
    if (part.kind === 'text') container.append(part.text);
    else container.append(h('a', { text: part.text, attrs: { href: part.href, rel: LINK_REL, target: '_blank', referrerpolicy: 'strict-origin-when-cross-origin' } }));
  }
}

/**
 * The thread as one flat list of rows, indented by depth (`aria-level` tells assistive technology).
 * Each update reuses the element of every row whose content did not change and moves elements
 * only where the order changed, so focus and the reader's place survive live updates.
 */
export class ThreadView {
  readonly list: HTMLOListElement;
  readonly #hooks: ThreadViewHooks;
  readonly #rendered = new Map<string, Rendered>();

  constructor(hooks: ThreadViewHooks, labelledBy: string) {
    this.#hooks = hooks;
    this.list = h('ol', { class: 'thread', part: 'thread', attrs: { 'aria-labelledby': labelledBy } });
  }

  update(rows: ReadonlyArray<ThreadRow<Entry>>, reply: { commentId: string; form: HTMLElement } | null): void {
    const wanted = new Set(rows.map((row) => row.item.id));
    for (const [id, rendered] of this.#rendered) {
      if (!wanted.has(id)) {
        rendered.li.remove();
        this.#rendered.delete(id);
      }
    }
    let cursor = this.list.firstElementChild;
    for (const row of rows) {
      const key = rowKey(row, this.#hooks);
      let rendered = this.#rendered.get(row.item.id);
      if (!rendered) {
        rendered = { li: h('li', { part: 'comment', attrs: { tabindex: '-1', 'data-id': row.item.id } }), key: '' };
        this.#rendered.set(row.item.id, rendered);
      }
      if (rendered.key !== key) {
        this.#fill(rendered.li, row);
        rendered.key = key;
      }
      if (rendered.li === cursor) cursor = cursor.nextElementSibling;
      else this.list.insertBefore(rendered.li, cursor);
    }
    for (const { li } of this.#rendered.values()) {
      li.querySelector('.reply-button')?.setAttribute('aria-expanded', String(reply !== null && li.getAttribute('data-id') === reply.commentId));
    }
    if (reply) {
      const target = this.#rendered.get(reply.commentId)?.li;
      if (target && reply.form.parentElement !== target) target.append(reply.form);
    }
  }

  /** The element of a row, for focus and scrolling. */
  element(id: string): HTMLLIElement | undefined {
    return this.#rendered.get(id)?.li;
  }

  get size(): number {
    return this.#rendered.size;
  }

  /** Rewrites every relative time ("3 minutes ago") for the current clock. */
  refreshTimes(): void {
    const now = this.#hooks.now();
    for (const time of this.list.querySelectorAll('time')) time.textContent = formatRelative(time.dateTime, now);
  }

  #fill(li: HTMLLIElement, row: ThreadRow<Entry>): void {
    const entry = row.item;
    const pending = isPending(entry);
    const removed = !pending && entry.status === 'removed';
    li.className = ['comment', `depth-${row.depth}`, pending ? 'pending' : '', pending && entry.state === 'failed' ? 'failed' : '', removed ? 'removed-comment' : ''].filter(Boolean).join(' ');
    li.setAttribute('aria-level', String(row.depth + 1));
    // Keep an open reply form across a re-render of its comment.
    const form = li.querySelector('form');
    li.replaceChildren();

    const meta = h('div', { class: 'meta', part: 'meta' });
    if (!removed) meta.append(h('span', { class: 'author', part: 'author', text: entry.author.name, attrs: { dir: 'auto' } }));
    if (row.replyTo !== null) meta.append(h('span', { class: 'reply-to' }, ['replying to ', h('span', { text: row.replyTo, attrs: { dir: 'auto' } })]));
    meta.append(h('time', { text: formatRelative(entry.createdAt, this.#hooks.now()), attrs: { datetime: entry.createdAt, title: formatAbsolute(entry.createdAt) } }));
    if (!pending && entry.editedAt !== null && !removed) meta.append(h('span', { class: 'edited', text: 'edited', attrs: { title: `Edited ${formatAbsolute(entry.editedAt)}` } }));
    if (pending || this.#hooks.isOwn(entry.id)) meta.append(h('span', { class: 'badge', text: 'you' }));
    li.append(meta);

    if (removed) {
      li.append(h('p', { class: 'removed', text: 'This comment was removed' }));
    } else {
      const body = h('div', { class: 'body', part: 'body', attrs: { dir: 'auto' } });
      appendLinkedText(body, entry.body);
      li.append(body);
    }

    if (pending) {
      const state = h('p', { class: 'post-state' });
      if (entry.state === 'sending') state.append('Sending…');
      else {
        state.append(h('span', { text: `Not posted: ${entry.error?.message ?? 'unknown error'}` }));
        const retry = h('button', { part: 'button', text: 'Retry', attrs: { type: 'button' } });
        retry.addEventListener('click', () => this.#hooks.retry(entry.clientId));
        const discard = h('button', { part: 'button', text: 'Discard', attrs: { type: 'button' } });
        discard.addEventListener('click', () => this.#hooks.discard(entry.clientId));
        state.append(retry, discard);
      }
      li.append(state);
    } else if (!removed) {
      const reply = h('button', { class: 'quiet reply-button', part: 'reply-button', text: 'Reply', attrs: { type: 'button', 'aria-label': `Reply to ${entry.author.name}`, 'aria-expanded': 'false' } });
      reply.addEventListener('click', () => this.#hooks.reply(entry));
      li.append(h('div', { class: 'actions' }, [reply]));
    }
    if (form) li.append(form);
  }
}

function rowKey(row: ThreadRow<Entry>, hooks: ThreadViewHooks): string {
  const entry = row.item;
  const place = `${row.depth}|${row.replyTo ?? ''}`;
  if (isPending(entry)) return `p|${entry.state}|${entry.error?.message ?? ''}|${place}`;
  return `c|${entry.seq}|${entry.status}|${hooks.isOwn(entry.id)}|${place}`;
}

import type { Comment, HeldComment } from '../../shared/schemas.ts';
import { splitLinks } from '../linkify.ts';
import type { PendingPost } from '../posting.ts';
import type { ThreadRow } from '../thread-model.ts';
import { formatAbsolute, formatRelative } from '../time-format.ts';
import { h } from './dom.ts';

/** The reader's own post that waits for a moderator: shown only to them, until it is approved. */
export interface HeldPost extends HeldComment {
  readonly kind: 'held';
}

/** A row of the thread: a stored comment, the reader's post on its way, or their post held for moderation. */
export type Entry = Comment | PendingPost | HeldPost;

export function isPending(entry: Entry): entry is PendingPost {
  return 'kind' in entry && entry.kind === 'pending';
}

/** What the reader sees of a comment's likes: the count (with their own like applied at once) and whether they like it. */
export interface LikeView {
  count: number;
  pressed: boolean;
}

export interface ThreadViewHooks {
  now(): number;
  isOwn(commentId: string): boolean;
  likes(comment: Comment): LikeView;
  reply(comment: Comment): void;
  like(comment: Comment): void;
  edit(comment: Comment): void;
  remove(comment: Comment): void;
  retry(clientId: string): void;
  discard(clientId: string): void;
}

/**
 * Elements the session places inside rows: the reply form (after the comment), the edit form (in
 * place of the body) and the delete confirmation (in place of the buttons). A row that holds one is
 * re-rendered around it, never by detaching it, so typed text and focus survive live updates.
 */
export interface Panels {
  reply: { commentId: string; element: HTMLElement } | null;
  edit: { commentId: string; element: HTMLElement } | null;
  confirm: { commentId: string; element: HTMLElement } | null;
  /** The discussion is closed: no Reply buttons. */
  locked: boolean;
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
    else
      container.append(
        h('a', {
          text: part.text,
          attrs: {
            href: part.href,
            rel: LINK_REL,
            target: '_blank',
            referrerpolicy: 'strict-origin-when-cross-origin',
          },
        }),
      );
  }
}

const button = (
  label: string,
  onClick: () => void,
  props: { class?: string; part?: string; attrs?: Record<string, string> } = {},
  children: Array<Node | string> = [label],
) => {
  const element = h(
    'button',
    { class: props.class ?? 'quiet', part: props.part ?? 'button', attrs: { type: 'button', ...props.attrs } },
    children,
  );
  element.addEventListener('click', onClick);
  return element;
};

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

  update(rows: ReadonlyArray<ThreadRow<Entry>>, panels: Panels): void {
    const wanted = new Set(rows.map((row) => row.item.id));
    for (const [id, rendered] of this.#rendered) {
      if (!wanted.has(id)) {
        rendered.li.remove();
        this.#rendered.delete(id);
      }
    }
    let cursor = this.list.firstElementChild;
    for (const row of rows) {
      const key = this.#key(row, panels);
      let rendered = this.#rendered.get(row.item.id);
      if (!rendered) {
        rendered = { li: h('li', { part: 'comment', attrs: { tabindex: '-1', 'data-id': row.item.id } }), key: '' };
        this.#rendered.set(row.item.id, rendered);
      }
      if (rendered.key !== key) {
        this.#fill(rendered.li, row, panels);
        rendered.key = key;
      }
      if (rendered.li === cursor) cursor = cursor.nextElementSibling;
      else this.list.insertBefore(rendered.li, cursor);
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

  /** Everything a row's content depends on: a row is rebuilt only when this changes. */
  #key(row: ThreadRow<Entry>, panels: Panels): string {
    const entry = row.item;
    const place = `${row.depth}|${row.replyTo ?? ''}`;
    if ('kind' in entry)
      return `${entry.kind}|${isPending(entry) ? `${entry.state}|${entry.error?.message ?? ''}` : ''}|${place}`;
    const id = entry.id;
    const likes = this.#hooks.likes(entry);
    const open = [panels.reply, panels.edit, panels.confirm].map((panel) => panel?.commentId === id);
    return `c|${entry.seq}|${entry.status}|${this.#hooks.isOwn(id)}|${likes.count}|${likes.pressed}|${open.join()}|${panels.locked}|${place}`;
  }

  #fill(li: HTMLLIElement, row: ThreadRow<Entry>, panels: Panels): void {
    const entry = row.item;
    const hooks = this.#hooks;
    const kind = 'kind' in entry ? entry.kind : null;
    const comment = kind === null ? (entry as Comment) : null;
    const removed = comment?.status === 'removed';
    const mine = comment !== null && hooks.isOwn(entry.id);
    const panel = (which: 'reply' | 'edit' | 'confirm') =>
      panels[which]?.commentId === entry.id ? panels[which].element : null;
    const editing = panel('edit');
    const confirming = panel('confirm');
    const replying = panel('reply');
    li.className = [
      'comment',
      `depth-${row.depth}`,
      kind ?? '',
      isPending(entry) && entry.state === 'failed' ? 'failed' : '',
      removed ? 'removed-comment' : '',
    ]
      .filter(Boolean)
      .join(' ');
    li.setAttribute('aria-level', String(row.depth + 1));

    const meta = h('div', { class: 'meta', part: 'meta' });
    if (!removed)
      meta.append(h('span', { class: 'author', part: 'author', text: entry.author.name, attrs: { dir: 'auto' } }));
    if (row.replyTo !== null)
      meta.append(
        h('span', { class: 'reply-to' }, [
          'replying to ',
          // A removed comment shows no name (the server sends none): say what it was instead.
          row.replyTo === ''
            ? 'a removed comment'
            : h('span', { class: 'author-name', text: row.replyTo, attrs: { dir: 'auto' } }),
        ]),
      );
    meta.append(
      h('time', {
        text: formatRelative(entry.createdAt, hooks.now()),
        attrs: { datetime: entry.createdAt, title: formatAbsolute(entry.createdAt) },
      }),
    );
    if (comment && comment.editedAt !== null && !removed)
      meta.append(
        h('span', { class: 'edited', text: 'edited', attrs: { title: `Edited ${formatAbsolute(comment.editedAt)}` } }),
      );
    if (kind !== null || mine) meta.append(h('span', { class: 'badge', text: 'you' }));

    const parts: HTMLElement[] = [meta];
    if (removed) parts.push(h('p', { class: 'removed', text: 'This comment was removed' }));
    else if (editing) parts.push(editing);
    else {
      const body = h('div', { class: 'body', part: 'body', attrs: { dir: 'auto' } });
      appendLinkedText(body, entry.body);
      parts.push(body);
    }

    if (isPending(entry)) {
      const state = h('p', { class: 'post-state' });
      if (entry.state === 'sending') state.append('Sending…');
      else {
        state.append(
          h('span', { text: `Not posted: ${entry.error?.message ?? 'unknown error'}` }),
          button('Retry', () => hooks.retry(entry.clientId), { class: '' }),
          button('Discard', () => hooks.discard(entry.clientId), { class: '' }),
        );
      }
      parts.push(state);
    } else if (kind === 'held') {
      parts.push(h('p', { class: 'post-state', text: 'Your comment is awaiting moderation.' }));
    } else if (comment && !removed && !editing) {
      if (confirming) parts.push(confirming);
      else {
        const likes = hooks.likes(comment);
        const actions = h('div', { class: 'actions' }, [
          button(
            'Like',
            () => hooks.like(comment),
            { class: 'quiet like-button', part: 'like-button', attrs: { 'aria-pressed': String(likes.pressed) } },
            ['Like', ...(likes.count > 0 ? [h('span', { class: 'like-count', text: String(likes.count) })] : [])],
          ),
        ]);
        if (!panels.locked)
          actions.append(
            button('Reply', () => hooks.reply(comment), {
              class: 'quiet reply-button',
              part: 'reply-button',
              attrs: { 'aria-label': `Reply to ${comment.author.name}`, 'aria-expanded': String(replying !== null) },
            }),
          );
        if (mine) {
          actions.append(
            button('Edit', () => hooks.edit(comment), {
              class: 'quiet edit-button',
              part: 'edit-button',
              attrs: { 'aria-label': 'Edit your comment' },
            }),
            button('Delete', () => hooks.remove(comment), {
              class: 'quiet delete-button',
              part: 'delete-button',
              attrs: { 'aria-label': 'Delete your comment' },
            }),
          );
        }
        parts.push(actions);
      }
    }
    if (replying) parts.push(replying);

    // Drop the old content but never detach a panel that stays: it may hold focus and typed text.
    for (const child of [...li.children]) if (!parts.includes(child as HTMLElement)) child.remove();
    let cursor = li.firstElementChild;
    for (const part of parts) {
      if (part === cursor) cursor = cursor.nextElementSibling;
      else li.insertBefore(part, cursor);
    }
  }
}

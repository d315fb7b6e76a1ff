import type { Comment, HeldComment } from '../../shared/schemas.ts';
import type { MoreRepliesState } from '../article-feed.ts';
import { splitLinks } from '../linkify.ts';
import type { PendingPost } from '../posting.ts';
import type { WidgetError } from '../protocol.ts';
import type { ThreadRow } from '../thread-model.ts';
import type { Strings } from '../i18n/strings.ts';
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
  /** The reader's last press did not reach the server: why (shown beside the button). */
  error?: WidgetError;
}

export interface ThreadViewHooks {
  now(): number;
  isOwn(commentId: string): boolean;
  likes(comment: Comment): LikeView;
  reply(comment: Comment): void;
  like(comment: Comment): void;
  edit(comment: Comment): void;
  remove(comment: Comment): void;
  report(comment: Comment): void;
  /** The Link action (its button says when the link was copied). */
  link(comment: Comment, button: HTMLElement): void;
  /** The "Someone is replying…" line under a comment others answer; null when nobody does. */
  typing(commentId: string): HTMLElement | null;
  retry(clientId: string): void;
  discard(clientId: string): void;
  /** Replies of a thread not loaded yet ("Show N more replies" after its last row); null when all are. */
  moreReplies(topId: string): MoreRepliesState | null;
  loadReplies(topId: string): void;
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
  report: { commentId: string; element: HTMLElement } | null;
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

/** Bodies longer than 1,000 characters or 12 lines fold (issue 15); the admin feed folds the same ones. */
export const isLong = (text: string): boolean => text.length > 1000 || text.split('\n').length > 12;

/**
 * The "Show more"/"Show less" button of a long body: a real button with aria-expanded and
 * aria-controls, placed right after the body (the CSS folds a body followed by a button with
 * aria-expanded=false). It toggles in place, so it keeps the focus; `unfolded` (the ids the reader
 * opened, kept by the caller) keeps the state when a live update rebuilds the row.
 */
export function foldButton(body: HTMLElement, id: string, unfolded: Set<string>, strings: Strings): HTMLButtonElement {
  body.id = `body-${id}`;
  const toggle = button(
    '',
    () => {
      if (!unfolded.delete(id)) unfolded.add(id);
      show();
    },
    { attrs: { 'aria-controls': body.id } },
  );
  const show = () => {
    const expanded = unfolded.has(id);
    toggle.textContent = strings.text(expanded ? 'showLess' : 'showMore');
    toggle.setAttribute('aria-expanded', String(expanded));
  };
  show();
  return toggle;
}

/**
 * The thread as one flat list of rows, indented by depth (`aria-level` tells assistive technology).
 * Each update reuses the element of every row whose content did not change and moves elements
 * only where the order changed, so focus and the reader's place survive live updates.
 */
export class ThreadView {
  readonly list: HTMLOListElement;
  readonly #hooks: ThreadViewHooks;
  readonly #strings: Strings;
  readonly #rendered = new Map<string, Rendered>();
  /** The "Show N more replies" rows, by the id of their thread's top-level comment. */
  readonly #moreRows = new Map<string, Rendered>();
  /** After "Show N more replies": the thread, and its rows before, so the first new reply gets the focus. */
  #focusNew: { topId: string; known: Set<string> } | null = null;
  /** Long comments the reader unfolded: a row rebuilt by a live update stays unfolded. */
  readonly #unfolded = new Set<string>();

  constructor(hooks: ThreadViewHooks, labelledBy: string, strings: Strings) {
    this.#hooks = hooks;
    this.#strings = strings;
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
    for (const [id, rendered] of this.#moreRows) {
      if (!wanted.has(id) || !this.#hooks.moreReplies(id)) {
        rendered.li.remove();
        this.#moreRows.delete(id);
      }
    }
    /** The rows of each thread, by the id of its top-level comment. */
    const threads = new Map<string, string[]>();
    let thread: string[] = [];
    let cursor = this.list.firstElementChild;
    const place = (li: HTMLLIElement) => {
      if (li === cursor) cursor = cursor.nextElementSibling;
      else this.list.insertBefore(li, cursor);
    };
    rows.forEach((row, i) => {
      if (row.depth === 0) threads.set(row.item.id, (thread = []));
      thread.push(row.item.id);
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
      place(rendered.li);
      // After the last row of a thread whose replies are not all loaded: its "Show N more replies".
      if ((rows[i + 1]?.depth ?? 0) > 0) return;
      const more = thread[0] === undefined ? null : this.#moreRow(thread[0]);
      if (more) place(more);
    });
    this.#moveFocusToNew(threads);
  }

  /** The "Show N more replies" row of a thread, made or updated; null when its replies are all loaded. */
  #moreRow(topId: string): HTMLLIElement | null {
    const more = this.#hooks.moreReplies(topId);
    if (!more) return null;
    const key = `${more.count}|${more.loading}|${more.error?.message ?? ''}`;
    let rendered = this.#moreRows.get(topId);
    if (!rendered) {
      rendered = { li: h('li', { class: 'more-replies', attrs: { 'data-more': topId } }), key: '' };
      this.#moreRows.set(topId, rendered);
    }
    if (rendered.key !== key) {
      rendered.key = key;
      const strings = this.#strings;
      const label = more.loading ? strings.text('loadingReplies') : strings.count('moreReplies', more.count);
      const action =
        rendered.li.querySelector('button') ??
        button('', () => this.#loadReplies(topId), {
          class: 'quiet more-replies-button',
          part: 'more-replies',
        });
      action.textContent = label;
      action.disabled = more.loading;
      rendered.li.replaceChildren(
        action,
        ...(more.error
          ? [
              h('span', {
                class: 'error',
                text: strings.text('repliesFailed', { error: strings.error(more.error) }),
                attrs: { role: 'alert' },
              }),
            ]
          : []),
      );
    }
    return rendered.li;
  }

  #loadReplies(topId: string): void {
    const known = new Set<string>();
    for (const li of this.list.children) {
      const id = li.getAttribute('data-id');
      if (id !== null) known.add(id);
    }
    this.#focusNew = { topId, known };
    this.#hooks.loadReplies(topId);
  }

  /** Once the replies asked for are in, the first of them takes the focus (keyboard and screen-reader users continue there). */
  #moveFocusToNew(threads: ReadonlyMap<string, readonly string[]>): void {
    const pending = this.#focusNew;
    if (!pending || this.#hooks.moreReplies(pending.topId)?.loading) return;
    this.#focusNew = null;
    const first = threads.get(pending.topId)?.find((id) => !pending.known.has(id));
    if (first !== undefined) this.#rendered.get(first)?.li.focus();
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
    for (const time of this.list.querySelectorAll('time')) time.textContent = this.#strings.ago(time.dateTime, now);
  }

  /** Everything a row's content depends on: a row is rebuilt only when this changes. */
  #key(row: ThreadRow<Entry>, panels: Panels): string {
    const entry = row.item;
    const place = `${row.depth}|${row.replyTo ?? ''}`;
    if ('kind' in entry)
      return `${entry.kind}|${isPending(entry) ? `${entry.state}|${entry.error?.message ?? ''}` : ''}|${place}`;
    const id = entry.id;
    const likes = this.#hooks.likes(entry);
    const open = [panels.reply, panels.edit, panels.confirm, panels.report].map((panel) => panel?.commentId === id);
    return `c|${entry.seq}|${entry.status}|${this.#hooks.isOwn(id)}|${this.#toYou(entry)}|${likes.count}|${likes.pressed}|${likes.error?.message}|${open.join()}|${panels.locked}|${place}|${this.#hooks.typing(id)?.textContent}`;
  }

  /** A reply to one of the reader's own comments (not by the reader). */
  #toYou(comment: Comment): boolean {
    return comment.parentId !== null && this.#hooks.isOwn(comment.parentId) && !this.#hooks.isOwn(comment.id);
  }

  #fill(li: HTMLLIElement, row: ThreadRow<Entry>, panels: Panels): void {
    const entry = row.item;
    const hooks = this.#hooks;
    const strings = this.#strings;
    const kind = 'kind' in entry ? entry.kind : null;
    const comment = kind === null ? (entry as Comment) : null;
    const removed = comment?.status === 'removed';
    const mine = comment !== null && hooks.isOwn(entry.id);
    const panel = (which: 'reply' | 'edit' | 'confirm' | 'report') =>
      panels[which]?.commentId === entry.id ? panels[which].element : null;
    const editing = panel('edit');
    const confirming = panel('confirm');
    const replying = panel('reply');
    const reporting = panel('report');
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
    if (!removed) {
      const { name, verified, avatar, badges = [] }: Comment['author'] = entry.author;
      // A member's picture from the host site: https only, no referrer to it, fetched when scrolled near.
      if (avatar?.startsWith('https:'))
        meta.append(
          h('img', {
            class: 'avatar',
            part: 'avatar',
            attrs: { src: avatar, alt: '', loading: 'lazy', referrerpolicy: 'no-referrer' },
          }),
        );
      meta.append(h('span', { class: 'author', part: 'author', text: name, attrs: { dir: 'auto' } }));
      // Signed in by the host site: a verified mark, and the badges the site gave.
      if (verified) {
        meta.append(
          h('span', {
            class: 'verified',
            part: 'verified',
            text: '✓',
            attrs: { role: 'img', 'aria-label': strings.text('verified') },
          }),
          ...badges.map((badge) =>
            h('span', { class: 'badge', part: 'member-badge', text: badge, attrs: { dir: 'auto' } }),
          ),
        );
      }
    }
    if (row.replyTo !== null)
      meta.append(
        h(
          'span',
          { class: 'reply-to' },
          strings.nodes('replyingTo', {
            // A removed comment shows no name (the server sends none): say what it was instead.
            name:
              row.replyTo === ''
                ? document.createTextNode(strings.text('removedComment'))
                : h('span', { class: 'author-name', text: row.replyTo, attrs: { dir: 'auto' } }),
          }),
        ),
      );
    meta.append(
      h('time', {
        text: strings.ago(entry.createdAt, hooks.now()),
        attrs: { datetime: entry.createdAt, title: strings.date(entry.createdAt) },
      }),
    );
    if (comment && comment.editedAt !== null && !removed)
      meta.append(
        h('span', {
          class: 'edited',
          text: strings.text('edited'),
          attrs: { title: strings.text('editedAt', { time: strings.date(comment.editedAt) }) },
        }),
      );
    if (kind !== null || mine) meta.append(h('span', { class: 'badge', text: strings.text('you') }));
    else if (comment && !removed && this.#toYou(comment))
      meta.append(h('span', { class: 'badge to-you', part: 'reply-to-you', text: strings.text('replyToYou') }));

    const parts: HTMLElement[] = [meta];
    if (removed) parts.push(h('p', { class: 'removed', text: strings.text('removed') }));
    else if (editing) parts.push(editing);
    else {
      const body = h('div', { class: 'body', part: 'body', attrs: { dir: 'auto' } });
      appendLinkedText(body, entry.body);
      parts.push(body);
      if (isLong(entry.body)) parts.push(foldButton(body, entry.id, this.#unfolded, strings));
    }

    if (isPending(entry)) {
      const state = h('p', { class: 'post-state' });
      if (entry.state === 'sending') state.append(strings.text('sending'));
      else {
        state.append(
          h('span', {
            text: strings.text('failed', { error: entry.error ? strings.error(entry.error) : '' }),
          }),
          button(strings.text('retry'), () => hooks.retry(entry.clientId), { class: '' }),
          button(strings.text('discard'), () => hooks.discard(entry.clientId), { class: '' }),
        );
      }
      parts.push(state);
    } else if (kind === 'held') {
      parts.push(h('p', { class: 'post-state', text: strings.text('awaiting') }));
    } else if (comment && !removed && !editing) {
      if (confirming) parts.push(confirming);
      else {
        const likes = hooks.likes(comment);
        const actions = h('div', { class: 'actions' }, [
          button(
            '',
            () => hooks.like(comment),
            { class: 'quiet like-button', part: 'like-button', attrs: { 'aria-pressed': String(likes.pressed) } },
            [
              strings.text('like'),
              ...(likes.count > 0 ? [h('span', { class: 'like-count', text: strings.number(likes.count) })] : []),
            ],
          ),
        ]);
        // Screen readers heard it already (the session announces it); this is for everyone else.
        if (likes.error)
          actions.append(
            h('span', { class: 'error', text: strings.text('likeNotSaved', { error: strings.error(likes.error) }) }),
          );
        if (!panels.locked)
          actions.append(
            button(strings.text('reply'), () => hooks.reply(comment), {
              class: 'quiet reply-button',
              part: 'reply-button',
              attrs: {
                'aria-label': strings.text('replyTo', { name: comment.author.name }),
                'aria-expanded': String(replying !== null),
              },
            }),
          );
        if (mine) {
          actions.append(
            button(strings.text('edit'), () => hooks.edit(comment), {
              class: 'quiet edit-button',
              part: 'edit-button',
              attrs: { 'aria-label': strings.text('editYours') },
            }),
            button(strings.text('delete'), () => hooks.remove(comment), {
              class: 'quiet delete-button',
              part: 'delete-button',
              attrs: { 'aria-label': strings.text('deleteYours') },
            }),
          );
        } else
          actions.append(
            button(strings.text('report'), () => hooks.report(comment), {
              class: 'quiet report-button',
              part: 'report-button',
              attrs: {
                'aria-label': strings.text('reportBy', { name: comment.author.name }),
                'aria-expanded': String(!!reporting),
              },
            }),
          );
        const link: HTMLElement = button(strings.text('link'), () => hooks.link(comment, link));
        actions.append(link);
        parts.push(actions);
      }
    }
    const typing = comment && hooks.typing(comment.id);
    if (typing) parts.push(typing);
    if (reporting) parts.push(reporting);
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

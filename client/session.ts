import { toFieldIssues } from '../shared/errors.ts';
import {
  EditCommentSchema,
  NewCommentSchema,
  type ArticleId,
  type Comment,
  type NewComment,
  type PostResult,
  type SortOrder,
} from '../shared/schemas.ts';
import { ApiClient } from './api-client.ts';
import { ArticleFeed, type LiveState } from './article-feed.ts';
import { acquireConnection, type ConnectionLease } from './connection-pool.ts';
import { Likes } from './likes.ts';
import { forgetAuthorToken, readAuthorToken, readerId, readName, saveAuthorToken, saveName } from './local-store.ts';
import { Poster, type PendingPost } from './posting.ts';
import { postAnswerSchema, readAck, SubscribeAckSchema, toWidgetError, WidgetError } from './protocol.ts';
import { buildThread, type ThreadItem } from './thread-model.ts';
import { CommentForm, type FormValues } from './view/comment-form.ts';
import { h, plural } from './view/dom.ts';
import { ConfirmDelete, EditForm } from './view/own-panels.ts';
import { ThreadView, type Entry, type HeldPost } from './view/thread-view.ts';

/** How long the socket waits for an ack before the widget calls the attempt failed. */
const ACK_TIMEOUT_MS = 10_000;
/** Relative times are rewritten this often. */
const TIME_REFRESH_MS = 30_000;
/** "Live updates are back" stays this long. */
const BACK_NOTICE_MS = 5_000;

export interface SessionConfig {
  /** The comment server's root URL, ending in `/`. */
  base: URL;
  articleId: ArticleId;
  order: SortOrder;
}

/**
 * One mounted widget: the DOM inside the shadow root, the article feed, the reader's posts, and the
 * lease on the page's shared connection. Everything it starts (listeners, timers, requests, the
 * lease) is undone by `stop()`, so an element removed by a single-page app leaves nothing behind.
 */
export class Session {
  readonly #config: SessionConfig;
  readonly #root: HTMLDivElement;
  readonly #api: ApiClient;
  readonly #lease: ConnectionLease;
  readonly #unlisten: () => void;
  readonly #feed: ArticleFeed;
  readonly #poster: Poster;
  readonly #thread: ThreadView;
  readonly #compose: CommentForm;
  readonly #replyForm: CommentForm;
  #replyTo: Comment | null = null;
  readonly #likes: Likes;
  readonly #editForm: EditForm;
  #editing: Comment | null = null;
  readonly #confirm: ConfirmDelete;
  #deleting: Comment | null = null;
  /** The delete the reader confirmed, until its answer: its push may arrive first and close the panel. */
  #confirmed: Comment | null = null;
  /** The reader's posts held for pre-moderation, until their approval arrives as `comment:created`. */
  readonly #heldPosts = new Map<string, HeldPost>();
  /** `top` order: each comment's likes when it was first shown, so a like does not move it under the reader. */
  readonly #rank = new Map<string, number>();
  #focusAfterRender: (() => HTMLElement | null | undefined) | null = null;

  readonly #title = h('h2', { class: 'title', part: 'title', text: 'Comments', attrs: { id: 'lc-title' } });
  readonly #orderButtons: Record<SortOrder, HTMLButtonElement>;
  readonly #status = h('p', { class: 'status', part: 'status', attrs: { role: 'status' } });
  readonly #presence = h('p', { class: 'presence', part: 'presence', attrs: { hidden: '' } });
  #readers: number | null = null;
  readonly #closed = h('p', { class: 'closed', part: 'closed', text: 'Comments are closed.', attrs: { hidden: '' } });
  readonly #reviewed = h('p', {
    class: 'hint',
    text: 'Comments are reviewed by a moderator before they appear.',
    attrs: { hidden: '' },
  });
  readonly #newButton = h('button', {
    class: 'new-button',
    part: 'new-comments',
    attrs: { type: 'button', hidden: '' },
  });
  readonly #loading = h('p', { class: 'loading', text: 'Loading comments…' });
  readonly #loadError = h('p', { class: 'error', attrs: { role: 'alert' } });
  readonly #retryLoad = h('button', { part: 'button', text: 'Try again', attrs: { type: 'button', hidden: '' } });
  readonly #empty = h('p', {
    class: 'empty',
    text: 'No comments yet. Be the first to comment.',
    attrs: { hidden: '' },
  });
  readonly #moreButton = h('button', {
    part: 'button load-more',
    text: 'Load more comments',
    attrs: { type: 'button', hidden: '' },
  });
  readonly #moreError = h('p', { class: 'error', attrs: { role: 'alert' } });
  readonly #announcer = h('div', { class: 'sr-only', attrs: { 'aria-live': 'polite' } });

  /** New comments held back while the reader is inside the thread (shown by the "N new comments" button). */
  readonly #held = new Set<string>();
  readonly #own = new Set<string>();
  #renderQueued = false;
  #stopped = false;
  #focusAfterMore: number | null = null;
  readonly #timers: Array<ReturnType<typeof setInterval>> = [];
  #backTimer: ReturnType<typeof setTimeout> | undefined;
  #wasPaused = false;
  readonly #onScroll = () => {
    if (this.#held.size > 0 && !this.#readerInsideThread()) this.#reveal(false);
  };

  constructor(shadow: ShadowRoot, config: SessionConfig) {
    this.#config = config;
    this.#api = new ApiClient(config.base);
    this.#thread = new ThreadView(
      {
        now: () => Date.now(),
        isOwn: (id) => this.#isOwn(id),
        likes: (comment) => this.#likes.view(comment),
        reply: (comment) => this.#openReply(comment),
        like: (comment) => void this.#likes.toggle(comment),
        edit: (comment) => this.#openEdit(comment),
        remove: (comment) => this.#openDelete(comment),
        retry: (clientId) => this.#poster.retry(clientId),
        discard: (clientId) => this.#poster.discard(clientId),
        moreReplies: (topId) => this.#feed.moreReplies(topId),
        loadReplies: (topId) => void this.#feed.loadReplies(topId),
      },
      'lc-title',
    );
    this.#compose = new CommentForm({
      idPrefix: 'lc-new',
      submitLabel: 'Post',
      onSubmit: (values) => this.#submit(values, null, this.#compose),
    });
    this.#replyForm = new CommentForm({
      idPrefix: 'lc-reply',
      submitLabel: 'Reply',
      onSubmit: (values) => this.#submit(values, this.#replyTo, this.#replyForm),
      onCancel: () => this.#closeReply(true),
    });
    this.#editForm = new EditForm(
      (body) => void this.#saveEdit(body),
      () => this.#closeEdit(true),
    );
    this.#confirm = new ConfirmDelete(
      () => void this.#confirmDelete(),
      () => this.#closeDelete(true),
    );
    this.#likes = new Likes((id, liked) => this.#api.like(id, readerId(), liked), {
      changed: () => this.#scheduleRender(),
      adopt: (comment) => this.#feed.adopt(comment),
      failed: (_comment, error) => this.#announce(`Your like was not saved: ${error.message}`),
    });
    const name = readName();
    this.#compose.fill({ name });
    this.#compose.element.setAttribute('aria-label', 'Write a comment');

    const orderButton = (order: SortOrder, label: string) => {
      const button = h('button', {
        part: 'button order-button',
        text: label,
        attrs: { type: 'button', 'aria-pressed': String(order === config.order) },
      });
      button.addEventListener('click', () => this.#setOrder(order));
      return button;
    };
    this.#orderButtons = {
      newest: orderButton('newest', 'Newest'),
      oldest: orderButton('oldest', 'Oldest'),
      top: orderButton('top', 'Top'),
    };

    this.#newButton.addEventListener('click', () => this.#reveal(true));
    this.#retryLoad.addEventListener('click', () => this.#feed.retry());
    this.#moreButton.addEventListener('click', () => {
      this.#focusAfterMore = this.#thread.size;
      void this.#feed.loadMore();
    });

    this.#root = h('div', { class: 'root', part: 'root', attrs: { 'data-live': 'connecting' } }, [
      h('div', { class: 'head', part: 'header' }, [
        this.#title,
        this.#presence,
        h('div', { class: 'order', part: 'order', attrs: { role: 'group', 'aria-label': 'Sort comments' } }, [
          this.#orderButtons.newest,
          this.#orderButtons.oldest,
          this.#orderButtons.top,
        ]),
      ]),
      this.#status,
      this.#closed,
      this.#compose.element,
      this.#reviewed,
      h('div', { class: 'new-bar' }, [this.#newButton]),
      this.#loading,
      this.#loadError,
      this.#retryLoad,
      this.#thread.list,
      this.#empty,
      h('div', { class: 'more' }, [this.#moreButton, this.#moreError]),
      this.#announcer,
    ]);
    shadow.replaceChildren(this.#root);

    this.#lease = acquireConnection(config.base);
    const connection = this.#lease.connection;
    this.#feed = new ArticleFeed(
      config.articleId,
      config.order,
      {
        page: (order, before, signal) => this.#api.page(config.articleId, { order, before }, signal),
        count: (signal) => this.#api.count(config.articleId, signal),
        replies: (topId, after, signal) => this.#api.replies(config.articleId, topId, after, signal),
        subscribe: async (since) => {
          if (!connection.isConnected) throw new WidgetError('network', 'Not connected.');
          const answer: unknown = await connection.socket
            .timeout(ACK_TIMEOUT_MS)
            .emitWithAck('article:subscribe', { articleId: config.articleId, since, batch: true });
          return readAck(answer, () => SubscribeAckSchema);
        },
      },
      {
        changed: (fresh) => this.#onFeedChanged(fresh),
        liveState: (state) => this.#onLiveState(state),
        failed: (error, during) => this.#onFeedFailed(error, during),
      },
    );
    this.#poster = new Poster((input) => this.#send(input), {
      changed: () => this.#scheduleRender(),
      confirmed: (post, result) => this.#onPosted(post, result),
      refused: (post, error) => this.#onRefused(post, error),
      failed: (_post, error) => {
        this.#announce(`Your comment was not posted: ${error.message}`);
        this.#scheduleRender();
      },
    });
    this.#unlisten = connection.listen(config.articleId, {
      comment: (event, comment) => this.#feed.receive(event, comment),
      batch: (changes, superseded) => this.#feed.receiveBatch(changes, superseded),
      head: (head) => this.#feed.head(head.lastSeq),
      state: (state) => this.#feed.setState(state),
      presence: (readers) => {
        this.#readers = readers;
        this.#scheduleRender();
      },
      connected: () => this.#feed.connected(),
      disconnected: () => {
        this.#readers = null;
        this.#feed.disconnected();
      },
    });
    this.#api.readerLikes(config.articleId, readerId()).then(
      (ids) => this.#likes.load(ids),
      // Without the list, Like buttons start unpressed; pressing still counts once (the server is idempotent).
      () => undefined,
    );
    this.#timers.push(setInterval(() => this.#thread.refreshTimes(), TIME_REFRESH_MS));
    this.#feed.start();
    if (connection.isConnected) this.#feed.connected();
    this.#render();
  }

  get articleId(): ArticleId {
    return this.#config.articleId;
  }

  get base(): URL {
    return this.#config.base;
  }

  setOrder(order: SortOrder): void {
    this.#setOrder(order);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#unlisten();
    this.#feed.dispose();
    this.#poster.dispose();
    this.#lease.release();
    for (const timer of this.#timers) clearInterval(timer);
    clearTimeout(this.#backTimer);
    window.removeEventListener('scroll', this.#onScroll, { capture: true });
    this.#root.remove();
  }

  // ---- live updates -------------------------------------------------------------------------

  #onFeedChanged(fresh: Comment[]): void {
    const arriving: Comment[] = [];
    for (const comment of fresh) {
      if (this.#heldPosts.delete(comment.id)) this.#announce('Your comment was approved and is now published.');
      if (this.#poster.matchPush(comment)) continue;
      if (this.#isOwn(comment.id)) continue;
      arriving.push(comment);
    }
    if (arriving.length > 0) {
      if (this.#held.size > 0 || this.#readerInsideThread()) {
        // Inserting above the reader would move the text they are reading: offer a button instead.
        for (const comment of arriving) this.#held.add(comment.id);
        if (this.#held.size === arriving.length)
          window.addEventListener('scroll', this.#onScroll, { capture: true, passive: true });
        this.#announce(
          `${plural(this.#held.size, 'new comment', 'new comments')}. Use the new comments button to show them.`,
        );
      } else {
        const first = arriving[0]!;
        this.#announce(
          arriving.length > 1
            ? `${arriving.length} new comments`
            : `New comment${first.author.name ? ` from ${first.author.name}` : ''}`,
        );
      }
    }
    this.#scheduleRender();
  }

  #onLiveState(state: LiveState): void {
    this.#root.setAttribute('data-live', state);
    clearTimeout(this.#backTimer);
    if (state === 'paused') {
      this.#wasPaused = true;
      this.#status.textContent = 'Live updates paused. Reconnecting…';
    } else if (state === 'live' && this.#wasPaused) {
      this.#wasPaused = false;
      this.#status.textContent = 'Live updates are back.';
      this.#backTimer = setTimeout(() => {
        this.#status.textContent = '';
      }, BACK_NOTICE_MS);
    } else {
      this.#status.textContent = '';
    }
  }

  #onFeedFailed(error: WidgetError, during: 'load' | 'more' | 'live'): void {
    if (during === 'load') {
      // The server refused this page's origin: the site owner's to fix (ALLOWED_ORIGINS), said in the console.
      const refused = error.code === 'forbidden';
      if (refused) console.error(`live-comments: ${error.message}`);
      this.#loadError.textContent = `Comments could not be loaded: ${refused ? 'they are not enabled for this page.' : error.message}`;
      this.#retryLoad.hidden = this.#feed.loaded;
    } else if (during === 'more') {
      this.#moreError.textContent = `More comments could not be loaded: ${error.message}`;
    } else {
      this.#status.textContent = `Live updates unavailable: ${error.message} Retrying…`;
    }
  }

  #readerInsideThread(): boolean {
    const rect = this.#thread.list.getBoundingClientRect();
    return rect.height > 0 && rect.top < 0 && rect.bottom > 0;
  }

  #reveal(moveFocus: boolean): void {
    const revealed = new Set(this.#held);
    this.#clearHeld();
    this.#render();
    if (!moveFocus) return;
    // Take the reader to the first of the new comments in thread order.
    const first = [...this.#thread.list.children].find((li) => revealed.has(li.getAttribute('data-id') ?? ''));
    if (first instanceof HTMLElement) {
      first.scrollIntoView({ block: 'start' });
      first.focus({ preventScroll: true });
    }
  }

  #clearHeld(): void {
    this.#held.clear();
    window.removeEventListener('scroll', this.#onScroll, { capture: true });
  }

  #announce(text: string): void {
    // A new text node makes screen readers announce even a message equal to the previous one.
    this.#announcer.replaceChildren(document.createTextNode(text));
  }

  // ---- posting ----------------------------------------------------------------------------

  #submit(values: FormValues, parent: Comment | null, form: CommentForm): void {
    const candidate = { author: { name: values.name }, body: values.body, ...(parent ? { parentId: parent.id } : {}) };
    const parsed = NewCommentSchema.safeParse(candidate);
    if (!parsed.success) {
      form.showIssues(toFieldIssues(parsed.error.issues));
      return;
    }
    form.clearIssues();
    saveName(parsed.data.author.name);
    this.#compose.fill({ name: parsed.data.author.name });
    this.#replyForm.fill({ name: parsed.data.author.name });
    form.fill({ body: '' });
    this.#poster.submit({ name: parsed.data.author.name, body: parsed.data.body, parentId: parent?.id ?? null });
    if (parent) this.#closeReply(true);
    this.#scheduleRender();
  }

  async #send(input: NewComment): Promise<PostResult> {
    const connection = this.#lease.connection;
    if (!connection.isConnected) return this.#api.post(this.#config.articleId, input);
    let answer: unknown;
    try {
      answer = await connection.socket
        .timeout(ACK_TIMEOUT_MS)
        .emitWithAck('comment:post', { articleId: this.#config.articleId, ...input });
    } catch (error) {
      throw toWidgetError(error);
    }
    return readAck(answer, postAnswerSchema);
  }

  #onPosted(_post: PendingPost, result: PostResult): void {
    if ('held' in result) {
      // Not part of the thread until a moderator approves it: shown to its author alone, marked as waiting.
      const { held } = result;
      if (result.authorToken !== undefined) saveAuthorToken(held.id, result.authorToken);
      if (!this.#feed.comments.has(held.id)) this.#heldPosts.set(held.id, { kind: 'held', ...held });
      this.#announce('Your comment is awaiting moderation.');
      this.#scheduleRender();
      return;
    }
    if (result.authorToken !== undefined) saveAuthorToken(result.comment.id, result.authorToken);
    this.#own.add(result.comment.id);
    this.#held.delete(result.comment.id);
    this.#feed.adopt(result.comment);
    this.#announce('Your comment was posted.');
    this.#scheduleRender();
  }

  #onRefused(post: PendingPost, error: WidgetError): void {
    const parent = post.parentId === null ? null : (this.#feed.comments.get(post.parentId) ?? null);
    let form = this.#compose;
    if (parent && parent.status === 'visible') {
      this.#openReply(parent);
      form = this.#replyForm;
    }
    form.fill({ name: post.author.name, body: post.body });
    form.showIssues(error.issues, `Your comment was not posted: ${error.message}`);
    this.#announce(`Your comment was not posted: ${error.message}`);
    this.#scheduleRender();
  }

  #openReply(comment: Comment): void {
    if (this.#replyTo?.id === comment.id) {
      this.#replyForm.focus();
      return;
    }
    this.#replyTo = comment;
    this.#replyForm.clearIssues();
    this.#replyForm.fill({ name: this.#compose.name.value || readName(), body: '' });
    this.#replyForm.element.setAttribute('aria-label', `Reply to ${comment.author.name}`);
    this.#render();
    this.#replyForm.focus();
  }

  #closeReply(returnFocus: boolean): void {
    const target = this.#replyTo;
    this.#replyTo = null;
    this.#replyForm.element.remove();
    this.#render();
    if (returnFocus && target)
      this.#thread.element(target.id)?.querySelector<HTMLButtonElement>('.reply-button')?.focus();
  }

  // ---- own comments: edit and delete ---------------------------------------------------------

  #openEdit(comment: Comment): void {
    this.#closeDelete(false);
    if (this.#editing?.id !== comment.id) this.#editForm.open(comment.body);
    this.#editing = comment;
    this.#render();
    this.#editForm.focus();
  }

  #closeEdit(returnFocus: boolean): void {
    const target = this.#editing;
    if (!target) return;
    this.#editing = null;
    this.#refocus(returnFocus ? target.id : null, '.edit-button');
  }

  async #saveEdit(text: string): Promise<void> {
    const target = this.#editing;
    if (!target) return;
    const parsed = EditCommentSchema.safeParse({ body: text });
    if (!parsed.success) {
      this.#editForm.showError(parsed.error.issues[0]?.message ?? 'Invalid comment');
      this.#editForm.text.focus();
      return;
    }
    const token = readAuthorToken(target.id);
    if (token === null) return this.#editForm.showError('This browser no longer holds the key to edit this comment.');
    this.#editForm.busy(true);
    try {
      this.#feed.adopt(await this.#api.edit(target.id, parsed.data.body, token));
    } catch (error) {
      if (this.#editing !== target) return;
      this.#editForm.busy(false);
      this.#editForm.showError(`Not saved: ${toWidgetError(error).message}`);
      return;
    }
    if (this.#editing !== target) return;
    this.#announce('Your comment was edited.');
    this.#closeEdit(true);
  }

  #openDelete(comment: Comment): void {
    this.#closeEdit(false);
    this.#confirm.reset();
    this.#deleting = comment;
    this.#render();
    this.#confirm.cancel.focus();
  }

  #closeDelete(returnFocus: boolean): void {
    const target = this.#deleting;
    if (!target) return;
    this.#deleting = null;
    this.#confirmed = null;
    this.#refocus(returnFocus ? target.id : null, '.delete-button');
  }

  async #confirmDelete(): Promise<void> {
    const target = this.#deleting;
    const token = target && readAuthorToken(target.id);
    if (!target || !token) return;
    this.#confirm.busy(true);
    this.#confirmed = target;
    try {
      this.#feed.adopt(await this.#api.remove(target.id, token));
    } catch (error) {
      if (this.#confirmed !== target) return;
      this.#confirmed = null;
      this.#confirm.busy(false);
      this.#confirm.showError(`Not deleted: ${toWidgetError(error).message}`);
      return;
    }
    forgetAuthorToken(target.id);
    this.#announce('Your comment was deleted.');
    if (this.#confirmed !== target) return;
    this.#confirmed = null;
    this.#deleting = null;
    // The comment is a placeholder now: keep the reader at its place in the thread.
    this.#refocus(target.id, null);
  }

  /** Renders at once, then moves focus to a control of a comment's row (or to the row itself). */
  #refocus(commentId: string | null, selector: string | null): void {
    if (commentId !== null) {
      this.#focusAfterRender = () => {
        const row = this.#thread.element(commentId);
        return (selector ? row?.querySelector<HTMLElement>(selector) : null) ?? row;
      };
    }
    this.#render();
  }

  #isOwn(commentId: string): boolean {
    if (this.#own.has(commentId)) return true;
    if (this.#heldPosts.has(commentId)) return true;
    if (this.#poster.isMatched(commentId) || readAuthorToken(commentId) !== null) {
      this.#own.add(commentId);
      return true;
    }
    return false;
  }

  #setOrder(order: SortOrder): void {
    for (const [name, button] of Object.entries(this.#orderButtons))
      button.setAttribute('aria-pressed', String(name === order));
    // Ranks are taken afresh each time the reader asks for the top comments.
    if (order === 'top') this.#rank.clear();
    this.#clearHeld();
    this.#moreError.textContent = '';
    this.#feed.setOrder(order);
  }

  // ---- rendering --------------------------------------------------------------------------

  #scheduleRender(): void {
    if (this.#renderQueued || this.#stopped) return;
    this.#renderQueued = true;
    queueMicrotask(() => {
      this.#renderQueued = false;
      if (!this.#stopped) this.#render();
    });
  }

  #render(): void {
    const feed = this.#feed;
    const entries: Entry[] = [...feed.comments.values()];
    for (const post of this.#poster.pending.values()) {
      if (post.commentId === null || !feed.comments.has(post.commentId)) entries.push(post);
    }
    for (const held of this.#heldPosts.values()) if (!feed.comments.has(held.id)) entries.push(held);
    const rank = (item: ThreadItem) => {
      let likes = this.#rank.get(item.id);
      if (likes === undefined) this.#rank.set(item.id, (likes = feed.comments.get(item.id)?.likes ?? 0));
      return likes;
    };
    const rows = buildThread(entries, {
      order: feed.order,
      boundary: feed.boundary,
      hidden: this.#held,
      alwaysShow: (entry) => 'kind' in entry || this.#isOwn(entry.id),
      rank,
    });
    // A panel whose comment left the thread or was removed closes (a moderator may remove it meanwhile).
    const showing = (target: Comment | null) =>
      target !== null &&
      rows.some((row) => row.item.id === target.id && !('kind' in row.item) && row.item.status === 'visible');
    if (this.#replyTo && (!showing(this.#replyTo) || feed.locked)) {
      this.#replyTo = null;
      this.#replyForm.element.remove();
    }
    if (!showing(this.#editing)) this.#editing = null;
    if (!showing(this.#deleting)) this.#deleting = null;
    const panel = (target: Comment | null, element: HTMLElement) => (target ? { commentId: target.id, element } : null);
    this.#thread.update(rows, {
      reply: panel(this.#replyTo, this.#replyForm.element),
      edit: panel(this.#editing, this.#editForm.element),
      confirm: panel(this.#deleting, this.#confirm.element),
      locked: feed.locked,
    });
    this.#compose.element.hidden = feed.locked;
    this.#closed.hidden = !feed.locked;
    this.#reviewed.hidden = feed.locked || !feed.premoderated;
    this.#presence.hidden = this.#readers === null || feed.state !== 'live';
    this.#presence.textContent = `${this.#readers ?? 0} reading now`;

    const count = feed.count;
    this.#title.textContent = count === null ? 'Comments' : plural(count, 'comment', 'comments');
    this.#loading.hidden = !(feed.loading === 'first' && !feed.loaded);
    if (feed.loading === 'first') this.#loadError.textContent = '';
    if (feed.loaded || feed.loading !== null) this.#retryLoad.hidden = true;
    this.#empty.hidden = !(feed.loaded && rows.length === 0);
    this.#moreButton.hidden = !(feed.loaded && feed.hasMore);
    this.#moreButton.disabled = feed.loading !== null;
    this.#moreButton.textContent = feed.loading === 'more' ? 'Loading…' : 'Load more comments';
    if (feed.loading === 'more') this.#moreError.textContent = '';
    this.#newButton.hidden = this.#held.size === 0;
    this.#newButton.textContent = plural(this.#held.size, 'new comment', 'new comments');

    const focus = this.#focusAfterRender;
    this.#focusAfterRender = null;
    focus?.()?.focus();

    if (this.#focusAfterMore !== null && feed.loading === null) {
      // The button is gone after the last page: keep keyboard users where the new comments start.
      const index = this.#focusAfterMore;
      this.#focusAfterMore = null;
      if (!feed.hasMore) (this.#thread.list.children[index] as HTMLElement | undefined)?.focus();
    }
  }
}

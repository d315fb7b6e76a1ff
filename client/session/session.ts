import type { ArticleId, Comment, SortOrder } from '../../shared/schemas.ts';
import { ApiClient } from '../api-client.ts';
import type { ArticleFeed } from '../article-feed.ts';
import type { Likes } from '../likes.ts';
import type { Membership } from '../member/membership.ts';
import type { MemberView } from '../member/member-view.ts';
import { loadPart } from '../parts.ts';
import type { PermalinkPart } from '../part-registry.ts';
import type { WidgetError } from '../protocol.ts';
import { buildThread, type ThreadItem } from '../thread-model.ts';
import { h } from '../view/dom.ts';
import { ThreadView, type Entry } from '../view/thread-view.ts';
import { CatchUp } from './catch-up.ts';
import { LiveArticle } from './connection.ts';
import type { SessionConfig, SessionContext } from './context.ts';
import { readerLikes, reloadLikes } from './likes.ts';
import { Reporting } from './reporting.ts';
import { OwnComments } from './own-comments.ts';
import { Posting } from './posting.ts';
import type { TypingSignals } from '../typing/typing-signals.ts';

/** Relative times are rewritten this often. */
const TIME_REFRESH_MS = 30_000;

/**
 * One mounted widget: the DOM inside the shadow root, and the parts that fill it: the live article
 * (connection, subscription, feed), the catch-up of comments arriving while the reader reads, the
 * reader's posting, own comments and likes. Everything it starts (listeners, timers, requests, the
 * lease) is undone by `stop()`, so an element removed by a single-page app leaves nothing behind.
 */
export class Session implements SessionContext {
  readonly config: SessionConfig;
  readonly api: ApiClient;
  readonly thread: ThreadView;
  readonly #root: HTMLDivElement;
  readonly #live: LiveArticle;
  readonly #catchUp: CatchUp;
  readonly #posting: Posting;
  readonly #own: OwnComments;
  readonly #likes: Likes;
  readonly #reporting: Reporting;
  /** `top` order: each comment's likes when it was first shown, so a like does not move it under the reader. */
  readonly #rank = new Map<string, number>();
  #focusAfterRender: (() => HTMLElement | null | undefined) | null = null;
  /** Sign-in (widget-member.js), once loaded for this widget. */
  #member: Promise<Membership | null> | null = null;
  #memberView: MemberView | null = null;
  /** Typing indicators (widget-typing.js), once the reader typed or someone else writes. */
  #typing: Promise<TypingSignals | null> | null = null;
  #typingNow: TypingSignals | null = null;
  /** The page's `#comment-<id>` was followed once the first page was in. */
  #linkFollowed = false;

  readonly #title = h('h2', { class: 'title', part: 'title', attrs: { id: 'lc-title' } });
  readonly #orderButtons: Record<SortOrder, HTMLButtonElement>;
  readonly #presence = h('p', { class: 'presence', part: 'presence', attrs: { hidden: '' } });
  readonly #closed = h('p', { class: 'closed', part: 'closed', attrs: { hidden: '' } });
  readonly #reviewed = h('p', { class: 'hint', attrs: { hidden: '' } });
  readonly #loading = h('p', { class: 'loading' });
  readonly #loadError = h('p', { class: 'error', attrs: { role: 'alert' } });
  readonly #retryLoad = h('button', { part: 'button', attrs: { type: 'button', hidden: '' } });
  readonly #empty = h('p', { class: 'empty', attrs: { hidden: '' } });
  readonly #moreButton = h('button', { part: 'button load-more', attrs: { type: 'button', hidden: '' } });
  readonly #moreError = h('p', { class: 'error', attrs: { role: 'alert' } });
  readonly #announcer = h('div', { class: 'sr-only', attrs: { 'aria-live': 'polite' } });

  #renderQueued = false;
  #stopped = false;
  #focusAfterMore: number | null = null;
  readonly #timers: Array<ReturnType<typeof setInterval>> = [];

  constructor(shadow: ShadowRoot, config: SessionConfig) {
    this.config = config;
    const { strings } = config;
    this.#closed.textContent = strings.text('closed');
    this.#reviewed.textContent = strings.text('reviewed');
    this.#loading.textContent = strings.text('loading');
    this.#retryLoad.textContent = strings.text('tryAgain');
    this.#empty.textContent = strings.text('empty');
    this.api = new ApiClient(config.base, () => this.#live.connection.token);
    this.thread = new ThreadView(
      {
        now: () => Date.now(),
        isOwn: (id) => this.#own.has(id),
        likes: (comment) => this.#likes.view(comment),
        reply: (comment) => this.#posting.openReply(comment),
        like: (comment) => void this.#likes.toggle(comment),
        edit: (comment) => void this.#own.openEdit(comment),
        remove: (comment) => void this.#own.openDelete(comment),
        report: (comment) => void this.#reporting.open(comment),
        link: (comment, button) => void this.#permalinks().then((part) => part.copyLink(this, comment.id, button)),
        typing: (id) => this.#typingNow?.line(id) ?? null,
        retry: (clientId) => this.#posting.poster.retry(clientId),
        discard: (clientId) => this.#posting.poster.discard(clientId),
        moreReplies: (topId) => this.feed.moreReplies(topId),
        loadReplies: (topId) => void this.feed.loadReplies(topId),
      },
      'lc-title',
      strings,
    );
    // The widget's language and direction (Arabic and Hebrew lay it out right to left).
    this.#root = h('div', {
      class: 'root',
      part: 'root',
      attrs: { 'data-live': 'connecting', lang: strings.locale, dir: strings.dir },
    });
    this.#live = new LiveArticle(config, this.api, this.#root, {
      changed: (fresh) => this.#onFeedChanged(fresh),
      failed: (error, during) => this.#onFeedFailed(error, during),
      scheduleRender: () => this.scheduleRender(),
      // Loaded when someone starts writing; an update that clears nothing is not worth loading it for.
      // Once loading, every update waits for it in order: an end arriving meanwhile must not be lost.
      typing: (typing) => {
        if (typing?.count || this.#typing) void this.#typingSignals().then((signals) => signals?.changed(typing));
      },
    });
    this.#catchUp = new CatchUp(this.thread, {
      strings,
      announce: (text) => this.announce(text),
      render: () => this.render(),
    });
    this.#posting = new Posting(this, this.#live, {
      posted: (comment) => {
        this.#own.add(comment.id);
        this.#catchUp.forget(comment.id);
      },
    });
    this.#own = new OwnComments(this, this.#posting, (button) => this.#presence.after(button));
    this.#likes = readerLikes(this);
    this.#reporting = new Reporting(this);

    const orderButton = (order: SortOrder) => {
      const button = h('button', {
        part: 'button order-button',
        text: strings.text(order),
        attrs: { type: 'button', 'aria-pressed': String(order === config.order) },
      });
      button.addEventListener('click', () => this.setOrder(order));
      return button;
    };
    this.#orderButtons = {
      newest: orderButton('newest'),
      oldest: orderButton('oldest'),
      top: orderButton('top'),
    };
    this.#retryLoad.addEventListener('click', () => this.feed.retry());
    this.#moreButton.addEventListener('click', () => {
      this.#focusAfterMore = this.thread.size;
      void this.feed.loadMore();
    });

    this.#root.append(
      h('div', { class: 'head', part: 'header' }, [
        this.#title,
        this.#presence,
        h('div', { class: 'order', part: 'order', attrs: { role: 'group', 'aria-label': strings.text('sortLabel') } }, [
          this.#orderButtons.newest,
          this.#orderButtons.oldest,
          this.#orderButtons.top,
        ]),
      ]),
      this.#live.status,
      this.#closed,
      this.#posting.compose.element,
      this.#reviewed,
      h('div', { class: 'new-bar' }, [this.#catchUp.button]),
      this.#loading,
      this.#loadError,
      this.#retryLoad,
      this.thread.list,
      this.#empty,
      h('div', { class: 'more' }, [this.#moreButton, this.#moreError]),
      this.#announcer,
    );
    shadow.replaceChildren(this.#root);
    // Typing indicators come with the reader's first move into the widget (they then watch its forms).
    this.#root.addEventListener('focusin', () => void this.#typingSignals(), { once: true });
    addEventListener('hashchange', this.#followLink);

    this.#timers.push(setInterval(() => this.thread.refreshTimes(), TIME_REFRESH_MS));
    if (config.ssoToken !== null) this.setToken(config.ssoToken);
    this.#live.start();
    this.render();
  }

  get articleId(): ArticleId {
    return this.config.articleId;
  }

  get base(): URL {
    return this.config.base;
  }

  get feed(): ArticleFeed {
    return this.#live.feed;
  }

  setOrder(order: SortOrder): void {
    for (const [name, button] of Object.entries(this.#orderButtons))
      button.setAttribute('aria-pressed', String(name === order));
    // Ranks are taken afresh each time the reader asks for the top comments.
    if (order === 'top') this.#rank.clear();
    this.#catchUp.clear();
    this.#moreError.textContent = '';
    this.feed.setOrder(order);
  }

  /** The element's member token was set or cleared (null): signs the page's reader in or out on this server. */
  setToken(token: string | null): void {
    const connection = this.#live.connection;
    // Until sign-in is loaded, the handshake and REST calls take the token from here at once.
    if (!connection.membership) connection.token = token;
    void this.#signIn().then((membership) => membership?.set(token));
  }

  retrying<T>(action: () => Promise<T>): Promise<T> {
    return this.#live.connection.membership?.retrying(action) ?? action();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#memberView?.stop();
    this.#typingNow?.stop();
    removeEventListener('hashchange', this.#followLink);
    this.#live.stop();
    this.#posting.stop();
    this.#catchUp.clear();
    for (const timer of this.#timers) clearInterval(timer);
    this.#root.remove();
  }

  announce(text: string): void {
    // A new text node makes screen readers announce even a message equal to the previous one.
    this.#announcer.replaceChildren(document.createTextNode(text));
  }

  refocus(commentId: string | null, selector: string | null): void {
    if (commentId !== null) {
      this.#focusAfterRender = () => {
        const row = this.thread.element(commentId);
        return (selector ? row?.querySelector<HTMLElement>(selector) : null) ?? row;
      };
    }
    this.render();
  }

  /** Loads typing indicators (widget-typing.js) for this widget; null if they could not be loaded (tried again when next needed). */
  #typingSignals(): Promise<TypingSignals | null> {
    return (this.#typing ??= loadPart(this.config.base, 'typing').then(
      ({ TypingSignals }) =>
        this.#stopped ? null : (this.#typingNow = new TypingSignals(this, this.#live.connection)),
      () => (this.#typing = null),
    ));
  }

  #permalinks(): Promise<PermalinkPart> {
    return loadPart(this.config.base, 'permalink');
  }

  /** A `#comment-<id>` address: loads what holds the comment and brings it into view (widget-permalink.js). */
  readonly #followLink = (): void => {
    if (location.hash.startsWith('#comment-')) void this.#permalinks().then((part) => part.reveal(this, location.hash));
  };

  /** Loads sign-in (widget-member.js) and shows it in this widget; null if it could not be loaded (tried again when next needed). */
  #signIn(): Promise<Membership | null> {
    return (this.#member ??= loadPart(this.config.base, 'member').then(
      ({ Membership, MemberView }) => {
        const connection = this.#live.connection;
        const membership = (connection.membership ??= new Membership(connection));
        if (!this.#stopped)
          this.#memberView = new MemberView(membership, {
            host: this.config.host,
            forms: [this.#posting.compose, this.#posting.replyForm],
            sso: () => this.feed.sso,
            changed: () => reloadLikes(this, this.#likes),
            config: this.config,
            mine: (ids) => {
              for (const id of ids) this.#own.add(id);
              this.scheduleRender();
            },
          });
        return membership;
      },
      () => (this.#member = null),
    ));
  }

  // ---- live updates -------------------------------------------------------------------------

  #onFeedChanged(fresh: Comment[]): void {
    const arriving = fresh.filter((comment) => !this.#posting.claim(comment) && !this.#own.has(comment.id));
    this.#catchUp.arrive(arriving);
    this.scheduleRender();
  }

  #onFeedFailed(error: WidgetError, during: 'load' | 'more'): void {
    if (during === 'load') {
      // The server refused this page's origin: the site owner's to fix (ALLOWED_ORIGINS), said in the console.
      const refused = error.code === 'forbidden';
      if (refused) console.error(`live-comments: ${error.message}`);
      const { strings } = this.config;
      this.#loadError.textContent = refused
        ? strings.text('notEnabled')
        : strings.text('loadFailed', { error: strings.error(error) });
      this.#retryLoad.hidden = this.feed.loaded;
    } else {
      const { strings } = this.config;
      this.#moreError.textContent = strings.text('moreFailed', { error: strings.error(error) });
    }
  }

  // ---- rendering --------------------------------------------------------------------------

  scheduleRender(): void {
    if (this.#renderQueued || this.#stopped) return;
    this.#renderQueued = true;
    queueMicrotask(() => {
      this.#renderQueued = false;
      if (!this.#stopped) this.render();
    });
  }

  render(): void {
    const feed = this.feed;
    if (feed.loaded && !this.#linkFollowed) {
      this.#linkFollowed = true;
      this.#followLink();
    }
    // Sign-in is needed once the page gave a token (here or to another widget of this server) or the server requires it.
    if (this.#live.connection.token !== null || feed.sso?.mode === 'required') void this.#signIn();
    const posting = this.#posting;
    posting.offerNotify(feed.replyEmails);
    const own = this.#own;
    const entries: Entry[] = [...feed.comments.values()];
    for (const post of posting.poster.pending.values()) {
      if (post.commentId === null || !feed.comments.has(post.commentId)) entries.push(post);
    }
    for (const held of posting.awaitingModeration.values()) if (!feed.comments.has(held.id)) entries.push(held);
    const rank = (item: ThreadItem) => {
      let likes = this.#rank.get(item.id);
      if (likes === undefined) this.#rank.set(item.id, (likes = feed.comments.get(item.id)?.likes ?? 0));
      return likes;
    };
    const rows = buildThread(entries, {
      order: feed.order,
      boundary: feed.boundary,
      hidden: this.#catchUp.unrevealed,
      alwaysShow: (entry) => 'kind' in entry || own.has(entry.id),
      rank,
    });
    // A panel whose comment left the thread or was removed closes (a moderator may remove it meanwhile).
    const showing = (target: Comment | null) =>
      target !== null &&
      rows.some((row) => row.item.id === target.id && !('kind' in row.item) && row.item.status === 'visible');
    if (posting.replyTo && (!showing(posting.replyTo) || feed.locked)) {
      posting.replyTo = null;
      posting.replyForm.element.remove();
    }
    const reporting = this.#reporting;
    if (!showing(reporting.target)) reporting.target = null;
    const editor = own.editor;
    if (editor && !showing(editor.editing)) editor.editing = null;
    if (editor && !showing(editor.deleting)) editor.deleting = null;
    const panel = (target: Comment | null, element: HTMLElement | undefined) =>
      target && element ? { commentId: target.id, element } : null;
    this.thread.update(rows, {
      reply: panel(posting.replyTo, posting.replyForm.element),
      edit: panel(editor?.editing ?? null, editor?.editForm.element),
      confirm: panel(editor?.deleting ?? null, editor?.confirm.element),
      report: panel(reporting.target, reporting.panel?.element),
      locked: feed.locked,
    });
    posting.compose.element.hidden = feed.locked;
    this.#closed.hidden = !feed.locked;
    this.#reviewed.hidden = feed.locked || !feed.premoderated;
    const readers = this.#live.readers;
    this.#presence.hidden = readers === null || feed.state !== 'live';
    const { strings } = this.config;
    this.#presence.textContent = strings.count('reading', readers ?? 0);

    const count = feed.count;
    this.#title.textContent = count === null ? strings.text('title') : strings.count('titleCount', count);
    this.#loading.hidden = !(feed.loading === 'first' && !feed.loaded);
    if (feed.loading === 'first') this.#loadError.textContent = '';
    if (feed.loaded || feed.loading !== null) this.#retryLoad.hidden = true;
    this.#empty.hidden = !(feed.loaded && rows.length === 0);
    this.#moreButton.hidden = !(feed.loaded && feed.hasMore);
    this.#moreButton.disabled = feed.loading !== null;
    this.#moreButton.textContent = strings.text(feed.loading === 'more' ? 'loadingMore' : 'loadMore');
    if (feed.loading === 'more') this.#moreError.textContent = '';
    this.#catchUp.render();
    own.toYou?.render(rows, (id) => own.has(id));

    const focus = this.#focusAfterRender;
    this.#focusAfterRender = null;
    focus?.()?.focus();

    if (this.#focusAfterMore !== null && feed.loading === null) {
      // The button is gone after the last page: keep keyboard users where the new comments start.
      const index = this.#focusAfterMore;
      this.#focusAfterMore = null;
      if (!feed.hasMore) (this.thread.list.children[index] as HTMLElement | undefined)?.focus();
    }
  }
}

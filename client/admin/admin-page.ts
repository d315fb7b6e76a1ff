import { io, type Socket } from 'socket.io-client';
import * as z from 'zod/mini';
import { EmptyAckSchema, FailedAckSchema } from '../../shared/acks.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../../shared/events.ts';
import {
  HeldResolvedSchema,
  ModeratedCommentSchema,
  ModeratedHeldSchema,
  type Ban,
  type ModeratedComment,
  type ModeratedHeld,
} from '../../shared/moderation.ts';
import { ArticleIdSchema, type ArticleState } from '../../shared/schemas.ts';
import { toWidgetError, type WidgetError } from '../protocol.ts';
import { Strings } from '../i18n/strings.ts';
import { formatAbsolute } from '../time-format.ts';
import { h, plural } from '../view/dom.ts';
import { foldButton, isLong } from '../view/thread-view.ts';
import { ADMIN_PAGE_SIZE, AdminApi } from './admin-api.ts';
import { ImportPanel } from './import-panel.ts';
import { KeyedList } from './keyed-list.ts';
import { articleLink, button, time } from './controls.ts';
import { ReportsPanel } from './reports-panel.ts';
import { QueueFilters } from './queue-filters.ts';
import { SettingsPanel } from './settings-panel.ts';
import { NotificationsPanel } from './notifications-panel.ts';
import { ReportedCommentSchema } from '../../shared/reports.ts';

const TOKEN_KEY = 'live-comments:admin-token';
/** How long the socket waits for the `admin:subscribe` ack. */
const ACK_TIMEOUT_MS = 10_000;
/** Ban lengths offered, in minutes (null: until lifted). */
const BAN_LENGTHS: ReadonlyArray<readonly [string, number | null]> = [
  ['1 hour', 60],
  ['1 day', 1440],
  ['1 week', 10_080],
  ['30 days', 43_200],
  ['Until lifted', null],
];

type AdminSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const PAGE_TITLE = 'Moderation · Live Comments';

/**
 * Keys that work on the item of a review queue holding the focus (no modifier, not while typing):
 * the action each presses, by its `data-action`; `j`/`k` move to the next or previous item.
 */
const QUEUE_SHORTCUTS: Readonly<Record<string, string>> = { a: 'approve', r: 'reject', b: 'ban' };

/** The ack of `admin:subscribe` (shared/acks.ts): `ok: true` with nothing more, or a refusal. */
const AdminAckSchema = z.union([z.object({ ok: z.literal(true), ...EmptyAckSchema.shape }), FailedAckSchema]);

/** The token lives in this tab's sessionStorage only: never in the URL, gone when the tab closes. */
const tokenStore = {
  read(): string | null {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  write(token: string | null): void {
    try {
      if (token === null) sessionStorage.removeItem(TOKEN_KEY);
      else sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      // Without sessionStorage the moderator signs in again after a reload.
    }
  },
};

/**
 * The /admin page: sign in with the ADMIN_TOKEN, then moderate live. The feed shows every new or
 * changed comment on every article as it happens (`admin:comment` from every instance), the held
 * queue every comment waiting for pre-moderation (`admin:held`, `admin:resolved`). On every
 * (re)connect the page subscribes again and reloads both over REST, so nothing missed while away
 * stays missing. All text goes in with textContent.
 */
export class AdminPage {
  readonly #base: URL;
  readonly #root: HTMLElement;
  #api: AdminApi | null = null;
  #socket: AdminSocket | null = null;

  readonly #feed = new Map<string, ModeratedComment>();
  readonly #held = new Map<string, ModeratedHeld>();
  readonly #articles = new Map<string, ArticleState | null>();
  /** Articles the moderator opened by id (listed even when nothing of theirs is in the feed). */
  readonly #pinned: string[] = [];
  #bans: Ban[] = [];
  /** The comment (stored or held) whose ban form is open. */
  #banFor: string | null = null;

  readonly #status = h('p', { class: 'status', attrs: { role: 'status' } });
  readonly #alert = h('p', { class: 'error', attrs: { role: 'alert' } });
  readonly #announcer = h('div', { class: 'sr-only', attrs: { 'aria-live': 'polite' } });
  readonly #login: HTMLFormElement;
  readonly #tokenInput = h('input', {
    attrs: { id: 'admin-token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: '' },
  });
  readonly #loginError = h('p', { class: 'error', attrs: { role: 'alert' } });
  readonly #app: HTMLElement;
  readonly #queueTitle = h('h2', { text: 'Review queue', attrs: { id: 'queue-title', tabindex: '-1' } });
  readonly #heldTitle = h('h3', { text: 'Held for review', attrs: { id: 'held-title' } });
  readonly #heldEmpty = h('p', { class: 'empty', text: 'Nothing is waiting for review.' });
  readonly #feedEmpty = h('p', {
    class: 'empty',
    text: 'No comments yet. New comments appear here as they are posted.',
  });
  readonly #bansEmpty = h('p', { class: 'empty', text: 'No bans in force.' });
  readonly #heldList: KeyedList<ModeratedHeld>;
  readonly #feedList: KeyedList<ModeratedComment>;
  /** Long feed comments the moderator unfolded: a re-rendered item stays unfolded (as in the widget). */
  readonly #unfolded = new Set<string>();
  /** The page's words (English for now; the widget's tables hold the ones it shares with the widget). */
  readonly #strings = new Strings('en');
  readonly #articleList: KeyedList<{ articleId: string; state: ArticleState | null }>;
  readonly #banList: KeyedList<Ban>;
  readonly #articleInput = h('input', {
    attrs: { id: 'article-id', type: 'text', spellcheck: 'false', autocomplete: 'off' },
  });
  readonly #articleError = h('p', { class: 'error', attrs: { role: 'alert' } });
  readonly #banMinutes = h('select', { attrs: { id: 'ban-length', 'data-action': 'ban-length' } });
  readonly #banReason = h('input', {
    attrs: { id: 'ban-reason', type: 'text', maxlength: '500', 'data-action': 'ban-reason' },
  });
  readonly #banForm: HTMLFormElement;
  readonly #importPanel = new ImportPanel({
    api: () => this.#api,
    announce: (text) => this.#announce(text),
    tokenRefused: (failure) => this.#tokenRefused(failure),
    imported: () => void this.#reload(),
  });
  readonly #notifications = new NotificationsPanel({
    act: (run, done) => this.#act(run, done),
    announce: (text) => this.#announce(text),
  });
  readonly #settings = new SettingsPanel({
    act: (run, done) => this.#act(run, done),
    announce: (text) => this.#announce(text),
  });
  readonly #filters = new QueueFilters(() => this.#render());
  readonly #reports = new ReportsPanel({
    filters: this.#filters,
    act: (run, done) => this.#act(run, done),
    announce: (text) => this.#announce(text),
    changed: (comment) => this.#upsert([comment]),
    openBan: (commentId) => this.#openBan(commentId),
    banForm: (commentId) => (this.#banFor === commentId ? this.#banForm : null),
    refresh: () => this.#render(),
  });

  constructor(root: HTMLElement, base: URL) {
    this.#root = root;
    this.#base = base;

    this.#login = h('form', { class: 'login', attrs: { 'aria-labelledby': 'login-title', novalidate: '' } }, [
      h('h2', { text: 'Sign in', attrs: { id: 'login-title' } }),
      h('p', {
        text: 'Enter the moderator token (the ADMIN_TOKEN of this server). It is kept in this tab only, until you sign out or close it.',
      }),
      h('label', { text: 'Moderator token', attrs: { for: 'admin-token' } }),
      this.#tokenInput,
      this.#loginError,
      h('button', { class: 'primary', text: 'Sign in', attrs: { type: 'submit' } }),
    ]);
    this.#login.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#signIn(this.#tokenInput.value.trim(), true);
    });

    for (const [label, minutes] of BAN_LENGTHS)
      this.#banMinutes.append(h('option', { text: label, attrs: { value: minutes === null ? '' : String(minutes) } }));
    this.#banForm = h('form', { class: 'ban-form', attrs: { 'aria-label': 'Ban the author', novalidate: '' } }, [
      h('label', { text: 'Ban for', attrs: { for: 'ban-length' } }),
      this.#banMinutes,
      h('label', { text: 'Reason (optional)', attrs: { for: 'ban-reason' } }),
      this.#banReason,
      h('button', { class: 'danger', text: 'Ban', attrs: { type: 'submit', 'data-action': 'ban-confirm' } }),
      button('Cancel', 'ban-cancel', () => this.#closeBan()),
    ]);
    this.#banForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#ban();
    });
    this.#banForm.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.#closeBan();
    });

    this.#heldList = new KeyedList({
      label: 'Held comments',
      id: (held) => held.id,
      version: (held) => `${this.#banFor === held.id}`,
      render: (held) => this.#renderHeld(held),
    });
    this.#feedList = new KeyedList({
      label: 'Comments, newest first',
      id: (comment) => comment.id,
      version: (comment) => `${comment.seq}|${this.#banFor === comment.id}`,
      render: (comment) => this.#renderComment(comment),
    });
    this.#articleList = new KeyedList({
      label: 'Articles',
      id: (row) => row.articleId,
      version: (row) => (row.state ? `${row.state.locked}|${row.state.premoderated}` : 'unknown'),
      render: (row) => this.#renderArticle(row.articleId, row.state),
    });
    this.#banList = new KeyedList({
      label: 'Bans in force',
      id: (ban) => ban.authorKey,
      version: (ban) => `${ban.createdAt}|${ban.expiresAt ?? ''}`,
      render: (ban) => this.#renderBan(ban),
    });

    const articleForm = h('form', { class: 'inline', attrs: { 'aria-label': 'Find an article', novalidate: '' } }, [
      h('label', { text: 'Article id', attrs: { for: 'article-id' } }),
      this.#articleInput,
      h('button', { text: 'Show', attrs: { type: 'submit' } }),
      this.#articleError,
    ]);
    articleForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#pinArticle();
    });

    const signOut = button('Sign out', 'sign-out', () => this.#signOut(''));
    this.#app = h('div', { class: 'app', attrs: { hidden: '' } }, [
      h('div', { class: 'bar' }, [this.#status, signOut]),
      this.#alert,
      h('section', { attrs: { 'aria-labelledby': 'queue-title' } }, [
        this.#queueTitle,
        this.#filters.element,
        h('div', { class: 'queue-part' }, [this.#heldTitle, this.#heldEmpty, this.#heldList.element]),
        this.#reports.element,
      ]),
      h('section', { attrs: { 'aria-labelledby': 'feed-title' } }, [
        h('h2', { text: 'Live feed', attrs: { id: 'feed-title' } }),
        this.#feedEmpty,
        this.#feedList.element,
      ]),
      h('section', { attrs: { 'aria-labelledby': 'articles-title' } }, [
        h('h2', { text: 'Articles', attrs: { id: 'articles-title' } }),
        h('p', {
          class: 'hint',
          text: 'Lock an article to close its discussion; pre-moderate it to hold new comments for review.',
        }),
        articleForm,
        this.#articleList.element,
      ]),
      h('section', { attrs: { 'aria-labelledby': 'bans-title' } }, [
        h('h2', { text: 'Bans', attrs: { id: 'bans-title' } }),
        this.#bansEmpty,
        this.#banList.element,
      ]),
      this.#settings.element,
      this.#notifications.element,
      this.#importPanel.element,
    ]);
    root.replaceChildren(this.#login, this.#app, this.#announcer);
    this.#app.addEventListener('keydown', (event) => this.#shortcut(event));

    const saved = tokenStore.read();
    if (saved) void this.#signIn(saved, false);
    else this.#showLogin('');
  }

  // ---- signing in and out ------------------------------------------------------------------

  async #signIn(token: string, typed: boolean): Promise<void> {
    if (token === '') return this.#showLogin('Enter the moderator token.');
    const api = new AdminApi(this.#base, token);
    try {
      // Only the token is checked here: nothing in the feed or the queue can keep a moderator out.
      await api.checkToken();
    } catch (error) {
      const failure = toWidgetError(error);
      // A refused token is forgotten; a network failure keeps it for the next try.
      if (failure.code === 'forbidden') tokenStore.write(null);
      return this.#showLogin(
        failure.code === 'forbidden' ? 'That token was refused.' : `Could not sign in: ${failure.message}`,
      );
    }
    tokenStore.write(token);
    this.#api = api;
    this.#login.hidden = true;
    this.#app.hidden = false;
    this.#tokenInput.value = '';
    this.#connect(token);
    void this.#reload();
    this.#importPanel.resume();
    // Keyboard users land at the top of what they came for.
    if (typed) this.#queueTitle.focus();
  }

  #showLogin(message: string): void {
    this.#app.hidden = true;
    this.#login.hidden = false;
    this.#loginError.textContent = message;
    this.#tokenInput.focus();
  }

  #signOut(message: string): void {
    tokenStore.write(null);
    this.#socket?.disconnect();
    this.#socket = null;
    this.#api = null;
    this.#feed.clear();
    this.#held.clear();
    this.#reports.clear();
    this.#articles.clear();
    this.#bans = [];
    this.#importPanel.reset();
    this.#notifications.reset();
    this.#render();
    this.#showLogin(message);
  }

  #connect(token: string): void {
    const socket: AdminSocket = io(this.#base.origin, {
      path: `${this.#base.pathname}socket.io/`,
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
    });
    this.#socket = socket;
    this.#status.textContent = 'Connecting…';
    socket.on('connect', async () => {
      let answer: unknown;
      try {
        answer = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('admin:subscribe', { token });
      } catch {
        return socket.disconnect().connect();
      }
      const ack = AdminAckSchema.safeParse(answer);
      if (!ack.success || !ack.data.ok) {
        const error = ack.success && !ack.data.ok ? ack.data.error : null;
        if (error?.code === 'forbidden') return this.#signOut('The token is no longer accepted. Sign in again.');
        this.#status.textContent = `Live feed unavailable: ${error?.message ?? 'the server sent an answer this page does not understand'}`;
        return;
      }
      this.#status.textContent = 'Live';
      this.#status.dataset['live'] = 'true';
      // Whatever happened while not subscribed is read again.
      void this.#reload();
    });
    socket.on('disconnect', () => {
      this.#status.textContent = 'Reconnecting…';
      delete this.#status.dataset['live'];
    });
    socket.on('admin:comment', (payload: unknown) => {
      const parsed = ModeratedCommentSchema.safeParse(payload);
      if (parsed.success) this.#upsert([parsed.data]);
    });
    socket.on('admin:held', (payload: unknown) => {
      const parsed = ModeratedHeldSchema.safeParse(payload);
      if (!parsed.success) return;
      this.#held.set(parsed.data.id, parsed.data);
      this.#announce(`A comment by ${parsed.data.author.name} is waiting for review.`);
      this.#render();
    });
    socket.on('admin:report', (payload: unknown) => {
      const parsed = ReportedCommentSchema.safeParse(payload);
      if (parsed.success) this.#reports.apply(parsed.data);
    });
    socket.on('admin:resolved', (payload: unknown) => {
      const parsed = HeldResolvedSchema.safeParse(payload);
      if (parsed.success && this.#held.delete(parsed.data.id)) this.#render();
    });
  }

  /** Reads the feed, the held queue and the bans again (after sign-in and every reconnect). */
  async #reload(): Promise<void> {
    const api = this.#api;
    if (!api) return;
    try {
      const [feed, held, reported, bans, settings] = await Promise.all([
        api.feed(),
        api.held(),
        api.reported(),
        api.bans(),
        api.moderationSettings(),
      ]);
      if (api !== this.#api) return;
      this.#settings.show(settings);
      this.#notifications.load();
      this.#upsert(feed);
      this.#replaceHeld(held);
      this.#reports.replace(reported);
      this.#bans = bans;
      this.#render();
    } catch (error) {
      this.#fail(error);
    }
  }

  // ---- state --------------------------------------------------------------------------------

  /** Keeps the newest version (by seq) of each comment, and the newest ADMIN_PAGE_SIZE comments. */
  #upsert(comments: readonly ModeratedComment[]): void {
    for (const comment of comments) {
      const known = this.#feed.get(comment.id);
      if (!known || known.seq < comment.seq) this.#feed.set(comment.id, comment);
    }
    if (this.#feed.size > ADMIN_PAGE_SIZE) {
      const newest = [...this.#feed.values()].sort(byNewest).slice(0, ADMIN_PAGE_SIZE);
      this.#feed.clear();
      for (const comment of newest) this.#feed.set(comment.id, comment);
    }
    this.#render();
  }

  #replaceHeld(held: readonly ModeratedHeld[]): void {
    this.#held.clear();
    for (const item of held) this.#held.set(item.id, item);
    this.#render();
  }

  /** Runs a moderator action; its failure is shown, never thrown. */
  async #act<T>(run: (api: AdminApi) => Promise<T>, done: (result: T) => void): Promise<void> {
    const api = this.#api;
    if (!api) return;
    this.#alert.textContent = '';
    try {
      done(await run(api));
    } catch (error) {
      this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    const failure = toWidgetError(error);
    if (!this.#tokenRefused(failure)) this.#alert.textContent = failure.message;
  }

  /** A refused token (changed on the server) signs the moderator out; true when it did. */
  #tokenRefused(failure: WidgetError): boolean {
    if (failure.code !== 'forbidden' || !/moderator token/i.test(failure.message)) return false;
    this.#signOut('The token is no longer accepted. Sign in again.');
    return true;
  }

  #announce(text: string): void {
    this.#announcer.replaceChildren(document.createTextNode(text));
  }

  // ---- actions ------------------------------------------------------------------------------

  #openBan(commentId: string): void {
    this.#banFor = commentId;
    this.#banMinutes.value = '1440';
    this.#banReason.value = '';
    this.#render();
    this.#banMinutes.focus();
  }

  #closeBan(): void {
    const id = this.#banFor;
    this.#banFor = null;
    this.#render();
    if (id)
      (this.#feedList.row(id) ?? this.#heldList.row(id) ?? this.#reports.row(id))
        ?.querySelector<HTMLElement>('[data-action="ban"]')
        ?.focus();
  }

  async #ban(): Promise<void> {
    const commentId = this.#banFor;
    if (!commentId) return;
    const minutes = this.#banMinutes.value;
    const reason = this.#banReason.value.trim();
    await this.#act(
      (api) =>
        api.ban({
          commentId,
          ...(minutes ? { expiresInMinutes: Number(minutes) } : {}),
          ...(reason ? { reason } : {}),
        }),
      (ban) => {
        this.#bans = [ban, ...this.#bans.filter((known) => known.authorKey !== ban.authorKey)];
        this.#announce(`${ban.authorName} is banned${ban.expiresAt ? ` until ${formatAbsolute(ban.expiresAt)}` : ''}.`);
        this.#closeBan();
      },
    );
  }

  #pinArticle(): void {
    const parsed = ArticleIdSchema.safeParse(this.#articleInput.value.trim());
    if (!parsed.success) {
      this.#articleError.textContent = parsed.error.issues[0]?.message ?? 'Not an article id';
      return;
    }
    this.#articleError.textContent = '';
    this.#articleInput.value = '';
    if (!this.#pinned.includes(parsed.data)) this.#pinned.unshift(parsed.data);
    this.#articles.delete(parsed.data);
    this.#render();
    this.#articleList.row(parsed.data)?.querySelector<HTMLElement>('button')?.focus();
  }

  #setArticle(articleId: string, patch: { locked?: boolean; premoderated?: boolean }, said: string): void {
    void this.#act(
      (api) => api.setArticleState(articleId, patch),
      (state) => {
        this.#articles.set(articleId, state);
        this.#announce(`${articleId}: ${said}.`);
        this.#render();
      },
    );
  }

  // ---- rendering ----------------------------------------------------------------------------

  #render(): void {
    const held = [...this.#held.values()].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
    const feed = [...this.#feed.values()].sort(byNewest);
    const banFor = this.#banFor;
    if (banFor !== null && !this.#held.has(banFor) && !this.#feed.has(banFor) && !this.#reports.has(banFor))
      this.#banFor = null;
    this.#filters.offer([...held.map((item) => item.articleId), ...this.#reports.articles()]);
    const heldShown = held.filter((item) =>
      this.#filters.shows({ kind: 'held', articleId: item.articleId, byRules: Boolean(item.holdReason) }),
    );
    this.#heldTitle.textContent = held.length > 0 ? `Held for review (${held.length})` : 'Held for review';
    this.#heldEmpty.hidden = heldShown.length > 0;
    this.#heldEmpty.textContent =
      held.length > 0 && this.#filters.active
        ? 'No held comment matches these filters.'
        : 'Nothing is waiting for review.';
    this.#heldList.update(heldShown);
    this.#feedEmpty.hidden = feed.length > 0;
    this.#feedList.update(feed);
    this.#reports.render();
    this.#countInTitle();

    // Articles: the ones opened by id, then every article in the queue or the feed.
    const ids = [
      ...new Set([...this.#pinned, ...held.map((item) => item.articleId), ...feed.map((comment) => comment.articleId)]),
    ].slice(0, 100);
    for (const articleId of ids) if (!this.#articles.has(articleId)) this.#loadArticle(articleId);
    this.#articleList.update(ids.map((articleId) => ({ articleId, state: this.#articles.get(articleId) ?? null })));
    this.#banList.update(this.#bans);
    this.#bansEmpty.hidden = this.#bans.length > 0;
  }

  /** The page title counts what waits for review, so a moderator sees it from another tab. */
  #countInTitle(): void {
    const waiting = this.#held.size + this.#reports.size;
    document.title = waiting > 0 ? `(${waiting}) ${PAGE_TITLE}` : PAGE_TITLE;
    this.#queueTitle.textContent = waiting > 0 ? `Review queue (${waiting})` : 'Review queue';
  }

  /** The review queues' keyboard shortcuts (QUEUE_SHORTCUTS) on the focused item. */
  #shortcut(event: KeyboardEvent): void {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const target = event.target;
    if (!(target instanceof HTMLElement) || target.closest('input, select, textarea, form')) return;
    const item = target.closest<HTMLElement>('li.item');
    const list = item?.parentElement;
    if (!item || !list || !this.#queueTitle.parentElement?.contains(list)) return;
    const key = event.key.toLowerCase();
    if (key === 'j' || key === 'k') {
      const next = key === 'j' ? item.nextElementSibling : item.previousElementSibling;
      next?.querySelector<HTMLElement>('button')?.focus();
    } else {
      const action = QUEUE_SHORTCUTS[key];
      if (!action) return;
      item.querySelector<HTMLElement>(`[data-action="${action}"]`)?.click();
    }
    event.preventDefault();
  }

  #loadArticle(articleId: string): void {
    this.#articles.set(articleId, null);
    void this.#act(
      (api) => api.articleState(articleId),
      (state) => {
        this.#articles.set(articleId, state);
        this.#render();
      },
    );
  }

  #renderComment(comment: ModeratedComment): Array<Node | string> {
    const removed = comment.status === 'removed';
    const meta = h('p', { class: 'meta' }, [
      h('strong', { class: 'author', text: comment.author.name, attrs: { dir: 'auto' } }),
      ' on ',
      articleLink(comment.articleId),
      ' · ',
      time(comment.createdAt),
    ]);
    if (comment.parentId) meta.append(' · reply');
    if (comment.editedAt) meta.append(' · edited');
    if (comment.likes > 0) meta.append(` · ${plural(comment.likes, 'like', 'likes')}`);
    if (removed)
      meta.append(
        ' · ',
        h('span', { class: 'badge', text: comment.removedBy === 'author' ? 'deleted by its author' : 'removed' }),
      );
    const text = removed ? (comment.originalBody ?? '') : comment.body;
    const body = h('p', { class: removed ? 'body removed' : 'body', text, attrs: { dir: 'auto' } });
    const actions = h('div', { class: 'actions' });
    const who = comment.author.name;
    if (!removed)
      actions.append(
        button(
          'Remove',
          'remove',
          () =>
            void this.#act(
              (api) => api.remove(comment.id),
              (updated) => (this.#upsert([updated]), this.#announce(`Comment by ${who} removed.`)),
            ),
          { 'aria-label': `Remove comment by ${who}` },
        ),
      );
    else if (comment.removedBy === 'moderator')
      actions.append(
        button(
          'Restore',
          'restore',
          () =>
            void this.#act(
              (api) => api.restore(comment.id),
              (updated) => (this.#upsert([updated]), this.#announce(`Comment by ${who} restored.`)),
            ),
          { 'aria-label': `Restore comment by ${who}` },
        ),
      );
    if (comment.authorKey !== null)
      actions.append(
        button('Ban author…', 'ban', () => this.#openBan(comment.id), {
          'aria-label': `Ban ${who}`,
          'aria-expanded': String(this.#banFor === comment.id),
        }),
      );
    // A long body folds like the widget's, its "Show more" right after it.
    const shown = text
      ? [body, ...(isLong(text) ? [foldButton(body, comment.id, this.#unfolded, this.#strings)] : [])]
      : [];
    return [meta, ...shown, actions, ...(this.#banFor === comment.id ? [this.#banForm] : [])];
  }

  #renderHeld(held: ModeratedHeld): Array<Node | string> {
    const who = held.author.name;
    const meta = h('p', { class: 'meta' }, [
      h('strong', { class: 'author', text: who, attrs: { dir: 'auto' } }),
      ' on ',
      articleLink(held.articleId),
      ' · ',
      time(held.createdAt),
    ]);
    if (held.parentId) meta.append(' · reply');
    const resolve = (approve: boolean) =>
      void this.#act(
        (api) => (approve ? api.approve(held.id).then((comment) => this.#upsert([comment])) : api.reject(held.id)),
        () => {
          this.#held.delete(held.id);
          this.#announce(`Comment by ${who} ${approve ? 'approved' : 'rejected'}.`);
          this.#render();
        },
      );
    const actions = h('div', { class: 'actions' }, [
      button('Approve', 'approve', () => resolve(true), {
        class: 'primary',
        'aria-label': `Approve comment by ${who}`,
        'aria-keyshortcuts': 'A',
      }),
      button('Reject', 'reject', () => resolve(false), {
        'aria-label': `Reject comment by ${who}`,
        'aria-keyshortcuts': 'R',
      }),
    ]);
    if (held.authorKey !== null)
      actions.append(
        button('Ban author…', 'ban', () => this.#openBan(held.id), {
          'aria-label': `Ban ${who}`,
          'aria-expanded': String(this.#banFor === held.id),
        }),
      );
    return [
      meta,
      // Why the moderation pipeline held it (which phase, which word); none under plain pre-moderation.
      ...(held.holdReason ? [h('p', { class: 'hold-reason', text: `Held: ${held.holdReason}` })] : []),
      h('p', { class: 'body', text: held.body, attrs: { dir: 'auto' } }),
      actions,
      ...(this.#banFor === held.id ? [this.#banForm] : []),
    ];
  }

  #renderArticle(articleId: string, state: ArticleState | null): Array<Node | string> {
    const name = h('code', { text: articleId });
    if (!state) return [name, ' ', h('span', { class: 'muted', text: 'loading…' })];
    const labels = [state.locked ? 'closed' : 'open', state.premoderated ? 'pre-moderated' : '']
      .filter(Boolean)
      .join(', ');
    return [
      name,
      ' ',
      h('span', { class: state.locked ? 'badge' : 'muted', text: labels }),
      h('div', { class: 'actions' }, [
        button(
          state.locked ? 'Unlock' : 'Lock',
          'lock',
          () => this.#setArticle(articleId, { locked: !state.locked }, state.locked ? 'unlocked' : 'locked'),
          { 'aria-label': `${state.locked ? 'Unlock' : 'Lock'} ${articleId}` },
        ),
        button(
          state.premoderated ? 'Stop pre-moderating' : 'Pre-moderate',
          'premoderate',
          () =>
            this.#setArticle(
              articleId,
              { premoderated: !state.premoderated },
              state.premoderated ? 'pre-moderation off' : 'pre-moderated',
            ),
          {
            'aria-label': `${state.premoderated ? 'Stop pre-moderating' : 'Pre-moderate'} ${articleId}`,
          },
        ),
      ]),
    ];
  }

  #renderBan(ban: Ban): Array<Node | string> {
    return [
      h('strong', { class: 'author', text: ban.authorName, attrs: { dir: 'auto' } }),
      ` · ${ban.expiresAt ? `until ${formatAbsolute(ban.expiresAt)}` : 'until lifted'}`,
      ...(ban.reason ? [' · ', h('span', { text: ban.reason, attrs: { dir: 'auto' } })] : []),
      h('div', { class: 'actions' }, [
        button(
          'Lift ban',
          'unban',
          () =>
            void this.#act(
              (api) => api.unban(ban.authorKey),
              () => {
                this.#bans = this.#bans.filter((known) => known.authorKey !== ban.authorKey);
                this.#announce(`The ban on ${ban.authorName} is lifted.`);
                this.#render();
              },
            ),
          { 'aria-label': `Lift the ban on ${ban.authorName}` },
        ),
      ]),
    ];
  }
}

function byNewest(a: { createdAt: string; seq: number }, b: { createdAt: string; seq: number }): number {
  return Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.seq - a.seq;
}

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
import { h } from '../view/dom.ts';
import { foldButton, isLong } from '../view/thread-view.ts';
import { ADMIN_PAGE_SIZE, AdminApi } from './admin-api.ts';
import { ImportPanel } from './import-panel.ts';
import { KeyedList } from './keyed-list.ts';
import { articleLink, button, time } from './controls.ts';
import type { AdminStrings, AdminTextKey } from './admin-strings.ts';
import { ReportsPanel } from './reports-panel.ts';
import { QueueFilters } from './queue-filters.ts';
import { SettingsPanel } from './settings-panel.ts';
import { NotificationsPanel } from './notifications-panel.ts';
import { ReportedCommentSchema } from '../../shared/reports.ts';

const TOKEN_KEY = 'live-comments:admin-token';
/** How long the socket waits for the `admin:subscribe` ack. */
const ACK_TIMEOUT_MS = 10_000;
/** Ban lengths offered, in minutes, as a number of a unit (Intl names it in the page's language). */
const BAN_LENGTHS: ReadonlyArray<readonly [number, 'hour' | 'day' | 'week', number]> = [
  [1, 'hour', 60],
  [1, 'day', 1440],
  [1, 'week', 10_080],
  [30, 'day', 43_200],
];

type AdminSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

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
  readonly #strings: AdminStrings;
  #api: AdminApi | null = null;
  #socket: AdminSocket | null = null;

  readonly #feed = new Map<string, ModeratedComment>();
  readonly #held = new Map<string, ModeratedHeld>();
  /**
   * The queues' changes (pushed, or answered to an action) since the reload in flight asked for them:
   * its answer may be older, so they are applied again over it (`again` true). Null when none is in flight.
   */
  #sinceReload: Array<(again: boolean) => void> | null = null;
  readonly #articles = new Map<string, ArticleState | null>();
  /** Articles the moderator opened by id (listed even when nothing of theirs is in the feed). */
  readonly #pinned: string[] = [];
  #bans: Ban[] = [];
  /** The comment (stored or held) whose ban form is open. */
  #banFor: string | null = null;
  /** Replaced by a page in another language (`dispose`). */
  #disposed = false;

  readonly #status = h('p', { class: 'status', attrs: { role: 'status' } });
  readonly #alert = h('p', { class: 'error', attrs: { role: 'alert' } });
  readonly #announcer = h('div', { class: 'sr-only', attrs: { 'aria-live': 'polite' } });
  readonly #login: HTMLFormElement;
  readonly #tokenInput = h('input', {
    attrs: { id: 'admin-token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: '' },
  });
  readonly #loginError = h('p', { class: 'error', attrs: { role: 'alert' } });
  readonly #app: HTMLElement;
  readonly #queueTitle = h('h2', { attrs: { id: 'queue-title', tabindex: '-1' } });
  readonly #heldTitle = h('h3', { attrs: { id: 'held-title' } });
  readonly #heldEmpty = h('p', { class: 'empty' });
  readonly #feedEmpty = h('p', { class: 'empty' });
  readonly #bansEmpty = h('p', { class: 'empty' });
  readonly #heldList: KeyedList<ModeratedHeld>;
  readonly #feedList: KeyedList<ModeratedComment>;
  /** Long feed comments the moderator unfolded: a re-rendered item stays unfolded (as in the widget). */
  readonly #unfolded = new Set<string>();
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
  readonly #importPanel: ImportPanel;
  readonly #notifications: NotificationsPanel;
  readonly #settings: SettingsPanel;
  readonly #filters: QueueFilters;
  readonly #reports: ReportsPanel;

  /** `strings`: the page's words, in the moderator's language (admin-strings.ts). */
  constructor(root: HTMLElement, base: URL, strings: AdminStrings) {
    this.#root = root;
    this.#base = base;
    this.#strings = strings;
    const t = strings;
    this.#importPanel = new ImportPanel(
      {
        api: () => this.#api,
        announce: (text) => this.#announce(text),
        tokenRefused: (failure) => this.#tokenRefused(failure),
        imported: () => void this.#reload(),
      },
      t,
    );
    this.#notifications = new NotificationsPanel(
      { act: (run, done) => this.#act(run, done), announce: (text) => this.#announce(text) },
      t,
    );
    this.#settings = new SettingsPanel(
      { act: (run, done) => this.#act(run, done), announce: (text) => this.#announce(text) },
      t,
    );
    this.#filters = new QueueFilters(() => this.#render(), t);
    this.#reports = new ReportsPanel(
      {
        filters: this.#filters,
        act: (run, done) => this.#act(run, done),
        announce: (text) => this.#announce(text),
        changed: (comment) => this.#upsert([comment]),
        change: (apply) => this.#change(apply),
        openBan: (commentId) => this.#openBan(commentId),
        banForm: (commentId) => (this.#banFor === commentId ? this.#banForm : null),
        refresh: () => this.#render(),
      },
      t,
    );
    this.#queueTitle.textContent = t.text('admin.queue');
    this.#heldTitle.textContent = t.text('admin.held');
    this.#heldEmpty.textContent = t.text('admin.heldNone');
    this.#feedEmpty.textContent = t.text('admin.feedNone');
    this.#bansEmpty.textContent = t.text('admin.bansNone');

    this.#login = h('form', { class: 'login', attrs: { 'aria-labelledby': 'login-title', novalidate: '' } }, [
      h('h2', { text: t.text('admin.signIn'), attrs: { id: 'login-title' } }),
      h('p', { text: t.text('admin.signInHint') }),
      h('label', { text: t.text('admin.token'), attrs: { for: 'admin-token' } }),
      this.#tokenInput,
      this.#loginError,
      h('button', { class: 'primary', text: t.text('admin.signIn'), attrs: { type: 'submit' } }),
    ]);
    this.#login.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#signIn(this.#tokenInput.value.trim(), true);
    });

    for (const [n, unit, minutes] of BAN_LENGTHS)
      this.#banMinutes.append(h('option', { text: t.unit(n, unit), attrs: { value: String(minutes) } }));
    this.#banMinutes.append(h('option', { text: t.text('admin.untilLiftedOption'), attrs: { value: '' } }));
    this.#banForm = h('form', { class: 'ban-form', attrs: { 'aria-label': t.text('admin.banForm'), novalidate: '' } }, [
      h('label', { text: t.text('admin.banFor'), attrs: { for: 'ban-length' } }),
      this.#banMinutes,
      h('label', { text: t.text('admin.banReason'), attrs: { for: 'ban-reason' } }),
      this.#banReason,
      h('button', {
        class: 'danger',
        text: t.text('admin.ban'),
        attrs: { type: 'submit', 'data-action': 'ban-confirm' },
      }),
      button(t.text('cancel'), 'ban-cancel', () => this.#closeBan()),
    ]);
    this.#banForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#ban();
    });
    this.#banForm.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.#closeBan();
    });

    this.#heldList = new KeyedList({
      label: t.text('admin.heldList'),
      id: (held) => held.id,
      version: (held) => `${this.#banFor === held.id}`,
      render: (held) => this.#renderHeld(held),
    });
    this.#feedList = new KeyedList({
      label: t.text('admin.feedList'),
      id: (comment) => comment.id,
      version: (comment) => `${comment.seq}|${this.#banFor === comment.id}`,
      render: (comment) => this.#renderComment(comment),
    });
    this.#articleList = new KeyedList({
      label: t.text('admin.articles'),
      id: (row) => row.articleId,
      version: (row) => (row.state ? `${row.state.locked}|${row.state.premoderated}` : 'unknown'),
      render: (row) => this.#renderArticle(row.articleId, row.state),
    });
    this.#banList = new KeyedList({
      label: t.text('admin.banList'),
      id: (ban) => ban.authorKey,
      version: (ban) => `${ban.createdAt}|${ban.expiresAt ?? ''}`,
      render: (ban) => this.#renderBan(ban),
    });

    const articleForm = h(
      'form',
      { class: 'inline', attrs: { 'aria-label': t.text('admin.findArticle'), novalidate: '' } },
      [
        h('label', { text: t.text('admin.articleId'), attrs: { for: 'article-id' } }),
        this.#articleInput,
        h('button', { text: t.text('admin.show'), attrs: { type: 'submit' } }),
        this.#articleError,
      ],
    );
    articleForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#pinArticle();
    });

    const signOut = button(t.text('admin.signOut'), 'sign-out', () => this.#signOut(''));
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
        h('h2', { text: t.text('admin.feed'), attrs: { id: 'feed-title' } }),
        this.#feedEmpty,
        this.#feedList.element,
      ]),
      h('section', { attrs: { 'aria-labelledby': 'articles-title' } }, [
        h('h2', { text: t.text('admin.articles'), attrs: { id: 'articles-title' } }),
        h('p', { class: 'hint', text: t.text('admin.articlesHint') }),
        articleForm,
        this.#articleList.element,
      ]),
      h('section', { attrs: { 'aria-labelledby': 'bans-title' } }, [
        h('h2', { text: t.text('admin.bans'), attrs: { id: 'bans-title' } }),
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
    this.#countInTitle();
  }

  /**
   * The page is replaced (another language): it stops listening and polling, and keeps the token and
   * the import being followed for the page that comes next.
   */
  dispose(): void {
    this.#disposed = true;
    this.#api = null;
    this.#socket?.disconnect();
    this.#socket = null;
    this.#notifications.reset();
    this.#importPanel.stop();
  }

  // ---- signing in and out ------------------------------------------------------------------

  async #signIn(token: string, typed: boolean): Promise<void> {
    if (token === '') return this.#showLogin(this.#strings.text('admin.tokenEmpty'));
    const api = new AdminApi(this.#base, token);
    try {
      // Only the token is checked here: nothing in the feed or the queue can keep a moderator out.
      await api.checkToken();
    } catch (error) {
      const failure = toWidgetError(error);
      // A refused token is forgotten; a network failure keeps it for the next try.
      if (failure.code === 'forbidden') tokenStore.write(null);
      return this.#showLogin(
        failure.code === 'forbidden'
          ? this.#strings.text('admin.tokenRefused')
          : this.#strings.text('admin.signInFailed', { error: this.#strings.error(failure) }),
      );
    }
    // Replaced (another language) while the token was checked: the next page signs in.
    if (this.#disposed) return;
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
    this.#status.textContent = this.#strings.text('admin.connecting');
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
        if (error?.code === 'forbidden') return this.#signOut(this.#strings.text('admin.tokenExpired'));
        this.#status.textContent = this.#strings.text('admin.liveUnavailable', {
          error: this.#strings.error(
            error ?? { code: 'bad_response', message: 'The server sent an answer this page does not understand.' },
          ),
        });
        return;
      }
      this.#status.textContent = this.#strings.text('admin.live');
      this.#status.dataset['live'] = 'true';
      // Whatever happened while not subscribed is read again.
      void this.#reload();
    });
    socket.on('disconnect', () => {
      this.#status.textContent = this.#strings.text('admin.reconnecting');
      delete this.#status.dataset['live'];
    });
    socket.on('admin:comment', (payload: unknown) => {
      const parsed = ModeratedCommentSchema.safeParse(payload);
      if (parsed.success) this.#upsert([parsed.data]);
    });
    socket.on('admin:held', (payload: unknown) => {
      const parsed = ModeratedHeldSchema.safeParse(payload);
      if (!parsed.success) return;
      this.#change(() => this.#held.set(parsed.data.id, parsed.data));
      this.#announce(this.#strings.text('admin.heldAnnounce', { name: parsed.data.author.name }));
      this.#render();
    });
    socket.on('admin:report', (payload: unknown) => {
      const parsed = ReportedCommentSchema.safeParse(payload);
      if (parsed.success) this.#change((again) => this.#reports.apply(parsed.data, !again));
    });
    socket.on('admin:resolved', (payload: unknown) => {
      const parsed = HeldResolvedSchema.safeParse(payload);
      if (!parsed.success) return;
      this.#change(() => this.#held.delete(parsed.data.id));
      this.#render();
    });
  }

  /** Reads the feed, the held queue and the bans again (after sign-in and every reconnect). */
  async #reload(): Promise<void> {
    const api = this.#api;
    if (!api) return;
    const since: Array<(again: boolean) => void> = [];
    this.#sinceReload = since;
    try {
      const [feed, held, reported, bans, settings] = await Promise.all([
        api.feed(),
        api.held(),
        api.reported(),
        api.bans(),
        api.moderationSettings(),
      ]);
      // Signed out, or a later reload asked since: its answer is the one to show.
      if (api !== this.#api || since !== this.#sinceReload) return;
      this.#settings.show(settings);
      this.#notifications.load();
      this.#upsert(feed);
      this.#replaceHeld(held);
      this.#reports.replace(reported);
      for (const apply of since) apply(true);
      this.#bans = bans;
      this.#render();
    } catch (error) {
      this.#fail(error);
    } finally {
      if (this.#sinceReload === since) this.#sinceReload = null;
    }
  }

  /** A change to the held or reported queue: made now, and again over the answer of a reload in flight. */
  #change(apply: (again: boolean) => void): void {
    apply(false);
    this.#sinceReload?.push(apply);
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
    if (!this.#tokenRefused(failure)) this.#alert.textContent = this.#strings.error(failure);
  }

  /** A refused token (changed on the server) signs the moderator out; true when it did. */
  #tokenRefused(failure: WidgetError): boolean {
    if (failure.code !== 'forbidden' || !/moderator token/i.test(failure.message)) return false;
    this.#signOut(this.#strings.text('admin.tokenExpired'));
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
        this.#announce(
          ban.expiresAt
            ? this.#strings.text('admin.bannedUntil', { name: ban.authorName, time: this.#strings.date(ban.expiresAt) })
            : this.#strings.text('admin.banned', { name: ban.authorName }),
        );
        this.#closeBan();
      },
    );
  }

  #pinArticle(): void {
    const parsed = ArticleIdSchema.safeParse(this.#articleInput.value.trim());
    if (!parsed.success) {
      this.#articleError.textContent = this.#strings.text('admin.notArticleId');
      return;
    }
    this.#articleError.textContent = '';
    this.#articleInput.value = '';
    if (!this.#pinned.includes(parsed.data)) this.#pinned.unshift(parsed.data);
    this.#articles.delete(parsed.data);
    this.#render();
    this.#articleList.row(parsed.data)?.querySelector<HTMLElement>('button')?.focus();
  }

  #setArticle(articleId: string, patch: { locked?: boolean; premoderated?: boolean }, said: AdminTextKey): void {
    void this.#act(
      (api) => api.setArticleState(articleId, patch),
      (state) => {
        this.#articles.set(articleId, state);
        this.#announce(this.#strings.text(said, { article: articleId }));
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
    const t = this.#strings;
    this.#heldTitle.textContent =
      held.length > 0 ? t.text('admin.heldCount', { count: held.length }) : t.text('admin.held');
    this.#heldEmpty.hidden = heldShown.length > 0;
    this.#heldEmpty.textContent =
      held.length > 0 && this.#filters.active ? t.text('admin.heldNoMatch') : t.text('admin.heldNone');
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
    const t = this.#strings;
    const title = t.text('admin.title');
    document.title = waiting > 0 ? `(${t.number(waiting)}) ${title}` : title;
    this.#queueTitle.textContent = waiting > 0 ? t.text('admin.queueCount', { count: waiting }) : t.text('admin.queue');
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

  /** Who wrote it, on which article, when: the start of every queue and feed item. */
  #meta(name: string, articleId: string, createdAt: string): HTMLParagraphElement {
    const t = this.#strings;
    return h('p', { class: 'meta' }, [
      ...t.nodes('admin.byOn', {
        name: h('strong', { class: 'author', text: name, attrs: { dir: 'auto' } }),
        article: articleLink(articleId),
      }),
      ' · ',
      time(createdAt, t),
    ]);
  }

  #renderComment(comment: ModeratedComment): Array<Node | string> {
    const t = this.#strings;
    const removed = comment.status === 'removed';
    const meta = this.#meta(comment.author.name, comment.articleId, comment.createdAt);
    if (comment.parentId) meta.append(` · ${t.text('admin.reply')}`);
    if (comment.editedAt) meta.append(` · ${t.text('edited')}`);
    if (comment.likes > 0) meta.append(` · ${t.count('admin.likes', comment.likes)}`);
    if (removed)
      meta.append(
        ' · ',
        h('span', {
          class: 'badge',
          text: t.text(comment.removedBy === 'author' ? 'admin.deletedByAuthor' : 'admin.removedBadge'),
        }),
      );
    const text = removed ? (comment.originalBody ?? '') : comment.body;
    const body = h('p', { class: removed ? 'body removed' : 'body', text, attrs: { dir: 'auto' } });
    const actions = h('div', { class: 'actions' });
    const name = comment.author.name;
    if (!removed)
      actions.append(
        button(
          t.text('admin.remove'),
          'remove',
          () =>
            void this.#act(
              (api) => api.remove(comment.id),
              (updated) => (this.#upsert([updated]), this.#announce(t.text('admin.removed', { name }))),
            ),
          { 'aria-label': t.text('admin.removeBy', { name }) },
        ),
      );
    else if (comment.removedBy === 'moderator')
      actions.append(
        button(
          t.text('admin.restore'),
          'restore',
          () =>
            void this.#act(
              (api) => api.restore(comment.id),
              (updated) => (this.#upsert([updated]), this.#announce(t.text('admin.restored', { name }))),
            ),
          { 'aria-label': t.text('admin.restoreBy', { name }) },
        ),
      );
    if (comment.authorKey !== null)
      actions.append(
        button(t.text('admin.banAuthor'), 'ban', () => this.#openBan(comment.id), {
          'aria-label': t.text('admin.banName', { name }),
          'aria-expanded': String(this.#banFor === comment.id),
        }),
      );
    // A long body folds like the widget's, its "Show more" right after it.
    const shown = text ? [body, ...(isLong(text) ? [foldButton(body, comment.id, this.#unfolded, t)] : [])] : [];
    return [meta, ...shown, actions, ...(this.#banFor === comment.id ? [this.#banForm] : [])];
  }

  #renderHeld(held: ModeratedHeld): Array<Node | string> {
    const t = this.#strings;
    const name = held.author.name;
    const meta = this.#meta(name, held.articleId, held.createdAt);
    if (held.parentId) meta.append(` · ${t.text('admin.reply')}`);
    const resolve = (approve: boolean) =>
      void this.#act(
        (api) => (approve ? api.approve(held.id).then((comment) => this.#upsert([comment])) : api.reject(held.id)),
        () => {
          this.#change(() => this.#held.delete(held.id));
          this.#announce(t.text(approve ? 'admin.approved' : 'admin.rejected', { name }));
          this.#render();
        },
      );
    const actions = h('div', { class: 'actions' }, [
      button(t.text('admin.approve'), 'approve', () => resolve(true), {
        class: 'primary',
        'aria-label': t.text('admin.approveBy', { name }),
        'aria-keyshortcuts': 'A',
      }),
      button(t.text('admin.reject'), 'reject', () => resolve(false), {
        'aria-label': t.text('admin.rejectBy', { name }),
        'aria-keyshortcuts': 'R',
      }),
    ]);
    if (held.authorKey !== null)
      actions.append(
        button(t.text('admin.banAuthor'), 'ban', () => this.#openBan(held.id), {
          'aria-label': t.text('admin.banName', { name }),
          'aria-expanded': String(this.#banFor === held.id),
        }),
      );
    return [
      meta,
      // Why the moderation pipeline held it (which phase, which word; the server's words); none under plain pre-moderation.
      ...(held.holdReason
        ? [h('p', { class: 'hold-reason', text: t.text('admin.heldWhy', { reason: held.holdReason }) })]
        : []),
      h('p', { class: 'body', text: held.body, attrs: { dir: 'auto' } }),
      actions,
      ...(this.#banFor === held.id ? [this.#banForm] : []),
    ];
  }

  #renderArticle(articleId: string, state: ArticleState | null): Array<Node | string> {
    const t = this.#strings;
    const name = h('code', { text: articleId });
    if (!state) return [name, ' ', h('span', { class: 'muted', text: t.text('loadingMore') })];
    const labels = [
      t.text(state.locked ? 'admin.closed' : 'admin.open'),
      ...(state.premoderated ? [t.text('admin.premoderated')] : []),
    ];
    const article = { article: articleId };
    return [
      name,
      ' ',
      h('span', { class: state.locked ? 'badge' : 'muted', text: t.list(labels) }),
      h('div', { class: 'actions' }, [
        button(
          t.text(state.locked ? 'admin.unlock' : 'admin.lock'),
          'lock',
          () =>
            this.#setArticle(articleId, { locked: !state.locked }, state.locked ? 'admin.unlocked' : 'admin.locked'),
          { 'aria-label': t.text(state.locked ? 'admin.unlockArticle' : 'admin.lockArticle', article) },
        ),
        button(
          t.text(state.premoderated ? 'admin.stopPremoderating' : 'admin.premoderate'),
          'premoderate',
          () =>
            this.#setArticle(
              articleId,
              { premoderated: !state.premoderated },
              state.premoderated ? 'admin.premoderationOff' : 'admin.premoderatedNow',
            ),
          {
            'aria-label': t.text(
              state.premoderated ? 'admin.stopPremoderatingArticle' : 'admin.premoderateArticle',
              article,
            ),
          },
        ),
      ]),
    ];
  }

  #renderBan(ban: Ban): Array<Node | string> {
    const t = this.#strings;
    const name = ban.authorName;
    return [
      h('strong', { class: 'author', text: name, attrs: { dir: 'auto' } }),
      ` · ${ban.expiresAt ? t.text('admin.until', { time: t.date(ban.expiresAt) }) : t.text('admin.untilLifted')}`,
      ...(ban.reason ? [' · ', h('span', { text: ban.reason, attrs: { dir: 'auto' } })] : []),
      h('div', { class: 'actions' }, [
        button(
          t.text('admin.liftBan'),
          'unban',
          () =>
            void this.#act(
              (api) => api.unban(ban.authorKey),
              () => {
                this.#bans = this.#bans.filter((known) => known.authorKey !== ban.authorKey);
                this.#announce(t.text('admin.banLifted', { name }));
                this.#render();
              },
            ),
          { 'aria-label': t.text('admin.liftBanOn', { name }) },
        ),
      ]),
    ];
  }
}

function byNewest(a: { createdAt: string; seq: number }, b: { createdAt: string; seq: number }): number {
  return Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.seq - a.seq;
}

import type { CommentEvent } from '../shared/events.ts';
import type {
  ArticleId,
  Comment,
  CommentChange,
  CommentPage,
  MoreReplies,
  SortOrder,
  SsoInfo,
} from '../shared/schemas.ts';
import { toWidgetError, WidgetError } from './protocol.ts';
import { SeqTracker } from './seq-tracker.ts';
import { compareCreated, countVisible, upsertComment } from './thread-model.ts';

/** What a feed needs from the network; both calls reject with a WidgetError (or an abort). */
export interface FeedTransport {
  page(order: SortOrder, before: string | null, signal: AbortSignal): Promise<CommentPage>;
  /** Visible comments of the article, for the count. */
  count(signal: AbortSignal): Promise<number>;
  /** The next replies of a thread (`after`: the cursor of its `moreReplies`). */
  replies(
    topId: string,
    after: string,
    signal: AbortSignal,
  ): Promise<{ lastSeq: number; comments: Comment[]; more: MoreReplies | null }>;
  /** `article:subscribe` with `since`: joins the article's room and returns every change after `since`. */
  subscribe(since: number): Promise<{ lastSeq: number; comments: Comment[]; reset?: boolean }>;
}

/** `connecting`: not live yet; `live`: subscribed and caught up; `paused`: the connection is down. */
export type LiveState = 'connecting' | 'live' | 'paused';

export interface FeedCallbacks {
  /** The comments, the paging state or the count changed. `fresh`: comments new to this reader, in seq order. */
  changed(fresh: Comment[]): void;
  liveState(state: LiveState): void;
  /** `load`: the first page failed; `more`: a further page failed; `live`: subscribing failed (retried). */
  failed(error: WidgetError, during: 'load' | 'more' | 'live'): void;
}

/** A thread whose replies are not all loaded: how many more, and whether they are on their way or failed. */
export interface MoreRepliesState {
  count: number;
  loading: boolean;
  error: WidgetError | null;
}

export interface FeedOptions {
  /** First delay before retrying a refused or failed subscription; doubles up to 60 s. */
  retryDelayMs?: number;
}

const MAX_RETRY_DELAY_MS = 60_000;
/** Refusals a retry of the first page cannot change (a page origin not allowed, a bad article id). */
const FINAL = new Set(['forbidden', 'invalid_input', 'not_found']);

/**
 * Keeps one article's comments exact for one widget: pages over REST, live changes over the socket.
 *
 * Invariants: a comment is stored only when its `seq` is newer than the version held (so repeats and
 * reorderings never show twice or go back in time); the tracker's `lastSeq` only advances past changes
 * that were applied or covered by a catch-up; whenever a gap, a reconnect or a newer `article:head`
 * shows something may be missing, the feed subscribes again with `since: lastSeq`, which the server
 * answers with every change after it. Nothing is subscribed before the first page: the subscription
 * then starts from that page's `lastSeq`, so no change between the two is lost.
 */
export class ArticleFeed {
  readonly articleId: ArticleId;
  /** Every comment this feed knows, latest version of each; the view decides which are in range. */
  readonly comments = new Map<string, Comment>();
  #order: SortOrder;
  #next: string | null = null;
  #boundary: Comment | null = null;
  #loaded = false;
  #started = false;
  #loading: 'first' | 'more' | null = null;
  #state: LiveState = 'connecting';
  #locked = false;
  #premoderated = false;

  readonly #transport: FeedTransport;
  readonly #callbacks: FeedCallbacks;
  readonly #tracker = new SeqTracker();
  readonly #retryBaseMs: number;
  #retryMs: number;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #connected = false;
  /** Bumped on every (re)connect, so a subscription that failed with the old connection is retried at once. */
  #epoch = 0;
  #syncing = false;
  #syncAgain = false;
  /** Bumped when the thread is reloaded from its first page; answers for an older generation are dropped. */
  #generation = 0;
  #abort = new AbortController();
  #disposed = false;
  /** The newest comment (by creation) seen so far. */
  #newestCreated: Comment | null = null;
  /**
   * The newest comment when the first page arrived: a comment unknown until a catch-up and created
   * after it is new to the reader; one created before it is an old comment that changed off-page.
   */
  #loadMark: Comment | null = null;
  #baseCount: number | null = null;
  #countDelta = 0;
  /** Threads whose replies are not all loaded (from the pages, then from each thread's replies route). */
  readonly #moreReplies = new Map<string, MoreReplies>();
  readonly #repliesLoading = new Set<string>();
  readonly #repliesFailed = new Map<string, WidgetError>();

  constructor(
    articleId: ArticleId,
    order: SortOrder,
    transport: FeedTransport,
    callbacks: FeedCallbacks,
    options: FeedOptions = {},
  ) {
    this.articleId = articleId;
    this.#order = order;
    this.#transport = transport;
    this.#callbacks = callbacks;
    this.#retryBaseMs = options.retryDelayMs ?? 2000;
    this.#retryMs = this.#retryBaseMs;
  }

  get order(): SortOrder {
    return this.#order;
  }
  /** The last top-level comment of the loaded pages; null once every page is loaded. */
  get boundary(): Comment | null {
    return this.#boundary;
  }
  get hasMore(): boolean {
    return this.#next !== null;
  }
  get loaded(): boolean {
    return this.#loaded;
  }
  get loading(): 'first' | 'more' | null {
    return this.#loading;
  }
  get state(): LiveState {
    return this.#state;
  }
  get lastSeq(): number {
    return this.#tracker.lastSeq;
  }
  /** The discussion is closed (from the latest page, or a later `article:updated`). */
  /** How the server signs readers in (absent: it does not), as the last page said. */
  sso: SsoInfo | undefined;
  /** The server sends reply e-mails (a post may ask for them), as the last page said. */
  replyEmails: boolean | undefined;

  get locked(): boolean {
    return this.#locked;
  }
  /** New comments wait for a moderator (likewise). */
  get premoderated(): boolean {
    return this.#premoderated;
  }

  /** `article:updated`: a moderator (un)locked the article or changed its pre-moderation. */
  setState(state: { locked: boolean; premoderated: boolean }): void {
    this.#locked = state.locked;
    this.#premoderated = state.premoderated;
    this.#callbacks.changed([]);
  }

  /**
   * Visible comments of the article. Exact once every page is loaded (it is then counted here);
   * before that it is the server's count at load time plus the creations and removals seen live.
   */
  get count(): number | null {
    if (this.#loaded && this.#next === null && this.#moreReplies.size === 0)
      return countVisible(this.comments.values());
    return this.#baseCount === null ? null : Math.max(0, this.#baseCount + this.#countDelta);
  }

  /** Loads the first page; live updates follow once it is in. */
  start(): void {
    this.#started = true;
    void this.#loadFirstPage(true);
  }

  /** Shows the thread in another order, from its first page. */
  setOrder(order: SortOrder): void {
    if (order === this.#order) return;
    this.#order = order;
    void this.#loadFirstPage(false);
  }

  /** Tries the first page again after it failed. */
  retry(): void {
    if (!this.#loaded && this.#loading === null) void this.#loadFirstPage(true);
  }

  /** The replies of a thread not loaded yet; null when all are. */
  moreReplies(topId: string): MoreRepliesState | null {
    const more = this.#moreReplies.get(topId);
    return more
      ? { count: more.count, loading: this.#repliesLoading.has(topId), error: this.#repliesFailed.get(topId) ?? null }
      : null;
  }

  /** Loads the next replies of a thread ("Show N more replies"). */
  async loadReplies(topId: string): Promise<void> {
    const more = this.#moreReplies.get(topId);
    if (!more || this.#repliesLoading.has(topId)) return;
    const generation = this.#generation;
    this.#repliesLoading.add(topId);
    this.#repliesFailed.delete(topId);
    this.#callbacks.changed([]);
    try {
      const answer = await this.#transport.replies(topId, more.next, this.#abort.signal);
      if (generation !== this.#generation || this.#disposed) return;
      for (const comment of answer.comments) {
        upsertComment(this.comments, comment);
        this.#noteCreated(comment);
      }
      if (answer.more) this.#moreReplies.set(topId, answer.more);
      else this.#moreReplies.delete(topId);
      if (this.#tracker.isBehind(answer.lastSeq)) void this.#sync();
    } catch (error) {
      if (generation === this.#generation && !this.#disposed) this.#repliesFailed.set(topId, toWidgetError(error));
    } finally {
      if (generation === this.#generation) {
        this.#repliesLoading.delete(topId);
        if (!this.#disposed) this.#callbacks.changed([]);
      }
    }
  }

  async loadMore(): Promise<void> {
    if (!this.#loaded || this.#next === null || this.#loading !== null) return;
    const generation = this.#generation;
    this.#loading = 'more';
    this.#callbacks.changed([]);
    try {
      const page = await this.#transport.page(this.#order, this.#next, this.#abort.signal);
      if (generation !== this.#generation || this.#disposed) return;
      this.#applyPage(page);
      // The page may carry changes the socket has not delivered yet; fetch the ones in between too.
      if (this.#tracker.isBehind(page.lastSeq)) void this.#sync();
    } catch (error) {
      if (generation === this.#generation && !this.#disposed) this.#callbacks.failed(toWidgetError(error), 'more');
    } finally {
      if (generation === this.#generation) {
        this.#loading = null;
        if (!this.#disposed) this.#callbacks.changed([]);
      }
    }
  }

  /** A pushed change. Ignored until the first page is in (the subscription then catches up from it). */
  receive(event: CommentEvent, comment: Comment): void {
    this.receiveBatch([{ event, comment }]);
  }

  /**
   * Pushed changes in seq order (a `comment:batch`, or one event). `superseded`: seqs of versions the
   * batch left out because a newer version of the same comment is in it; they count as applied.
   */
  receiveBatch(changes: readonly CommentChange[], superseded: readonly number[] = []): void {
    if (!this.#loaded) return;
    for (const seq of superseded) this.#tracker.observe(seq);
    const fresh: Comment[] = [];
    for (const { event, comment } of changes) {
      if (comment.articleId !== this.articleId) continue;
      this.#tracker.observe(comment.seq);
      fresh.push(...this.#apply([comment], event));
    }
    this.#callbacks.changed(fresh);
    if (this.#tracker.hasGap) void this.#sync();
  }

  /** `article:head`: the server's latest seq; catch up when behind it. */
  head(lastSeq: number): void {
    if (this.#loaded && this.#tracker.isBehind(lastSeq)) void this.#sync();
  }

  /** The reader's own post, confirmed by its ack; its push (or a catch-up) moves `lastSeq`. */
  adopt(comment: Comment): void {
    if (comment.articleId !== this.articleId) return;
    const known = this.comments.get(comment.id);
    if (upsertComment(this.comments, comment) === 'new') {
      if (comment.status === 'visible') this.#countDelta++;
      this.#noteCreated(comment);
    } else if (known) this.#countChange(known, comment);
    this.#callbacks.changed([]);
  }

  /**
   * The connection is up: subscribe (again) and catch up; before the first page ever arrived (the
   * server was down when the page opened), load it now: the subscription follows it.
   */
  connected(): void {
    this.#connected = true;
    this.#epoch++;
    this.#retryMs = this.#retryBaseMs;
    if (this.#loaded) void this.#sync();
    else if (this.#started) this.retry();
  }

  disconnected(): void {
    this.#connected = false;
    clearTimeout(this.#retryTimer);
    this.#setState('paused');
  }

  dispose(): void {
    this.#disposed = true;
    this.#abort.abort();
    clearTimeout(this.#retryTimer);
  }

  /** Loads the first page of the current order; true when it arrived and was applied. */
  async #loadFirstPage(initial: boolean): Promise<boolean> {
    const generation = ++this.#generation;
    this.#abort.abort();
    this.#abort = new AbortController();
    const signal = this.#abort.signal;
    this.#loading = 'first';
    this.#callbacks.changed([]);
    const counting = initial && this.#baseCount === null ? this.#refreshCount(signal) : Promise.resolve();
    try {
      const page = await this.#transport.page(this.#order, null, signal);
      if (generation !== this.#generation || this.#disposed) return false;
      this.#next = null;
      this.#boundary = null;
      this.#moreReplies.clear();
      this.#repliesFailed.clear();
      this.#applyPage(page);
      // A first page holds every comment of the range it opens, as of page.lastSeq.
      this.#tracker.settle(page.lastSeq);
      this.#loadMark = this.#newestCreated;
      this.#loaded = true;
      await counting;
    } catch (error) {
      if (generation !== this.#generation || this.#disposed) return false;
      const failure = toWidgetError(error);
      this.#callbacks.failed(failure, 'load');
      // Try the first page again by itself (and at once when the connection comes up), unless the
      // server refused it for a reason a retry cannot change.
      if (!this.#loaded && !FINAL.has(failure.code)) this.#scheduleRetry(() => this.retry());
      return false;
    } finally {
      if (generation === this.#generation) {
        this.#loading = null;
        if (!this.#disposed) this.#callbacks.changed([]);
      }
    }
    void this.#sync();
    return true;
  }

  #applyPage(page: CommentPage): void {
    this.sso = page.sso;
    this.replyEmails = page.replyEmails;
    this.#locked = page.locked;
    this.#premoderated = page.premoderated;
    for (const comment of page.comments) {
      upsertComment(this.comments, comment);
      this.#noteCreated(comment);
    }
    const tops = page.comments.filter((comment) => comment.parentId === null);
    for (const top of tops) {
      const more = page.moreReplies?.[top.id];
      if (more) this.#moreReplies.set(top.id, more);
      else this.#moreReplies.delete(top.id);
    }
    this.#next = page.next;
    this.#boundary = page.next === null ? null : (tops.at(-1) ?? null);
  }

  /**
   * Stores changes (ascending seq) and returns the ones the reader has not seen before: created
   * live, or created after everything known when they arrive in a catch-up.
   */
  #apply(comments: readonly Comment[], event: CommentEvent | 'catch-up'): Comment[] {
    const fresh: Comment[] = [];
    const mark = this.#loadMark;
    for (const comment of comments) {
      const known = this.comments.get(comment.id);
      const outcome = upsertComment(this.comments, comment);
      if (outcome === 'stale') continue;
      if (outcome === 'changed' && known) {
        this.#countChange(known, comment);
      } else if (outcome === 'new') {
        const created =
          event === 'comment:created' || (event === 'catch-up' && (mark === null || compareCreated(comment, mark) > 0));
        if (created) {
          fresh.push(comment);
          if (comment.status === 'visible') this.#countDelta++;
        } else if (event === 'comment:removed') {
          this.#countDelta--;
        }
      }
      this.#noteCreated(comment);
    }
    return fresh;
  }

  #countChange(before: Comment, after: Comment): void {
    if (before.status === 'visible' && after.status === 'removed') this.#countDelta--;
    if (before.status === 'removed' && after.status === 'visible') this.#countDelta++;
  }

  #noteCreated(comment: Comment): void {
    if (this.#newestCreated === null || compareCreated(comment, this.#newestCreated) > 0) this.#newestCreated = comment;
  }

  async #refreshCount(signal: AbortSignal): Promise<void> {
    try {
      const count = await this.#transport.count(signal);
      if (signal.aborted) return;
      this.#baseCount = count;
      this.#countDelta = 0;
    } catch {
      // The count is a convenience; the thread works without it (it is exact once every page is loaded).
    }
  }

  /** Subscribes (again) with `since: lastSeq` until nothing is missing; one run at a time. */
  async #sync(): Promise<void> {
    if (!this.#loaded || !this.#connected || this.#disposed) return;
    if (this.#syncing) {
      this.#syncAgain = true;
      return;
    }
    this.#syncing = true;
    clearTimeout(this.#retryTimer);
    try {
      for (;;) {
        this.#syncAgain = false;
        const epoch = this.#epoch;
        let failure: WidgetError | null = null;
        try {
          const ack = await this.#transport.subscribe(this.#tracker.lastSeq);
          if (this.#disposed) return;
          if (ack.reset) {
            // Too much changed while away: the first page is the cheaper way back. The server keeps
            // this socket in the room, so the next round only fetches what changed after that page.
            if (!(await this.#loadFirstPage(false)))
              failure = new WidgetError('unavailable', 'Could not reload the comments.');
            else this.#syncAgain = true;
          } else {
            const fresh = this.#apply(ack.comments, 'catch-up');
            this.#tracker.settle(ack.lastSeq);
            if (ack.comments.length > 0 && this.#next !== null) await this.#refreshCount(this.#abort.signal);
            if (epoch === this.#epoch && this.#connected) this.#setState('live');
            this.#callbacks.changed(fresh);
          }
        } catch (error) {
          failure = toWidgetError(error);
        }
        if (this.#disposed || !this.#connected) return;
        if (failure !== null) {
          // A failure on a connection that has since been replaced says nothing: subscribe on the new one now.
          if (epoch !== this.#epoch) continue;
          this.#callbacks.failed(failure, 'live');
          this.#scheduleRetry();
          return;
        }
        if (!this.#syncAgain && !this.#tracker.hasGap && epoch === this.#epoch) return;
      }
    } finally {
      this.#syncing = false;
    }
  }

  #scheduleRetry(again: () => void = () => void this.#sync()): void {
    clearTimeout(this.#retryTimer);
    const delay = this.#retryMs * (0.75 + Math.random() * 0.5);
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_DELAY_MS);
    this.#retryTimer = setTimeout(again, delay);
  }

  #setState(state: LiveState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#callbacks.liveState(state);
  }
}

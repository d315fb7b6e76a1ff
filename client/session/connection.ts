import type { TypingChanged } from '../../shared/typing.ts';
import type { Comment } from '../../shared/schemas.ts';
import type { ApiClient } from '../api-client.ts';
import { ArticleFeed, type LiveState } from '../article-feed.ts';
import { acquireConnection, type ConnectionLease, type SharedConnection } from '../connection-pool.ts';
import { readAck, SubscribeAckSchema, WidgetError } from '../protocol.ts';
import { h } from '../view/dom.ts';
import { ACK_TIMEOUT_MS, type SessionConfig } from './context.ts';

/** "Live updates are back" stays this long. */
const BACK_NOTICE_MS = 5_000;

export interface LiveArticleHooks {
  /** Comments new to the thread, or changed, arrived (from a page, live, or a catch-up). */
  changed(fresh: Comment[]): void;
  /** Loading the first page or a later one failed (live failures are shown by the status line). */
  failed(error: WidgetError, during: 'load' | 'more'): void;
  scheduleRender(): void;
  /** Others write in the article (`typing:changed`); null: the connection dropped, nobody is known to. */
  typing(typing: TypingChanged | null): void;
}

/**
 * The article's feed on the page's shared connection: the lease, the subscription (with catch-up
 * from the last seq seen), the events of this article, its readers count, and the status line that
 * says when live updates pause and come back.
 */
export class LiveArticle {
  readonly feed: ArticleFeed;
  readonly status = h('p', { class: 'status', part: 'status', attrs: { role: 'status' } });
  /** Readers of the article on every instance; null while disconnected. */
  readers: number | null = null;
  readonly #root: HTMLElement;
  readonly #config: SessionConfig;
  readonly #lease: ConnectionLease;
  readonly #unlisten: () => void;
  #backTimer: ReturnType<typeof setTimeout> | undefined;
  #wasPaused = false;

  constructor(config: SessionConfig, api: ApiClient, root: HTMLElement, hooks: LiveArticleHooks) {
    this.#root = root;
    this.#config = config;
    this.#lease = acquireConnection(config.base);
    const connection = this.#lease.connection;
    const { articleId } = config;
    this.feed = new ArticleFeed(
      articleId,
      config.order,
      {
        page: (order, before, signal) => api.page(articleId, { order, before }, signal),
        count: (signal) => api.count(articleId, signal),
        replies: (topId, after, signal) => api.replies(articleId, topId, after, signal),
        subscribe: async (since) => {
          if (!connection.isConnected) throw new WidgetError('network', 'Not connected.');
          const answer: unknown = await connection.socket
            .timeout(ACK_TIMEOUT_MS)
            .emitWithAck('article:subscribe', { articleId, since, batch: true });
          return readAck(answer, () => SubscribeAckSchema);
        },
      },
      {
        changed: (fresh) => hooks.changed(fresh),
        liveState: (state) => this.#onLiveState(state),
        failed: (error, during) => {
          if (during === 'live')
            this.status.textContent = config.strings.text('liveFailed', { error: config.strings.error(error) });
          else hooks.failed(error, during);
        },
      },
    );
    const feed = this.feed;
    this.#unlisten = connection.listen(articleId, {
      comment: (event, comment) => feed.receive(event, comment),
      batch: (changes, superseded) => feed.receiveBatch(changes, superseded),
      head: (head) => feed.head(head.lastSeq),
      state: (state) => feed.setState(state),
      presence: (readers) => {
        this.readers = readers;
        hooks.scheduleRender();
      },
      connected: () => feed.connected(),
      signed: () => hooks.scheduleRender(),
      typing: (typing) => hooks.typing(typing),
      disconnected: () => {
        this.readers = null;
        hooks.typing(null);
        feed.disconnected();
      },
    });
  }

  /** The page's shared connection (posting goes over it while it is up). */
  get connection(): SharedConnection {
    return this.#lease.connection;
  }

  /** Loads the first page and subscribes once connected. */
  start(): void {
    this.feed.start();
    if (this.connection.isConnected) this.feed.connected();
  }

  stop(): void {
    this.#unlisten();
    this.feed.dispose();
    this.#lease.release();
    clearTimeout(this.#backTimer);
  }

  #onLiveState(state: LiveState): void {
    this.#root.setAttribute('data-live', state);
    clearTimeout(this.#backTimer);
    if (state === 'paused') {
      this.#wasPaused = true;
      this.status.textContent = this.#config.strings.text('livePaused');
    } else if (state === 'live' && this.#wasPaused) {
      this.#wasPaused = false;
      this.status.textContent = this.#config.strings.text('liveBack');
      this.#backTimer = setTimeout(() => {
        this.status.textContent = '';
      }, BACK_NOTICE_MS);
    } else {
      this.status.textContent = '';
    }
  }
}

import { io, WebSocket as WebSocketTransport, type Socket } from 'socket.io-client';
import {
  COMMENT_EVENTS,
  type ClientToServerEvents,
  type CommentEvent,
  type ServerToClientEvents,
} from '../shared/events.ts';
import {
  ArticleHeadSchema,
  ArticleStateSchema,
  CommentSchema,
  PresenceSchema,
  type ArticleHead,
  type ArticleId,
  type ArticleState,
  type Comment,
  type CommentChange,
} from '../shared/schemas.ts';
import type { Membership } from './member/membership.ts';
import { loadPart } from './parts.ts';
import { BatchSchema } from './protocol.ts';
import { TypingChangedSchema, type TypingChanged } from '../shared/typing.ts';

export type CommentSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** What one widget instance hears about its article on a shared connection. Payloads arrive validated. */
export interface ArticleListener {
  comment(event: CommentEvent, comment: Comment): void;
  /** A `comment:batch`: its changes in seq order, and the seqs of versions it left out (superseded by newer ones in it). */
  batch(changes: CommentChange[], superseded: number[]): void;
  head(head: ArticleHead): void;
  /** `article:updated`: a moderator locked or unlocked the article, or changed its pre-moderation. */
  state(state: ArticleState): void;
  /** `presence:changed`: readers of the article on every instance. */
  presence(readers: number): void;
  /** `typing:changed`: how many others write where in the article. */
  typing(typing: TypingChanged): void;
  connected(): void;
  disconnected(): void;
  /** The page's reader signed in or out (client/member/membership.ts). */
  signed(): void;
}

/** Delay range before reconnecting after the server closed the connection itself (a restart or deploy). */
const SERVER_CLOSE_RECONNECT_MS = { min: 500, spread: 2500 } as const;

/**
 * One Socket.IO connection to one comment server, shared by every widget on the page that talks to
 * it. Events are validated once here and dispatched by article id. Reconnects are socket.io-client's
 * own (exponential backoff with jitter, so a restarted server is not hit by every reader at once).
 */
export class SharedConnection {
  readonly socket: CommentSocket;
  readonly #listeners = new Map<ArticleId, Set<ArticleListener>>();
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** The page's member token for this server, shared by its widgets; every handshake carries it. */
  token: string | null = null;
  /** Sign-in (widget-member.js), once a widget needed it. */
  membership: Membership | null = null;

  constructor(base: URL) {
    this.socket = io(base.origin, {
      path: `${base.pathname}socket.io/`,
      // HTTP long-polling is a part (widget-polling.js), loaded on the first failed connection.
      transports: [WebSocketTransport],
      tryAllTransports: true,
      // Opened over polling only when the WebSocket failed: no probing it again on that connection
      // (widget.js is built without the probe); the next reconnect tries the WebSocket first.
      upgrade: false,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      randomizationFactor: 0.5,
      withCredentials: false,
      auth: (send) => send(this.token === null ? {} : { ssoToken: this.token }),
    });
    for (const event of COMMENT_EVENTS) {
      this.socket.on(event, (payload: unknown) => {
        const parsed = CommentSchema.safeParse(payload);
        if (parsed.success) this.#each(parsed.data.articleId, (listener) => listener.comment(event, parsed.data));
      });
    }
    // A busy article's changes may come as one batch (we subscribe with `batch: true`): the same
    // changes in seq order, applied one by one exactly as if they had arrived as single events.
    this.socket.on('comment:batch', (payload: unknown) => {
      const parsed = BatchSchema.safeParse(payload);
      if (!parsed.success) return;
      const { articleId, changes, superseded = [] } = parsed.data;
      const own = changes.filter((change) => change.comment.articleId === articleId);
      this.#each(articleId, (listener) => listener.batch(own, superseded));
    });
    this.socket.on('article:head', (payload: unknown) => {
      const parsed = ArticleHeadSchema.safeParse(payload);
      if (parsed.success) this.#each(parsed.data.articleId, (listener) => listener.head(parsed.data));
    });
    this.socket.on('article:updated', (payload: unknown) => {
      const parsed = ArticleStateSchema.safeParse(payload);
      if (parsed.success) this.#each(parsed.data.articleId, (listener) => listener.state(parsed.data));
    });
    this.socket.on('typing:changed', (payload: unknown) => {
      const parsed = TypingChangedSchema.safeParse(payload);
      if (parsed.success) this.#each(parsed.data.articleId, (listener) => listener.typing(parsed.data));
    });
    this.socket.on('presence:changed', (payload: unknown) => {
      const parsed = PresenceSchema.safeParse(payload);
      if (parsed.success) this.#each(parsed.data.articleId, (listener) => listener.presence(parsed.data.readers));
    });
    this.socket.on('connect', () => this.#all((listener) => listener.connected()));
    this.socket.on('connect_error', () => {
      this.#all((listener) => listener.disconnected());
      this.#addPolling(base);
    });
    this.socket.on('disconnect', (reason) => {
      this.#all((listener) => listener.disconnected());
      // socket.io-client does not reconnect by itself when the server ended the session (restart, deploy).
      if (reason === 'io server disconnect') {
        clearTimeout(this.#reconnectTimer);
        this.#reconnectTimer = setTimeout(
          () => this.socket.connect(),
          SERVER_CLOSE_RECONNECT_MS.min + Math.random() * SERVER_CLOSE_RECONNECT_MS.spread,
        );
      }
    });
  }

  get isConnected(): boolean {
    return this.socket.connected;
  }

  /** Starts dispatching an article's events to `listener`; returns the function that stops it. */
  listen(articleId: ArticleId, listener: ArticleListener): () => void {
    let set = this.#listeners.get(articleId);
    if (!set) this.#listeners.set(articleId, (set = new Set()));
    set.add(listener);
    return () => {
      const current = this.#listeners.get(articleId);
      if (!current?.delete(listener) || current.size > 0) return;
      this.#listeners.delete(articleId);
      // The last widget of this article left: stop the server from sending it (others stay subscribed).
      if (this.socket.connected) this.socket.emit('article:unsubscribe', { articleId }, () => undefined);
    };
  }

  /** Tells every widget on the connection that the reader signed in or out. */
  signed(): void {
    this.#all((listener) => listener.signed());
  }

  /**
   * Few readers need HTTP long-polling (a proxy that refuses the WebSocket upgrade), so it is not in
   * widget.js: the first failed connection loads it, and socket.io-client's next reconnect tries the
   * WebSocket, then polling. A failed load is tried again on the next failed connection.
   */
  #addPolling(base: URL): void {
    const opts = this.socket.io.opts;
    if (opts.transports?.length !== 1) return;
    loadPart(base, 'polling').then(
      ({ Polling }) => void (opts.transports = [WebSocketTransport, Polling]),
      () => undefined,
    );
  }

  close(): void {
    clearTimeout(this.#reconnectTimer);
    this.membership?.stop();
    this.socket.disconnect();
  }

  #each(articleId: ArticleId, call: (listener: ArticleListener) => void): void {
    for (const listener of this.#listeners.get(articleId) ?? []) call(listener);
  }

  #all(call: (listener: ArticleListener) => void): void {
    for (const set of this.#listeners.values()) for (const listener of set) call(listener);
  }
}

interface PoolEntry {
  connection: SharedConnection;
  refs: number;
}

const pool = new Map<string, PoolEntry>();

export interface ConnectionLease {
  readonly connection: SharedConnection;
  /** Gives the lease back; the connection closes when its last lease is released. Idempotent. */
  release(): void;
}

/** A lease on the page's one connection to `base`, created on first use. */
export function acquireConnection(base: URL): ConnectionLease {
  const key = base.href;
  let entry = pool.get(key);
  if (!entry) pool.set(key, (entry = { connection: new SharedConnection(base), refs: 0 }));
  entry.refs++;
  const held = entry;
  let released = false;
  return {
    connection: held.connection,
    release: () => {
      if (released) return;
      released = true;
      held.refs--;
      if (held.refs === 0 && pool.get(key) === held) {
        pool.delete(key);
        held.connection.close();
      }
    },
  };
}

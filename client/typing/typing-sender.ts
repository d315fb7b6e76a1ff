import type { ArticleId } from '../../shared/schemas.ts';
import type { SharedConnection } from '../connection-pool.ts';

/** A start is sent again this often while the reader goes on typing (the server holds one 6 s). */
const RENEW_MS = 3000;
/** Typing stops counting after this long without a keystroke. */
const IDLE_MS = 5000;

/**
 * Tells the server where this reader writes (`typing:start` / `typing:stop`), throttled: one start
 * when they begin and one every RENEW_MS while they go on, one stop when they send, leave the form or
 * pause for IDLE_MS. Nothing is sent while disconnected (the server forgets a connection's typing
 * when it drops). Fire-and-forget: a lost start only means others do not see this reader writing.
 */
export class TypingSender {
  readonly #connection: SharedConnection;
  readonly #articleId: ArticleId;
  /** Where the reader writes now (`''`: a new comment), and when its start was last sent. */
  #place: string | null = null;
  #sentAt = 0;
  #idle: ReturnType<typeof setTimeout> | undefined;

  constructor(connection: SharedConnection, articleId: ArticleId) {
    this.#connection = connection;
    this.#articleId = articleId;
  }

  /** A keystroke in the form answering `parentId` (null: the new-comment form). */
  typed(parentId: string | null): void {
    const place = parentId ?? '';
    const now = Date.now();
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => this.stop(), IDLE_MS);
    if (place === this.#place && now - this.#sentAt < RENEW_MS) return;
    if (!this.#connection.isConnected) return;
    this.#place = place;
    this.#sentAt = now;
    this.#connection.socket.emit('typing:start', {
      articleId: this.#articleId,
      ...(parentId === null ? {} : { parentId }),
    });
  }

  /** The reader sent, left the form or paused. */
  stop(): void {
    clearTimeout(this.#idle);
    if (this.#place === null) return;
    this.#place = null;
    if (this.#connection.isConnected) this.#connection.socket.emit('typing:stop', { articleId: this.#articleId });
  }
}

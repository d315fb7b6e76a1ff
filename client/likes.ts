import type { Comment, LikeResult } from '../shared/schemas.ts';
import { toWidgetError, type WidgetError } from './protocol.ts';
import type { LikeView } from './view/thread-view.ts';

export interface LikeCallbacks {
  changed(): void;
  /** The server's answer: the comment with its new count (newer than what is held, or dropped by seq). */
  adopt(comment: Comment): void;
  /** The press did not reach the server; the optimistic state is already rolled back. */
  failed(comment: Comment, error: WidgetError): void;
}

/**
 * The reader's likes. What they like comes from the server (`GET …/likes?reader=`) and from their
 * own presses. A press shows at once (pressed, count ±1) while it travels, and is rolled back if it
 * fails. One press per comment is in flight at a time; presses during it are ignored.
 *
 * Invariant: the optimistic ±1 is applied only to the version of the comment that was shown when
 * the reader pressed (same seq). Once a newer version arrives, it may or may not include the press
 * already, so its own count is shown: a count may lag by one for the length of a request, but a
 * like is never counted twice.
 */
export class Likes {
  readonly #liked = new Set<string>();
  readonly #inFlight = new Map<string, { liked: boolean; seq: number }>();
  /** Why the reader's last press of a comment was not saved, shown beside its button until the next press. */
  readonly #failed = new Map<string, WidgetError>();
  readonly #send: (commentId: string, liked: boolean) => Promise<LikeResult>;
  readonly #callbacks: LikeCallbacks;

  constructor(send: (commentId: string, liked: boolean) => Promise<LikeResult>, callbacks: LikeCallbacks) {
    this.#send = send;
    this.#callbacks = callbacks;
  }

  /** The server's list of what this reader likes (replaces what was known, except presses in flight). */
  load(commentIds: readonly string[]): void {
    this.#liked.clear();
    for (const id of commentIds) this.#liked.add(id);
    this.#callbacks.changed();
  }

  view(comment: Comment): LikeView {
    const press = this.#inFlight.get(comment.id);
    const error = this.#failed.get(comment.id);
    if (!press) return { count: comment.likes, pressed: this.#liked.has(comment.id), ...(error ? { error } : {}) };
    const wasLiked = this.#liked.has(comment.id);
    const delta = comment.seq === press.seq && press.liked !== wasLiked ? (press.liked ? 1 : -1) : 0;
    return { count: Math.max(0, comment.likes + delta), pressed: press.liked };
  }

  /** The reader pressed Like: like it, or undo their like. */
  async toggle(comment: Comment): Promise<void> {
    if (this.#inFlight.has(comment.id)) return;
    const liked = !this.#liked.has(comment.id);
    this.#failed.delete(comment.id);
    this.#inFlight.set(comment.id, { liked, seq: comment.seq });
    this.#callbacks.changed();
    try {
      const result = await this.#send(comment.id, liked);
      if (result.liked) this.#liked.add(comment.id);
      else this.#liked.delete(comment.id);
      this.#inFlight.delete(comment.id);
      this.#callbacks.adopt(result.comment);
    } catch (error) {
      this.#inFlight.delete(comment.id);
      const failure = toWidgetError(error);
      this.#failed.set(comment.id, failure);
      this.#callbacks.failed(comment, failure);
    }
    this.#callbacks.changed();
  }
}

import { nanoid } from 'nanoid';
import type { NotifyRequest } from '../shared/reply-emails.ts';
import type { Comment, NewComment, PostResult } from '../shared/schemas.ts';
import { toWidgetError, type WidgetError } from './protocol.ts';
import type { ThreadItem } from './thread-model.ts';

/** The reader's post between submit and its ack; shown in the thread at once. */
export interface PendingPost extends ThreadItem {
  readonly kind: 'pending';
  /** Made once per post and sent with every attempt: the server stores it at most once. */
  readonly clientId: string;
  /** Made once per post, sent with every attempt and never shown: a retry proves with it that it is this post's author, so its answer carries the author token. */
  readonly clientSecret: string;
  readonly body: string;
  state: 'sending' | 'failed';
  error: WidgetError | null;
  /** The stored comment this post became, once its push was recognised (before or after the ack). */
  commentId: string | null;
  /** Reply e-mails asked for with it (client/notify/), sent with every attempt. */
  readonly notify?: NotifyRequest | undefined;
}

/** What a post sends: a new comment, and the reply e-mails it asks for. */
export type PostInput = NewComment & { notify?: NotifyRequest };

export interface PostCallbacks {
  changed(): void;
  /** The server stored the post (now or on an earlier attempt). */
  confirmed(post: PendingPost, result: PostResult): void;
  /** The server refused the post for what it says (invalid input, forbidden): retrying cannot help. */
  refused(post: PendingPost, error: WidgetError): void;
  /** Sending failed for a reason a retry may fix (network, timeout, rate limit, server trouble). */
  failed(post: PendingPost, error: WidgetError): void;
}

/** Errors about the post itself or its author (not signed in); everything else is worth a retry. */
const REFUSALS = new Set(['invalid_input', 'forbidden', 'payload_too_large', 'not_found', 'unauthenticated']);

/**
 * The reader's posts in flight. Each post keeps one `clientId` across retries, so a retry after a
 * lost ack returns the stored comment instead of storing it twice.
 */
export class Poster {
  readonly pending = new Map<string, PendingPost>();
  readonly #send: (input: PostInput) => Promise<PostResult>;
  readonly #callbacks: PostCallbacks;
  #disposed = false;

  constructor(send: (input: PostInput) => Promise<PostResult>, callbacks: PostCallbacks) {
    this.#send = send;
    this.#callbacks = callbacks;
  }

  /** Starts a post; `input` was validated and normalised with the shared schema. */
  submit(input: {
    name: string;
    body: string;
    parentId: string | null;
    notify?: NotifyRequest | undefined;
  }): PendingPost {
    const clientId = nanoid();
    const post: PendingPost = {
      kind: 'pending',
      id: `pending:${clientId}`,
      clientId,
      clientSecret: nanoid(32),
      parentId: input.parentId,
      author: { name: input.name },
      body: input.body,
      createdAt: new Date().toISOString(),
      state: 'sending',
      error: null,
      commentId: null,
      notify: input.notify,
    };
    this.pending.set(clientId, post);
    void this.#attempt(post);
    return post;
  }

  retry(clientId: string): void {
    const post = this.pending.get(clientId);
    if (!post || post.state !== 'failed') return;
    post.state = 'sending';
    post.error = null;
    this.#callbacks.changed();
    void this.#attempt(post);
  }

  discard(clientId: string): void {
    if (this.pending.delete(clientId)) this.#callbacks.changed();
  }

  /**
   * A comment pushed by the server that is one of this reader's posts in flight (the push can beat
   * the ack): same name, body and parent as a post not matched yet. Returns that post, now matched.
   */
  matchPush(comment: Comment): PendingPost | null {
    for (const post of this.pending.values()) {
      if (
        post.commentId === null &&
        post.state === 'sending' &&
        post.parentId === comment.parentId &&
        post.author.name === comment.author.name &&
        post.body === comment.body
      ) {
        post.commentId = comment.id;
        return post;
      }
    }
    return null;
  }

  /** True when `commentId` is a push recognised as one of this reader's posts in flight. */
  isMatched(commentId: string): boolean {
    for (const post of this.pending.values()) if (post.commentId === commentId) return true;
    return false;
  }

  dispose(): void {
    this.#disposed = true;
    this.pending.clear();
  }

  async #attempt(post: PendingPost): Promise<void> {
    const input: PostInput = {
      author: { name: post.author.name },
      body: post.body,
      clientId: post.clientId,
      clientSecret: post.clientSecret,
      ...(post.parentId === null ? {} : { parentId: post.parentId }),
      // Absent when not asked for (JSON leaves out undefined).
      notify: post.notify,
    };
    try {
      const result = await this.#send(input);
      if (this.#disposed || this.pending.get(post.clientId) !== post) return;
      this.pending.delete(post.clientId);
      this.#callbacks.confirmed(post, result);
    } catch (error) {
      if (this.#disposed || this.pending.get(post.clientId) !== post) return;
      const failure = toWidgetError(error);
      if (REFUSALS.has(failure.code)) {
        this.pending.delete(post.clientId);
        this.#callbacks.refused(post, failure);
        return;
      }
      post.state = 'failed';
      post.error = failure;
      // A push matched while sending may have been someone else's identical text; only the ack decides.
      post.commentId = null;
      this.#callbacks.failed(post, failure);
    }
  }
}

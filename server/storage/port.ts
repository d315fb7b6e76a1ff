import type { ArticleId, Comment, SortOrder } from '../../shared/schemas.ts';

/** What the comment service hands to a store for a new comment; already validated and normalised. */
export interface NewCommentRecord {
  id: string;
  articleId: ArticleId;
  parentId: string | null;
  authorName: string;
  body: string;
  /** ISO 8601 UTC. */
  createdAt: string;
  /** Idempotency key, unique per article; null when the client sent none. */
  clientId: string | null;
  /** SHA-256 hex of the author token given back to the poster. */
  authorTokenHash: string;
}

export interface CreateResult {
  comment: Comment;
  /** False when `clientId` was already used in this article: `comment` is the first one, nothing new was stored. */
  created: boolean;
}

export interface PageRequest {
  /** Number of top-level comments (threads) in the page. */
  limit: number;
  /** Opaque cursor from a previous page's `next`. */
  cursor: string | null;
  order: SortOrder;
}

export interface PageResult {
  lastSeq: number;
  /** Top-level comments in the requested order, each followed by all its replies in creation order. */
  comments: Comment[];
  next: string | null;
}

export interface ChangePage {
  lastSeq: number;
  /** Comments with seq > since, ascending by seq. */
  comments: Comment[];
  /** More than `limit` comments changed since `since`: `comments` is empty and the client should reload. */
  reset: boolean;
}

/** A failure of the store itself (unreachable, locked, timed out): the service answers `unavailable`. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** The parent named by a new comment does not exist in the same article. */
export class ParentNotFoundError extends Error {
  constructor(readonly parentId: string) {
    super(`Parent comment ${parentId} not found in this article`);
    this.name = 'ParentNotFoundError';
  }
}

/**
 * Where comments live: the record of truth. Fan-out only ever repeats what a store has committed.
 *
 * Invariants every implementation keeps (checked by tests/integration/storage-contract.test.ts):
 * - every change to an article takes the article's next `seq` (1, 2, 3, … with no gap, never reused),
 *   assigned in the same transaction that stores the change, so seq order is commit order;
 * - `clientId` is unique per article: a repeated one returns the first comment with `created: false`;
 * - a reply's parent exists in the same article (else ParentNotFoundError);
 * - failures of the backing database surface as StoreUnavailableError.
 */
export interface CommentStore {
  /**
   * Stores a new comment and gives it the article's next seq, in one transaction. A repeated clientId
   * returns the first comment, `created: false`, and replaces its token hash with the new one (the
   * retrying poster gets a working token; the clientId is known only to the poster).
   */
  create(input: NewCommentRecord): Promise<CreateResult>;
  /** One comment by id, or null. */
  get(id: string): Promise<Comment | null>;
  /** A page of top-level threads with all their replies. */
  page(articleId: ArticleId, request: PageRequest): Promise<PageResult>;
  /** Every comment of the article with seq > since, ascending; `since` is exclusive. At most `limit`, else `reset`. */
  changesSince(articleId: ArticleId, since: number, limit: number): Promise<ChangePage>;
  /** The article's latest seq, 0 when it has none. */
  lastSeq(articleId: ArticleId): Promise<number>;
  /** Number of visible comments per article; every requested id is present (0 when none). */
  counts(articleIds: readonly ArticleId[]): Promise<Record<ArticleId, number>>;
  /** Resolves when the store answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

import type { Ban, ModeratedComment, ModeratedHeld, RemovedBy } from '../../shared/moderation.ts';
import type { CommentSource, NativeArticle, NativeComment } from '../../shared/import-export.ts';
import type { ArticleId, Comment, MoreReplies, SortOrder } from '../../shared/schemas.ts';
import type { MemberRecord } from './members.ts';
import type { ReportOutcome, ReportRecord } from './reports.ts';
import type { ReportedComment } from '../../shared/reports.ts';
import type {
  NotifyTargets,
  OutboxAttemptRecord,
  OutboxItem,
  OutboxRow,
  OutboxSettlement,
  OutboxStats,
  WebhookRecord,
} from './outbox.ts';
import type { ReplyMailOptions, ReplySubscription, ReplyToMail, SubscribeWith } from './subscriptions.ts';

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
  /** The poster's ban key (server/abuse/keys.ts `authorKey`: normalised name + client IP); null or absent when unknown (imports). */
  authorKey?: string | null;
  /** Why the moderation pipeline holds it (shown to moderators); only read when the post is held. */
  holdReason?: string | null;
  /** The member who posts it (server/sso); null or absent for a guest. */
  memberSub?: string | null;
  /** JSON of the badges and avatar shown with a member's comment (rows.ts memberProfileText); null for a guest. */
  memberProfile?: string | null;
}

/** How `submit` posts: see CommentStore.submit. */
export interface SubmitOptions {
  hold: boolean;
  gate?: boolean;
  notify?: NotifyTargets | undefined;
  /** The poster asked for reply e-mails: written with the post (stored or held), never for a repeated clientId. */
  subscribe?: SubscribeWith | undefined;
  /** Reply e-mails are on: a stored reply to a subscribed comment queues its subscriber's e-mail in its transaction. */
  replyMail?: ReplyMailOptions | undefined;
}

/** The moderation settings row: JSON text and a version that grows with every save. */
export interface StoredModerationSettings {
  version: number;
  settings: string;
  updatedAt: string;
}

export interface CreateResult {
  comment: Comment;
  /** False when `clientId` was already used in this article: `comment` is the first one, nothing new was stored. */
  created: boolean;
}

/**
 * The outcome of `submit`: the comment is in its thread, it waits for a moderator, or it was refused
 * (nothing written). `created: false` is a repeated clientId: the first post as stored now (its
 * moderators' view, its author key) with the token hash stored for it, which a repeat never replaces.
 */
export type SubmitResult =
  | { kind: 'stored'; comment: ModeratedComment; created: boolean; authorTokenHash: string }
  | { kind: 'held'; held: ModeratedHeld; created: boolean; authorTokenHash: string }
  | { kind: 'refused'; reason: 'locked' | 'banned' };

/** A comment with what only the server and moderators see: who removed it, the kept body, the ban key, and the token hash. */
export interface CommentRecord {
  comment: ModeratedComment;
  /** SHA-256 hex of the author token; compared in constant time (server/comments/author-token.ts). */
  authorTokenHash: string;
}

/** The outcome of a change to one comment. `changed: false`: nothing was written and no seq was taken. */
export interface ChangeResult {
  comment: ModeratedComment;
  changed: boolean;
}

/** Per-article settings; an article never set is neither locked nor pre-moderated. */
export interface ArticleSettings {
  locked: boolean;
  premoderated: boolean;
}

export interface PageRequest {
  /** Number of top-level comments (threads) in the page. */
  limit: number;
  /** Opaque cursor from a previous page's `next`: a created_seq for `newest`/`oldest`, an offset for `top`. */
  cursor: string | null;
  order: SortOrder;
}

export interface PageResult {
  lastSeq: number;
  /**
   * Top-level comments in the requested order, each followed by its first replies (any depth) in
   * creation order: at most LIMITS.repliesPerThread per thread and LIMITS.repliesPerPage in all.
   */
  comments: Comment[];
  next: string | null;
  /** Per top-level comment whose replies are not all in `comments`: how many more, and the cursor for `replies`. */
  moreReplies: Record<string, MoreReplies>;
}

export interface RepliesRequest {
  /** Cursor from `moreReplies` or a previous `more` (a created_seq, exclusive); null from the first reply. */
  after: string | null;
  limit: number;
}

export interface RepliesResult {
  lastSeq: number;
  /** The thread's replies (any depth) after the cursor, in creation order. */
  comments: Comment[];
  /** Replies after these, if any. */
  more: MoreReplies | null;
}

export interface ChangePage {
  lastSeq: number;
  /** Comments with seq > since, ascending by seq. */
  comments: Comment[];
  /** More than `limit` comments changed since `since`: `comments` is empty and the client should reload. */
  reset: boolean;
}

/** One comment an import writes, validated and normalised by the importer (server/import/). */
export interface ImportedCommentRecord {
  /** Deterministic per source record (server/import/ids.ts), or the id a native export carries. */
  id: string;
  /** A comment of the same article stored before, or earlier in the same batch (held comments cannot be parents). */
  parentId: string | null;
  authorName: string;
  authorKey: string | null;
  /** Empty for a removed comment. */
  body: string;
  /** The body a moderator's removal keeps for restore; null otherwise. */
  originalBody: string | null;
  createdAt: string;
  editedAt: string | null;
  /** `held`: into the pre-moderation queue, no seq. */
  status: 'visible' | 'removed' | 'held';
  removedBy: RemovedBy | null;
  likes: number;
  /** A native restore's seq and createdSeq, kept when `keepSeq` is given and the seq is free in the article. */
  seq: number | null;
  createdSeq: number | null;
  source: CommentSource | null;
  /** A member's comment (native restores): who, and the `member_profile` snapshot's JSON; absent for a guest's. */
  memberSub?: string | null;
  memberProfile?: string | null;
}

/** The outcome of `importComments`. */
export interface ImportBatchResult {
  /** Stored or held now. */
  inserted: number;
  /** Ids already there (stored or held): nothing written for them. */
  existing: string[];
  /** Ids not written because their parent is not a stored comment of the article. */
  orphaned: string[];
  /** The article's latest seq after the batch. */
  lastSeq: number;
}

/** A failure of the store itself (unreachable, locked, timed out): the service answers `unavailable`. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** `create` was asked to store a post whose clientId is held for pre-moderation; the service posts through `submit`. */
export class ClientIdHeldError extends Error {
  constructor(readonly held: ModeratedHeld) {
    super(`clientId of held comment ${held.id} repeated`);
    this.name = 'ClientIdHeldError';
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
 * - every change to an article's thread (new, edit, removal, restore, approval, like or unlike) takes
 *   the article's next `seq` (1, 2, 3, … with no gap, never reused), assigned in the same transaction
 *   that stores the change, so seq order is commit order and `changesSince` covers every change; a call
 *   that changes nothing takes no seq;
 * - `clientId` is unique per article across stored and held comments: a repeated one returns the first
 *   comment (stored or held) with `created: false`;
 * - a reply's parent exists in the same article (else ParentNotFoundError); a reply to a comment at
 *   LIMITS.depthMax is stored as a reply to the deepest ancestor above it (so no reply is deeper), and
 *   the comment returned says which parent it has;
 * - held comments take no seq and are in no page, change list or count until approved;
 * - a removal by the author erases the body for good; a removal by a moderator keeps it for `restore`;
 *   every public read shows a removed comment with an empty body;
 * - failures of the backing database surface as StoreUnavailableError;
 * - a change given `notify` targets writes, in its own transaction, one outbox row per target subscribed
 *   to the change's event (`comment.created` for a stored post or an approval, `comment.held`,
 *   `comment.updated` for an edit or a restore, `comment.removed`); a change that changes nothing, or a
 *   call without targets, writes none (the path without subscribers costs nothing).
 */
export interface CommentStore {
  /**
   * Stores a new comment and gives it the article's next seq, in one transaction. A repeated clientId
   * returns the first comment, `created: false`, and changes nothing (its token hash stays).
   */
  create(input: NewCommentRecord): Promise<CreateResult>;
  /**
   * A new post, decided on one consistent view of the article (one transaction, or on PostgreSQL one
   * statement per step). First, a clientId already used in the article (stored or held) returns that
   * comment with `created: false` and its stored token hash, changing nothing (a retry of an accepted
   * post is never refused). Then, unless `gate: false`, the posting gate at `input.createdAt`: a locked
   * article or a banned `authorKey` is `refused` (nothing written), a pre-moderated article holds.
   * Otherwise the post is held when `hold` says so (no seq), else stored with the article's next seq.
   * A post racing a moderator's lock, unlock, ban or pre-moderation change is decided by one side of
   * it, never by a mix. `create` is `submit` with `hold: false, gate: false` for trusted callers
   * (imports, tests); it throws ClientIdHeldError on a held clientId.
   */
  submit(input: NewCommentRecord, options: SubmitOptions): Promise<SubmitResult>;
  /** One comment by id, or null. */
  get(id: string): Promise<Comment | null>;
  /** One comment by id as moderators see it, with its author token hash; null when unknown. */
  getRecord(id: string): Promise<CommentRecord | null>;
  /**
   * Replaces the body of a visible comment and sets `editedAt`, with the next seq. A removed comment is
   * returned unchanged (`changed: false`); null when the id is unknown.
   */
  edit(id: string, body: string, editedAt: string, notify?: NotifyTargets): Promise<ChangeResult | null>;
  /**
   * Removes a visible comment with the next seq: status `removed`, public body empty. By `author`: the
   * body is erased for good. By `moderator`: it is kept for `restore`. An author removing a comment a
   * moderator removed erases the kept body (no seq: nothing public changes). Otherwise a removed comment
   * is returned unchanged. Null when the id is unknown.
   */
  remove(id: string, by: RemovedBy, notify?: NotifyTargets): Promise<ChangeResult | null>;
  /**
   * Puts a comment a moderator removed back, with its kept body and the next seq. A visible comment or
   * one its author removed is returned unchanged. Null when the id is unknown.
   */
  restore(id: string, notify?: NotifyTargets): Promise<ChangeResult | null>;
  /**
   * Records that the reader likes (`liked: true`) or no longer likes the comment. At most one like per
   * (comment, reader): a call that changes nothing takes no seq; a change moves `likes` by one and takes
   * the next seq. A like of a removed comment changes nothing (decided in the same transaction as the
   * write, so a like racing a removal never lands on the removed comment); an unlike still works.
   * Null when the id is unknown.
   */
  setLike(commentId: string, readerId: string, liked: boolean): Promise<ChangeResult | null>;
  /** Ids of the article's comments the reader likes, in thread creation order. */
  readerLikes(articleId: ArticleId, readerId: string): Promise<string[]>;
  /**
   * Records a reader's report of a public comment (server/storage/reports.ts has the rule): at most one
   * per (comment, reader), ever; a repeat, or a report of a removed comment, writes nothing
   * (`created: false`). A report that brings an open round of a comment no moderator kept to
   * `threshold` reports takes it out of view in the same transaction: removed as by a moderator (body
   * kept for restore) with the article's next seq (`hidden: true`; a `comment.removed` notification).
   * Every recorded report writes a `comment.reported` notification. Reports racing on several
   * instances hide the comment exactly once. Null when the id is unknown.
   */
  report(input: ReportRecord, threshold: number, notify?: NotifyTargets): Promise<ReportOutcome | null>;
  /** Reported comments waiting for review (open or hidden), longest waiting first, at most `limit`. */
  reportedComments(limit: number): Promise<ReportedComment[]>;
  /** One reported comment's queue entry, whatever its state; null when it was never reported. */
  reportedComment(id: string): Promise<ReportedComment | null>;
  /**
   * Closes the review of a reported comment (open or hidden) with no seq: `kept` marks that a moderator
   * kept it. Restore closes a review as kept, and any removal closes it, in their own transactions;
   * this serves the rest (keeping a public one, removing one already hidden). False when none was open.
   */
  closeReports(id: string, kept: boolean): Promise<boolean>;
  /** Held comments of every article, oldest first, at most `limit`. */
  heldList(limit: number): Promise<ModeratedHeld[]>;
  /** One held comment, or null (unknown, approved or rejected). */
  getHeld(id: string): Promise<ModeratedHeld | null>;
  /** The moderation settings as last saved (JSON text, validated by the caller) and their version; null before any save. */
  moderationSettings(): Promise<StoredModerationSettings | null>;
  /** Saves the moderation settings (JSON text) and answers their new version (1, 2, 3, … across instances). */
  saveModerationSettings(settings: string, updatedAt: string): Promise<number>;
  /** How many comments of `authorKey` are visible, counting no further than `atLeast` (the new-commenter hold). */
  visibleCommentsBy(authorKey: string, atLeast: number): Promise<number>;
  /**
   * Moves a held comment into its thread with the article's next seq, keeping its id, createdAt,
   * clientId, token hash and author key. Null when it is not held (unknown, or approved or rejected already).
   */
  approve(id: string, notify?: NotifyTargets, replyMail?: ReplyMailOptions): Promise<ModeratedComment | null>;
  /** Deletes a held comment for good; false when it was not held. */
  reject(id: string): Promise<boolean>;
  /** Bans an author key until `expiresAt` (null: until lifted); banning a banned key replaces the ban. */
  addBan(ban: Ban): Promise<Ban>;
  /** Bans in force at `now` (ISO), newest first. */
  bans(now: string): Promise<Ban[]>;
  /** Lifts a ban; false when the key had none. */
  removeBan(authorKey: string): Promise<boolean>;
  /** The article's settings (both false for an article never set). */
  articleSettings(articleId: ArticleId): Promise<ArticleSettings>;
  /** Changes the given settings of the article and returns all of them. Takes no seq. */
  setArticleSettings(articleId: ArticleId, patch: Partial<ArticleSettings>): Promise<ArticleSettings>;
  /** The most recently created comments, newest first, across articles or of one, as moderators see them. */
  feed(options: { limit: number; articleId?: ArticleId }): Promise<ModeratedComment[]>;
  /**
   * A page of top-level threads with their first replies (see PageResult). `top`: most liked top-level
   * comments first, ties newest first, read from an index; its cursor is an offset, so a like during
   * paging may move a thread across pages.
   */
  page(articleId: ArticleId, request: PageRequest): Promise<PageResult>;
  /**
   * The replies of one thread (the replies at any depth of a top-level comment) after a cursor, in
   * creation order, in one snapshot. Null when `rootId` is not a top-level comment of the article.
   */
  replies(articleId: ArticleId, rootId: string, request: RepliesRequest): Promise<RepliesResult | null>;
  /** Every comment of the article with seq > since, ascending; `since` is exclusive. At most `limit`, else `reset`. */
  changesSince(articleId: ArticleId, since: number, limit: number): Promise<ChangePage>;
  /** The article's latest seq, 0 when it has none. */
  lastSeq(articleId: ArticleId): Promise<number>;
  /** Number of visible comments per article; every requested id is present (0 when none). */
  counts(articleIds: readonly ArticleId[]): Promise<Record<ArticleId, number>>;
  /**
   * Writes imported comments of one article in one transaction, in the order given (parents first).
   * A record whose id is already stored or held is left alone (`existing`); one whose parent is not a
   * stored comment of the article is skipped (`orphaned`). Stored records take the article's next seq
   * each (seq = createdSeq), in order; with `keepSeq` (a native restore) a record keeps its own seq and
   * createdSeq when that seq is free in the article, and the article's latest seq is raised to at least
   * `keepSeq.lastSeq`. Held records take no seq. Sources are recorded. Publishes nothing.
   */
  importComments(
    articleId: ArticleId,
    records: readonly ImportedCommentRecord[],
    options?: { keepSeq?: { lastSeq: number } },
  ): Promise<ImportBatchResult>;
  /**
   * Renumbers the article's `createdSeq` (the order of pages, not a seq: no seq is taken) so that it
   * follows `createdAt`: used after an import added comments older than ones the article already had.
   */
  reorderByTime(articleId: ArticleId): Promise<void>;
  /** The ids among `ids` that are stored or held. */
  existingIds(ids: readonly string[]): Promise<Set<string>>;
  /** Every article with comments, held comments or settings: its latest seq and settings, by id. */
  exportArticles(): Promise<NativeArticle[]>;
  /** The article's stored comments in createdSeq order, after `afterCreatedSeq`, at most `limit`. */
  exportComments(articleId: ArticleId, afterCreatedSeq: number, limit: number): Promise<NativeComment[]>;
  /** Held comments of every article, oldest first, after the (createdAt, id) given, at most `limit`. */
  exportHeld(after: { createdAt: string; id: string } | null, limit: number): Promise<NativeComment[]>;
  /** Saves an import job's document (JSON) with its heartbeat time; replaces an earlier one. */
  putImportJob(id: string, updatedAt: string, data: string): Promise<void>;
  /** An import job's document, or null. */
  getImportJob(id: string): Promise<string | null>;
  /**
   * Stores a member's profile (server/storage/members.ts) unless the stored one was written by a token
   * issued at the same time or later (`iat` not greater); returns the profile stored after the call.
   * `nameKey` is the name as reservations compare it.
   */
  saveMember(member: MemberRecord, nameKey: string, now: string): Promise<MemberRecord>;
  /** Whether a member's stored name has this name key (reserved for them: guests may not post under it). */
  memberNameTaken(nameKey: string): Promise<boolean>;
  /** A member's stored profile, or null. */
  getMember(sub: string): Promise<MemberRecord | null>;
  /** Every member's stored profile, by `sub` (the native export's header). */
  exportMembers(): Promise<MemberRecord[]>;
  /** A member's comments (stored, oldest first, as moderators see them) and held comments. */
  memberComments(sub: string): Promise<{ comments: ModeratedComment[]; held: ModeratedHeld[] }>;
  /**
   * Erases what is left of a member once their comments are removed (the caller removes the visible
   * ones first, each with its seq): on their removed comments the name becomes ERASED_NAME and the
   * kept body, member id and profile go; their held comments and stored profile are deleted. Takes no
   * seq (nothing readers see changes). Idempotent.
   */
  eraseMember(sub: string): Promise<void>;
  /**
   * Keeps `candidate` as the secret `name` unless the store holds one by that name already, and returns
   * the one it holds. Safe when several instances call it at once: they all get the first one written.
   */
  keepSecret(name: string, candidate: string): Promise<string>;
  /** Stores a webhook (a new id). */
  addWebhook(webhook: WebhookRecord): Promise<void>;
  /** Every webhook, oldest first, with its secret (the worker signs with it; routes never show it again). */
  webhooks(): Promise<WebhookRecord[]>;
  /** Deletes a webhook and its pending notifications (their attempts stay until pruned); false when unknown. */
  removeWebhook(id: string): Promise<boolean>;
  /** Queues a notification made outside a comment change (the moderators' digest); false when its id is queued already. */
  enqueueOutbox(row: OutboxRow): Promise<boolean>;
  /**
   * Claims at most `limit` due notifications (pending, `next_at` passed) for `leaseMs`: each gets a new
   * claim token and is not due again until the lease ends, so two claimers never hold the same row at
   * once, and a claimer that died lets its rows come back when the lease expires. Oldest due first.
   */
  claimOutbox(now: string, limit: number, leaseMs: number): Promise<OutboxItem[]>;
  /**
   * Records an attempt of a claimed notification and settles it: sent, failed (both final), or retry at
   * `nextAt`. Does nothing and answers false when the claim is no longer the row's (the lease expired
   * and another instance claimed it, or the row is gone).
   */
  settleOutbox(id: string, claim: string, settlement: OutboxSettlement): Promise<boolean>;
  /** The latest attempts for one receiver (`target`: a webhook id), newest first. */
  outboxAttempts(target: string, limit: number): Promise<OutboxAttemptRecord[]>;
  /** Queued and failed counts and the oldest queued notification. */
  outboxStats(): Promise<OutboxStats>;
  /** Deletes settled notifications and attempts older than `before`; answers how many notifications went. */
  pruneOutbox(before: string): Promise<number>;
  /** A reply e-mail subscription (server/storage/subscriptions.ts), or null. */
  getSubscription(id: string): Promise<ReplySubscription | null>;
  /**
   * Confirms a pending subscription that has not expired at `now` and answers it as confirmed; a
   * confirmed one is answered as it is (a second click changes nothing). Null when unknown or expired.
   */
  confirmSubscription(id: string, now: string): Promise<ReplySubscription | null>;
  /** Deletes a subscription, its address with it, and the e-mails queued for it; answers what it was, null when unknown. */
  unsubscribe(id: string): Promise<ReplySubscription | null>;
  /**
   * Counts one e-mail to `addressKey` (a keyed HMAC of the address) on `day` (YYYY-MM-DD, UTC) unless
   * `cap` were already counted that day: true when counted (send it), false when capped. Atomic across instances.
   */
  countMail(addressKey: string, day: string, cap: number): Promise<boolean>;
  /** Visible direct replies to the subscribed comment with a created_seq above `afterSeq`, oldest first, at most `limit`. */
  newReplies(
    subscription: { articleId: string; commentId: string },
    afterSeq: number,
    limit: number,
  ): Promise<ReplyToMail[]>;
  /** Records that the replies up to created_seq `seq` were e-mailed at `at` (never moves back). */
  markMailed(id: string, seq: number, at: string): Promise<void>;
  /** Deletes pending subscriptions expired at `now` and daily counts of days before `now`'s; answers how many subscriptions went. */
  pruneSubscriptions(now: string): Promise<number>;
  /** Resolves when the store answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

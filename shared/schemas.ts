import * as z from 'zod/mini';
import { exactUnits, maxItems, maxUnits, minItems, minUnits } from './lengths.ts';
import { COMMENT_EVENTS } from './events.ts';
import { nameProblem, normalizeBody, normalizeName } from './text.ts';

export const LIMITS = {
  articleIdMax: 128,
  nameMax: 60,
  bodyMax: 5000,
  /** Raw body length accepted before normalisation; bounds the work done on hostile input. */
  bodyRawMax: 20_000,
  pageMax: 100,
  pageDefault: 30,
  changesMax: 500,
  countsMax: 100,
  /** Replies of one thread in a page answer; the rest come from the thread's replies route. */
  repliesPerThread: 50,
  /** Replies in one page answer in all (threads past it carry a cursor only): bounds its size. */
  repliesPerPage: 250,
  /** Most replies one call of the replies route answers (`limit`; default repliesPerThread). */
  repliesMax: 100,
  /**
   * Deepest reply: a top-level comment is at depth 0, its replies at 1, and so on. A reply to a
   * comment at this depth is stored as a reply to that comment's parent (the deepest allowed ancestor).
   */
  depthMax: 20,
} as const;

const ARTICLE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const NANOID_PATTERN = /^[A-Za-z0-9_-]+$/;

/** A slug the host page chooses: 1–128 chars of `[A-Za-z0-9._:-]`, starting with a letter or digit. */
export const ArticleIdSchema = z.string().check(
  minUnits(1, 'Article id must not be empty'),
  maxUnits(LIMITS.articleIdMax, `Article id must be at most ${LIMITS.articleIdMax} characters`),
  z.refine(
    (s) => s.length > LIMITS.articleIdMax || ARTICLE_ID_PATTERN.test(s),
    'Article id may only use A-Z a-z 0-9 . _ : - and must start with a letter or digit',
  ),
);
export type ArticleId = z.infer<typeof ArticleIdSchema>;

/** A comment id: a 21-character nanoid. */
export const CommentIdSchema = z.string().check(
  exactUnits(21, 'Comment id must be 21 characters'),
  z.refine((s) => s.length !== 21 || NANOID_PATTERN.test(s), 'Comment id is not a valid id'),
);
export type CommentId = z.infer<typeof CommentIdSchema>;

/** A nanoid the client makes per post, so retries never duplicate. */
export const ClientIdSchema = z.string().check(
  minUnits(10, 'clientId must be 10 to 64 characters'),
  maxUnits(64, 'clientId must be 10 to 64 characters'),
  z.refine((s) => s.length > 64 || NANOID_PATTERN.test(s), 'clientId may only use A-Z a-z 0-9 _ -'),
);

/**
 * A random secret the client makes per post and sends with every attempt (`clientSecret`): a retry
 * with the same clientId gets the author token only when it carries the same secret.
 */
export const ClientSecretSchema = z.string().check(
  minUnits(16, 'clientSecret must be 16 to 64 characters'),
  maxUnits(64, 'clientSecret must be 16 to 64 characters'),
  z.refine((s) => s.length > 64 || NANOID_PATTERN.test(s), 'clientSecret may only use A-Z a-z 0-9 _ -'),
);

export const SeqSchema = z.int().check(z.minimum(0));

/**
 * A time as the server writes it: ISO 8601 in UTC with optional fractions (`2024-05-17T20:41:00.000Z`),
 * what `z.iso.datetime()` accepts, checked by one regex: the widget's bundle does without zod's ISO module.
 */
export const TimestampSchema = z
  .string()
  .check(
    z.regex(
      /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?Z$/,
      'Must be an ISO 8601 UTC time',
    ),
  );

/** A display name as typed: trimmed, NFC, 1–60 chars, no bidi controls, invisibles or control chars. */
export const AuthorNameInputSchema = z.string().check(
  maxUnits(LIMITS.nameMax * 4, `Name must be at most ${LIMITS.nameMax} characters`),
  z.overwrite(normalizeName),
  minUnits(1, 'Name must not be empty'),
  maxUnits(LIMITS.nameMax, `Name must be at most ${LIMITS.nameMax} characters`),
  z.refine((s) => s.length > LIMITS.nameMax || nameProblem(s) === null, {
    error: (issue) => nameProblem(String(issue.input)) ?? 'Invalid name',
  }),
);

/** A body as typed: normalised (see normalizeBody), 1–5000 chars, newlines kept. */
export const BodyInputSchema = z.string().check(
  maxUnits(LIMITS.bodyRawMax, `Comment must be at most ${LIMITS.bodyMax} characters`),
  z.overwrite((s) => (s.length > LIMITS.bodyRawMax ? s : normalizeBody(s))),
  minUnits(1, 'Comment must not be empty'),
  maxUnits(LIMITS.bodyMax, `Comment must be at most ${LIMITS.bodyMax} characters`),
);

/**
 * What a member's comment (posted by a reader the host site signed in) shows besides the name:
 * `verified: true`, and the badges and avatar of their token when it had them. A guest's comment has
 * none of these.
 */
const memberAuthorShape = {
  verified: z.optional(z.boolean()),
  /** At most 3 of at most 20 units each, and an https URL: checked when the token is (shared/sso.ts). */
  badges: z.optional(z.array(z.string())),
  avatar: z.optional(z.string()),
};

export const AuthorSchema = z.object({
  name: z.string().check(minUnits(1), maxUnits(LIMITS.nameMax)),
  ...memberAuthorShape,
});
export type Author = z.infer<typeof AuthorSchema>;

/**
 * The author of a comment as readers see it: a removed comment shows no name (`''`), like its empty
 * body, and no member marks; moderators still see them (shared/moderation.ts).
 */
const ReaderAuthorSchema = z.object({ name: z.string().check(maxUnits(LIMITS.nameMax)), ...memberAuthorShape });

export const CommentStatusSchema = z.enum(['visible', 'removed']);
export type CommentStatus = z.infer<typeof CommentStatusSchema>;

const commentShape = {
  id: CommentIdSchema,
  articleId: ArticleIdSchema,
  parentId: z.nullable(CommentIdSchema),
  author: ReaderAuthorSchema,
  body: z.string().check(maxUnits(LIMITS.bodyMax)),
  createdAt: TimestampSchema,
  editedAt: z.nullable(TimestampSchema),
  status: CommentStatusSchema,
  seq: z.int().check(z.minimum(1)),
  /** Readers who like it; each change of it advances the comment's seq like any other change. */
  likes: z.int().check(z.minimum(0)),
};

/**
 * A comment as every client sees it. `seq` is the article's sequence number of this comment's
 * latest change; a removed comment keeps its place with an empty body and no author name.
 */
export const CommentSchema = z.object(commentShape).check(
  z.refine((c) => c.author.name !== '' || c.status === 'removed', {
    path: ['author', 'name'],
    message: 'Only a removed comment has no author name',
  }),
);
export type Comment = z.infer<typeof CommentSchema>;
/** The author of a comment as readers see it: no name once it is removed (moderators see the stored one). */
export function readerAuthor(author: Author, status: CommentStatus): Author {
  return status === 'removed' ? { name: '' } : author;
}
/** The fields of CommentSchema, for shapes that extend it (the moderators' view). */
export const COMMENT_SHAPE = commentShape;

/**
 * A comment held for pre-moderation: not part of the thread (no seq) until a moderator approves it;
 * then it is stored with the article's next seq, the same id and its original createdAt, and pushed
 * as `comment:created`. Only its author (in the post answer) and moderators ever see it.
 */
export const HeldCommentSchema = z.object({
  id: CommentIdSchema,
  articleId: ArticleIdSchema,
  parentId: z.nullable(CommentIdSchema),
  author: AuthorSchema,
  body: z.string().check(maxUnits(LIMITS.bodyMax)),
  createdAt: TimestampSchema,
});
export type HeldComment = z.infer<typeof HeldCommentSchema>;

/** A per-browser id the widget keeps in localStorage, so a reader likes a comment at most once. */
export const ReaderIdSchema = z.string().check(
  minUnits(10, 'readerId must be 10 to 64 characters'),
  maxUnits(64, 'readerId must be 10 to 64 characters'),
  z.refine((s) => s.length > 64 || NANOID_PATTERN.test(s), 'readerId may only use A-Z a-z 0-9 _ -'),
);
export type ReaderId = z.infer<typeof ReaderIdSchema>;

/** Body of `PATCH /api/comments/:id` (own comment within the edit window, or a moderator). Unknown fields are refused. */
export const EditCommentSchema = z.strictObject({ body: BodyInputSchema });
export type EditComment = z.infer<typeof EditCommentSchema>;

/** Body of `POST /api/comments/:id/like`: like (true) or undo (false); idempotent per reader. */
export const LikeCommentSchema = z.strictObject({ readerId: ReaderIdSchema, liked: z.boolean() });
export type LikeComment = z.infer<typeof LikeCommentSchema>;

/** Answer of an edit, a delete, and of moderator actions on one comment. */
export const CommentResultSchema = z.object({ comment: CommentSchema });
export type CommentResult = z.infer<typeof CommentResultSchema>;

/** Answer of `POST /api/comments/:id/like`: the comment with its new count, and whether this reader now likes it. */
export const LikeResultSchema = z.object({ comment: CommentSchema, liked: z.boolean() });
export type LikeResult = z.infer<typeof LikeResultSchema>;

/** Query of `GET /api/articles/:articleId/likes`. */
export const ReaderLikesQuerySchema = z.strictObject({ reader: ReaderIdSchema });

/** Answer of `GET /api/articles/:articleId/likes?reader=`: the comments of the article this reader likes. */
export const ReaderLikesSchema = z.object({ articleId: ArticleIdSchema, commentIds: z.array(CommentIdSchema) });
export type ReaderLikes = z.infer<typeof ReaderLikesSchema>;

/**
 * Whether an article takes new comments (`locked`: closed, posts answer `forbidden`) and whether they
 * wait for a moderator (`premoderated`, per article or for every article with PREMODERATION=all).
 * Article state, not thread content: changing it takes no seq; it is pushed as `article:updated`.
 */
export const ArticleStateSchema = z.object({
  articleId: ArticleIdSchema,
  locked: z.boolean(),
  premoderated: z.boolean(),
});
export type ArticleState = z.infer<typeof ArticleStateSchema>;

/** `presence:changed`: connections subscribed to the article on every instance; sent at most once a second, on change. */
export const PresenceSchema = z.object({ articleId: ArticleIdSchema, readers: z.int().check(z.minimum(0)) });
export type Presence = z.infer<typeof PresenceSchema>;

/** `counts:subscribe` / `counts:unsubscribe`: live comment counts for a list of articles. */
export const CountsSubscribePayloadSchema = z.strictObject({
  articleIds: z
    .array(ArticleIdSchema)
    .check(
      minItems(1, 'articleIds must not be empty'),
      maxItems(LIMITS.countsMax, `At most ${LIMITS.countsMax} articles`),
    ),
});
export type CountsSubscribePayload = z.infer<typeof CountsSubscribePayloadSchema>;

/** `count:changed`: the number of visible comments of an article changed (created, removed, restored, approved). */
export const CountChangedSchema = z.object({ articleId: ArticleIdSchema, count: z.int().check(z.minimum(0)) });
export type CountChanged = z.infer<typeof CountChangedSchema>;

/** The fields of a new post; shared/reply-emails.ts adds `notify` for the server (kept out of widget.js). */
export const newCommentShape = {
  /** Required of guests; a signed-in member posts under the name of their token and may leave it out. */
  author: z.optional(z.strictObject({ name: AuthorNameInputSchema })),
  body: BodyInputSchema,
  parentId: z.optional(z.nullable(CommentIdSchema)),
  clientId: z.optional(ClientIdSchema),
  clientSecret: z.optional(ClientSecretSchema),
};

/** The body of `POST /api/articles/:articleId/comments`. Unknown fields are refused. */
export const NewCommentSchema = z.strictObject(newCommentShape);
export type NewComment = z.infer<typeof NewCommentSchema>;

/** The payload of the socket event `comment:post`. */
export const PostCommentPayloadSchema = z.strictObject({ articleId: ArticleIdSchema, ...newCommentShape });
export type PostCommentPayload = z.infer<typeof PostCommentPayloadSchema>;

export const SubscribePayloadSchema = z.strictObject({
  articleId: ArticleIdSchema,
  since: z.optional(SeqSchema),
  /** Opt in to `comment:batch`: while the article is busy, several changes arrive in one event. */
  batch: z.optional(z.boolean()),
});
export type SubscribePayload = z.infer<typeof SubscribePayloadSchema>;

export const UnsubscribePayloadSchema = z.strictObject({ articleId: ArticleIdSchema });
export type UnsubscribePayload = z.infer<typeof UnsubscribePayloadSchema>;

/** One change as carried inside a `comment:batch`: the event a lone change would have been sent as, and its comment. */
export const CommentChangeSchema = z.object({ event: z.enum(COMMENT_EVENTS), comment: CommentSchema });
export type CommentChange = z.infer<typeof CommentChangeSchema>;

/**
 * `comment:batch`: changes of one article that happened within a few milliseconds of each other,
 * ascending by seq, sent as one event to subscribers that asked (`article:subscribe { batch: true }`).
 * A comment changed more than once in the window is in it once, in its newest version; the seqs of
 * its older versions are in `superseded` (count them as applied: they are no gap). At least one change;
 * a lone change that supersedes nothing is sent as its own `comment:*` event.
 */
export const CommentBatchSchema = z.object({
  articleId: ArticleIdSchema,
  changes: z.array(CommentChangeSchema).check(minItems(1)),
  superseded: z.optional(z.array(z.int().check(z.minimum(1)))),
});
export type CommentBatch = z.infer<typeof CommentBatchSchema>;

/** `article:head`: the newest seq of an article, sent when this instance may have missed changes. */
export const ArticleHeadSchema = z.object({ articleId: ArticleIdSchema, lastSeq: SeqSchema });
export type ArticleHead = z.infer<typeof ArticleHeadSchema>;

/** Thread order: newest or oldest first, or `top` (most liked top-level comments first, ties newest first; the cursor is an offset). */
export const SortOrderSchema = z.enum(['newest', 'oldest', 'top']);
export type SortOrder = z.infer<typeof SortOrderSchema>;

/** A non-negative decimal integer as it arrives in a query string. */
const QueryIntSchema = z.pipe(
  z.string().check(z.regex(/^\d{1,15}$/, 'Must be a non-negative integer')),
  z.transform((s) => Number(s)),
);

/** An optional `limit` query parameter of 1 to `max`. */
const limitQuery = (max: number) =>
  z.optional(
    z.pipe(
      QueryIntSchema,
      z.int().check(z.minimum(1, 'limit must be at least 1'), z.maximum(max, `limit must be at most ${max}`)),
    ),
  );

/** Query of `GET …/comments`: page size, opaque cursor from the previous page's `next`, order of threads. */
export const PageQuerySchema = z.strictObject({
  limit: limitQuery(LIMITS.pageMax),
  before: z.optional(z.string().check(z.regex(/^\d{1,15}$/, 'before must be a cursor from a previous page'))),
  order: z.optional(SortOrderSchema),
});
export type PageQuery = z.infer<typeof PageQuerySchema>;

export const ChangesQuerySchema = z.strictObject({ since: QueryIntSchema });

export const CountsQuerySchema = z.strictObject({
  articles: z.pipe(
    z.string().check(maxUnits((LIMITS.articleIdMax + 1) * LIMITS.countsMax, 'Too many articles')),
    z.transform((s) => s.split(',').filter((part) => part.length > 0)),
  ),
});

/** Replies of a thread not in an answer: how many, and the cursor to pass as `after` to its replies route. */
export const MoreRepliesSchema = z.object({ count: z.int().check(z.minimum(1)), next: z.string() });
export type MoreReplies = z.infer<typeof MoreRepliesSchema>;

/**
 * How the server signs readers in (SSO_MODE, SSO_LOGIN_URL), in every page answer of a server with
 * sign-in on: with `required`, the widget asks the host page to sign the reader in before they write
 * (`live-comments:login-required`) and links to `loginUrl` when the page does not handle it.
 */
export const SsoInfoSchema = z.object({
  mode: z.enum(['optional', 'required']),
  loginUrl: z.optional(z.string()),
});
export type SsoInfo = z.infer<typeof SsoInfoSchema>;

/**
 * A page of a thread: top-level comments (newest first unless asked), each followed by its first
 * replies in creation order: at most `LIMITS.repliesPerThread` per thread and `LIMITS.repliesPerPage`
 * in all. A thread whose replies are not all here is listed in `moreReplies`.
 */
export const CommentPageSchema = z.object({
  articleId: ArticleIdSchema,
  lastSeq: SeqSchema,
  comments: z.array(CommentSchema),
  /** Cursor to pass as `before` for the next page; null on the last page. */
  next: z.nullable(z.string()),
  /** The discussion is closed: no new comments. */
  locked: z.boolean(),
  /** New comments wait for a moderator before they appear. */
  premoderated: z.boolean(),
  /** Per top-level comment of this page whose replies are not all in it: how many more, and the cursor. */
  moreReplies: z.optional(z.record(z.string(), MoreRepliesSchema)),
  /** Sign-in from the host site is on (absent with SSO_MODE=off). */
  sso: z.optional(SsoInfoSchema),
  /** The server sends reply e-mails (SMTP_URL): a post may carry `notify` (docs/notifications.md). Absent: it may not. */
  replyEmails: z.optional(z.boolean()),
});
export type CommentPage = z.infer<typeof CommentPageSchema>;

/** Query of `GET …/comments/:commentId/replies`: the cursor from `moreReplies` (or a previous `more`), and how many. */
export const RepliesQuerySchema = z.strictObject({
  after: z.optional(z.string().check(z.regex(/^\d{1,15}$/, 'after must be a cursor from moreReplies'))),
  limit: limitQuery(LIMITS.repliesMax),
});
export type RepliesQuery = z.infer<typeof RepliesQuerySchema>;

/** Answer of the replies route: the thread's next replies in creation order, and whether more follow. */
export const RepliesPageSchema = z.object({
  articleId: ArticleIdSchema,
  commentId: CommentIdSchema,
  lastSeq: SeqSchema,
  comments: z.array(CommentSchema),
  more: z.nullable(MoreRepliesSchema),
});
export type RepliesPage = z.infer<typeof RepliesPageSchema>;

/**
 * Answer of `GET /api/articles/:articleId/comments/:commentId`: one comment as readers see it, and its
 * thread (the top-level comment it answers, at any depth; its own id when it is top-level), so a
 * permalink can load the page and the replies holding it.
 */
export const CommentLocationSchema = z.object({
  articleId: ArticleIdSchema,
  comment: CommentSchema,
  threadId: CommentIdSchema,
});
export type CommentLocation = z.infer<typeof CommentLocationSchema>;

/** Every comment changed after `since`, ascending by seq. `reset` means too many changed: reload the page. */
export const ChangesSchema = z.object({
  articleId: ArticleIdSchema,
  lastSeq: SeqSchema,
  comments: z.array(CommentSchema),
  reset: z.optional(z.boolean()),
});
export type Changes = z.infer<typeof ChangesSchema>;

/**
 * What became of a post's `notify` (reply e-mails, shared/reply-emails.ts): `confirm` (a confirmation
 * e-mail is on its way: replies are e-mailed once its link is followed), `subscribed` (a member's own
 * address: at once). Absent without `notify`, and on a repeated clientId (the first answer said it).
 */
export const NotifyStatusSchema = z.enum(['confirm', 'subscribed']);

/**
 * A post that was stored: 201, or 200 for a repeated clientId (the first comment). `authorToken` is
 * absent only on a repeat that did not carry the first post's `clientSecret`: the comment is not theirs to change.
 */
export const PostStoredSchema = z.object({
  comment: CommentSchema,
  authorToken: z.optional(z.string()),
  notify: z.optional(NotifyStatusSchema),
});
export type PostStored = z.infer<typeof PostStoredSchema>;

/** A post held for pre-moderation (202): it appears for everyone, as `comment:created`, once a moderator approves it. */
export const PostHeldSchema = z.object({
  held: HeldCommentSchema,
  authorToken: z.optional(z.string()),
  notify: z.optional(NotifyStatusSchema),
});
export type PostHeld = z.infer<typeof PostHeldSchema>;

/** Answer of a post: stored or held. Narrow with `'comment' in result`. */
export const PostResultSchema = z.union([PostStoredSchema, PostHeldSchema]);
export type PostResult = z.infer<typeof PostResultSchema>;

export const CountsSchema = z.object({ counts: z.record(z.string(), z.int()) });
export type Counts = z.infer<typeof CountsSchema>;

/** The demo article text served by `GET /api/articles/:articleId`. */
export const ArticleSchema = z.object({
  articleId: ArticleIdSchema,
  title: z.string(),
  sections: z.array(z.object({ heading: z.nullable(z.string()), paragraphs: z.array(z.string()) })),
});
export type Article = z.infer<typeof ArticleSchema>;

import * as z from 'zod/mini';
import { maxUnits } from './lengths.ts';
import { normalizeLine } from './text.ts';
import {
  ArticleIdSchema,
  AuthorSchema,
  COMMENT_SHAPE,
  CommentIdSchema,
  HeldCommentSchema,
  LIMITS,
  readerAuthor,
  TimestampSchema,
  type Comment,
} from './schemas.ts';

/**
 * Moderator-only shapes: the admin API (`/api/admin/…`, `Authorization: Bearer <ADMIN_TOKEN>`) and the
 * moderators' socket room (`admin:subscribe`). Nothing here is ever sent to a reader.
 */

/** Who removed a comment: its author (the body is erased for good) or a moderator (the body is kept for restore). */
export const RemovedBySchema = z.enum(['author', 'moderator']);
export type RemovedBy = z.infer<typeof RemovedBySchema>;

/**
 * The key a ban is made on: a hash of the author's normalised name and client IP (the key the
 * per-author rate limit uses). Never reversible to a name or an address.
 */
export const AuthorKeySchema = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'Not an author key'));
export type AuthorKey = z.infer<typeof AuthorKeySchema>;

/**
 * A comment as moderators see it: the public comment, plus who removed it, the body a moderator's
 * removal keeps (`originalBody`, null otherwise) and the author key bans are made on (null for
 * comments stored before bans existed, or imported).
 */
export const ModeratedCommentSchema = z.object({
  ...COMMENT_SHAPE,
  /** Moderators see the name of a removed comment too. */
  author: AuthorSchema,
  removedBy: z.nullable(RemovedBySchema),
  originalBody: z.nullable(z.string().check(maxUnits(LIMITS.bodyMax))),
  authorKey: z.nullable(AuthorKeySchema),
  /** The host's user id of a member's comment (absent for a guest's). */
  memberSub: z.optional(z.string()),
});
export type ModeratedComment = z.infer<typeof ModeratedCommentSchema>;

/** What readers see of a moderator's view (field by field: the hot path of every post); a removed comment shows no name. */
export function toPublicComment(c: ModeratedComment): Comment {
  return {
    id: c.id,
    articleId: c.articleId,
    parentId: c.parentId,
    author: readerAuthor(c.author, c.status),
    body: c.body,
    createdAt: c.createdAt,
    editedAt: c.editedAt,
    status: c.status,
    seq: c.seq,
    likes: c.likes,
  };
}

/** A held comment as moderators see it: with the author key, so its author can be banned before approval. */
export const ModeratedHeldSchema = z.object({
  ...HeldCommentSchema.shape,
  authorKey: z.nullable(AuthorKeySchema),
  /** Why it waits: the moderation pipeline's reasons (`suspect word “x”; 3 links (more than 2)`); null for pre-moderation. */
  holdReason: z.optional(z.nullable(z.string())),
  memberSub: z.optional(z.string()),
});
export type ModeratedHeld = z.infer<typeof ModeratedHeldSchema>;

/** Most moderator-feed or held-queue entries one request returns. */
export const ADMIN_LIST_MAX = 200;
const ADMIN_LIST_DEFAULT = 50;

const LimitQuerySchema = z._default(
  z.pipe(
    z.string().check(z.regex(/^\d{1,4}$/, 'limit must be a whole number')),
    z.pipe(
      z.transform((s: string) => Number(s)),
      z
        .int()
        .check(
          z.minimum(1, 'limit must be at least 1'),
          z.maximum(ADMIN_LIST_MAX, `limit must be at most ${ADMIN_LIST_MAX}`),
        ),
    ),
  ),
  ADMIN_LIST_DEFAULT,
);

/** Query of `GET /api/admin/feed`: newest first across articles, or of one article. */
export const AdminFeedQuerySchema = z.strictObject({ limit: LimitQuerySchema, articleId: z.optional(ArticleIdSchema) });
export type AdminFeedQuery = z.infer<typeof AdminFeedQuerySchema>;

/** Answer of `GET /api/admin/feed`: the most recently created comments, newest first. */
export const AdminFeedSchema = z.object({ comments: z.array(ModeratedCommentSchema) });
export type AdminFeed = z.infer<typeof AdminFeedSchema>;

/** Answer of `GET /api/admin/session`: the token is a moderator's (anything else answers 403). */
export const AdminSessionSchema = z.object({ moderator: z.literal(true) });
export type AdminSession = z.infer<typeof AdminSessionSchema>;

/** Query of `GET /api/admin/held`. */
export const HeldQuerySchema = z.strictObject({ limit: LimitQuerySchema });

/** Answer of `GET /api/admin/held`: comments waiting for a moderator, oldest first. */
export const HeldListSchema = z.object({ held: z.array(ModeratedHeldSchema) });
export type HeldList = z.infer<typeof HeldListSchema>;

/** Answer of `POST /api/admin/comments/:id/remove|restore` and `/api/admin/held/:id/approve`. */
export const ModeratedResultSchema = z.object({ comment: ModeratedCommentSchema });
export type ModeratedResult = z.infer<typeof ModeratedResultSchema>;

/** Answer of `POST /api/admin/held/:id/reject`: the held comment is gone for good. */
export const RejectResultSchema = z.object({ rejected: CommentIdSchema });
export type RejectResult = z.infer<typeof RejectResultSchema>;

/** Longest ban, in minutes (one year); without `expiresInMinutes` a ban lasts until lifted. */
export const BAN_MINUTES_MAX = 525_600;

/** Body of `POST /api/admin/bans`: ban the author of a comment (stored or held). Unknown fields are refused. */
export const BanInputSchema = z.strictObject({
  commentId: CommentIdSchema,
  expiresInMinutes: z.optional(
    z
      .int()
      .check(
        z.minimum(1, 'expiresInMinutes must be at least 1'),
        z.maximum(BAN_MINUTES_MAX, `expiresInMinutes must be at most ${BAN_MINUTES_MAX}`),
      ),
  ),
  /** One line of text: made well-formed, NFC, controls and bidi overrides dropped, trimmed (shared/text.ts). */
  reason: z.optional(
    z.string().check(
      maxUnits(2000, 'reason must be at most 500 characters'),
      z.overwrite((s) => (s.length > 2000 ? s : normalizeLine(s))),
      maxUnits(500, 'reason must be at most 500 characters'),
    ),
  ),
});
export type BanInput = z.infer<typeof BanInputSchema>;

/** A ban: posts whose author key matches answer `forbidden` until `expiresAt` (null: until lifted). */
export const BanSchema = z.object({
  authorKey: AuthorKeySchema,
  /** The name on the comment the ban was made from; for the moderator's eyes only. */
  authorName: z.string(),
  reason: z.nullable(z.string()),
  createdAt: TimestampSchema,
  expiresAt: z.nullable(TimestampSchema),
});
export type Ban = z.infer<typeof BanSchema>;

/** Answer of `POST /api/admin/bans` (201). */
export const BanResultSchema = z.object({ ban: BanSchema });
export type BanResult = z.infer<typeof BanResultSchema>;

/** Answer of `GET /api/admin/bans`: bans in force, newest first. */
export const BanListSchema = z.object({ bans: z.array(BanSchema) });
export type BanList = z.infer<typeof BanListSchema>;

/** Answer of `DELETE /api/admin/bans/:authorKey`. */
export const UnbanResultSchema = z.object({ unbanned: AuthorKeySchema });
export type UnbanResult = z.infer<typeof UnbanResultSchema>;

/** Body of `PUT /api/admin/articles/:articleId`: the fields to change (at least one). Answer: the ArticleState. */
export const ArticleSettingsInputSchema = z
  .strictObject({
    locked: z.optional(z.boolean()),
    premoderated: z.optional(z.boolean()),
  })
  .check(
    z.refine(
      (input) => input.locked !== undefined || input.premoderated !== undefined,
      'Give locked, premoderated or both',
    ),
  );
export type ArticleSettingsInput = z.infer<typeof ArticleSettingsInputSchema>;

/** Payload of the socket event `admin:subscribe`. */
export const AdminSubscribePayloadSchema = z.strictObject({ token: z.string().check(maxUnits(512)) });
export type AdminSubscribePayload = z.infer<typeof AdminSubscribePayloadSchema>;

/** `admin:resolved`: a held comment left the queue (approved: it is now in its thread; rejected: deleted). */
export const HeldResolvedSchema = z.object({
  id: CommentIdSchema,
  articleId: ArticleIdSchema,
  outcome: z.enum(['approved', 'rejected']),
});
export type HeldResolved = z.infer<typeof HeldResolvedSchema>;

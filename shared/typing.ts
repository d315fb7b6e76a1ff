import * as z from 'zod/mini';
import { ArticleIdSchema, CommentIdSchema } from './schemas.ts';

/*
 * "Someone is replying": readers writing in a form of an article, counted across instances and never
 * stored. A reader's widget sends `typing:start` while they type (again every few seconds while they go
 * on) and `typing:stop` when they send, leave the form or stop for a few seconds; the server also ends a
 * start that is not renewed, and every typing of a connection that leaves the article or disconnects.
 * Other readers of the article get `typing:changed` whenever a count changes, without names.
 */

/** How long a `typing:start` holds without being sent again. Widgets renew it well within (every 3 s). */
export const TYPING_HOLD_MS = 6000;

/** `typing:start` / `typing:stop`: where the reader writes: a reply to `parentId`, or a new comment without it. */
export const TypingPayloadSchema = z.strictObject({
  articleId: ArticleIdSchema,
  parentId: z.optional(CommentIdSchema),
});
export type TypingPayload = z.infer<typeof TypingPayloadSchema>;

/**
 * `typing:changed`: how many other readers are writing a reply to `parentId` (null: a new comment), on
 * every instance; 0 when the last one stopped. A reader who writes there is not counted in their own count.
 */
export const TypingChangedSchema = z.object({
  articleId: ArticleIdSchema,
  parentId: z.nullable(CommentIdSchema),
  count: z.int().check(z.minimum(0)),
});
export type TypingChanged = z.infer<typeof TypingChangedSchema>;

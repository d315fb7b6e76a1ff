import * as z from 'zod/mini';
import { EMAIL_MAX, EMAIL_PATTERN } from './email-address.ts';
import { maxUnits } from './lengths.ts';
import { ArticleIdSchema, newCommentShape, type NotifyStatusSchema, type PostResult } from './schemas.ts';

/**
 * Reply e-mails (docs/notifications.md "Reply e-mails"): what a post carries to ask for them. Kept out
 * of shared/schemas.ts's NewCommentSchema, which widget.js parses with: the lazy notify part
 * (client/notify/) adds `notify` to a post after that check (its address checked with shared/email-address.ts),
 * and only the server reads these schemas.
 */

export const REPLY_EMAIL_LIMITS = {
  emailMax: EMAIL_MAX,
  pageUrlMax: 2048,
} as const;

/** An e-mail address (shared/email-address.ts). Deliverability is what the confirmation proves. */
export const EmailAddressSchema = z
  .string()
  .check(
    maxUnits(REPLY_EMAIL_LIMITS.emailMax, `email must be at most ${REPLY_EMAIL_LIMITS.emailMax} characters`),
    z.regex(EMAIL_PATTERN, 'email must be an e-mail address'),
  );

/**
 * `notify` of a post: where to e-mail replies (`email`; a signed-in member with an `email` claim may leave
 * it out) and the page the widget is on (`pageUrl`, http(s), on an origin ALLOWED_ORIGINS allows), which
 * reply e-mails link to as `<pageUrl>#comment-<id>`.
 */
export const NotifyRequestSchema = z.strictObject({
  email: z.optional(EmailAddressSchema),
  pageUrl: z
    .string()
    .check(
      maxUnits(REPLY_EMAIL_LIMITS.pageUrlMax, `pageUrl must be at most ${REPLY_EMAIL_LIMITS.pageUrlMax} characters`),
      z.regex(/^https?:\/\/[^\s]+$/i, 'pageUrl must be an http(s) URL'),
    ),
});
export type NotifyRequest = z.infer<typeof NotifyRequestSchema>;

/** The body of `POST /api/articles/:articleId/comments` as the server reads it: a new comment, and `notify`. */
export const PostInputSchema = z.strictObject({ ...newCommentShape, notify: z.optional(NotifyRequestSchema) });
export type PostInput = z.infer<typeof PostInputSchema>;

/** The payload of the socket event `comment:post` as the server reads it. */
export const PostInputPayloadSchema = z.strictObject({
  articleId: ArticleIdSchema,
  ...newCommentShape,
  notify: z.optional(NotifyRequestSchema),
});

/** What became of a post's `notify` (NotifyStatusSchema, part of a post's answer). */
export type NotifyStatus = z.infer<typeof NotifyStatusSchema>;

/** A post's answer, with what became of its `notify`. */
export type PostAnswer = PostResult;

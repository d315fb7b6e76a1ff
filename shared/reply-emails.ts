import * as z from 'zod/mini';
import { maxUnits } from './lengths.ts';
import { ArticleIdSchema, newCommentShape, type PostResult } from './schemas.ts';

/**
 * Reply e-mails (docs/notifications.md "Reply e-mails"): what a post carries to ask for them. Kept out
 * of shared/schemas.ts's NewCommentSchema, which widget.js parses with: the lazy notify part adds
 * `notify` to a post after that check, and only the server reads these schemas.
 */

export const REPLY_EMAIL_LIMITS = {
  /** RFC 5321's longest forward path. */
  emailMax: 254,
  pageUrlMax: 2048,
} as const;

/** An e-mail address: no spaces, one `@`, a dot in the domain. Deliverability is what the confirmation proves. */
export const EmailAddressSchema = z
  .string()
  .check(
    maxUnits(REPLY_EMAIL_LIMITS.emailMax, `email must be at most ${REPLY_EMAIL_LIMITS.emailMax} characters`),
    z.regex(/^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/, 'email must be an e-mail address'),
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

/**
 * What became of a post's `notify`: `confirm` (a confirmation e-mail is on its way: replies are e-mailed
 * once its link is followed), `subscribed` (a member's own address: at once). Absent without `notify`
 * and on a repeated clientId (the first post's answer said it).
 */
export type NotifyStatus = 'confirm' | 'subscribed';

/** A post's answer, with what became of its `notify`. */
export type PostAnswer = PostResult & { notify?: NotifyStatus };

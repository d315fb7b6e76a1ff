import * as z from 'zod/mini';
import { maxUnits } from './lengths.ts';
import { normalizeLine } from './text.ts';
import { CommentIdSchema, ReaderIdSchema, TimestampSchema } from './schemas.ts';
import { ModeratedCommentSchema } from './moderation.ts';
import { REPORT_NOTE_MAX, REPORT_REASONS } from './report-reasons.ts';

/**
 * Reader reports: a reader flags a comment (`POST /api/comments/:id/report`); at REPORT_HOLD_THRESHOLD
 * reports from different readers the comment leaves the public thread until a moderator keeps (restores)
 * or removes it. Kept in its own module so widget.js pays for none of it until a reader opens the
 * Report form (a lazy part).
 */

export { REPORT_NOTE_MAX, REPORT_REASONS, type ReportReason } from './report-reasons.ts';

/** Why a reader reports a comment. */
export const ReportReasonSchema = z.enum(REPORT_REASONS);

/**
 * Body of `POST /api/comments/:id/report`: one report per reader per comment (a repeat changes nothing).
 * `note` is one line of text (made well-formed and trimmed like a ban reason), optional for every reason.
 */
export const ReportCommentSchema = z.strictObject({
  readerId: ReaderIdSchema,
  reason: ReportReasonSchema,
  note: z.optional(
    z.string().check(
      // Bound the work before normalising hostile input, then the real limit on what is kept.
      maxUnits(REPORT_NOTE_MAX * 4, `note must be at most ${REPORT_NOTE_MAX} characters`),
      z.overwrite((s) => (s.length > REPORT_NOTE_MAX * 4 ? s : normalizeLine(s))),
      maxUnits(REPORT_NOTE_MAX, `note must be at most ${REPORT_NOTE_MAX} characters`),
    ),
  ),
});
export type ReportComment = z.infer<typeof ReportCommentSchema>;

/**
 * Answer of `POST /api/comments/:id/report`. `created: false` when this reader had reported the comment
 * already. The reader is not told how many others reported it (the thread's own pushes show everyone
 * when it leaves the thread).
 */
export const ReportResultSchema = z.object({
  report: z.object({ commentId: CommentIdSchema, reason: ReportReasonSchema, created: z.boolean() }),
});
export type ReportResult = z.infer<typeof ReportResultSchema>;

/**
 * Where a reported comment stands in the review queue: `open` (reported, still public), `hidden`
 * (reports reached the threshold: out of the public thread, its body kept for restore), `closed` (a
 * moderator kept or removed it, or its author deleted it: out of the queue).
 */
export const ReportStateSchema = z.enum(['open', 'hidden', 'closed']);
export type ReportState = z.infer<typeof ReportStateSchema>;

const count = z.int().check(z.minimum(0));

/**
 * A reported comment as moderators review it: the comment, its state, the reports since the last
 * review (count, per reason, the latest notes) and when they came. `kept`: a moderator kept it before,
 * so reports no longer take it out of view by themselves (they still queue it for review).
 */
export const ReportedCommentSchema = z.object({
  comment: ModeratedCommentSchema,
  state: ReportStateSchema,
  reports: count,
  reasons: z.object({ spam: count, abuse: count, off_topic: count, other: count }),
  notes: z.array(z.string()),
  kept: z.boolean(),
  firstReportedAt: TimestampSchema,
  lastReportedAt: TimestampSchema,
});
export type ReportedComment = z.infer<typeof ReportedCommentSchema>;

/** Answer of `GET /api/admin/reports`: the open and hidden reported comments, longest waiting first. */
export const ReportedListSchema = z.object({ reported: z.array(ReportedCommentSchema) });
export type ReportedList = z.infer<typeof ReportedListSchema>;

/** Answer of `POST /api/admin/reports/:id/keep`: the entry after it (state `closed`, `kept: true`). */
export const ReportedResultSchema = z.object({ reported: ReportedCommentSchema });
export type ReportedResult = z.infer<typeof ReportedResultSchema>;

/** Notes a queue entry shows at most (the latest). */
export const REPORT_NOTES_SHOWN = 5;

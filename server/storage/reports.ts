import type { ModeratedComment } from '../../shared/moderation.ts';
import { REPORT_NOTES_SHOWN, type ReportReason, type ReportState, type ReportedComment } from '../../shared/reports.ts';

/**
 * What both SQL stores share about reader reports (migration 11): the review row, the rule that moves
 * it on a new report, and the queue entry built from rows. The stores only read and write.
 */

/** A `report_reviews` row as both stores read it. */
export interface ReviewRow {
  comment_id: string;
  article_id: string;
  /** Guaranteed by the CHECK constraint. */
  state: ReportState;
  /** 0/1 on SQLite, an integer on PostgreSQL too (the column is INTEGER). */
  kept: number;
  round: number;
  reports: number;
  opened_at: string;
  last_at: string;
}

/** One report a reader makes, validated by the service. */
export interface ReportRecord {
  commentId: string;
  readerId: string;
  reason: ReportReason;
  note: string | null;
  createdAt: string;
}

/** The outcome of a report: whether it was this reader's first, and whether it took the comment out of view. */
export interface ReportOutcome {
  comment: ModeratedComment;
  /** False when the reader had reported the comment already, or it was not public: nothing was written. */
  created: boolean;
  /** This report reached the threshold: the comment was removed (body kept) with the article's next seq. */
  hidden: boolean;
}

/**
 * The review after one more report. A comment reported for the first time, or again after a review,
 * opens a round; `hide` says this report reached `threshold` reports in an open round of a comment
 * no moderator kept (0: reports never hide).
 */
export function nextReview(
  previous: ReviewRow | undefined,
  report: ReportRecord,
  articleId: string,
  threshold: number,
): { review: ReviewRow; hide: boolean } {
  const opening = previous === undefined || previous.state === 'closed';
  const review: ReviewRow = opening
    ? {
        comment_id: report.commentId,
        article_id: articleId,
        state: 'open',
        kept: previous?.kept ?? 0,
        round: (previous?.round ?? 0) + 1,
        reports: 1,
        opened_at: report.createdAt,
        last_at: report.createdAt,
      }
    : { ...previous, reports: previous.reports + 1, last_at: report.createdAt };
  const hide = review.state === 'open' && review.kept === 0 && threshold > 0 && review.reports >= threshold;
  if (hide) review.state = 'hidden';
  return { review, hide };
}

/** The round a new report belongs to, before the review is written. */
export function roundOf(previous: ReviewRow | undefined): number {
  if (previous === undefined) return 1;
  return previous.state === 'closed' ? previous.round + 1 : previous.round;
}

/** A `reports` row's reason and note, as the queue entry reads them (newest first). */
export interface ReportReasonRow {
  reason: ReportReason;
  note: string | null;
}

/** The queue entry of a reviewed comment from its rows: the current round's reports, newest first. */
export function reportedComment(
  review: ReviewRow,
  comment: ModeratedComment,
  reports: readonly ReportReasonRow[],
): ReportedComment {
  const reasons = { spam: 0, abuse: 0, off_topic: 0, other: 0 };
  const notes: string[] = [];
  for (const report of reports) {
    reasons[report.reason] += 1;
    if (report.note !== null && report.note !== '' && notes.length < REPORT_NOTES_SHOWN) notes.push(report.note);
  }
  return {
    comment,
    state: review.state,
    reports: review.reports,
    reasons,
    notes,
    kept: review.kept !== 0,
    firstReportedAt: review.opened_at,
    lastReportedAt: review.last_at,
  };
}

/** The columns of ReviewRow, for both stores' SELECTs and upserts. */
export const REVIEW_COLUMNS = 'comment_id, article_id, state, kept, round, reports, opened_at, last_at';

/** A review row's values in REVIEW_COLUMNS order, for both stores' upserts. */
export function reviewValues(review: ReviewRow): [string, string, ReportState, number, number, number, string, string] {
  return [
    review.comment_id,
    review.article_id,
    review.state,
    review.kept,
    review.round,
    review.reports,
    review.opened_at,
    review.last_at,
  ];
}

/** The `comment.reported` notification of a recorded report (after any hide, so `comment` is as committed). */
export function reportedChange(comment: ModeratedComment, report: ReportRecord, review: ReviewRow) {
  return { comment, report: { reason: report.reason, reports: review.reports, state: review.state } };
}

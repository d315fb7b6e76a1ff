/**
 * The reasons a reader may give for a report and the longest note, with no zod: the widget's Report
 * form (a lazily loaded part) uses them without carrying a schema library (shared/reports.ts has the schemas).
 */
export const REPORT_REASONS = ['spam', 'abuse', 'off_topic', 'other'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];

/** Longest note a report may carry, in UTF-16 units. */
export const REPORT_NOTE_MAX = 500;

import type { WordCandidates } from './words.ts';

/** The phases, in the order they run; also the `phase` label of the metrics. */
export const PHASES = ['words', 'links', 'repeats', 'new_commenter', 'shouting'] as const;
export type Phase = (typeof PHASES)[number];

/** What one phase decides: a hold waits for a moderator (reason shown to them), a reject answers 400 (message shown to the author). */
export type PhaseDecision =
  { action: 'accept' } | { action: 'hold'; reason: string } | { action: 'reject'; reason: string; message: string };

/** What a phase sees of a comment; derived views are computed on first use and shared. */
export interface PhaseInput {
  body: string;
  articleId: string;
  /** The poster's author key (keyed name + IP); null when unknown (no client address). */
  authorKey: string | null;
  /** A post's clientId: a retry of the same post is no repeat. */
  clientId: string | null;
  /** `post` for new comments, `edit` for edits (repeats and new commenters do not apply to edits). */
  kind: 'post' | 'edit';
  /** Word candidates (see words.ts), computed once. */
  wordRuns(): WordCandidates;
  /** The canonical text the repeat phase compares. */
  repeatText(): string;
}

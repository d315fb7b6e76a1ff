import { DEFAULT_MODERATION_SETTINGS, type ModerationSettings } from '../../../shared/moderation-settings.ts';
import { DomainList, linksPhase } from './links.ts';
import { newCommentersPhase, type VisibleCount } from './new-commenters.ts';
import { canonicalTokens, collapse, repeatKey, wordCandidates } from './normalize.ts';
import { repeatsPhase, type RepeatLedger } from './repeats.ts';
import { shoutingPhase } from './shouting.ts';
import type { Phase, PhaseDecision, PhaseInput } from './types.ts';
import { WordList, wordsPhase, type WordCandidates } from './words.ts';

/** A comment (new, or an edit's new body) as the pipeline checks it, after validation. */
export interface PipelineInput {
  body: string;
  articleId: string;
  authorKey: string | null;
  clientId: string | null;
  kind: 'post' | 'edit';
  /** A moderator's or a staff member's comment (see `trustedAuthor`): never held (refusals still apply). */
  trusted: boolean;
}

/** The pipeline's answer: store, hold for a moderator (reasons shown in /admin), or refuse (message for the author). */
export type Verdict =
  | { action: 'accept' }
  | { action: 'hold'; reason: string }
  | { action: 'reject'; phase: Phase; reason: string; message: string };

export interface PipelineMetrics {
  moderationDecision(phase: Phase, action: PhaseDecision['action']): void;
}

export interface PipelineDeps {
  ledger: RepeatLedger;
  /** Visible comments of an author key (the store's `visibleCommentsBy`). */
  visibleCount: VisibleCount;
  metrics?: PipelineMetrics | undefined;
  now?: () => number;
}

/** Settings with their lists compiled: built once per settings change, never per comment. */
class Compiled {
  readonly banned: WordList;
  readonly suspect: WordList;
  readonly blocked: DomainList;

  constructor(readonly settings: ModerationSettings) {
    this.banned = new WordList(settings.bannedWords);
    this.suspect = new WordList(settings.suspectWords);
    this.blocked = new DomainList(settings.blockedDomains);
  }
}

/** Longest hold reason kept (several phases may hold one comment). */
const REASON_MAX = 500;

/**
 * The offline moderation pipeline every new comment and every edit passes after validation and
 * before storing (docs/moderation.md): words, links, repeats, new commenters, shouting. A phase that
 * refuses ends the run; holds are collected (every hold reason is shown to moderators), so a later
 * refusal still refuses a held comment. Each phase's decision is counted.
 */
export class ModerationPipeline {
  #compiled: Compiled;
  readonly #deps: PipelineDeps;
  readonly #now: () => number;

  constructor(deps: PipelineDeps, settings: ModerationSettings = DEFAULT_MODERATION_SETTINGS) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#compiled = new Compiled(settings);
  }

  get settings(): ModerationSettings {
    return this.#compiled.settings;
  }

  /** Compiles and applies new settings; the comments checked from now on see them. */
  configure(settings: ModerationSettings): void {
    this.#compiled = new Compiled(settings);
  }

  async check(comment: PipelineInput): Promise<Verdict> {
    const compiled = this.#compiled;
    const { settings } = compiled;
    let tokens: string[] | undefined;
    let runs: WordCandidates | undefined;
    const canonical = (): string[] => (tokens ??= canonicalTokens(comment.body));
    const input: PhaseInput = {
      body: comment.body,
      articleId: comment.articleId,
      authorKey: comment.authorKey,
      clientId: comment.clientId,
      kind: comment.kind,
      wordRuns: () => (runs ??= wordCandidates(canonical()).map((token) => ({ token, letters: collapse(token) }))),
      repeatText: () => repeatKey(canonical()),
    };
    const holds: string[] = [];
    const decide = (phase: Phase, decision: PhaseDecision): Verdict | null => {
      this.#deps.metrics?.moderationDecision(phase, decision.action);
      if (decision.action === 'reject')
        return { action: 'reject', phase, reason: decision.reason, message: decision.message };
      if (decision.action === 'hold') holds.push(decision.reason);
      return null;
    };
    const refused =
      decide('words', wordsPhase(compiled.banned, compiled.suspect, input)) ??
      decide('links', linksPhase(compiled.blocked, settings.maxLinks, input)) ??
      decide(
        'repeats',
        await repeatsPhase(
          this.#deps.ledger,
          { windowMinutes: settings.repeatWindowMinutes, articles: settings.repeatArticles },
          input,
          this.#now(),
        ),
      );
    if (refused !== null) return refused;
    // Moderators and staff are never held: the remaining phases only hold, so they are skipped for them.
    if (comment.trusted) return { action: 'accept' };
    decide('new_commenter', await newCommentersPhase(this.#deps.visibleCount, settings.holdFirstComments, input));
    decide('shouting', shoutingPhase(settings.holdShouting, input));
    if (holds.length === 0) return { action: 'accept' };
    const reason = holds.join('; ');
    return { action: 'hold', reason: reason.length > REASON_MAX ? `${reason.slice(0, REASON_MAX - 1)}…` : reason };
  }
}

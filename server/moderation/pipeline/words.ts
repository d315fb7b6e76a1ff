import type { PhaseDecision, PhaseInput } from './types.ts';
import { canonicalTokens, collapse, runsOf, stretches, wordCandidates, type Runs } from './normalize.ts';

interface Entry {
  /** As the moderator wrote it, for the message and the hold reason. */
  text: string;
  /** Its canonical tokens as runs (one for a word, several for a phrase). */
  tokens: Runs[];
}

/**
 * A word list compiled once per settings change: entries are canonicalised like comment text and
 * indexed by their first token's letters (repeats collapsed), so checking a comment is one map
 * lookup per token, whatever the list's length. Whole words only: `ass` never matches `classic`,
 * `cunt` never `Scunthorpe`; a word stretched by repeated letters (`baaad`) still matches `bad`.
 */
export class WordList {
  readonly size: number;
  readonly #byFirst = new Map<string, Entry[]>();

  constructor(entries: readonly string[]) {
    let size = 0;
    for (const text of entries) {
      const tokens = canonicalTokens(text).map(runsOf);
      if (tokens.length === 0) continue;
      const key = tokens[0]!.letters;
      const bucket = this.#byFirst.get(key);
      const entry = { text, tokens };
      if (bucket) bucket.push(entry);
      else this.#byFirst.set(key, [entry]);
      size++;
    }
    this.size = size;
  }

  /**
   * The first entry the word candidates (see wordCandidates) contain, or null. One map lookup per
   * candidate by its collapsed letters; runs are counted only for a candidate whose letters hit.
   */
  find(candidates: readonly WordCandidates[number][]): string | null {
    if (this.size === 0) return null;
    for (let i = 0; i < candidates.length; i++) {
      const bucket = this.#byFirst.get(candidates[i]!.letters);
      if (bucket === undefined) continue;
      for (const entry of bucket) {
        if (entry.tokens.length > candidates.length - i) continue;
        let all = true;
        for (let k = 0; k < entry.tokens.length && all; k++)
          all = stretches(runsOf(candidates[i + k]!.token), entry.tokens[k]!);
        if (all) return entry.text;
      }
    }
    return null;
  }
}

/** A comment's word candidates: each token and its collapsed letters (the lookup key). */
export type WordCandidates = Array<{ token: string; letters: string }>;

/** The word candidates of a text, computed once per comment for both lists. */
export function wordCandidatesOf(text: string): WordCandidates {
  return wordCandidates(canonicalTokens(text)).map((token) => ({ token, letters: collapse(token) }));
}

/** Banned words refuse, suspect words hold; moderators' comments are still refused but never held. */
export function wordsPhase(banned: WordList, suspect: WordList, input: PhaseInput): PhaseDecision {
  if (banned.size === 0 && suspect.size === 0) return { action: 'accept' };
  const runs = input.wordRuns();
  const bannedWord = banned.find(runs);
  if (bannedWord !== null)
    return {
      action: 'reject',
      reason: `banned word “${bannedWord}”`,
      message: `Your comment contains “${bannedWord}”, which is not allowed here. Please rephrase it and send it again.`,
    };
  const suspectWord = suspect.find(runs);
  if (suspectWord !== null) return { action: 'hold', reason: `suspect word “${suspectWord}”` };
  return { action: 'accept' };
}

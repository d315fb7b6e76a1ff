import { canonicalTokens, repeatKey, runsOf, wordCandidates } from '../../../server/moderation/pipeline/normalize.ts';
import type { PhaseInput } from '../../../server/moderation/pipeline/types.ts';

/** A phase input for `body`, posted by `authorKey` on `articleId`. */
export function phaseInput(body: string, over: Partial<Omit<PhaseInput, 'wordRuns' | 'repeatText'>> = {}): PhaseInput {
  return {
    body,
    articleId: 'a1',
    authorKey: 'author-1',
    clientId: null,
    kind: 'post',
    ...over,
    wordRuns: () => wordCandidates(canonicalTokens(body)).map(runsOf),
    repeatText: () => repeatKey(canonicalTokens(body)),
  };
}

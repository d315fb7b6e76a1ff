import { canonicalTokens, repeatKey } from '../../../server/moderation/pipeline/normalize.ts';
import { wordCandidatesOf } from '../../../server/moderation/pipeline/words.ts';
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
    wordRuns: () => wordCandidatesOf(body),
    repeatText: () => repeatKey(canonicalTokens(body)),
  };
}

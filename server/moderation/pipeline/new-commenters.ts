import type { PhaseDecision, PhaseInput } from './types.ts';

/** How many of an author key's comments are visible, counting at most `atLeast` (the store's answer). */
export type VisibleCount = (authorKey: string, atLeast: number) => Promise<number>;

/**
 * Holds an author's posts until `holdFirst` of theirs are visible (approved, or posted before the
 * setting): 1 holds only a first comment. Posts without an author key (no client address) are not held.
 */
export async function newCommentersPhase(
  visible: VisibleCount,
  holdFirst: number,
  input: PhaseInput,
): Promise<PhaseDecision> {
  if (holdFirst === 0 || input.kind !== 'post' || input.authorKey === null) return { action: 'accept' };
  const count = await visible(input.authorKey, holdFirst);
  if (count >= holdFirst) return { action: 'accept' };
  return {
    action: 'hold',
    reason:
      count === 0 ? 'first comment of a new commenter' : `new commenter (${count} of ${holdFirst} comments approved)`,
  };
}

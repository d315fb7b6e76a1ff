import { describe, expect, it } from 'vitest';
import { newCommentersPhase } from '../../../server/moderation/pipeline/new-commenters.ts';
import { phaseInput } from './helpers.ts';

describe('new commenters phase', () => {
  const visible = new Map([
    ['regular', 5],
    ['once', 1],
  ]);
  const count = async (authorKey: string, atLeast: number): Promise<number> =>
    Math.min(visible.get(authorKey) ?? 0, atLeast);

  it.each([
    // [author key, holdFirst, kind, action]
    ['newcomer', 1, 'post', 'hold'],
    ['newcomer', 0, 'post', 'accept'],
    ['once', 1, 'post', 'accept'],
    ['once', 2, 'post', 'hold'],
    ['regular', 3, 'post', 'accept'],
    ['newcomer', 1, 'edit', 'accept'],
    [null, 1, 'post', 'accept'],
  ] as const)('%s with holdFirst %i (%s) → %s', async (authorKey, holdFirst, kind, action) => {
    const decision = await newCommentersPhase(count, holdFirst, phaseInput('hi', { authorKey, kind }));
    expect(decision.action).toBe(action);
  });

  it('says why in the hold', async () => {
    expect(await newCommentersPhase(count, 1, phaseInput('hi', { authorKey: 'newcomer' }))).toEqual({
      action: 'hold',
      reason: 'first comment of a new commenter',
    });
    expect(await newCommentersPhase(count, 2, phaseInput('hi', { authorKey: 'once' }))).toEqual({
      action: 'hold',
      reason: 'new commenter (1 of 2 comments approved)',
    });
  });
});

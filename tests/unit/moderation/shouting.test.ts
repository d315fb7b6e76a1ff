import { describe, expect, it } from 'vitest';
import { shoutingPhase } from '../../../server/moderation/pipeline/shouting.ts';
import { phaseInput } from './helpers.ts';

describe('shouting phase', () => {
  it.each([
    ['THIS IS ABSOLUTELY OUTRAGEOUS AND WRONG', 'hold', 'shouting'],
    ['THIS IS ABSOLUTELY OUTRAGEOUS, says the NYT', 'hold', 'shouting'],
    ['ΑΥΤΟ ΕΙΝΑΙ ΑΠΑΡΑΔΕΚΤΟ ΚΑΙ ΛΑΘΟΣ', 'hold', 'shouting'], // other scripts' capitals
    ['$$$ !!! ??? ### %%% &&& *** +++ === ~~~', 'hold', 'junk'],
    ['🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉', 'hold', 'junk'],
  ])('%j → %s', (body, action, reason) => {
    const decision = shoutingPhase(true, phaseInput(body));
    expect(decision.action).toBe(action);
    expect('reason' in decision ? decision.reason : '').toContain(reason);
  });

  it.each([
    'WOW', // short
    'NASA and the ESA agree: the ISS is fine, says the BBC today.', // acronyms in a sentence
    'Ordinary sentence with a few CAPITALS in it, nothing more to see.',
    '中文评论没有大小写，所以不算喊叫，这是一条正常的评论。', // uncased letters
    'Prices: 10, 20, 30 and 40 euros in total.',
    '🎉 great',
  ])('accepts %j', (body) => {
    expect(shoutingPhase(true, phaseInput(body))).toEqual({ action: 'accept' });
  });

  it('holds nothing when off', () => {
    expect(shoutingPhase(false, phaseInput('THIS IS ABSOLUTELY OUTRAGEOUS AND WRONG'))).toEqual({ action: 'accept' });
  });
});

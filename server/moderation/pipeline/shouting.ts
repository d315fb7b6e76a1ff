import type { PhaseDecision, PhaseInput } from './types.ts';

/** Below this many letters (or characters) a body is too short to call shouting or junk. */
export const SHOUTING_MIN = 20;
/** Share of cased letters that are capitals from which a body is shouting. */
export const SHOUTING_CAPITALS = 0.7;
/** Share of non-space characters that are letters below which a body is junk. */
export const JUNK_LETTERS = 0.3;

const LETTER = /\p{L}/u;
const UPPER = /\p{Lu}/u;
const LOWER = /\p{Ll}/u;
const SPACE = /\s/u;

/** Counts in one pass: letters, capitals and small letters, and non-space characters. */
export function letterStats(body: string): { letters: number; upper: number; lower: number; visible: number } {
  let letters = 0;
  let upper = 0;
  let lower = 0;
  let visible = 0;
  for (const ch of body) {
    if (SPACE.test(ch)) continue;
    visible++;
    if (!LETTER.test(ch)) continue;
    letters++;
    if (UPPER.test(ch)) upper++;
    else if (LOWER.test(ch)) lower++;
  }
  return { letters, upper, lower, visible };
}

/** A body that is mostly capitals, or mostly not letters (symbols, digits, emoji), above a length: held. */
export function shoutingPhase(enabled: boolean, input: PhaseInput): PhaseDecision {
  if (!enabled) return { action: 'accept' };
  const { letters, upper, lower, visible } = letterStats(input.body);
  const cased = upper + lower;
  if (cased >= SHOUTING_MIN && upper / cased >= SHOUTING_CAPITALS)
    return { action: 'hold', reason: 'shouting (mostly capitals)' };
  if (visible >= SHOUTING_MIN && letters / visible < JUNK_LETTERS)
    return { action: 'hold', reason: 'junk (mostly not letters)' };
  return { action: 'accept' };
}

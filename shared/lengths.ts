import * as z from 'zod/mini';

/**
 * Length checks in UTF-16 code units, the unit of every limit in this protocol (docs/protocol.md):
 * what JavaScript's `length`, the widget's `maxlength` and the stores' answers count.
 *
 * zod's own `minLength`, `maxLength` and `length` measure strings in code points since zod 4.6, so
 * an emoji counts once. With them a 5000-unit limit let 10,000 units through, and a refine guarded
 * by `s.length === 21` skipped an id of 21 code points, letting an emoji into a comment id. Strings
 * are checked with these instead; eslint refuses zod's (arrays use `minItems`/`maxItems`).
 */
export function minUnits(min: number, message?: string) {
  return z.refine<string>((s) => s.length >= min, message ?? `Must be at least ${min} characters`);
}

export function maxUnits(max: number, message?: string) {
  return z.refine<string>((s) => s.length <= max, message ?? `Must be at most ${max} characters`);
}

export function exactUnits(length: number, message?: string) {
  return z.refine<string>((s) => s.length === length, message ?? `Must be ${length} characters`);
}

/** Array bounds: zod counts items, which is what is meant; named apart so eslint can refuse zod's string checks. */
export function minItems<T>(min: number, message?: string) {
  return z.refine<T[]>((a) => a.length >= min, message ?? `Must have at least ${min} items`);
}

export function maxItems<T>(max: number, message?: string) {
  return z.refine<T[]>((a) => a.length <= max, message ?? `Must have at most ${max} items`);
}

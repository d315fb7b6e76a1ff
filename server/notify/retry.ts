/** The first retry waits about this long; each further one twice as long as the last, up to RETRY_MAX_MS. */
export const RETRY_FIRST_MS = 10_000;
export const RETRY_MAX_MS = 3_600_000;

/**
 * How long to wait after the `failures`-th failed attempt (1 for the first): 10 s, 20 s, 40 s, … up
 * to 1 h, each spread by ±20 % (jitter, so receivers coming back are not hit by every retry at once).
 */
export function retryDelayMs(failures: number, random: () => number = Math.random): number {
  const base = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(30, Math.max(0, failures - 1)));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * When to try again after a failed attempt, or null when that would be past the horizon (the
 * notification is then given up: `failed`). `createdAt` and `now` in epoch ms.
 */
export function nextAttemptAt(
  createdAt: number,
  now: number,
  failures: number,
  horizonMs: number,
  random: () => number = Math.random,
): number | null {
  const next = now + retryDelayMs(failures, random);
  return next - createdAt > horizonMs ? null : next;
}

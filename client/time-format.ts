/** Relative ("5 minutes ago") and exact times for comments. Pure: the clock and locale are passed in. */

const UNITS: ReadonlyArray<readonly [Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 86_400],
  ['month', 30 * 86_400],
  ['week', 7 * 86_400],
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
];

/** Below this many seconds a time reads "just now"; times slightly in the future (clock skew) do too. */
const JUST_NOW_SECONDS = 45;

const relativeFormats = new Map<string, Intl.RelativeTimeFormat>();
const absoluteFormats = new Map<string, Intl.DateTimeFormat>();

/** "just now", "3 minutes ago", "yesterday", "last month", … for `iso` as seen at `now` (ms since epoch). */
export function formatRelative(iso: string, now: number, locale = 'en', justNow = 'just now'): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '';
  const secondsAgo = Math.round((now - then) / 1000);
  if (secondsAgo < JUST_NOW_SECONDS) return justNow;
  let format = relativeFormats.get(locale);
  if (!format) relativeFormats.set(locale, (format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' })));
  for (const [unit, size] of UNITS) {
    if (secondsAgo >= size) return format.format(-Math.floor(secondsAgo / size), unit);
  }
  return format.format(-1, 'minute');
}

/** The exact time with its zone, e.g. "May 17, 2024 at 8:41 PM UTC"; `timeZone` defaults to the reader's. */
export function formatAbsolute(iso: string, locale?: string, timeZone?: string): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '';
  const key = `${locale ?? ''}|${timeZone ?? ''}`;
  let format = absoluteFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, {
      year: 'numeric',
      month: 'long',
      day: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
      timeZoneName: 'short',
      timeZone,
    });
    absoluteFormats.set(key, format);
  }
  return format.format(then);
}

/**
 * Finds http(s) links in plain comment text. Everything else stays text: the widget turns a part
 * into markup only when it is a link here, and then only with createElement('a').
 */

/** A piece of comment text: plain text, or an http(s) link (`href` is the parsed, normalised URL). */
export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

/** A link candidate: the scheme at a word boundary, then anything up to whitespace or a quote-like delimiter. */
const CANDIDATE = /\bhttps?:\/\/[^\s<>"'`\u00A0\u2028\u2029]+/gi;
/** Punctuation that usually ends the sentence around a link rather than the link itself. */
const TRAILING_PUNCTUATION = '.,;:!?\'"*_~\u2018\u2019\u201C\u201D\u00BB\u2026';
const CLOSERS: Readonly<Record<string, string>> = { ')': '(', ']': '[', '}': '{' };

/**
 * Drops trailing punctuation and closing brackets that have no opener inside the link (`(see https://x.org/a)`).
 * Linear: the brackets are counted in one pass, then the end is walked back once, each closer dropped
 * taking one off its count (re-counting the rest for each dropped character made a run of `)` quadratic).
 */
function trimCandidate(candidate: string): string {
  const open: Record<string, number> = {};
  const close: Record<string, number> = {};
  for (const ch of candidate) {
    if (CLOSERS[ch] !== undefined) close[ch] = (close[ch] ?? 0) + 1;
    else if (ch === '(' || ch === '[' || ch === '{') open[ch] = (open[ch] ?? 0) + 1;
  }
  let end = candidate.length;
  while (end > 0) {
    const last = candidate[end - 1]!;
    const opener = CLOSERS[last];
    if (TRAILING_PUNCTUATION.includes(last)) end--;
    else if (opener !== undefined && (open[opener] ?? 0) < (close[last] ?? 0)) {
      close[last]!--;
      end--;
    } else break;
  }
  return candidate.slice(0, end);
}

/** The parsed URL when `text` is a usable http(s) link; null otherwise (other schemes, credentials, no host). */
export function safeHttpUrl(text: string): URL | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  // `https://bank.example@evil.example` reads as the bank but goes elsewhere: keep such text unlinked.
  if (url.username !== '' || url.password !== '' || url.hostname === '') return null;
  return url;
}

/**
 * Splits text into text and link parts. Concatenating every part's `text` gives back `text`
 * exactly, so nothing the author wrote is lost or reordered.
 */
export function splitLinks(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let cursor = 0;
  const pushText = (value: string) => {
    if (value === '') return;
    const last = parts.at(-1);
    if (last?.kind === 'text') last.text += value;
    else parts.push({ kind: 'text', text: value });
  };
  for (const match of text.matchAll(CANDIDATE)) {
    const start = match.index;
    const candidate = trimCandidate(match[0]);
    const url = safeHttpUrl(candidate);
    if (url === null) continue;
    pushText(text.slice(cursor, start));
    parts.push({ kind: 'link', text: candidate, href: url.href });
    cursor = start + candidate.length;
  }
  pushText(text.slice(cursor));
  return parts;
}

/**
 * Text as the word phases see it: case-, width- and accent-folded, split into word tokens, with the
 * digit and symbol swaps spammers use to dodge word lists undone (0→o, 1→i, 3→e, 4→a, 5→s, 7→t, @→a, $→s).
 * One pass per comment, shared by every phase; linear in the text's length.
 */

const SWAPS: Readonly<Record<string, string>> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
};

/**
 * A word: letters and digits, with `@` and `$` taken as letters when they touch it (`@ss`, `a$$`).
 * No nested quantifiers over overlapping classes, so matching is linear.
 */
const TOKEN = /[@$]*[\p{L}\p{N}]+(?:[@$]+[\p{L}\p{N}]+)*[@$]*/gu;
const MARKS = /\p{M}+/gu;

/** Width (NFKC), accents (combining marks dropped after NFD) and case folded. */
export function foldText(text: string): string {
  return text.normalize('NFKC').normalize('NFD').replace(MARKS, '').toLowerCase();
}

/** A token's letters with digits and symbols swapped back (`h3ll0` → `hello`). */
export function unswap(token: string): string {
  let out = '';
  for (const ch of token) out += SWAPS[ch] ?? ch;
  return out;
}

/** The canonical tokens of a text: folded, split into words, swaps undone. */
export function canonicalTokens(text: string): string[] {
  const folded = foldText(text);
  const tokens: string[] = [];
  for (const match of folded.matchAll(TOKEN)) tokens.push(unswap(match[0]));
  return tokens;
}

/** A token as its runs: `baaad` → letters `bad`, runs [1, 3, 1]. Matching compares letters exactly and runs at least. */
export interface Runs {
  letters: string;
  runs: number[];
}

export function runsOf(token: string): Runs {
  let letters = '';
  const runs: number[] = [];
  let last = '';
  for (const ch of token) {
    if (ch === last) runs[runs.length - 1]!++;
    else {
      letters += ch;
      runs.push(1);
      last = ch;
    }
  }
  return { letters, runs };
}

/** True when `token` is `entry` with some letters repeated (`baaad` for `bad`, never `as` for `ass`). */
export function stretches(token: Runs, entry: Runs): boolean {
  if (token.letters !== entry.letters) return false;
  for (let i = 0; i < entry.runs.length; i++) if (token.runs[i]! < entry.runs[i]!) return false;
  return true;
}

/**
 * The text's tokens, plus each run of two or more one-letter tokens joined into a word, so spacing
 * (`b a d`, `b.a.d`, `b-a-d`) does not hide a word. The joined words are extra candidates; the
 * single letters stay, so phrases still match.
 */
export function wordCandidates(tokens: readonly string[]): string[] {
  const out: string[] = [];
  let spelled = '';
  let letters = 0;
  const flush = (): void => {
    if (letters >= 2) out.push(spelled);
    spelled = '';
    letters = 0;
  };
  for (const token of tokens) {
    out.push(token);
    if ([...token].length === 1) {
      spelled += token;
      letters++;
    } else flush();
  }
  flush();
  return out;
}

/** The text as the repeat phase compares it: canonical tokens joined by one space. */
export function repeatKey(tokens: readonly string[]): string {
  return tokens.join(' ');
}

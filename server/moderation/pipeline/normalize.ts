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
const ASCII = /^[\x00-\x7f]*$/;
const ASCII_SEPARATORS = /[^a-z0-9@$]+/;
const ASCII_WORD = /[a-z0-9]/;
const SWAPPED = /[013457@$]/;
const SWAPPED_ALL = /[013457@$]/g;
const REPEATS = /(.)\1+/gsu;

/** Width (NFKC), accents (combining marks dropped after NFD) and case folded; ASCII text needs case only. */
export function foldText(text: string): string {
  if (ASCII.test(text)) return text.toLowerCase();
  return text.normalize('NFKC').normalize('NFD').replace(MARKS, '').toLowerCase();
}

/** A token's letters with digits and symbols swapped back (`h3ll0` → `hello`). */
export function unswap(token: string): string {
  return SWAPPED.test(token) ? token.replace(SWAPPED_ALL, (ch) => SWAPS[ch]!) : token;
}

/** A token with every run of one letter collapsed (`baaad` → `bad`): the key word lists are indexed by. */
export function collapse(token: string): string {
  // Most words have no doubled letter, or one: a scan of code units finds out without a regex.
  for (let i = 1; i < token.length; i++)
    if (token.charCodeAt(i) === token.charCodeAt(i - 1)) return token.replace(REPEATS, '$1');
  return token;
}

/** The canonical tokens of a text: folded, split into words, swaps undone. */
export function canonicalTokens(text: string): string[] {
  const folded = foldText(text);
  const tokens: string[] = [];
  if (ASCII.test(folded)) {
    // The same tokens as TOKEN, by a split on an ASCII class (no Unicode property lookups): a piece of
    // only `@`/`$` is no word.
    for (const piece of folded.split(ASCII_SEPARATORS))
      if (piece !== '' && ASCII_WORD.test(piece)) tokens.push(unswap(piece));
    return tokens;
  }
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

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

const MARKS = /\p{M}+/gu;
const ASCII = /^[\x00-\x7f]*$/;
/** One letter or digit of any script (a single code point). */
const LETTER_OR_DIGIT = /^[\p{L}\p{N}]$/u;
const SWAPPED_ALL = /[013457@$]/g;
const REPEATS = /(.)\1+/gsu;

/**
 * Width and compatibility forms, accents (combining marks dropped) and case folded; ASCII text needs
 * case only. NFKD is NFKC followed by NFD in one pass (the compatibility decomposition, marks apart).
 */
export function foldText(text: string): string {
  if (ASCII.test(text)) return text.toLowerCase();
  return text.normalize('NFKD').replace(MARKS, '').toLowerCase();
}

/** A token's letters with digits and symbols swapped back (`h3ll0` → `hello`). */
export function unswap(token: string): string {
  // Most tokens have no swapped character: a scan of code units finds out without a regex.
  for (let i = 0; i < token.length; i++)
    if (SWAPS[token[i]!] !== undefined) return token.replace(SWAPPED_ALL, (ch) => SWAPS[ch]!);
  return token;
}

/** A token with every run of one letter collapsed (`baaad` → `bad`): the key word lists are indexed by. */
export function collapse(token: string): string {
  // Most words have no doubled letter, or one: a scan of code units finds out without a regex.
  for (let i = 1; i < token.length; i++)
    if (token.charCodeAt(i) === token.charCodeAt(i - 1)) return token.replace(REPEATS, '$1');
  return token;
}

/** Whether a code point outside ASCII is a letter or digit, remembered: comments reuse few of them. */
const wordCodePoints = new Map<number, boolean>();
const WORD_CODE_POINTS_KEPT = 4096;

/** A letter or digit of any script; `@` and `$` are not (they join a word only when they touch one). */
function isWordCodePoint(cp: number): boolean {
  if (cp < 0x80) return (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a);
  let known = wordCodePoints.get(cp);
  if (known === undefined) {
    known = LETTER_OR_DIGIT.test(String.fromCodePoint(cp));
    if (wordCodePoints.size < WORD_CODE_POINTS_KEPT) wordCodePoints.set(cp, known);
  }
  return known;
}

const AT = 0x40;
const DOLLAR = 0x24;

/**
 * The canonical tokens of a text: folded, split into words, swaps undone. A word is a longest run of
 * letters, digits, `@` and `$` holding at least one letter or digit, so `@` and `$` count as letters
 * when they touch a word (`@ss`, `a$$`) and a run of them alone is no word. One scan of code units,
 * no regex per character: linear, and cheap for the mostly-Latin text most comments are.
 */
export function canonicalTokens(text: string): string[] {
  const folded = foldText(text);
  const tokens: string[] = [];
  let start = -1;
  let hasWord = false;
  const end = (at: number): void => {
    if (start >= 0 && hasWord) tokens.push(unswap(folded.slice(start, at)));
    start = -1;
    hasWord = false;
  };
  for (let i = 0; i < folded.length; i++) {
    const cp = folded.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if (isWordCodePoint(cp)) {
      if (start < 0) start = i;
      hasWord = true;
    } else if (cp === AT || cp === DOLLAR) {
      if (start < 0) start = i;
    } else end(i);
    i += width - 1;
  }
  end(folded.length);
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
    // One code point: a letter spelled out on its own (checked without spreading the token).
    if (token.length === 1 || (token.length === 2 && token.codePointAt(0)! > 0xffff)) {
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

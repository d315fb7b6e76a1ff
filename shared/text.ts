/**
 * Text rules shared by the server and the widget. Every function here is given input whose length
 * was already bounded by the caller's schema, so no regex runs on unbounded input.
 *
 * Every free text a client sends (names, bodies, ban reasons) is made well-formed first: a lone
 * UTF-16 surrogate (half of a pair, without its other half) becomes U+FFFD before anything is
 * counted. Otherwise a stored text would not read back as it was counted: SQLite stores a lone
 * surrogate as three bytes that read back as three U+FFFD, PostgreSQL as one, and JSON.stringify
 * escapes it. NUL and the other C0/C1 controls never reach a store either (PostgreSQL text cannot
 * hold NUL at all): names refuse them, bodies and single-line notes drop them.
 */

/** Bidi embedding/override/isolate controls and marks: they can make a name read as something else. */
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;
/** Zero-width and invisible characters that let two names look the same. */
const INVISIBLES = /[\u00AD\u034F\u115F\u1160\u17B4\u17B5\u180E\u200B-\u200D\u2060-\u2064\u3164\uFEFF\uFFA0]/;
/** C0/C1 controls; a name is a single line. */
const CONTROLS_IN_NAME = /[\u0000-\u001F\u007F-\u009F]/;
/** C0/C1 controls, newline and tab included: a single-line note (a ban reason) keeps none. */
const CONTROLS_IN_LINE = /[\u0000-\u001F\u007F-\u009F]/g;
/** Controls not allowed in a body; newline and tab are kept. */
const CONTROLS_IN_BODY = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
/** Explicit overrides and embeddings in bodies are dropped; isolates are kept harmless by `dir="auto"` rendering. */
const BIDI_OVERRIDES_IN_BODY = /[\u202A-\u202E\u2066-\u2069]/g;

/** With the `u` flag a string is read by code points, so `\p{Cs}` matches exactly the surrogates that are not part of a pair. */
const LONE_SURROGATES = /\p{Cs}/gu;

/** The text with every lone surrogate replaced by U+FFFD (what `String.prototype.toWellFormed` does; not in every browser the widget supports). */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATES, '\uFFFD');
}

/** Why a display name is refused, or null when it is fine. */
export function nameProblem(name: string): string | null {
  if (BIDI_CONTROLS.test(name)) return 'Name must not contain bidirectional control characters';
  if (INVISIBLES.test(name)) return 'Name must not contain invisible or zero-width characters';
  if (CONTROLS_IN_NAME.test(name)) return 'Name must not contain control characters';
  return null;
}

/** Makes a display name well-formed, NFC-normalises and trims it. */
export function normalizeName(name: string): string {
  return wellFormed(name).normalize('NFC').trim();
}

/** Normalises a body: well-formed, NFC, CRLF to LF, controls and bidi overrides removed, trimmed. Newlines are kept. */
export function normalizeBody(body: string): string {
  return wellFormed(body)
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(CONTROLS_IN_BODY, '')
    .replace(BIDI_OVERRIDES_IN_BODY, '')
    .trim();
}

/** Normalises a single-line note (a ban reason): well-formed, NFC, every control and bidi override removed, trimmed. */
export function normalizeLine(text: string): string {
  return wellFormed(text).normalize('NFC').replace(CONTROLS_IN_LINE, '').replace(BIDI_OVERRIDES_IN_BODY, '').trim();
}

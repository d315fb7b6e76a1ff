/**
 * Text rules shared by the server and the widget. Every function here is given input whose length
 * was already bounded by the caller's schema, so no regex runs on unbounded input.
 */

/** Bidi embedding/override/isolate controls and marks: they can make a name read as something else. */
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;
/** Zero-width and invisible characters that let two names look the same. */
const INVISIBLES = /[\u00AD\u034F\u115F\u1160\u17B4\u17B5\u180E\u200B-\u200D\u2060-\u2064\u3164\uFEFF\uFFA0]/;
/** C0/C1 controls; a name is a single line. */
const CONTROLS_IN_NAME = /[\u0000-\u001F\u007F-\u009F]/;
/** Controls not allowed in a body; newline and tab are kept. */
const CONTROLS_IN_BODY = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
/** Explicit overrides and embeddings in bodies are dropped; isolates are kept harmless by `dir="auto"` rendering. */
const BIDI_OVERRIDES_IN_BODY = /[\u202A-\u202E\u2066-\u2069]/g;

/** Why a display name is refused, or null when it is fine. */
export function nameProblem(name: string): string | null {
  if (BIDI_CONTROLS.test(name)) return 'Name must not contain bidirectional control characters';
  if (INVISIBLES.test(name)) return 'Name must not contain invisible or zero-width characters';
  if (CONTROLS_IN_NAME.test(name)) return 'Name must not contain control characters';
  return null;
}

/** Trims and NFC-normalises a display name. */
export function normalizeName(name: string): string {
  return name.normalize('NFC').trim();
}

/** Normalises a body: NFC, CRLF to LF, controls and bidi overrides removed, trimmed. Newlines are kept. */
export function normalizeBody(body: string): string {
  return body
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(CONTROLS_IN_BODY, '')
    .replace(BIDI_OVERRIDES_IN_BODY, '')
    .trim();
}

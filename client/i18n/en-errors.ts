/**
 * Words for the error codes of the widget and the server, in the tables of languages other than
 * English: there the widget shows them instead of the server's English message (client/i18n/strings.ts,
 * `Strings.error`). English shows the message itself, so these are not in widget.js; they are the
 * source the translations follow, and a site may override any of them in English too.
 */
export const EN_ERRORS = {
  'error.network': 'Could not reach the comment server.',
  'error.timeout': 'The comment server did not answer in time.',
  'error.bad_response': 'The comment server sent an answer this widget does not understand.',
  'error.invalid_input': 'The comment server did not accept this.',
  'error.not_found': 'This comment no longer exists.',
  'error.unauthenticated': 'Please sign in again.',
  'error.forbidden': 'This is not allowed.',
  'error.rate_limited': 'Too many requests. Wait a moment and try again.',
  'error.payload_too_large': 'This is too long.',
  'error.unavailable': 'The comment server is busy. Try again shortly.',
  'error.internal': 'Something went wrong on the comment server.',
};

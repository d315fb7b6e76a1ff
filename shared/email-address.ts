/**
 * What an e-mail address is here, without zod: shared/reply-emails.ts builds its schema from it, and
 * the widget's reply e-mail opt-in (client/notify/, a small lazy part) checks the field with it.
 */

/** RFC 5321's longest forward path. */
export const EMAIL_MAX = 254;

/** No spaces, one `@`, a dot in the domain. Deliverability is what the confirmation e-mail proves. */
export const EMAIL_PATTERN = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;

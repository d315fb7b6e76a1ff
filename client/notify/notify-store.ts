/**
 * The address the reader last asked reply e-mails at, kept in the host page's localStorage (beside
 * what client/local-store.ts keeps, under the same prefix) so the next post's field is filled in.
 * Not imported from there: that module brings the shared schemas, which this small part does without.
 * Storage can be unavailable (privacy modes, sandboxed frames): then nothing is remembered.
 */
const KEY = 'live-comments:notify-email';

export function readNotifyEmail(): string {
  try {
    return window.localStorage.getItem(KEY) ?? '';
  } catch {
    return '';
  }
}

export function saveNotifyEmail(email: string): void {
  try {
    window.localStorage.setItem(KEY, email);
  } catch {
    // Full or refused storage: the reader types the address next time.
  }
}

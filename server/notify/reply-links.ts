import type { Keyring } from '../keys/keyring.ts';

/**
 * The links of reply e-mails (docs/notifications.md "Reply e-mails"): a subscription id signed with the
 * keyring for one purpose each, so a confirm link cannot unsubscribe and an unsubscribe link cannot
 * confirm. The confirm token expires with the pending subscription; the unsubscribe token does not (a
 * reader may leave from any e-mail, however old).
 */
export class ReplyLinks {
  readonly #keys: Keyring;
  readonly #publicUrl: string;

  /** `publicUrl`: PUBLIC_URL without a trailing slash. */
  constructor(keys: Keyring, publicUrl: string) {
    this.#keys = keys;
    this.#publicUrl = publicUrl;
  }

  confirmUrl(subscriptionId: string, expiresAt: Date): string {
    return this.#url('confirm', this.#keys.sign('confirm-subscription', subscriptionId, expiresAt));
  }

  unsubscribeUrl(subscriptionId: string): string {
    return this.#url('unsubscribe', this.#keys.sign('unsubscribe', subscriptionId));
  }

  /** The subscription id a confirm token carries; null when forged, expired or made for another purpose. */
  confirmed(token: string, now: Date): string | null {
    return this.#keys.verify('confirm-subscription', token, now);
  }

  /** The subscription id an unsubscribe token carries; null when forged or made for another purpose. */
  unsubscribed(token: string): string | null {
    return this.#keys.verify('unsubscribe', token);
  }

  #url(page: 'confirm' | 'unsubscribe', token: string): string {
    return `${this.#publicUrl}/notify/${page}?token=${encodeURIComponent(token)}`;
  }
}

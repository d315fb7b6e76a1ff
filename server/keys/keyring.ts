import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * Every keyed pseudonym and signature the server makes, from one server secret (`SECRET_KEY`, or the
 * one kept in the store: server/keys/server-secret.ts). A key can be recomputed only by someone who
 * holds the secret: a plain hash of a public name and an IPv4 address is reversed by trying all 2^32
 * addresses in minutes; a keyed HMAC is not.
 *
 * - `deriveKey(purpose, value)`: a stable pseudonym (32 base64url characters, 192 bits). Values of one
 *   purpose from different sources carry a prefix each, so they never collide: author keys are
 *   `guest:<normalised name>\0<IP bucket>` (server/abuse/keys.ts), `sso:<sub>` for a signed-in
 *   member, `import:<format>:<id>` for an imported author.
 * - `sign(purpose, payload, expiresAt?)` / `verify(purpose, token, now?)`: a tamper-proof token for a
 *   link or a cookie (an unsubscribe link, say). The payload travels readable (base64url), so it must
 *   hold nothing secret.
 *
 * Each purpose gets its own subkey (HKDF-SHA-256 over the secret), so a value or token made for one
 * purpose is worthless for another, and the secret itself never meets user input.
 */
export type KeyPurpose =
  /** Who posted, for bans and the per-author post budget. */
  | 'author'
  /** A client IP bucket, for the per-IP post budget in Redis. */
  | 'ip'
  /** The reader id a member likes with (`sso:<sub>`): one like per account, on any browser. */
  | 'reader'
  /** An e-mail address, for the daily cap of reply e-mails (counted without keeping the address). */
  | 'email';

/** A purpose a token is signed for; later features add theirs here. */
export type TokenPurpose = 'unsubscribe' | 'confirm-subscription';

/** Characters of a derived key: 192 bits, and what AuthorKeySchema and the stores already hold. */
const KEY_CHARS = 32;
/** The least a secret may hold (bytes of UTF-8): 256 bits of a random string. */
export const MIN_SECRET_BYTES = 32;

const b64 = (bytes: Buffer): string => bytes.toString('base64url');

export class Keyring {
  readonly #secret: Buffer;
  readonly #subkeys = new Map<string, Buffer>();
  /** A short public fingerprint of the secret, for logs: instances that show the same id share a secret. */
  readonly id: string;

  constructor(secret: string) {
    const bytes = Buffer.from(secret, 'utf8');
    if (bytes.length < MIN_SECRET_BYTES)
      throw new Error(`A server secret needs at least ${MIN_SECRET_BYTES} bytes, got ${bytes.length}`);
    this.#secret = bytes;
    this.id = this.#mac('fingerprint', '').slice(0, 8);
  }

  /** The keyed pseudonym of `value` for `purpose`; the same on every instance that holds the secret. */
  deriveKey(purpose: KeyPurpose, value: string): string {
    return this.#mac(`key:${purpose}`, value).slice(0, KEY_CHARS);
  }

  /** `payload` with a signature (and an expiry, if given): `<payload>.<expiry>.<signature>`, URL-safe. */
  sign(purpose: TokenPurpose, payload: string, expiresAt?: Date): string {
    const expiry = expiresAt === undefined ? '' : Math.ceil(expiresAt.getTime() / 1000).toString(36);
    const body = `${b64(Buffer.from(payload, 'utf8'))}.${expiry}`;
    return `${body}.${this.#mac(`token:${purpose}`, body)}`;
  }

  /** The payload of a token this secret signed for `purpose` and not expired at `now`; null for anything else. */
  verify(purpose: TokenPurpose, token: string, now: Date = new Date()): string | null {
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    const [payload = '', expiry = '', signature = ''] = parts;
    const body = `${payload}.${expiry}`;
    const expected = Buffer.from(this.#mac(`token:${purpose}`, body), 'utf8');
    const given = Buffer.from(signature, 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    if (expiry !== '' && Number.parseInt(expiry, 36) * 1000 <= now.getTime()) return null;
    return Buffer.from(payload, 'base64url').toString('utf8');
  }

  #mac(context: string, message: string): string {
    let subkey = this.#subkeys.get(context);
    if (subkey === undefined) {
      subkey = Buffer.from(hkdfSync('sha256', this.#secret, 'live-comments', context, 32));
      this.#subkeys.set(context, subkey);
    }
    return b64(createHmac('sha256', subkey).update(message, 'utf8').digest());
  }
}

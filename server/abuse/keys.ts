import { createHmac, randomBytes } from 'node:crypto';
import type { Keyring } from '../keys/keyring.ts';
import { ipBucket } from './client-ip.ts';

/** Longest raw name turned into a key; a longer one is refused by validation anyway. */
const MAX_NAME_CHARS = 240;

/**
 * A display name reduced to what a reader sees as "the same name": compatibility-normalised,
 * lower-cased, runs of whitespace collapsed. `Ann`, ` ANN ` and `Ａｎｎ` share one budget.
 */
export function normaliseAuthorName(name: string): string {
  return name.slice(0, MAX_NAME_CHARS).normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Rate-limit key of a client IP (IPv6 by /64): a keyed HMAC, so the key in Redis gives the address away to no one without the secret. */
export function ipKey(keys: Keyring, ip: string): string {
  return keys.deriveKey('ip', ipBucket(ip));
}

/**
 * The author key of a guest poster: the normalised name together with the IP, keyed. Bans are made on
 * it and the per-author post budget counts by it; moderators see it, and cannot recover the address.
 */
export function authorKey(keys: Keyring, name: string, ip: string): string {
  return keys.deriveKey('author', `guest:${normaliseAuthorName(name)}\0${ipBucket(ip)}`);
}

/**
 * The author key of a member (signed in by the host site): from their `sub` alone, so a ban made
 * from one of their comments follows the account across names, networks and devices.
 */
export function memberAuthorKey(keys: Keyring, sub: string): string {
  return keys.deriveKey('author', `sso:${sub}`);
}

/** A per-process secret: log ids correlate lines of one process but cannot be turned back into an address by hashing guesses. */
const LOG_SALT = randomBytes(16);

/** What a log line may say about a client: a salted digest of its IP bucket, never the address. */
export function logId(ip: string): string {
  return createHmac('sha256', LOG_SALT).update(ipBucket(ip)).digest('base64url').slice(0, 12);
}

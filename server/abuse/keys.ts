import { createHash, createHmac, randomBytes } from 'node:crypto';
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

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url').slice(0, 32);

/** Rate-limit key of a client IP (IPv6 by /64). Hashed, so no address is stored in Redis as is; the same on every instance. */
export function ipKey(ip: string): string {
  return sha256(`ip\0${ipBucket(ip)}`);
}

/** Rate-limit key of an author: the normalised name together with the IP, hashed. */
export function authorKey(name: string, ip: string): string {
  return sha256(`author\0${normaliseAuthorName(name)}\0${ipBucket(ip)}`);
}

/** A per-process secret: log ids correlate lines of one process but cannot be turned back into an address by hashing guesses. */
const LOG_SALT = randomBytes(16);

/** What a log line may say about a client: a salted digest of its IP bucket, never the address. */
export function logId(ip: string): string {
  return createHmac('sha256', LOG_SALT).update(ipBucket(ip)).digest('base64url').slice(0, 12);
}

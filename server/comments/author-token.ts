import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const TOKEN_BYTES = 32;
/** Random bytes drawn 128 tokens at a time: one call into the CSPRNG per 128 posts instead of one per post. */
const POOL_BYTES = TOKEN_BYTES * 128;
let pool = Buffer.alloc(0);
let used = 0;

/** A fresh author token: 32 random bytes (each byte used once), base64url. Only its hash is stored. */
export function newAuthorToken(): string {
  if (used + TOKEN_BYTES > pool.length) {
    pool = randomBytes(POOL_BYTES);
    used = 0;
  }
  const token = pool.toString('base64url', used, used + TOKEN_BYTES);
  used += TOKEN_BYTES;
  return token;
}

export function hashAuthorToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Compares a presented token with a stored hash in constant time. */
export function authorTokenMatches(token: string, storedHash: string): boolean {
  const presented = Buffer.from(hashAuthorToken(token), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/**
 * The author token of a post that carries a `clientSecret`: derived from it, so a retry that proves
 * it comes from the poster (the same secret) gets the very token the first answer carried, and
 * nothing stored ever has to change. Only the poster knows the secret; only the token's hash is stored.
 */
export function authorTokenFromSecret(clientSecret: string): string {
  return createHash('sha256')
    .update('live-comments author token\0', 'utf8')
    .update(clientSecret, 'utf8')
    .digest('base64url');
}

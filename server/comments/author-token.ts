import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh author token: 32 random bytes, base64url. Only its hash is stored. */
export function newAuthorToken(): string {
  return randomBytes(32).toString('base64url');
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

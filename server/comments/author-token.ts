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

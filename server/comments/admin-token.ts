import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * True when `presented` is the configured moderator token. Both sides are hashed first, so the
 * comparison is constant-time and does not reveal the token's length. Without a configured token
 * nobody is a moderator.
 */
export function adminTokenMatches(presented: string | undefined, configured: string | undefined): boolean {
  if (configured === undefined || presented === undefined || presented.length === 0) return false;
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(configured, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header; undefined when absent or of another scheme. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ ]+([^\s]{1,8192})\s*$/i.exec(header);
  return match?.[1];
}

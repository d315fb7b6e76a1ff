/** What the widget reads of a member token: the reader's name and when it expires. */
export interface TokenClaims {
  name: string;
  /** Expiry, in seconds since the epoch. */
  exp: number;
}

/**
 * The `name` and `exp` claims of a JWT, read from its payload without verifying it: the widget only
 * shows the name and times the refresh; the server verifies every use. Null when the token is not
 * a JWT or lacks them.
 */
export function readClaims(token: string): TokenClaims | null {
  try {
    const base64 = (token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/');
    const claims: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))));
    if (typeof claims !== 'object' || claims === null) return null;
    const { name, exp } = claims as Record<string, unknown>;
    return typeof name === 'string' && typeof exp === 'number' ? { name, exp } : null;
  } catch {
    return null;
  }
}

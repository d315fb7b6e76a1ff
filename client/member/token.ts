/** What the widget reads of a member token: the reader's name, when it expires, and their address. */
export interface TokenClaims {
  name: string;
  /** Expiry, in seconds since the epoch. */
  exp: number;
  /** The `email` claim: reply e-mails go there without a field to fill in (client/notify/). */
  email?: string;
}

/**
 * The `name`, `exp` and `email` claims of a JWT, read from its payload without verifying it: the
 * widget only shows the name and the address and times the refresh; the server verifies every use.
 * Null when the token is not a JWT or lacks a name or an expiry.
 */
export function readClaims(token: string): TokenClaims | null {
  try {
    const base64 = (token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/');
    const claims: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))));
    if (typeof claims !== 'object' || claims === null) return null;
    const { name, exp, email } = claims as Record<string, unknown>;
    if (typeof name !== 'string' || typeof exp !== 'number') return null;
    return typeof email === 'string' ? { name, exp, email } : { name, exp };
  } catch {
    return null;
  }
}

import type { Config } from './config.ts';

/** Decides which page origins may embed the widget and write. Used by HTTP (CORS, writes) and the WebSocket handshake. */
export interface OriginPolicy {
  readonly any: boolean;
  /**
   * True when a request with this Origin header may proceed. No Origin means a non-browser client
   * (cross-site request forgery needs a browser); an Origin whose host is the request's own Host is
   * the server's own pages (the demo, the admin page).
   */
  allows(origin: string | undefined, host: string | undefined): boolean;
}

function isSameHost(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

export function createOriginPolicy(allowed: Config['allowedOrigins']): OriginPolicy {
  if (allowed === 'any') return { any: true, allows: () => true };
  const set = new Set(allowed);
  return {
    any: false,
    allows: (origin, host) => origin === undefined || set.has(origin) || isSameHost(origin, host),
  };
}

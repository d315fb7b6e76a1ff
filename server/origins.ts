import type { Config } from './config.ts';
import { KeyedLogThrottle } from './log-throttle.ts';

/** The few log methods the policy needs; a pino logger fits. */
export interface OriginLogger {
  warn(obj: object, msg: string): void;
}

/** A refused origin is logged at most once a minute (per origin), however many requests it sends. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;

/** Decides which page origins may embed the widget and write. Used by HTTP (CORS, writes) and the WebSocket handshake. */
export interface OriginPolicy {
  readonly any: boolean;
  /**
   * True when a request with this Origin header may proceed. No Origin means a non-browser client
   * (cross-site request forgery needs a browser); an Origin whose host is the request's own Host is
   * the server's own pages (the demo, the admin page).
   */
  allows(origin: string | undefined, host: string | undefined): boolean;
  /**
   * Records that a request of this origin was refused (`what`: `http` or `socket`): a warning naming
   * the origin and ALLOWED_ORIGINS, at most once per origin per minute, so the site owner finds the cause.
   */
  refused(origin: string, what: 'http' | 'socket'): void;
}

function isSameHost(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

export function createOriginPolicy(allowed: Config['allowedOrigins'], logger?: OriginLogger): OriginPolicy {
  if (allowed === 'any') return { any: true, allows: () => true, refused: () => undefined };
  const set = new Set(allowed);
  const refusals = new KeyedLogThrottle(REFUSAL_LOG_INTERVAL_MS);
  return {
    any: false,
    allows: (origin, host) => origin === undefined || set.has(origin) || isSameHost(origin, host),
    refused: (origin, what) => {
      const shown = origin.slice(0, 200);
      refusals.run(shown, () =>
        logger?.warn(
          { origin: shown, transport: what, allowedOrigins: [...set] },
          'request from a page origin not in ALLOWED_ORIGINS refused (add the origin to ALLOWED_ORIGINS if the widget should work there)',
        ),
      );
    },
  };
}

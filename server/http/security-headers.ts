import type { RequestHandler } from 'express';
import helmet from 'helmet';
import type { Config } from '../config.ts';

/**
 * Paths other sites load with a plain `<script src>` (a no-cors request), which must not be locked to
 * this origin: `/widget.js`, every part of it loaded on first use (`/widget-<part>.js`, client/parts.ts)
 * and `/count.js`. A pattern, so a new part needs no entry here.
 */
export const CROSS_ORIGIN_PATH = /^\/(?:widget(?:-[a-z]+)?|count)\.js$/;

/** `frame-ancestors` sources: this origin plus the allowed page origins, or any page when every origin is allowed. */
export function frameAncestors(allowedOrigins: Config['allowedOrigins']): string[] {
  return allowedOrigins === 'any' ? ['*'] : ["'self'", ...allowedOrigins];
}

/**
 * Security headers for every Express response (helmet): a Content-Security-Policy whose
 * `frame-ancestors` says which pages may frame our pages, `nosniff`, no referrer, HSTS, and
 * `Cross-Origin-Resource-Policy: same-origin` except on {@link CROSS_ORIGIN_PATH}.
 *
 * Left out on purpose: `upgrade-insecure-requests` (it would break a plain-http install, where every
 * subresource would be rewritten to https) and `X-Frame-Options` (it cannot name several origins,
 * and `frame-ancestors` supersedes it in every browser that supports CSP).
 */
export function createSecurityHeaders(allowedOrigins: Config['allowedOrigins']): RequestHandler {
  const middleware = helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'frame-ancestors': frameAncestors(allowedOrigins),
        'upgrade-insecure-requests': null,
      },
    },
    xFrameOptions: false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  const fixed = headersOf(middleware);
  return (req, res, next) => {
    for (const [name, value] of fixed) res.setHeader(name, value);
    if (CROSS_ORIGIN_PATH.test(req.path)) res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    next();
  };
}

/**
 * The headers helmet's middleware sets, read once: with these options every one of them is the same
 * on every response, and setting them from a list costs a fraction of running helmet's eleven
 * middleware functions per request (3.5 % of a post's CPU, issue 16). Throws if helmet ever answers
 * with an error or leaves a header to the request.
 */
function headersOf(middleware: RequestHandler): Array<[string, string]> {
  const set = new Map<string, string>();
  const res = {
    setHeader: (name: string, value: string) => set.set(name, value),
    // helmet removes X-Powered-By, which Express is told not to send anyway (app.ts).
    removeHeader: () => undefined,
  };
  let passed = false;
  middleware(
    {} as Parameters<RequestHandler>[0],
    res as unknown as Parameters<RequestHandler>[1],
    (error?: unknown) => {
      if (error !== undefined) throw error instanceof Error ? error : new Error('helmet refused its options');
      passed = true;
    },
  );
  if (!passed) throw new Error('helmet did not set its headers synchronously');
  return [...set];
}

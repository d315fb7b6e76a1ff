import type { RequestHandler } from 'express';
import helmet from 'helmet';
import type { Config } from '../config.ts';

/** Paths other sites load with a plain `<script src>` (a no-cors request): they must not be locked to this origin. */
export const CROSS_ORIGIN_PATHS: readonly string[] = [
  '/widget.js',
  '/widget-own.js',
  '/widget-member.js',
  '/widget-report.js',
  '/count.js',
];

/** `frame-ancestors` sources: this origin plus the allowed page origins, or any page when every origin is allowed. */
export function frameAncestors(allowedOrigins: Config['allowedOrigins']): string[] {
  return allowedOrigins === 'any' ? ['*'] : ["'self'", ...allowedOrigins];
}

/**
 * Security headers for every Express response (helmet): a Content-Security-Policy whose
 * `frame-ancestors` says which pages may frame our pages, `nosniff`, no referrer, HSTS, and
 * `Cross-Origin-Resource-Policy: same-origin` except on {@link CROSS_ORIGIN_PATHS}.
 *
 * Left out on purpose: `upgrade-insecure-requests` (it would break a plain-http install, where every
 * subresource would be rewritten to https) and `X-Frame-Options` (it cannot name several origins,
 * and `frame-ancestors` supersedes it in every browser that supports CSP).
 */
export function createSecurityHeaders(allowedOrigins: Config['allowedOrigins']): RequestHandler {
  const headers = helmet({
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
  const crossOrigin = new Set(CROSS_ORIGIN_PATHS);
  return (req, res, next) => {
    headers(req, res, (error?: unknown) => {
      if (error !== undefined) return next(error);
      if (crossOrigin.has(req.path)) res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
      next();
    });
  };
}

import type { RequestHandler } from 'express';
import { AppError } from '../../shared/errors.ts';
import type { OriginPolicy } from '../origins.ts';
import { sendError } from './errors.ts';

/**
 * CORS for cross-origin embedding, and the origin guard: every API request from a page whose origin
 * is not in ALLOWED_ORIGINS is refused, reads as well as writes (CORS alone would still let a write
 * through, only hiding the answer). The refusal itself is readable by that page (it carries its
 * Access-Control-Allow-Origin), so the widget can tell its site owner why; it is logged once per
 * origin per minute. Requests without an Origin (not from a browser page) and the server's own pages
 * are not concerned. No cookies are used, so no credentials are allowed.
 */
export function createCrossOriginMiddleware(policy: OriginPolicy): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    const allowed = policy.allows(origin, req.headers.host);
    if (origin !== undefined) {
      res.setHeader('Access-Control-Allow-Origin', policy.any ? '*' : origin);
      if (!policy.any) res.vary('Origin');
      res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
    }
    if (origin !== undefined && !allowed) policy.refused(origin, 'http');
    if (req.method === 'OPTIONS') {
      if (allowed) {
        res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization');
        res.setHeader('Access-Control-Max-Age', '600');
      }
      res.status(204).end();
      return;
    }
    if (!allowed) {
      sendError(
        res,
        new AppError(
          'forbidden',
          `This page's origin (${String(origin).slice(0, 200)}) is not allowed by the comment server: add it to ALLOWED_ORIGINS`,
        ),
      );
      return;
    }
    next();
  };
}

/** Writes carry JSON only: a form post from another site cannot reach the API. */
export const requireJsonBody: RequestHandler = (req, res, next) => {
  if ((req.method === 'POST' || req.method === 'PATCH' || req.method === 'PUT') && !req.is('application/json')) {
    sendError(res, new AppError('invalid_input', 'Content-Type must be application/json'), 415);
    return;
  }
  next();
};

import type { RequestHandler } from 'express';
import { AppError } from '../../shared/errors.ts';
import type { OriginPolicy } from '../origins.ts';
import { sendError } from './errors.ts';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * CORS for cross-origin embedding, and the write guard: writes from a page origin that is not
 * allowed are refused (CORS alone would still let the request through, only hiding the answer).
 * No cookies are used, so no credentials are allowed.
 */
export function createCrossOriginMiddleware(policy: OriginPolicy): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    const allowed = policy.allows(origin, req.headers.host);
    if (origin !== undefined && allowed) {
      res.setHeader('Access-Control-Allow-Origin', policy.any ? '*' : origin);
      if (!policy.any) res.vary('Origin');
      res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
    }
    if (req.method === 'OPTIONS') {
      if (allowed) {
        res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization');
        res.setHeader('Access-Control-Max-Age', '600');
      }
      res.status(204).end();
      return;
    }
    if (WRITE_METHODS.has(req.method) && !allowed) {
      sendError(res, new AppError('forbidden', 'This origin may not post comments here'));
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

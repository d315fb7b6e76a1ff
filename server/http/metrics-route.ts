import { Router, type RequestHandler } from 'express';
import { ERROR_CODES, HTTP_STATUS, type ErrorCode } from '../../shared/errors.ts';
import type { Metrics } from '../metrics.ts';

/** `GET /metrics`: Prometheus text. Serve it to the scraper only (the nginx config keeps it off the public side). */
export function createMetricsRouter(metrics: Metrics): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.type(metrics.contentType).send(await metrics.render());
  });
  return router;
}

/** Status → protocol code; every code has its own status, and a non-JSON write (415) is `invalid_input`. */
const CODE_BY_STATUS: ReadonlyMap<number, ErrorCode> = new Map([
  ...ERROR_CODES.map((code): [number, ErrorCode] => [HTTP_STATUS[code], code]),
  [415, 'invalid_input'],
]);

const POST_COMMENT_PATH = /^\/api\/articles\/[^/]+\/comments\/?$/;

/**
 * Counts refused REST posts by error code, whichever middleware refused them (validation, origin
 * checks, rate limits, an unavailable store): mount it before all of them. Accepted posts are
 * counted by the comment service, which also sees socket posts.
 */
export function countRejectedPosts(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'POST' && POST_COMMENT_PATH.test(req.path)) {
      res.once('finish', () => {
        if (res.statusCode < 400) return;
        metrics.commentRejected(
          CODE_BY_STATUS.get(res.statusCode) ?? (res.statusCode >= 500 ? 'internal' : 'invalid_input'),
          'http',
        );
      });
    }
    next();
  };
}

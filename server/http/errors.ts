import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { AppError, HTTP_STATUS, type ErrorBody } from '../../shared/errors.ts';
import { toPublicError } from '../edge/public-error.ts';
import type { Logger } from '../logger.ts';

/** Writes the protocol's error body with the status of its code. */
export function sendError(res: Response, error: AppError, status = HTTP_STATUS[error.code]): void {
  if (error.retryAfter !== undefined) res.setHeader('Retry-After', String(Math.max(1, Math.ceil(error.retryAfter))));
  const body: ErrorBody = { error: error.toInfo() };
  res.status(status).json(body);
}

export const notFoundHandler: RequestHandler = (_req, res) => {
  sendError(res, new AppError('not_found', 'No such route'));
};

/**
 * Last middleware: every failure becomes a typed error body through the one mapper
 * (server/edge/public-error.ts); unknown ones are logged with the request id and shown as `internal`.
 */
export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const requestId = (req as { id?: unknown }).id;
    const failure = toPublicError(error, logger, { requestId, method: req.method, path: req.path });
    return sendError(res, failure.error, failure.status);
  };
}

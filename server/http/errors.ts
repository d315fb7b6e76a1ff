import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { AppError, HTTP_STATUS, type ErrorBody, type ErrorCode } from '../../shared/errors.ts';
import type { Logger } from '../logger.ts';

/** Writes the protocol's error body with the status of its code. */
export function sendError(res: Response, error: AppError, status = HTTP_STATUS[error.code]): void {
  if (error.retryAfter !== undefined) res.setHeader('Retry-After', String(Math.max(1, Math.ceil(error.retryAfter))));
  const body: ErrorBody = { error: error.toInfo() };
  res.status(status).json(body);
}

/** The errors body-parser raises, mapped to protocol codes. */
function bodyParserError(error: unknown): { code: ErrorCode; status: number; message: string } | null {
  if (typeof error !== 'object' || error === null || !('type' in error)) return null;
  switch ((error as { type: unknown }).type) {
    case 'entity.too.large':
      return { code: 'payload_too_large', status: 413, message: 'Request body is too large' };
    case 'entity.parse.failed':
      return { code: 'invalid_input', status: 400, message: 'Request body is not valid JSON' };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { code: 'invalid_input', status: 415, message: 'Request body must be UTF-8 JSON' };
    case 'request.aborted':
      return { code: 'invalid_input', status: 400, message: 'Request was aborted' };
    default:
      return null;
  }
}

export const notFoundHandler: RequestHandler = (_req, res) => {
  sendError(res, new AppError('not_found', 'No such route'));
};

/** Last middleware: every failure becomes a typed error body; unknown ones are logged and shown as `internal`. */
export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    if (error instanceof AppError) {
      if (error.code === 'unavailable') logger.warn({ err: error.cause ?? error, path: req.path }, 'store unavailable');
      return sendError(res, error);
    }
    const parserError = bodyParserError(error);
    if (parserError) return sendError(res, new AppError(parserError.code, parserError.message), parserError.status);
    // The router could not percent-decode a path parameter (`/api/articles/%/comments`): the client's mistake.
    if (error instanceof URIError)
      return sendError(res, new AppError('invalid_input', 'Malformed percent-encoding in the URL'));
    logger.error({ err: error, method: req.method, path: req.path }, 'unhandled error in request');
    return sendError(res, new AppError('internal', 'Internal error'));
  };
}

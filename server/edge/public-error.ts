import { AppError, HTTP_STATUS } from '../../shared/errors.ts';
import type { Logger } from '../logger.ts';
import { ParentNotFoundError, StoreUnavailableError } from '../storage/port.ts';

/** Seconds a client is told to wait when the store is down. */
export const UNAVAILABLE_RETRY_AFTER = 2;

/** What a client is told about a failure: a typed error (its code and message are safe to show) and the HTTP status. */
export interface PublicError {
  readonly error: AppError;
  readonly status: number;
}

/** Where the failure happened, for the log line of an unexpected one (`requestId`, `event`, `path` …). */
export type FailureContext = Readonly<Record<string, unknown>>;

/** The errors body-parser raises, mapped to protocol codes (their status differs from the code's for 415). */
function bodyParserError(error: unknown): PublicError | null {
  if (typeof error !== 'object' || error === null || !('type' in error)) return null;
  switch (error.type) {
    case 'entity.too.large':
      return { error: new AppError('payload_too_large', 'Request body is too large'), status: 413 };
    case 'entity.parse.failed':
      return { error: new AppError('invalid_input', 'Request body is not valid JSON'), status: 400 };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { error: new AppError('invalid_input', 'Request body must be UTF-8 JSON'), status: 415 };
    case 'request.aborted':
      return { error: new AppError('invalid_input', 'Request was aborted'), status: 400 };
    default:
      return null;
  }
}

const typed = (error: AppError): PublicError => ({ error, status: HTTP_STATUS[error.code] });

/**
 * The one translation of a failure into what a client sees, shared by every transport (the Express
 * error middleware and the socket ack wrapper):
 *
 * - an {@link AppError} is shown as it is (its code's status);
 * - {@link StoreUnavailableError} → `unavailable` (503, Retry-After 2 s), logged as a warning;
 * - {@link ParentNotFoundError} → `invalid_input` on `parentId`;
 * - body-parser and percent-decoding failures of a request → `invalid_input` / `payload_too_large`;
 * - anything else → `internal` (500), logged as an error with its context; its message is never shown.
 */
export function toPublicError(error: unknown, logger: Logger, context: FailureContext = {}): PublicError {
  if (error instanceof AppError) {
    if (error.code === 'unavailable') logger.warn({ ...context, err: error.cause ?? error }, 'store unavailable');
    return typed(error);
  }
  if (error instanceof StoreUnavailableError) {
    logger.warn({ ...context, err: error }, 'store unavailable');
    return typed(
      new AppError('unavailable', 'Comments are temporarily unavailable, please retry', {
        retryAfter: UNAVAILABLE_RETRY_AFTER,
        cause: error,
      }),
    );
  }
  if (error instanceof ParentNotFoundError) {
    return typed(
      new AppError('invalid_input', 'The comment you reply to does not exist in this article', {
        issues: [{ path: 'parentId', message: 'No such comment in this article' }],
      }),
    );
  }
  const parserError = bodyParserError(error);
  if (parserError) return parserError;
  // The router could not percent-decode a path parameter (`/api/articles/%/comments`): the client's mistake.
  if (error instanceof URIError) return typed(new AppError('invalid_input', 'Malformed percent-encoding in the URL'));
  logger.error({ ...context, err: error }, 'unhandled error');
  return typed(new AppError('internal', 'Internal error'));
}

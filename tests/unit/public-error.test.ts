import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { AppError, ErrorInfoSchema } from '../../shared/errors.ts';
import { toPublicError, UNAVAILABLE_RETRY_AFTER } from '../../server/edge/public-error.ts';
import { ParentNotFoundError, StoreUnavailableError } from '../../server/storage/port.ts';

/** A logger that keeps its lines, to see what the mapper logs and with which context. */
function recordingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('toPublicError', () => {
  it("shows an AppError as it is, with its code's status", () => {
    const { logger, lines } = recordingLogger();
    const error = new AppError('forbidden', 'This discussion is closed');
    const mapped = toPublicError(error, logger);
    expect(mapped.status).toBe(403);
    expect(mapped.error).toBe(error);
    expect(lines).toHaveLength(0);
  });

  it('answers a store failure with unavailable, 503 and Retry-After 2, logged as a warning', () => {
    const { logger, lines } = recordingLogger();
    const mapped = toPublicError(new StoreUnavailableError('SQLITE_BUSY: database is locked'), logger, {
      requestId: 'req-1',
    });
    expect(mapped.status).toBe(503);
    expect(mapped.error.code).toBe('unavailable');
    expect(mapped.error.retryAfter).toBe(UNAVAILABLE_RETRY_AFTER);
    expect(UNAVAILABLE_RETRY_AFTER).toBe(2);
    // The store's own words stay in the log.
    expect(mapped.error.message).not.toContain('SQLITE_BUSY');
    expect(lines).toEqual([expect.objectContaining({ level: 40, requestId: 'req-1' })]);
  });

  it('answers a missing parent with invalid_input on parentId', () => {
    const { logger } = recordingLogger();
    const mapped = toPublicError(new ParentNotFoundError('abc'), logger);
    expect(mapped.status).toBe(400);
    expect(mapped.error.code).toBe('invalid_input');
    expect(mapped.error.issues?.map((issue) => issue.path)).toEqual(['parentId']);
  });

  it('answers anything else with internal 500, logging it with its context and never showing its message', () => {
    const { logger, lines } = recordingLogger();
    const mapped = toPublicError(new TypeError('secret detail of a bug'), logger, { requestId: 'req-2', path: '/x' });
    expect(mapped.status).toBe(500);
    expect(ErrorInfoSchema.parse(mapped.error.toInfo())).toEqual({ code: 'internal', message: 'Internal error' });
    expect(JSON.stringify(mapped.error.toInfo())).not.toContain('secret detail');
    expect(lines).toEqual([
      expect.objectContaining({
        level: 50,
        requestId: 'req-2',
        path: '/x',
        err: expect.objectContaining({ message: 'secret detail of a bug' }),
      }),
    ]);
  });

  it("maps body-parser failures and bad percent-encoding to the client's mistake", () => {
    const { logger, lines } = recordingLogger();
    expect(toPublicError(Object.assign(new Error('big'), { type: 'entity.too.large' }), logger)).toMatchObject({
      status: 413,
      error: { code: 'payload_too_large' },
    });
    expect(toPublicError(Object.assign(new Error('x'), { type: 'charset.unsupported' }), logger)).toMatchObject({
      status: 415,
      error: { code: 'invalid_input' },
    });
    expect(toPublicError(new URIError('URI malformed'), logger)).toMatchObject({
      status: 400,
      error: { code: 'invalid_input' },
    });
    expect(lines).toHaveLength(0);
  });
});

import * as z from 'zod/mini';

/** Every error a client can see. Unknown failures are only ever shown as `internal`. */
export const ERROR_CODES = [
  'invalid_input',
  'not_found',
  'unauthenticated',
  'forbidden',
  'rate_limited',
  'payload_too_large',
  'unavailable',
  'internal',
] as const;

export const ErrorCodeSchema = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

/** One problem with one field; `path` is dotted (`author.name`), empty for the whole input. */
export const FieldIssueSchema = z.object({
  path: z.string(),
  message: z.string(),
});
export type FieldIssue = z.infer<typeof FieldIssueSchema>;

export const ErrorInfoSchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  issues: z.optional(z.array(FieldIssueSchema)),
});
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

/** The JSON body of every 4xx/5xx answer of the REST API. */
export const ErrorBodySchema = z.object({ error: ErrorInfoSchema });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/**
 * An error as clients read it: any code, so a code added after a client was built (`unauthenticated`
 * came that way) is shown with the server's message instead of failing as an unreadable answer.
 * Clients compare codes they know and treat any other as a refusal.
 */
export const ReadableErrorInfoSchema = z.object({
  code: z.string(),
  message: z.string(),
  issues: z.optional(z.array(FieldIssueSchema)),
});
export type ReadableErrorInfo = z.infer<typeof ReadableErrorInfoSchema>;
export const ReadableErrorBodySchema = z.object({ error: ReadableErrorInfoSchema });

/** The HTTP status each code travels with. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

/** An error meant for the client: its code and message are safe to show. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly issues: FieldIssue[] | undefined;
  /** Seconds a client should wait before retrying (rate_limited, unavailable). */
  readonly retryAfter: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { issues?: FieldIssue[]; retryAfter?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.issues = options.issues;
    this.retryAfter = options.retryAfter;
  }

  toInfo(): ErrorInfo {
    return this.issues
      ? { code: this.code, message: this.message, issues: this.issues }
      : { code: this.code, message: this.message };
  }
}

/** Turns zod issues into the field issues of the protocol. */
export function toFieldIssues(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): FieldIssue[] {
  return issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

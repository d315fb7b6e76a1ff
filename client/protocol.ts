import * as z from 'zod/mini';
import {
  ReadableErrorBodySchema as ErrorBodySchema,
  type ErrorCode,
  type FieldIssue,
  type ReadableErrorInfo,
} from '../shared/errors.ts';
import { FailedAckSchema, SubscribeAckSchema as SharedSubscribeAckSchema } from '../shared/acks.ts';
import {
  CommentBatchSchema,
  CommentChangeSchema,
  CommentPageSchema,
  CommentSchema,
  PostHeldSchema,
  PostStoredSchema,
  RepliesPageSchema,
} from '../shared/schemas.ts';

/**
 * Failures the widget shows: the protocol's codes plus the ones that happen before an answer exists.
 * A server newer than the widget may answer a code it does not know: it is kept as sent and shown by
 * the server's message, like any refusal.
 */
export type WidgetErrorCode = ErrorCode | 'network' | 'timeout' | 'bad_response' | (string & Record<never, never>);

/** A failure with a message that is safe and useful to show the reader. */
export class WidgetError extends Error {
  readonly code: WidgetErrorCode;
  readonly issues: FieldIssue[];

  constructor(code: WidgetErrorCode, message: string, issues: FieldIssue[] = []) {
    super(message);
    this.name = 'WidgetError';
    this.code = code;
    this.issues = issues;
  }

  static fromInfo(info: ReadableErrorInfo): WidgetError {
    return new WidgetError(info.code, info.message, info.issues ?? []);
  }
}

/**
 * An array checked item by item: an item the schema refuses is dropped instead of failing the whole
 * answer, so one comment this client cannot show (stored by an older server, or a newer shape) never
 * blanks a thread, a catch-up or the moderators' feed.
 */
export function eachValid<S extends z.ZodMiniType>(item: S): z.ZodMiniType<Array<z.output<S>>> {
  // An overwrite on a plain array (not a pipe and a transform): the widget's bundle carries no more of zod for it.
  return z.array(z.unknown()).check(
    z.overwrite((items) =>
      items.flatMap((value) => {
        const parsed = item.safeParse(value);
        return parsed.success ? [parsed.data] : [];
      }),
    ),
  ) as z.ZodMiniType<Array<z.output<S>>>;
}

/** What the widget says of an answer it cannot read. */
export const NOT_UNDERSTOOD = 'The comment server sent an answer this widget does not understand.';

/**
 * Reads an answer that is one of several shapes: the schema is picked from the answer (`pick`), then
 * checked, so the widget carries no union of schemas. Throws a WidgetError when it does not fit.
 */
export function readAnswer<S extends z.ZodMiniType>(answer: unknown, pick: (answer: object) => S): z.output<S> {
  const parsed = typeof answer === 'object' && answer !== null ? pick(answer).safeParse(answer) : null;
  if (!parsed?.success) throw new WidgetError('bad_response', NOT_UNDERSTOOD);
  return parsed.data;
}

/** An ack: `{ ok: false, error }` is thrown as a WidgetError; otherwise checked with `ok`, minus its `ok` field. */
export function readAck<S extends z.ZodMiniType>(answer: unknown, ok: (answer: object) => S): z.output<S> {
  const failed = FailedAckSchema.safeParse(answer);
  if (failed.success) throw WidgetError.fromInfo(failed.data.error);
  return readAnswer(answer, ok);
}

/** The ack of `article:subscribe` (shared/acks.ts), its comments checked one by one. */
export const SubscribeAckSchema = z.object({ ...SharedSubscribeAckSchema.shape, comments: eachValid(CommentSchema) });

/** The answer of a post (REST) or the ack of `comment:post`: stored, or held for pre-moderation. */
export const postAnswerSchema = (answer: object) => ('held' in answer ? PostHeldSchema : PostStoredSchema);

export { ErrorBodySchema };

/** Turns anything thrown while talking to the server into a WidgetError (abort errors pass through). */
export function toWidgetError(error: unknown): WidgetError {
  if (error instanceof WidgetError) return error;
  if (error instanceof Error && /timed out|timeout/i.test(error.message))
    return new WidgetError('timeout', 'The comment server did not answer in time.');
  if (error instanceof Error && /disconnected/i.test(error.message))
    return new WidgetError('network', 'The connection to the comment server was lost.');
  return new WidgetError('network', 'Could not reach the comment server.');
}

/** A page of the thread, its comments checked one by one. */
export const PageAnswerSchema = z.object({ ...CommentPageSchema.shape, comments: eachValid(CommentSchema) });

/** `comment:batch`, its changes checked one by one. */
export const BatchSchema = z.object({ ...CommentBatchSchema.shape, changes: eachValid(CommentChangeSchema) });

/** The replies route's answer, its comments checked one by one. */
export const RepliesAnswerSchema = z.object({ ...RepliesPageSchema.shape, comments: eachValid(CommentSchema) });

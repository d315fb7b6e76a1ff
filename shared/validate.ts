import type * as z from 'zod/mini';
import { AppError, toFieldIssues } from './errors.ts';

/** Parses untrusted input with a shared schema; failure is an `invalid_input` AppError listing each field. */
export function parseInput<S extends z.ZodMiniType>(schema: S, input: unknown, what = 'input'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = toFieldIssues(result.error.issues);
  const first = issues[0];
  const message = first ? `Invalid ${what}: ${first.path ? `${first.path}: ` : ''}${first.message}` : `Invalid ${what}`;
  throw new AppError('invalid_input', message, { issues });
}

import { isDeepStrictEqual } from 'node:util';
import { ACK_SCHEMAS, FailedAckSchema, type AckOf, type ClientEvent } from '../../shared/acks.ts';
import type { Ack } from '../../shared/events.ts';

/**
 * An ack read as a client must: `{ ok: false, error }`, or `ok: true` with exactly the fields the shared
 * schema of its event gives (shared/acks.ts; a field the schema does not name fails too).
 * Typed, so tests need no casts.
 */
export function checkedAck<E extends ClientEvent>(event: E, answer: unknown): Ack<AckOf<E>> {
  const failed = FailedAckSchema.safeParse(answer);
  if (failed.success) return failed.data as Ack<AckOf<E>>;
  if (typeof answer !== 'object' || answer === null || !('ok' in answer) || answer.ok !== true)
    throw new Error(`${event}: not an ack: ${JSON.stringify(answer)}`);
  const { ok: _ok, ...fields } = answer;
  const parsed = ACK_SCHEMAS[event].parse(fields);
  if (!isDeepStrictEqual(parsed, fields))
    throw new Error(`${event}: ack fields beyond its schema: ${JSON.stringify(fields)}`);
  return { ok: true, ...parsed } as Ack<AckOf<E>>;
}

/** The fields of a successful ack; a refusal throws with its code and message. */
export function okAck<E extends ClientEvent>(event: E, answer: unknown): AckOf<E> {
  const ack = checkedAck(event, answer);
  if (!ack.ok) throw new Error(`${event} refused: ${ack.error.code}: ${ack.error.message}`);
  return ack;
}

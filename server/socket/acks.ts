import type { Socket } from 'socket.io';
import type { ErrorInfo } from '../../shared/errors.ts';
import type { Ack } from '../../shared/events.ts';
import { toPublicError } from '../edge/public-error.ts';
import type { Logger } from '../logger.ts';

/** A socket event as it arrives from the network: the payload may be anything and the ack may be missing. */
export interface IncomingEvent {
  payload: unknown;
  ack: ((answer: Ack<object>) => void) | undefined;
}

/** Splits an event's arguments into its payload and its ack callback (the last argument, when a function). */
export function incomingEvent(args: readonly unknown[]): IncomingEvent {
  const last = args.at(-1);
  const ack = typeof last === 'function' ? (last as (answer: Ack<object>) => void) : undefined;
  return { payload: ack ? args.slice(0, -1)[0] : args[0], ack };
}

export interface AckContext {
  logger: Logger;
  event: string;
  socketId: string;
  /** Told the code of every refusal (metrics). */
  refused?: (info: ErrorInfo) => void;
}

/**
 * Answers an event with its ack: `{ ok: true, …result }`, or `{ ok: false, error }` with the failure
 * translated by the one mapper (server/edge/public-error.ts), exactly as REST would answer it. Every ack
 * of the socket edge goes through here; nothing else builds an `{ ok: false }`.
 */
export function answerAck(work: Promise<object>, ack: IncomingEvent['ack'], context: AckContext): void {
  work.then(
    (result) => ack?.({ ok: true, ...result }),
    (error: unknown) => {
      const info = refusal(error, context);
      ack?.({ ok: false, error: info });
    },
  );
}

/** The ack error of a failure (logged as the mapper decides), told to `context.refused`. */
export function refusal(error: unknown, context: AckContext): ErrorInfo {
  const info = toPublicError(error, context.logger, {
    event: context.event,
    socketId: context.socketId,
  }).error.toInfo();
  context.refused?.(info);
  return info;
}

/** Registers listeners for events whose arguments come from the network (validated by the handlers). */
export function onUntyped(socket: Socket, event: string, listener: (...args: unknown[]) => void): void {
  (socket as unknown as { on(event: string, listener: (...args: unknown[]) => void): void }).on(event, listener);
}

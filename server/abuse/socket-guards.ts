import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../../shared/errors.ts';
import type { Logger } from '../logger.ts';
import { incomingEvent, refusal } from '../socket/acks.ts';
import type { CommentServer } from '../socket/gateway.ts';
import type { HandshakeConnection } from './client-ip.ts';
import { logId } from './keys.ts';
import { LogThrottle } from '../log-throttle.ts';
import { posterName, type PostRateLimiter } from './post-limiter.ts';

export interface SocketGuardOptions {
  /** Events one connection may send per 10 s; 0: no limit. Kept in this instance's memory (a connection lives on one instance). */
  eventsPer10s: number;
  /** The same post budgets as REST, so moving to the socket gains nothing. */
  posts: PostRateLimiter;
  /** The client IP of a connection (recorded from its handshake request). */
  clientIp: (socket: { conn: HandshakeConnection }) => string;
  logger: Logger;
}

const EVENT_WINDOW_SECONDS = 10;

/**
 * Packet middleware on every connection: counts each incoming event against the connection's budget
 * and each `comment:post` against the post budgets, before any handler runs. A refused event gets
 * the ack `{ ok: false, error: { code: 'rate_limited' } }` (when the client asked for one) and is dropped.
 */
export function attachSocketGuards(io: CommentServer, options: SocketGuardOptions): void {
  const events =
    options.eventsPer10s > 0
      ? new RateLimiterMemory({ points: options.eventsPer10s, duration: EVENT_WINDOW_SECONDS })
      : null;
  if (!events && !options.posts.enabled) return;
  const limitedLog = new LogThrottle(5000);

  const check = async (connectionId: string, ip: string, event: unknown, payload: unknown): Promise<void> => {
    if (events) {
      await events.consume(connectionId).catch((rejection: unknown) => {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        limitedLog.run((suppressed) =>
          options.logger.info({ client: logId(ip), retryAfter, suppressed }, 'socket events rate limited'),
        );
        throw new AppError('rate_limited', `Too many messages on this connection; try again in ${retryAfter} s`, {
          retryAfter,
        });
      });
    }
    if (event === 'comment:post' && options.posts.enabled)
      await options.posts.consume({ ip, name: posterName(payload) });
  };

  // Budgets are kept per engine.io connection, not per Socket.IO socket: leaving the namespace and
  // joining it again on the same WebSocket (`41` then `40`) makes a new socket, not a new budget.
  const keys = new WeakMap<object, string>();
  let connections = 0;
  io.on('connection', (socket) => {
    const ip = options.clientIp(socket);
    const connection = socket.conn;
    let key = keys.get(connection);
    if (key === undefined) {
      keys.set(connection, (key = `c${++connections}`));
      const forget = key;
      if (events) connection.once('close', () => void events.delete(forget).catch(() => undefined));
    }
    const budgetKey = key;
    socket.use((packet, next) => {
      const [event, ...args] = packet as unknown[];
      const { payload, ack } = incomingEvent(args);
      check(budgetKey, ip, event, payload).then(
        () => next(),
        (error: unknown) => {
          const info = refusal(error, { logger: options.logger, event: String(event), socketId: socket.id });
          ack?.({ ok: false, error: info });
        },
      );
    });
  });
}

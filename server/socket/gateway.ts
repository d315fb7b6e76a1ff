import type { Server, Socket } from 'socket.io';
import { AppError, type ErrorInfo } from '../../shared/errors.ts';
import { articleRoom, type Ack, type ClientToServerEvents, type ServerToClientEvents } from '../../shared/events.ts';
import { PostCommentPayloadSchema, SubscribePayloadSchema, UnsubscribePayloadSchema } from '../../shared/schemas.ts';
import { parseInput } from '../../shared/validate.ts';
import type { CommentService } from '../comments/service.ts';
import type { FanOut } from '../fanout/port.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { withTimeout } from '../with-timeout.ts';
import { Broadcaster } from './broadcaster.ts';

export type CommentServer = Server<ClientToServerEvents, ServerToClientEvents>;
type CommentSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

/** Articles one connection may watch at once. */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 50;
/**
 * How long a subscribe waits for the fan-out subscription to be confirmed before reading the
 * store. Waiting closes the gap where another instance's change would be neither read nor pushed;
 * past the bound (Redis down) the client is served anyway and the resync `article:head` covers it.
 */
const FANOUT_SUBSCRIBE_WAIT_MS = 1000;

const ROOM_PREFIX = articleRoom('');

interface GatewayDeps {
  io: CommentServer;
  service: CommentService;
  fanout: FanOut;
  logger: Logger;
  /** Push latency and refused socket posts. */
  metrics?: Pick<Metrics, 'pushed' | 'commentRejected'>;
}

/** Socket handlers receive untrusted arguments: the payload may be anything and the ack may be missing. */
type Handler = (socket: CommentSocket, payload: unknown) => Promise<object>;

/**
 * The Socket.IO edge: validates every payload with the shared schemas, answers every event with an
 * ack (`{ ok: true, … }` or `{ ok: false, error }`), and relays fan-out messages to article rooms.
 */
export function attachSocketGateway({ io, service, fanout, logger, metrics }: GatewayDeps): void {
  const toErrorInfo = (error: unknown, event: string): ErrorInfo => {
    if (error instanceof AppError) return error.toInfo();
    logger.error({ err: error, event }, 'unhandled error in socket handler');
    return { code: 'internal', message: 'Internal error' };
  };

  // The hot path: per-article coalescing, one serialisation per flush, big rooms written in slices.
  const broadcaster = new Broadcaster(io, logger);

  const handlers: Record<keyof ClientToServerEvents, Handler> = {
    'article:subscribe': async (socket, payload) => {
      const { articleId, since, batch } = parseInput(SubscribePayloadSchema, payload, 'subscription');
      const room = articleRoom(articleId);
      if (!socket.rooms.has(room) && socket.rooms.size - 1 >= MAX_SUBSCRIPTIONS_PER_SOCKET) {
        throw new AppError('invalid_input', `At most ${MAX_SUBSCRIPTIONS_PER_SOCKET} articles per connection`);
      }
      // Join first, then read: a change committed in between is pushed and also read; the client
      // drops the repeat by seq. Reading first could miss it entirely.
      await socket.join(room);
      broadcaster.setBatching(socket.id, articleId, batch === true);
      await withTimeout(fanout.subscribe(articleId), FANOUT_SUBSCRIBE_WAIT_MS).catch((error: unknown) => {
        logger.warn({ err: error, articleId }, 'fan-out subscription not confirmed; serving from the store');
      });
      if (since === undefined) return { lastSeq: await service.lastSeq(articleId), comments: [] };
      const changes = await service.changesSince(articleId, since);
      return changes.reset ? { lastSeq: changes.lastSeq, comments: [], reset: true } : { lastSeq: changes.lastSeq, comments: changes.comments };
    },
    'article:unsubscribe': async (socket, payload) => {
      const { articleId } = parseInput(UnsubscribePayloadSchema, payload, 'subscription');
      await socket.leave(articleRoom(articleId));
      return {};
    },
    'comment:post': async (_socket, payload) => {
      const { articleId, ...input } = parseInput(PostCommentPayloadSchema, payload, 'comment');
      const { comment, authorToken } = await service.post(articleId, input);
      return { comment, authorToken };
    },
    'counts:subscribe': () => Promise.reject(new AppError('invalid_input', 'not available yet')),
    'counts:unsubscribe': () => Promise.reject(new AppError('invalid_input', 'not available yet')),
    'admin:subscribe': () => Promise.reject(new AppError('invalid_input', 'not available yet')),
  };

  io.on('connection', (socket) => {
    for (const [event, handler] of Object.entries(handlers) as Array<[keyof ClientToServerEvents, Handler]>) {
      // Registered untyped on purpose: the arguments come from the network and are validated here.
      (socket as unknown as { on(event: string, listener: (...args: unknown[]) => void): void }).on(event, (...args: unknown[]) => {
        const last = args.at(-1);
        const ack = typeof last === 'function' ? (last as (answer: Ack<object>) => void) : undefined;
        const payload = ack ? args.slice(0, -1)[0] : args[0];
        handler(socket, payload).then(
          (result) => ack?.({ ok: true, ...result }),
          (error: unknown) => {
            const info = toErrorInfo(error, event);
            if (event === 'comment:post') metrics?.commentRejected(info.code, 'socket');
            ack?.({ ok: false, error: info });
          },
        );
      });
    }
  });

  // Relay committed changes to the local subscribers of the article.
  fanout.onMessage((message, delivery) => {
    broadcaster.relay(message);
    // Commit → handed to the broadcaster (a quiet article is written at once; a busy one waits for its window).
    metrics?.pushed(delivery);
  });

  // The last local subscriber left: stop receiving the article from other instances.
  io.of('/').adapter.on('delete-room', (room: string) => {
    if (!room.startsWith(ROOM_PREFIX)) return;
    fanout.unsubscribe(room.slice(ROOM_PREFIX.length)).catch((error: unknown) => logger.warn({ err: error, room }, 'fan-out unsubscribe failed'));
  });

  // After a fan-out outage, tell every local subscriber the head so clients behind catch up.
  fanout.onResync(() => {
    for (const room of io.of('/').adapter.rooms.keys()) {
      if (!room.startsWith(ROOM_PREFIX)) continue;
      const articleId = room.slice(ROOM_PREFIX.length);
      service.lastSeq(articleId).then(
        (lastSeq) => io.to(room).emit('article:head', { articleId, lastSeq }),
        (error: unknown) => logger.warn({ err: error, articleId }, 'could not read head after fan-out resync'),
      );
    }
  });
}

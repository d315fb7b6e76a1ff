import type { Server, Socket } from 'socket.io';
import { AppError } from '../../shared/errors.ts';
import {
  articleRoom,
  countsRoom,
  MODERATORS_ROOM,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from '../../shared/events.ts';
import type { AckOf, ClientEvent } from '../../shared/acks.ts';
import { AdminSubscribePayloadSchema } from '../../shared/moderation.ts';
import {
  CountsSubscribePayloadSchema,
  SubscribePayloadSchema,
  UnsubscribePayloadSchema,
} from '../../shared/schemas.ts';
import { parseInput } from '../../shared/validate.ts';
import { guest, type Actor, type ActorPolicy } from '../actors/actor.ts';
import { AuthClearPayloadSchema, AuthSetPayloadSchema, SSO_LIMITS, type SignedInMember } from '../../shared/sso.ts';
import { postAnswer, type CommentService } from '../comments/service.ts';
import { PostInputPayloadSchema } from '../../shared/reply-emails.ts';
import type { FanOut } from '../fanout/port.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { PresenceTracker } from '../presence/tracker.ts';
import { withTimeout } from '../with-timeout.ts';
import { answerAck, incomingEvent, onUntyped } from './acks.ts';
import { Broadcaster } from './broadcaster.ts';
import { LiveCounts } from './live-counts.ts';
import { TypingPayloadSchema } from '../../shared/typing.ts';
import { TypingTracker, type TypingOptions } from '../typing/tracker.ts';

export type CommentServer = Server<ClientToServerEvents, ServerToClientEvents>;
type CommentSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

/** Articles one connection may watch at once. */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 50;
/** Articles whose comment counts one connection may watch at once (`counts:subscribe`). */
export const MAX_COUNT_SUBSCRIPTIONS_PER_SOCKET = 500;
/**
 * How long a subscribe waits for the fan-out subscription to be confirmed before reading the
 * store. Waiting closes the gap where another instance's change would be neither read nor pushed;
 * past the bound (Redis down) the client is served anyway and the resync `article:head` covers it.
 */
const FANOUT_SUBSCRIBE_WAIT_MS = 1000;

const ROOM_PREFIX = articleRoom('');
const COUNTS_PREFIX = countsRoom('');

const roomsWith = (socket: CommentSocket, prefix: string): number =>
  [...socket.rooms].filter((room) => room.startsWith(prefix)).length;

interface GatewayDeps {
  io: CommentServer;
  service: CommentService;
  /** Decides who acts: once per connection, and for `admin:subscribe` from the token it carries. */
  policy: ActorPolicy;
  fanout: FanOut;
  logger: Logger;
  /** Push latency and refused socket posts. */
  metrics?: Pick<Metrics, 'pushed' | 'commentRejected'>;
  /** The client IP of a connection (as the abuse guards see it): the author key of its actor's posts. */
  clientIp?: (socket: CommentSocket) => string;
  /** Readers across instances; without it no `presence:changed` is sent. */
  presence?: PresenceTracker;
  /** Typing indicators' timing (tests shorten it). */
  typing?: TypingOptions;
}

/** What the gateway runs besides the handlers: the broadcaster's windows and the live counts' reads. */
export interface SocketGateway {
  /** Cancels pending flushes and count reads (shutdown, after the connections are closed). */
  close(): void;
}

/**
 * Socket handlers receive untrusted arguments (the payload may be anything and the ack may be missing)
 * and answer with the fields of their event's ack (shared/acks.ts).
 */
type Handler<E extends ClientEvent = ClientEvent> = (
  socket: CommentSocket,
  payload: unknown,
  actor: Actor,
) => Promise<AckOf<E>>;

/**
 * The Socket.IO edge: validates every payload with the shared schemas, answers every event with an
 * ack (`{ ok: true, … }` or `{ ok: false, error }`), and relays fan-out messages to article rooms.
 */
export function attachSocketGateway({
  io,
  service,
  policy,
  fanout,
  logger,
  metrics,
  clientIp,
  presence,
  typing: typingOptions,
}: GatewayDeps): SocketGateway {
  // The hot path: per-article coalescing, one serialisation per flush, big rooms written in slices.
  const broadcaster = new Broadcaster(io, logger);
  const liveCounts = new LiveCounts(io, (ids) => service.counts(ids), logger);
  const typing = new TypingTracker(io, fanout, typingOptions);
  const subscribeFanOut = (articleId: string): Promise<void> =>
    withTimeout(fanout.subscribe(articleId), FANOUT_SUBSCRIBE_WAIT_MS).catch((error: unknown) => {
      logger.warn({ err: error, articleId }, 'fan-out subscription not confirmed; serving from the store');
    });

  /** Who acts on each connection (a promise: a member token is verified asynchronously). */
  const actors = new WeakMap<CommentSocket, Promise<Actor>>();

  const handlers: { [E in keyof ClientToServerEvents]: Handler<E> } = {
    'article:subscribe': async (socket, payload) => {
      const { articleId, since, batch } = parseInput(SubscribePayloadSchema, payload, 'subscription');
      const room = articleRoom(articleId);
      if (!socket.rooms.has(room) && roomsWith(socket, ROOM_PREFIX) >= MAX_SUBSCRIPTIONS_PER_SOCKET) {
        throw new AppError('invalid_input', `At most ${MAX_SUBSCRIPTIONS_PER_SOCKET} articles per connection`);
      }
      // Join first, then read: a change committed in between is pushed and also read; the client
      // drops the repeat by seq. Reading first could miss it entirely.
      await socket.join(room);
      broadcaster.setBatching(socket.id, articleId, batch === true);
      await subscribeFanOut(articleId);
      // After the ack has gone out: the readers count as this instance knows it right now, and who writes.
      setImmediate(() => {
        if (presence) socket.emit('presence:changed', { articleId, readers: presence.estimate(articleId) });
        for (const writing of typing.current(articleId)) socket.emit('typing:changed', writing);
      });
      if (since === undefined) return { lastSeq: await service.lastSeq(articleId), comments: [] };
      const changes = await service.changesSince(articleId, since);
      return changes.reset
        ? { lastSeq: changes.lastSeq, comments: [], reset: true }
        : { lastSeq: changes.lastSeq, comments: changes.comments };
    },
    'article:unsubscribe': async (socket, payload) => {
      const { articleId } = parseInput(UnsubscribePayloadSchema, payload, 'subscription');
      await socket.leave(articleRoom(articleId));
      return {};
    },
    'comment:post': async (_socket, payload, actor) => {
      const { articleId, ...input } = parseInput(PostInputPayloadSchema, payload, 'comment');
      return postAnswer(await service.post(actor, articleId, input));
    },
    'counts:subscribe': async (socket, payload) => {
      const articleIds = [
        ...new Set(parseInput(CountsSubscribePayloadSchema, payload, 'counts subscription').articleIds),
      ];
      const fresh = articleIds.filter((articleId) => !socket.rooms.has(countsRoom(articleId)));
      if (roomsWith(socket, COUNTS_PREFIX) + fresh.length > MAX_COUNT_SUBSCRIPTIONS_PER_SOCKET) {
        throw new AppError(
          'invalid_input',
          `At most ${MAX_COUNT_SUBSCRIPTIONS_PER_SOCKET} article counts per connection`,
        );
      }
      // Join and subscribe first, then read: a change in between is read here and also recounted.
      await socket.join(articleIds.map(countsRoom));
      await Promise.all(articleIds.map(subscribeFanOut));
      const counts = await service.counts(articleIds);
      liveCounts.acknowledged(counts);
      return { counts };
    },
    'counts:unsubscribe': async (socket, payload) => {
      const { articleIds } = parseInput(CountsSubscribePayloadSchema, payload, 'counts subscription');
      for (const articleId of articleIds) await socket.leave(countsRoom(articleId));
      return {};
    },
    'auth:set': async (socket, payload, actor) => {
      const { token } = parseInput(AuthSetPayloadSchema, payload, 'sign-in');
      if (policy.ssoMode === 'off')
        throw new AppError('invalid_input', 'Sign-in is not configured on this server (SSO_SECRETS)');
      const signed = policy.resolveSigned({ bearer: token, clientIp: actor.clientIp });
      actors.set(socket, signed);
      const next = await signed;
      if (next.kind !== 'member') {
        if (next.kind === 'guest' && next.signInRefused) throw next.signInRefused;
        throw new AppError('unauthenticated', 'The sign-in token is not a member token');
      }
      policy.authorize(next, 'comment:post');
      const { identity } = next;
      const member: SignedInMember = {
        sub: identity.sub,
        name: identity.name,
        ...(identity.avatar === undefined ? {} : { avatar: identity.avatar }),
        badges: [...identity.badges],
        exp: identity.exp,
      };
      return { member };
    },
    'auth:clear': async (socket, payload, actor) => {
      parseInput(AuthClearPayloadSchema, payload, 'sign-out');
      actors.set(socket, Promise.resolve(guest({ clientIp: actor.clientIp })));
      return {};
    },
    'typing:start': async (socket, payload, actor) => {
      const { articleId, parentId } = parseInput(TypingPayloadSchema, payload, 'typing');
      policy.authorize(actor, 'comment:typing');
      if (!socket.rooms.has(articleRoom(articleId)))
        throw new AppError('invalid_input', 'Subscribe to the article before typing:start');
      typing.start(socket.id, articleId, parentId ?? null);
      return {};
    },
    'typing:stop': async (socket, payload) => {
      const { articleId } = parseInput(TypingPayloadSchema, payload, 'typing');
      typing.stop(socket.id, articleId);
      return {};
    },
    'admin:subscribe': async (socket, payload, actor) => {
      const { token } = parseInput(AdminSubscribePayloadSchema, payload, 'moderator subscription');
      // The admin page presents its token with the subscription, not at the handshake.
      policy.authorize(policy.resolve({ bearer: token, clientIp: actor.clientIp }), 'feed:watch');
      await socket.join(MODERATORS_ROOM);
      await withTimeout(fanout.subscribeFeed(), FANOUT_SUBSCRIBE_WAIT_MS).catch((error: unknown) => {
        logger.warn({ err: error }, 'moderator feed subscription not confirmed');
      });
      return {};
    },
  };

  // One listener per event shared by every connection (an emitter calls its listeners with itself as
  // `this`), rather than a closure per event per connection: 1.1 KB less heap for each idle reader.
  const listeners = (Object.entries(handlers) as Array<[keyof ClientToServerEvents, Handler]>).map(
    ([event, handler]) =>
      [
        event,
        // Untyped on purpose: the arguments come from the network and are validated by the handler.
        function (this: CommentSocket, ...args: unknown[]): void {
          const { payload, ack } = incomingEvent(args);
          const actor = actors.get(this) ?? Promise.resolve(guest({ clientIp: clientIp?.(this) }));
          answerAck(
            actor.then((current) => handler(this, payload, current)),
            ack,
            {
              logger,
              event,
              socketId: this.id,
              ...(event === 'comment:post' ? { refused: (info) => metrics?.commentRejected(info.code, 'socket') } : {}),
            },
          );
        },
      ] as const,
  );

  io.on('connection', (socket) => {
    // Who acts on this connection: decided at the handshake (its `auth.ssoToken`, still being verified
    // when the first events arrive: they wait for it), and again by `auth:set` and `auth:clear`.
    const auth: unknown = socket.handshake.auth;
    const ssoToken =
      typeof auth === 'object' && auth !== null && 'ssoToken' in auth && typeof auth.ssoToken === 'string'
        ? auth.ssoToken.slice(0, SSO_LIMITS.tokenMax + 1)
        : undefined;
    actors.set(
      socket,
      ssoToken === undefined
        ? Promise.resolve(policy.resolve({ clientIp: clientIp?.(socket) }))
        : policy.resolveSigned({ bearer: ssoToken, clientIp: clientIp?.(socket) }),
    );
    for (const [event, listener] of listeners) onUntyped(socket, event, listener);
  });

  // Relay committed changes to the local subscribers of the article.
  fanout.onMessage((message, delivery) => {
    broadcaster.relay(message);
    liveCounts.changed(message.comment.articleId);
    // Commit → handed to the broadcaster (a quiet article is written at once; a busy one waits for its window).
    metrics?.pushed(delivery);
  });

  fanout.onTyping((count) => typing.remote(count));
  fanout.onArticleState((state) => io.to(articleRoom(state.articleId)).emit('article:updated', state));
  // An import wrote the article without per-comment pushes: readers catch up by `since`, counts are read again.
  fanout.onArticleHead((head) => {
    io.to(articleRoom(head.articleId)).emit('article:head', head);
    liveCounts.changed(head.articleId);
  });
  fanout.onFeed((message) => {
    // Most of the time nobody here moderates: skip encoding a packet for an empty room.
    if (!io.of('/').adapter.rooms.has(MODERATORS_ROOM)) return;
    const moderators = io.to(MODERATORS_ROOM);
    if (message.event === 'admin:comment') moderators.emit('admin:comment', message.comment);
    else if (message.event === 'admin:held') moderators.emit('admin:held', message.held);
    else if (message.event === 'admin:resolved') moderators.emit('admin:resolved', message.resolved);
    else moderators.emit('admin:report', message.reported);
  });

  // The last local reader and counts watcher of an article left: stop receiving it from other instances.
  // Article rooms and counts rooms share one fan-out subscription, released only when both are gone.
  io.of('/').adapter.on('delete-room', (room: string) => {
    if (room === MODERATORS_ROOM) {
      fanout
        .unsubscribeFeed()
        .catch((error: unknown) => logger.warn({ err: error }, 'moderator feed unsubscribe failed'));
      return;
    }
    const prefix = room.startsWith(ROOM_PREFIX) ? ROOM_PREFIX : room.startsWith(COUNTS_PREFIX) ? COUNTS_PREFIX : null;
    if (prefix === null) return;
    const articleId = room.slice(prefix.length);
    const rooms = io.of('/').adapter.rooms;
    if (rooms.has(articleRoom(articleId)) || rooms.has(countsRoom(articleId))) return;
    fanout
      .unsubscribe(articleId)
      .catch((error: unknown) => logger.warn({ err: error, room }, 'fan-out unsubscribe failed'));
  });

  // After a fan-out outage or a shard failover, tell the local subscribers of the articles concerned
  // the head, so clients behind catch up.
  fanout.onResync((articleIds) => {
    const rooms = io.of('/').adapter.rooms;
    for (const articleId of articleIds) {
      // Counts watchers may have missed changes too: read their counts again.
      if (rooms.has(countsRoom(articleId))) liveCounts.changed(articleId);
      const room = articleRoom(articleId);
      if (!rooms.has(room)) continue;
      service.lastSeq(articleId).then(
        (lastSeq) => io.to(room).emit('article:head', { articleId, lastSeq }),
        (error: unknown) => logger.warn({ err: error, articleId }, 'could not read head after fan-out resync'),
      );
    }
  });

  return {
    close: () => {
      broadcaster.stop();
      liveCounts.stop();
      typing.close();
    },
  };
}

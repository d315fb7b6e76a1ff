import * as z from 'zod/mini';
import { ReadableErrorInfoSchema } from './errors.ts';
import type { ClientToServerEvents } from './events.ts';
import { CommentSchema, CountsSchema, PostResultSchema, SeqSchema } from './schemas.ts';
import { SignedInMemberSchema } from './sso.ts';

/*
 * The acks of the events a client sends (shared/events.ts ClientToServerEvents), as schemas. A module of
 * their own because schemas.ts imports events.ts: the schemas here need schemas.ts loaded first.
 */

/** `article:subscribe`: the head, and the comments changed after `since` (none without it), ascending by seq. */
export const SubscribeAckSchema = z.object({
  lastSeq: SeqSchema,
  comments: z.array(CommentSchema),
  /** Too many changes since `since`: reload the thread instead. */
  reset: z.optional(z.boolean()),
});

/** `auth:set`: whom the connection is signed in as now. */
export const AuthSetAckSchema = z.object({ member: SignedInMemberSchema });

/** The acks that carry nothing but `ok: true`. */
export const EmptyAckSchema = z.object({});

/**
 * The fields of each event's ack after `ok: true`: what the server answers (server/socket/gateway.ts is
 * typed by them) and what clients and tests check. `comment:post` answers as the REST post does: the
 * stored comment, or under pre-moderation the held one (narrow with `'comment' in ack`); `counts:subscribe`
 * the visible comments of every requested article.
 */
export const ACK_SCHEMAS = {
  'article:subscribe': SubscribeAckSchema,
  'article:unsubscribe': EmptyAckSchema,
  'comment:post': PostResultSchema,
  'counts:subscribe': CountsSchema,
  'counts:unsubscribe': EmptyAckSchema,
  'auth:set': AuthSetAckSchema,
  'auth:clear': EmptyAckSchema,
  'typing:start': EmptyAckSchema,
  'typing:stop': EmptyAckSchema,
  'admin:subscribe': EmptyAckSchema,
} as const satisfies Record<ClientEvent, z.ZodMiniType<object>>;

export type ClientEvent = keyof ClientToServerEvents;
/** The fields of `event`'s ack after `ok: true`. */
export type AckOf<E extends ClientEvent> = z.output<(typeof ACK_SCHEMAS)[E]>;

/** A refused event's ack, as clients read it (a code newer than the client is kept as sent). */
export const FailedAckSchema = z.object({ ok: z.literal(false), error: ReadableErrorInfoSchema });

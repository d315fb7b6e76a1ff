import type { ErrorInfo } from './errors.ts';
import type { ArticleHead, ArticleId, Comment, CommentBatch, PostCommentPayload, SubscribePayload, UnsubscribePayload } from './schemas.ts';

/** Every acknowledgement: success with its fields, or a typed error. */
export type Ack<T extends object = Record<never, never>> = ({ ok: true } & T) | { ok: false; error: ErrorInfo };
export type AckCallback<T extends object = Record<never, never>> = (answer: Ack<T>) => void;

export interface SubscribeAck {
  lastSeq: number;
  /** Comments changed after `since`, ascending by seq; empty when `since` was absent. */
  comments: Comment[];
  /** Too many changes since `since`: reload the thread instead. */
  reset?: boolean;
}

export interface PostAck {
  comment: Comment;
  authorToken: string;
}

/** Events a client sends (imperative names). Payloads are `unknown` to the server until validated. */
export interface ClientToServerEvents {
  'article:subscribe': (payload: SubscribePayload, ack: AckCallback<SubscribeAck>) => void;
  'article:unsubscribe': (payload: UnsubscribePayload, ack: AckCallback) => void;
  'comment:post': (payload: PostCommentPayload, ack: AckCallback<PostAck>) => void;
}

/** Events the server sends (past tense). */
export interface ServerToClientEvents {
  'comment:created': (comment: Comment) => void;
  'comment:updated': (comment: Comment) => void;
  'comment:removed': (comment: Comment) => void;
  /** Several changes of one article in seq order; only to subscribers that asked with `batch: true`. */
  'comment:batch': (batch: CommentBatch) => void;
  'article:head': (head: ArticleHead) => void;
}

/** The Socket.IO room of an article's subscribers. */
export function articleRoom(articleId: ArticleId): string {
  return `article:${articleId}`;
}

export const COMMENT_EVENTS = ['comment:created', 'comment:updated', 'comment:removed'] as const;
export type CommentEvent = (typeof COMMENT_EVENTS)[number];

import type { ThreadIdentity } from './mapping.ts';

/** What a source says about a comment's fate, before mapping and tree repair. */
export type SourceDisposition = 'visible' | 'held' | 'deleted' | 'spam' | 'ping';

/** A thread (Disqus `<thread>`, WordPress `<item>`) as the parsers read it. */
export interface SourceThread {
  kind: 'thread';
  /** Unique within the file; posts refer to it. */
  key: string;
  identity: ThreadIdentity;
  closed: boolean;
  deleted: boolean;
}

/** A comment (Disqus `<post>`, WordPress `<wp:comment>`) as the parsers read it. */
export interface SourcePost {
  kind: 'post';
  /** Its id in the source (unique per format; WordPress ids are scoped by the site). */
  sourceId: string;
  threadKey: string | null;
  parentSourceId: string | null;
  /** ISO 8601 UTC. */
  createdAt: string;
  author: { name: string | null; username: string | null; email: string | null };
  /** The body as the source has it (HTML). */
  html: string;
  disposition: SourceDisposition;
  /** Names the record in messages: its number, id and line. */
  label: string;
}

export type SourceRecord = SourceThread | SourcePost;

/** Longest text one field of a record may hold (a body in HTML, with its markup) before the file is refused. */
export const MAX_FIELD_CHARS = 1_000_000;

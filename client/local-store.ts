import { nanoid } from 'nanoid';
import { ReaderIdSchema } from '../shared/schemas.ts';
import { PREFIX, readItem as read, tokenKey, writeItem as write } from './storage.ts';

/**
 * What widget.js remembers in the host page's localStorage (client/storage.ts): the reader's display
 * name, the author token of each comment they posted (needed to edit or delete it later), and the
 * reader id likes are counted by (without storage it lasts as long as the page). What only its parts
 * use (forgetting a token, the replies already shown) is in client/storage.ts itself.
 */

const NAME_KEY = `${PREFIX}name`;
const READER_KEY = `${PREFIX}reader`;

export function readName(): string {
  return read(NAME_KEY) ?? '';
}

export function saveName(name: string): void {
  write(NAME_KEY, name);
}

/** Keeps the author token the server gave for a comment this reader posted, keyed by the comment's id. */
export function saveAuthorToken(commentId: string, token: string): void {
  write(tokenKey(commentId), token);
}

export function readAuthorToken(commentId: string): string | null {
  return read(tokenKey(commentId));
}

let memoryReaderId: string | null = null;

/** This browser's reader id (a nanoid, made on first use): one like per comment per reader. */
export function readerId(): string {
  const stored = read(READER_KEY);
  if (ReaderIdSchema.safeParse(stored).success) return stored!;
  memoryReaderId ??= nanoid();
  write(READER_KEY, memoryReaderId);
  return memoryReaderId;
}

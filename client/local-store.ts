import { nanoid } from 'nanoid';
import { ReaderIdSchema } from '../shared/schemas.ts';

/**
 * What the widget remembers in the host page's localStorage: the reader's display name, the author
 * token of each comment they posted (needed to edit or delete it later), and the reader id likes are
 * counted by. Storage can be unavailable (privacy modes, sandboxed frames): then nothing is
 * remembered and nothing fails (the reader id then lasts as long as the page).
 */

const PREFIX = 'live-comments:';
const NAME_KEY = `${PREFIX}name`;
const READER_KEY = `${PREFIX}reader`;
const tokenKey = (commentId: string) => `${PREFIX}token:${commentId}`;

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

function read(key: string): string | null {
  try {
    return storage()?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

function write(key: string, value: string): void {
  try {
    storage()?.setItem(key, value);
  } catch {
    // Full or refused storage: the widget keeps working, it just forgets.
  }
}

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

/** Drops the token of a comment its author deleted (it can do nothing more). */
export function forgetAuthorToken(commentId: string): void {
  try {
    storage()?.removeItem(tokenKey(commentId));
  } catch {
    // As above: forgetting is best effort.
  }
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

/** Replies to the reader's comments this browser has shown them (by "N new replies to you"), per article; the newest 200. */
const seenKey = (articleId: string) => `${PREFIX}seen:${articleId}`;

export function readSeenReplies(articleId: string): string[] {
  try {
    const ids: unknown = JSON.parse(read(seenKey(articleId)) ?? '[]');
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

export function saveSeenReplies(articleId: string, ids: readonly string[]): void {
  write(seenKey(articleId), JSON.stringify(ids.slice(-200)));
}

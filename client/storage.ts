/**
 * The host page's localStorage under the widget's prefix, for widget.js and its parts alike (no zod
 * here, so a part importing it stays small). Storage can be unavailable (privacy modes, sandboxed
 * frames) or full: then nothing is remembered and nothing fails.
 */

export const PREFIX = 'live-comments:';

/** The key of the author token the server gave for a comment this reader posted. */
export const tokenKey = (commentId: string): string => `${PREFIX}token:${commentId}`;

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export function readItem(key: string): string | null {
  try {
    return storage()?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

export function writeItem(key: string, value: string): void {
  try {
    storage()?.setItem(key, value);
  } catch {
    // Full or refused storage: the widget keeps working, it just forgets.
  }
}

export function removeItem(key: string): void {
  try {
    storage()?.removeItem(key);
  } catch {
    // As above: forgetting is best effort.
  }
}

/** Drops the token of a comment its author deleted (it can do nothing more). */
export function forgetAuthorToken(commentId: string): void {
  removeItem(tokenKey(commentId));
}

/** Replies to the reader's comments this browser has shown them (by "N new replies to you"), per article; the newest 200. */
const seenKey = (articleId: string) => `${PREFIX}seen:${articleId}`;

export function readSeenReplies(articleId: string): string[] {
  try {
    const ids: unknown = JSON.parse(readItem(seenKey(articleId)) ?? '[]');
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

export function saveSeenReplies(articleId: string, ids: readonly string[]): void {
  writeItem(seenKey(articleId), JSON.stringify(ids.slice(-200)));
}

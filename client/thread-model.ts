import type { Comment, SortOrder } from '../shared/schemas.ts';

/** Replies indent up to this level; deeper replies stay at it and name the comment they answer. */
export const MAX_DEPTH = 3;

/** What the thread needs to place an item: real comments and the reader's own pending posts alike. */
export interface ThreadItem {
  id: string;
  parentId: string | null;
  createdAt: string;
  author: { name: string };
  /** Stored comments have one; for comments created in the same millisecond it is the server's order. */
  seq?: number;
}

export interface ThreadRow<T extends ThreadItem> {
  item: T;
  /** 0 for a top-level comment; replies 1…MAX_DEPTH. */
  depth: number;
  /** The parent's author when the indent no longer shows whom a reply answers (nesting deeper than MAX_DEPTH); `''` when the parent was removed. */
  replyTo: string | null;
}

export interface ThreadOptions<T extends ThreadItem> {
  order: SortOrder;
  /**
   * The last top-level comment of the pages loaded so far, or null when every page is loaded. Top-level
   * comments beyond it in the chosen order (older for `newest`, newer for `oldest`, ranked lower for
   * `top`) belong to pages not loaded yet and are
   * not shown, so a later page never lands in the middle of what the reader sees.
   */
  boundary: ThreadItem | null;
  /** Ids not to show yet (new comments held back while the reader is inside the thread); their replies wait too. */
  hidden?: ReadonlySet<string>;
  /** Top-level items shown even beyond the boundary (the reader's own posts). */
  alwaysShow?: (item: T) => boolean;
  /** For `top`: how an item ranks (its likes when it was first shown, so a like does not move it); absent counts as 0. */
  rank?: (item: ThreadItem) => number;
}

/**
 * Creation order: by time; equal times by `seq` (the server's commit order, exact for comments not
 * edited since), then by id, so every reader sees one stable order.
 */
export function compareCreated(a: ThreadItem, b: ThreadItem): number {
  const byTime = Date.parse(a.createdAt) - Date.parse(b.createdAt);
  if (byTime !== 0 && !Number.isNaN(byTime)) return byTime;
  if (a.seq !== undefined && b.seq !== undefined && a.seq !== b.seq) return a.seq - b.seq;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Lays a set of comments out as the rows of a thread: top-level comments in the chosen order (`top`:
 * by rank, highest first, ties newest first, as the server orders its pages), each
 * followed depth-first by its replies, oldest reply first. A reply whose parent is unknown is not
 * shown (it waits for its thread's page); every item appears at most once.
 */
export function buildThread<T extends ThreadItem>(items: Iterable<T>, options: ThreadOptions<T>): Array<ThreadRow<T>> {
  const hidden = options.hidden ?? new Set<string>();
  const byId = new Map<string, T>();
  for (const item of items) if (!hidden.has(item.id)) byId.set(item.id, item);

  const children = new Map<string, T[]>();
  const tops: T[] = [];
  const { boundary, order } = options;
  const rank = options.rank ?? (() => 0);
  // Position of a before b in the chosen order: negative when a comes first.
  const before: (a: ThreadItem, b: ThreadItem) => number =
    order === 'oldest'
      ? compareCreated
      : order === 'newest'
        ? (a, b) => compareCreated(b, a)
        : (a, b) => rank(b) - rank(a) || compareCreated(b, a);
  for (const item of byId.values()) {
    if (item.parentId !== null) {
      const siblings = children.get(item.parentId);
      if (siblings) siblings.push(item);
      else children.set(item.parentId, [item]);
      continue;
    }
    if (boundary === null || before(item, boundary) <= 0 || options.alwaysShow?.(item)) tops.push(item);
  }
  tops.sort(before);
  for (const siblings of children.values()) siblings.sort(compareCreated);

  // Depth first with a stack of its own, not recursion: a chain of thousands of replies (from an older
  // server, or an import) must not overflow the call stack.
  const rows: Array<ThreadRow<T>> = [];
  const placed = new Set<string>();
  const stack: Array<[item: T, level: number, parent: T | null]> = [];
  for (const top of tops) {
    stack.push([top, 0, null]);
    for (let next = stack.pop(); next; next = stack.pop()) {
      const [item, level, parent] = next;
      if (placed.has(item.id)) continue;
      placed.add(item.id);
      rows.push({
        item,
        depth: Math.min(level, MAX_DEPTH),
        replyTo: level > MAX_DEPTH && parent ? parent.author.name : null,
      });
      const replies = children.get(item.id) ?? [];
      for (let i = replies.length - 1; i >= 0; i--) stack.push([replies[i]!, level + 1, item]);
    }
  }
  return rows;
}

/** The outcome of storing one version of a comment. */
export type UpsertOutcome = 'new' | 'changed' | 'stale';

/**
 * Stores `comment` unless a version at least as new (by `seq`) is already there, so repeats and
 * late arrivals never move a comment back in time.
 */
export function upsertComment(comments: Map<string, Comment>, comment: Comment): UpsertOutcome {
  const known = comments.get(comment.id);
  if (known && known.seq >= comment.seq) return 'stale';
  comments.set(comment.id, comment);
  return known ? 'changed' : 'new';
}

/** Number of visible (not removed) comments. */
export function countVisible(comments: Iterable<Comment>): number {
  let visible = 0;
  for (const comment of comments) if (comment.status === 'visible') visible++;
  return visible;
}

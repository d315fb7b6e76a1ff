import { LIMITS, type ArticleId, type Comment, type MoreReplies } from '../../shared/schemas.ts';
import type { ChangePage, PageRequest } from './port.ts';
import { toComment, type CommentRow } from './rows.ts';

/**
 * The paging rules both SQL stores follow (pages of threads, replies, changes, counts), kept apart from
 * how each driver reads its rows so the two cannot drift.
 */

/**
 * Where a page's top-level comments start: for `top` an offset; for `newest`/`oldest` the created_seq the
 * page begins strictly after (exclusive, so walking `next` visits every thread exactly once even while new
 * comments arrive).
 */
export function topsStart(request: PageRequest): number {
  if (request.cursor !== null) return Number(request.cursor);
  return request.order === 'newest' ? Number.MAX_SAFE_INTEGER : 0;
}

/** The page's tops from the `limit + 1` rows read from `start`, and the cursor of the next page (null on the last). */
export function pageTops(
  rows: readonly CommentRow[],
  request: PageRequest,
  start: number,
): { tops: CommentRow[]; next: string | null } {
  const tops = rows.slice(0, request.limit);
  if (rows.length <= request.limit) return { tops, next: null };
  return { tops, next: request.order === 'top' ? String(start + tops.length) : String(tops.at(-1)?.created_seq) };
}

/**
 * A page from its top-level comments (in page order) and the replies of each thread, bounded the same
 * way on every store: each top is followed by its first replies in created_seq order, at most
 * LIMITS.repliesPerThread per thread and LIMITS.repliesPerPage in all, and every thread that has more
 * is listed with how many more and the cursor to read them by (the created_seq of its last reply here).
 *
 * `repliesOf(topId, limit)` gives a thread's first `limit` replies in created_seq order; `repliesIn(topId)`
 * how many it has in all. Both read the same snapshot as the tops; `repliesIn` is asked only of a thread
 * that filled its `limit` (a thread that did not has no more).
 */
export function assemblePage(
  tops: readonly CommentRow[],
  repliesOf: (topId: string, limit: number) => readonly CommentRow[],
  repliesIn: (topId: string) => number,
): { comments: Comment[]; moreReplies: Record<string, MoreReplies> } {
  const comments: Comment[] = [];
  const moreReplies: Record<string, MoreReplies> = {};
  let budget = LIMITS.repliesPerPage;
  for (const top of tops) {
    comments.push(toComment(top));
    const limit = Math.min(LIMITS.repliesPerThread, budget);
    const replies = limit > 0 ? repliesOf(top.id, limit).slice(0, limit) : [];
    budget -= replies.length;
    for (const reply of replies) comments.push(toComment(reply));
    if (replies.length < limit) continue;
    const count = repliesIn(top.id) - replies.length;
    if (count > 0) moreReplies[top.id] = { count, next: String(replies.at(-1)?.created_seq ?? 0) };
  }
  return { comments, moreReplies };
}

/** The `more` of a replies answer: `count` replies after `last` (the last one answered), if any. */
export function moreAfter(last: CommentRow | undefined, count: number, after: number): MoreReplies | null {
  return count > 0 ? { count, next: String(last?.created_seq ?? after) } : null;
}

/**
 * Changes since a seq, from at most `limit + 1` rows: one row more than the limit means the client is too
 * far behind, and gets a reset instead of a partial list.
 */
export function changePage(lastSeq: number, rows: readonly CommentRow[], limit: number): ChangePage {
  if (rows.length > limit) return { lastSeq, comments: [], reset: true };
  return { lastSeq, comments: rows.map(toComment), reset: false };
}

/** Visible-comment counts of the distinct `articleIds`: 0 for each, then the counts the store found. */
export function countsOf(
  articleIds: readonly ArticleId[],
  rows: Iterable<{ article_id: string; n: number }>,
): Record<ArticleId, number> {
  const counts: Record<ArticleId, number> = {};
  for (const id of articleIds) counts[id] = 0;
  for (const row of rows) counts[row.article_id] = row.n;
  return counts;
}

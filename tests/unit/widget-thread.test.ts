import { describe, expect, it } from 'vitest';
import type { Comment } from '../../shared/schemas.ts';
import { buildThread, countVisible, MAX_DEPTH, upsertComment, type ThreadItem } from '../../client/thread-model.ts';

let counter = 0;
/** A comment created `minute` minutes after 12:00 (ids sort in creation order too). */
function comment(minute: number, parentId: string | null = null, extra: Partial<Comment> = {}): Comment {
  counter++;
  return {
    id: `c${String(counter).padStart(20, '0')}`,
    articleId: 'a',
    parentId,
    author: { name: `Author ${counter}` },
    body: `Body ${counter}`,
    createdAt: new Date(Date.UTC(2024, 4, 17, 12, minute)).toISOString(),
    editedAt: null,
    status: 'visible',
    seq: counter,
    likes: 0,
    ...extra,
  };
}

const shape = <T extends ThreadItem>(rows: Array<{ item: T; depth: number; replyTo: string | null }>) =>
  rows.map((row) => [row.item.id, row.depth, row.replyTo]);

describe('widget thread building', () => {
  it('lists top-level comments newest first, each followed by its replies oldest first', () => {
    const a = comment(1);
    const b = comment(2);
    const a1 = comment(3, a.id);
    const a2 = comment(4, a.id);
    const b1 = comment(5, b.id);
    const rows = buildThread([a2, b1, a, b, a1], { order: 'newest', boundary: null });
    expect(shape(rows)).toEqual([
      [b.id, 0, null],
      [b1.id, 1, null],
      [a.id, 0, null],
      [a1.id, 1, null],
      [a2.id, 1, null],
    ]);
    const oldest = buildThread([a2, b1, a, b, a1], { order: 'oldest', boundary: null });
    expect(oldest.map((row) => row.item.id)).toEqual([a.id, a1.id, a2.id, b.id, b1.id]);
  });

  it(`indents up to ${MAX_DEPTH} levels; deeper replies stay at ${MAX_DEPTH} and name whom they answer`, () => {
    const top = comment(1);
    const chain = [top];
    for (let i = 0; i < 5; i++) chain.push(comment(2 + i, chain.at(-1)!.id));
    const rows = buildThread(chain, { order: 'newest', boundary: null });
    expect(rows.map((row) => row.depth)).toEqual([0, 1, 2, 3, 3, 3]);
    expect(rows.map((row) => row.replyTo)).toEqual([
      null,
      null,
      null,
      null,
      chain[3]!.author.name,
      chain[4]!.author.name,
    ]);
  });

  it('keeps replies under their parent even when a newer top-level comment arrives between them', () => {
    const a = comment(1);
    const b = comment(2);
    const lateReply = comment(3, a.id);
    const rows = buildThread([a, b, lateReply], { order: 'newest', boundary: null });
    expect(rows.map((row) => row.item.id)).toEqual([b.id, a.id, lateReply.id]);
  });

  it('shows a removed comment in place so its replies keep their thread', () => {
    const a = comment(1, null, { status: 'removed', body: '' });
    const reply = comment(2, a.id);
    const rows = buildThread([reply, a], { order: 'newest', boundary: null });
    expect(shape(rows)).toEqual([
      [a.id, 0, null],
      [reply.id, 1, null],
    ]);
  });

  it('does not show replies whose parent is unknown or hidden, and shows each comment once', () => {
    const a = comment(1);
    const orphan = comment(2, 'x'.repeat(21));
    const held = comment(3);
    const heldReply = comment(4, held.id);
    const rows = buildThread([a, orphan, held, heldReply, a], {
      order: 'newest',
      boundary: null,
      hidden: new Set([held.id]),
    });
    expect(rows.map((row) => row.item.id)).toEqual([a.id]);
  });

  it('shows only the pages loaded so far: tops beyond the boundary wait, except the reader’s own', () => {
    const tops = [1, 2, 3, 4, 5].map((minute) => comment(minute));
    // Newest first, two pages of two loaded: 5, 4 | 3, 2 loaded; the boundary is 2; 1 is on a later page.
    const newest = buildThread(tops, { order: 'newest', boundary: tops[1]! });
    expect(newest.map((row) => row.item.id)).toEqual([tops[4]!.id, tops[3]!.id, tops[2]!.id, tops[1]!.id]);
    // Oldest first with boundary 2: a new comment (5) stays on the last page unless it is the reader's.
    const oldest = buildThread(tops, { order: 'oldest', boundary: tops[1]! });
    expect(oldest.map((row) => row.item.id)).toEqual([tops[0]!.id, tops[1]!.id]);
    const withOwn = buildThread(tops, {
      order: 'oldest',
      boundary: tops[1]!,
      alwaysShow: (item) => item.id === tops[4]!.id,
    });
    expect(withOwn.map((row) => row.item.id)).toEqual([tops[0]!.id, tops[1]!.id, tops[4]!.id]);
  });

  it('orders equal times by seq (the server’s order), then by id, so every reader sees the same order', () => {
    const x = { ...comment(1), id: 'a'.repeat(21), seq: 7 };
    const y = { ...comment(1), id: 'b'.repeat(21), seq: 6 };
    expect(buildThread([x, y], { order: 'oldest', boundary: null }).map((row) => row.item.id)).toEqual([y.id, x.id]);
    expect(buildThread([x, y], { order: 'newest', boundary: null }).map((row) => row.item.id)).toEqual([x.id, y.id]);
    const { seq: _x, ...p } = { ...x, id: 'd'.repeat(21) };
    const { seq: _y, ...q } = { ...y, id: 'c'.repeat(21) };
    expect(buildThread([p, q], { order: 'oldest', boundary: null }).map((row) => row.item.id)).toEqual([q.id, p.id]);
  });
});

describe('widget comment store', () => {
  it('stores a newer version, ignores repeats and older versions', () => {
    const map = new Map<string, Comment>();
    const first = comment(1);
    expect(upsertComment(map, first)).toBe('new');
    expect(upsertComment(map, { ...first })).toBe('stale');
    const edited = { ...first, body: 'edited', seq: first.seq + 10, editedAt: new Date().toISOString() };
    expect(upsertComment(map, edited)).toBe('changed');
    expect(upsertComment(map, first)).toBe('stale');
    expect(map.get(first.id)?.body).toBe('edited');
    expect(map.size).toBe(1);
  });

  it('lists the highest ranked threads first for top, ties newest first, replies still oldest first under each', () => {
    const a = comment(1, null, { likes: 2 });
    const b = comment(2, null, { likes: 5 });
    const c = comment(3, null, { likes: 2 });
    const d = comment(4, null, { likes: 0 });
    const b1 = comment(5, b.id, { likes: 9 });
    const b2 = comment(6, b.id);
    const likes = new Map([a, b, c, d, b1, b2].map((item) => [item.id, item.likes]));
    const rows = buildThread([a, b, c, d, b2, b1], {
      order: 'top',
      boundary: null,
      rank: (item) => likes.get(item.id) ?? 0,
    });
    expect(shape(rows)).toEqual([
      [b.id, 0, null],
      [b1.id, 1, null],
      [b2.id, 1, null],
      [c.id, 0, null],
      [a.id, 0, null],
      [d.id, 0, null],
    ]);
    // Without a rank every thread ties: newest first.
    expect(buildThread([a, b, c], { order: 'top', boundary: null }).map((row) => row.item.id)).toEqual([
      c.id,
      b.id,
      a.id,
    ]);
  });

  it('shows only the top pages loaded so far: threads ranked below the boundary wait, except the reader’s own', () => {
    const high = comment(1, null, { likes: 3 });
    const boundary = comment(2, null, { likes: 1 });
    const tieOlder = comment(0, null, { likes: 1 });
    const low = comment(3, null, { likes: 0 });
    const rank = (item: ThreadItem) => (item as Comment).likes;
    const rows = buildThread([high, boundary, tieOlder, low], { order: 'top', boundary, rank });
    expect(rows.map((row) => row.item.id)).toEqual([high.id, boundary.id]);
    const withOwn = buildThread([high, boundary, tieOlder, low], {
      order: 'top',
      boundary,
      rank,
      alwaysShow: (item) => item.id === low.id,
    });
    expect(withOwn.map((row) => row.item.id)).toEqual([high.id, boundary.id, low.id]);
  });

  it('counts visible comments only', () => {
    expect(countVisible([comment(1), comment(2, null, { status: 'removed', body: '' }), comment(3)])).toBe(2);
  });

  it('lays out a chain of 20,000 replies without running out of stack, in order, indented at most MAX_DEPTH', () => {
    const top = comment(0);
    const chain: Comment[] = [top];
    for (let i = 1; i <= 20_000; i++) chain.push(comment(1, chain[i - 1]!.id));
    const rows = buildThread(chain.slice().reverse(), { order: 'newest', boundary: null });
    expect(rows.map((row) => row.item.id)).toEqual(chain.map((c) => c.id));
    expect(Math.max(...rows.map((row) => row.depth))).toBe(MAX_DEPTH);
    expect(rows.at(-1)?.replyTo).toBe(chain.at(-2)?.author.name);
  });
});

import { describe, expect, it } from 'vitest';
import { changePage, countsOf, pageTops, topsStart } from '../../server/storage/paging.ts';
import type { ImportedCommentRecord, NewCommentRecord } from '../../server/storage/port.ts';
import { keptSeqs, storedComment, storedHeld, toModerated, type CommentRow } from '../../server/storage/rows.ts';

// The rules both SQL stores share without SQL (server/storage/paging.ts, rows.ts); the contract suites
// check them end to end on each store.

function row(id: string, createdSeq: number): CommentRow {
  return {
    id,
    article_id: 'a',
    parent_id: null,
    root_id: null,
    author_name: 'Ann',
    body: 'Hi',
    created_at: '2026-01-01T00:00:00.000Z',
    edited_at: null,
    status: 'visible',
    seq: createdSeq,
    created_seq: createdSeq,
    likes: 0,
    removed_by: null,
    original_body: null,
    author_key: 'k',
    member_sub: null,
    member_profile: null,
  };
}

describe('paging', () => {
  it('starts newest pages above every seq, oldest at 0, top at offset 0, and a cursor where it says', () => {
    expect(topsStart({ order: 'newest', cursor: null, limit: 2 })).toBe(Number.MAX_SAFE_INTEGER);
    expect(topsStart({ order: 'oldest', cursor: null, limit: 2 })).toBe(0);
    expect(topsStart({ order: 'top', cursor: null, limit: 2 })).toBe(0);
    expect(topsStart({ order: 'oldest', cursor: '7', limit: 2 })).toBe(7);
  });

  it('cuts the extra row off and points the next page after the last top (a created_seq, or an offset for top)', () => {
    const rows = [row('x', 3), row('y', 5), row('z', 9)];
    expect(pageTops(rows, { order: 'oldest', cursor: null, limit: 2 }, 0)).toEqual({
      tops: rows.slice(0, 2),
      next: '5',
    });
    expect(pageTops(rows, { order: 'top', cursor: '4', limit: 2 }, 4).next).toBe('6');
    expect(pageTops(rows.slice(0, 2), { order: 'oldest', cursor: null, limit: 2 }, 0).next).toBeNull();
  });

  it('resets a client more than a page of changes behind', () => {
    expect(changePage(9, [row('x', 8), row('y', 9)], 1)).toEqual({ lastSeq: 9, comments: [], reset: true });
    expect(changePage(9, [row('y', 9)], 1).comments.map((c) => c.id)).toEqual(['y']);
  });

  it('counts 0 for every article asked that has no comment', () => {
    expect(countsOf(['a', 'b'], [{ article_id: 'b', n: 3 }])).toEqual({ a: 0, b: 3 });
  });
});

describe('new records', () => {
  const input: NewCommentRecord = {
    id: 'c1',
    articleId: 'a',
    parentId: 'p-deep',
    authorName: 'Ann',
    body: 'Hi',
    createdAt: '2026-01-01T00:00:00.000Z',
    clientId: null,
    authorTokenHash: 'h',
    authorKey: 'k',
    holdReason: 'suspect word',
    memberSub: 'u1',
    memberProfile: '{"badges":["b"]}',
  };

  it('builds what reading the stored row back gives', () => {
    const read = toModerated({ ...row('c1', 4), parent_id: 'p', member_sub: 'u1', member_profile: '{"badges":["b"]}' });
    expect(storedComment(input, 'p', 4)).toEqual(read);
  });

  it('builds a held one with its reason and member', () => {
    expect(storedHeld(input, null)).toEqual({
      id: 'c1',
      articleId: 'a',
      parentId: null,
      author: { name: 'Ann', verified: true, badges: ['b'] },
      body: 'Hi',
      createdAt: '2026-01-01T00:00:00.000Z',
      authorKey: 'k',
      holdReason: 'suspect word',
      memberSub: 'u1',
    });
  });

  it('keeps an imported seq only in a restore and only when the article does not have it', () => {
    const record = { seq: 5, createdSeq: 4 } as ImportedCommentRecord;
    expect(keptSeqs(record, { lastSeq: 9 }, () => false)).toEqual({ seq: 5, createdSeq: 4 });
    expect(keptSeqs(record, { lastSeq: 9 }, (seq) => seq === 5)).toBeNull();
    expect(keptSeqs(record, undefined, () => false)).toBeNull();
  });
});

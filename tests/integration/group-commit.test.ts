import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nanoid } from 'nanoid';
import type { CommentStore, SubmitResult } from '../../server/storage/port.ts';
import { SqliteCommentStore } from '../../server/storage/sqlite.ts';
import { makeArticleId, makeRecord, makeTempDir, storeFactories } from '../helpers/store-factories.ts';

const open = { hold: false } as const;

function seqOf(result: SubmitResult): number {
  if (result.kind !== 'stored') throw new Error(`expected a stored post, got ${result.kind}`);
  return result.comment.seq;
}

describe.each(storeFactories)('posts committed together: %s', (_name, make) => {
  let store: CommentStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('give every concurrent post of an article its own seq, gapless and in commit order', async () => {
    store = await make();
    const articles = [makeArticleId('group'), makeArticleId('group'), makeArticleId('group')];
    // Sent without waiting, so on SQLite they reach the store in one turn of the event loop.
    const posts = Array.from({ length: 150 }, (_, i) =>
      store!.submit(makeRecord({ articleId: articles[i % 3]!, body: `post ${i}` }), open),
    );
    const results = await Promise.all(posts);
    for (const [a, articleId] of articles.entries()) {
      const seqs = results.filter((_, i) => i % 3 === a).map(seqOf);
      expect([...seqs].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(await store.lastSeq(articleId)).toBe(50);
      const changes = await store.changesSince(articleId, 0, 100);
      expect(changes.comments.map((c) => c.seq)).toEqual(seqs.toSorted((x, y) => x - y));
    }
  });

  it('answer a failing post its own error while the others of its group commit', async () => {
    store = await make();
    const articleId = makeArticleId('group-fail');
    const first = await store.submit(makeRecord({ articleId }), open);
    const taken = first.kind === 'stored' ? first.comment.id : '';
    // The third post reuses a stored comment's id: its insert fails after it took a seq.
    const posts = [0, 1, 2, 3, 4].map((i) =>
      store!.submit(makeRecord({ articleId, id: i === 2 ? taken : nanoid(), body: `post ${i}` }), open),
    );
    const settled = await Promise.allSettled(posts);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const seqs = settled.flatMap((s) => (s.status === 'fulfilled' ? [seqOf(s.value)] : []));
    expect(seqs.toSorted((x, y) => x - y)).toEqual([2, 3, 4, 5]);
    expect(await store.lastSeq(articleId)).toBe(5);
    const changes = await store.changesSince(articleId, 0, 100);
    // PostgreSQL may commit concurrent posts in any order; the seqs follow commit order either way.
    expect(changes.comments.map((c) => c.body).toSorted()).toEqual([
      'Hello there',
      'post 0',
      'post 1',
      'post 3',
      'post 4',
    ]);
  });
});

describe('SQLite group commit', () => {
  it('shares one transaction among the posts of one turn of the event loop', async () => {
    const dir = makeTempDir();
    const store = new SqliteCommentStore(join(dir, 'comments.db'));
    try {
      const articleId = makeArticleId('group-one');
      await Promise.all(Array.from({ length: 40 }, () => store.submit(makeRecord({ articleId }), open)));
      expect(store.groupCommits).toEqual({ groups: 1, posts: 40 });
      // A post alone waits for nobody: its own group.
      await store.submit(makeRecord({ articleId }), open);
      expect(store.groupCommits).toEqual({ groups: 2, posts: 41 });
    } finally {
      await store.close();
    }
  });

  it('commits a waiting group when the store is closed, and answers its posts', async () => {
    const dir = makeTempDir();
    const path = join(dir, 'comments.db');
    const store = new SqliteCommentStore(path);
    const articleId = makeArticleId('group-close');
    const pending = [1, 2, 3].map((i) => store.submit(makeRecord({ articleId, body: `last words ${i}` }), open));
    await store.close();
    expect((await Promise.all(pending)).map(seqOf)).toEqual([1, 2, 3]);
    await expect(store.submit(makeRecord({ articleId }), open)).rejects.toThrow(/closed/);
    const reopened = new SqliteCommentStore(path);
    try {
      expect((await reopened.changesSince(articleId, 0, 10)).comments.map((c) => c.body)).toEqual([
        'last words 1',
        'last words 2',
        'last words 3',
      ]);
    } finally {
      await reopened.close();
    }
    expect(readFileSync(path).length).toBeGreaterThan(0);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { nanoid } from 'nanoid';
import { ErrorBodySchema } from '../../shared/errors.ts';
import { CommentPageSchema, LIMITS, PostStoredSchema, RepliesPageSchema, type Comment } from '../../shared/schemas.ts';
import type { CommentStore } from '../../server/storage/port.ts';
import { SqliteCommentStore } from '../../server/storage/sqlite.ts';
import {
  makeArticleId,
  makeRecord,
  makeTempDir,
  storeFactories,
  withAdminClient,
  createTestSchema,
  WIND_BACK_V6_SQL,
} from '../helpers/store-factories.ts';
import { getJson, postJson, startTestApp, type TestApp } from '../helpers/test-app.ts';
import { openPostgresStore } from '../../server/storage/postgres.ts';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';

/** Posts `count` replies to `topId` (each answering the previous one when `chain`), in order. */
async function replies(store: CommentStore, articleId: string, topId: string, count: number): Promise<Comment[]> {
  const made: Comment[] = [];
  for (let i = 0; i < count; i++)
    made.push((await store.create(makeRecord({ articleId, parentId: topId, body: `reply ${i}` }))).comment);
  return made;
}

/** Walks a thread's replies route from `next` to the end, as a client does. */
async function rest(store: CommentStore, articleId: string, topId: string, next: string): Promise<Comment[]> {
  const all: Comment[] = [];
  let after: string | null = next;
  while (after !== null) {
    const page = await store.replies(articleId, topId, { after, limit: LIMITS.repliesPerThread });
    if (!page) throw new Error('thread not found');
    all.push(...page.comments);
    after = page.more?.next ?? null;
  }
  return all;
}

describe.each(storeFactories)('bounded pages and nesting: %s', (_name, makeStore) => {
  let store: CommentStore;
  beforeAll(async () => {
    store = await makeStore();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('carries at most 50 replies of a thread, and the cursor to read the rest once each, in creation order', async () => {
    const articleId = makeArticleId('big-thread');
    const top = (await store.create(makeRecord({ articleId, body: 'top' }))).comment;
    const all = await replies(store, articleId, top.id, 120);
    const page = await store.page(articleId, { limit: 1, cursor: null, order: 'newest' });
    expect(page.comments.map((c) => c.id)).toEqual([top.id, ...all.slice(0, LIMITS.repliesPerThread).map((c) => c.id)]);
    expect(page.moreReplies[top.id]?.count).toBe(70);
    const more = await rest(store, articleId, top.id, page.moreReplies[top.id]!.next);
    expect(more.map((c) => c.id)).toEqual(all.slice(LIMITS.repliesPerThread).map((c) => c.id));
    // The route's own count: after the first 100, twenty more.
    const second = await store.replies(articleId, top.id, { after: page.moreReplies[top.id]!.next, limit: 50 });
    expect(second?.more?.count).toBe(20);
    // Not a thread: a reply's id, or an unknown one.
    expect(await store.replies(articleId, all[0]!.id, { after: null, limit: 10 })).toBeNull();
    expect(await store.replies(articleId, nanoid(), { after: null, limit: 10 })).toBeNull();
  });

  it(`bounds a page to ${LIMITS.repliesPerPage} replies in all, every thread past it keeping its cursor`, async () => {
    const articleId = makeArticleId('many-threads');
    const tops: Comment[] = [];
    const byTop = new Map<string, Comment[]>();
    for (let t = 0; t < 7; t++) {
      const top = (await store.create(makeRecord({ articleId, body: `top ${t}` }))).comment;
      tops.push(top);
      byTop.set(top.id, await replies(store, articleId, top.id, 45));
    }
    const page = await store.page(articleId, { limit: 10, cursor: null, order: 'oldest' });
    const shown = page.comments.filter((c) => c.parentId !== null);
    expect(shown).toHaveLength(LIMITS.repliesPerPage);
    // Every reply is reachable exactly once: in the page or through its thread's cursor.
    for (const top of tops) {
      const inPage = shown.filter((c) => c.parentId === top.id).map((c) => c.id);
      const cursor = page.moreReplies[top.id];
      const later = cursor ? (await rest(store, articleId, top.id, cursor.next)).map((c) => c.id) : [];
      expect(cursor?.count ?? 0).toBe(later.length);
      expect([...inPage, ...later]).toEqual(byTop.get(top.id)!.map((c) => c.id));
    }
  });

  it(`attaches a reply deeper than ${LIMITS.depthMax} to the deepest allowed ancestor (posts, held, approved)`, async () => {
    const articleId = makeArticleId('deep');
    const chain: Comment[] = [(await store.create(makeRecord({ articleId, body: 'level 0' }))).comment];
    for (let level = 1; level <= LIMITS.depthMax + 3; level++) {
      const parent = chain.at(-1)!;
      chain.push((await store.create(makeRecord({ articleId, parentId: parent.id, body: `level ${level}` }))).comment);
    }
    const depthOf = (id: string): number => {
      let depth = 0;
      for (let c = chain.find((x) => x.id === id); c?.parentId; c = chain.find((x) => x.id === c.parentId)) depth++;
      return depth;
    };
    expect(Math.max(...chain.map((c) => depthOf(c.id)))).toBe(LIMITS.depthMax);
    // The reply to the comment at the cap hangs from that comment's parent, and so on down the chain.
    const atCap = chain[LIMITS.depthMax]!;
    expect(chain[LIMITS.depthMax + 1]!.parentId).toBe(atCap.parentId);
    expect(chain[LIMITS.depthMax + 2]!.parentId).toBe(atCap.parentId);
    // Held replies and their approval follow the same rule.
    const held = await store.submit(makeRecord({ articleId, parentId: chain.at(-1)!.id, body: 'held' }), {
      hold: true,
    });
    if (held.kind !== 'held') throw new Error('not held');
    expect(held.held.parentId).toBe(atCap.parentId);
    expect((await store.approve(held.held.id))?.parentId).toBe(atCap.parentId);
  });

  it('orders a top page at an offset by likes, ties newest first', async () => {
    // 100 threads with 0–4 likes each, read back from the middle.
    const articleId = makeArticleId('top-order');
    const made: Comment[] = [];
    for (let i = 0; i < 100; i++) made.push((await store.create(makeRecord({ articleId, body: `t${i}` }))).comment);
    for (const [i, c] of made.entries())
      for (let l = 0; l < i % 5; l++) await store.setLike(c.id, `r-${l}-${nanoid(8)}`, true);
    const page = await store.page(articleId, { limit: 20, cursor: '30', order: 'top' });
    const expected = made
      .map((c, i) => ({ id: c.id, likes: i % 5, seq: i }))
      .sort((a, b) => b.likes - a.likes || b.seq - a.seq)
      .slice(30, 50)
      .map((c) => c.id);
    expect(page.comments.map((c) => c.id)).toEqual(expected);
  });
});

describe('query plans of the page reads', () => {
  it('SQLite serves tops by created_seq and by likes, and a thread’s replies, from indexes, sorting nothing', async () => {
    const dir = makeTempDir();
    try {
      const store = new SqliteCommentStore(join(dir, 'plan.db'));
      await store.close();
      const db = new Database(join(dir, 'plan.db'), { readonly: true });
      const plan = (sql: string, ...params: unknown[]) =>
        db
          .prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .all(...params)
          .map((row) => (row as { detail: string }).detail)
          .join(' | ');
      const top = plan(
        'SELECT id FROM comments WHERE article_id = ? AND parent_id IS NULL ORDER BY likes DESC, created_seq DESC LIMIT 20 OFFSET 40',
        'a',
      );
      expect(top).toContain('comments_tops_liked_idx');
      expect(top).not.toContain('TEMP B-TREE');
      const thread = plan(
        'SELECT id FROM comments WHERE article_id = ? AND root_id = ? AND created_seq > ? ORDER BY created_seq LIMIT 50',
        'a',
        'b',
        0,
      );
      expect(thread).toContain('comments_replies_idx');
      expect(thread).not.toContain('TEMP B-TREE');
      db.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('PostgreSQL serves a top page from comments_tops_liked_idx without a Sort', async () => {
    const schema = await createTestSchema();
    try {
      const store = await openPostgresStore({ connectionString: schema.url });
      await store.close();
      const text = await withAdminClient(async (client) => {
        await client.query(`SET search_path = ${schema.schema}`);
        await client.query('SET enable_seqscan = off');
        const result = await client.query<{ 'QUERY PLAN': string }>(
          "EXPLAIN SELECT id FROM comments WHERE article_id = 'a' AND parent_id IS NULL ORDER BY likes DESC, created_seq DESC LIMIT 20 OFFSET 40",
        );
        return result.rows.map((row) => row['QUERY PLAN']).join('\n');
      });
      expect(text).toContain('comments_tops_liked_idx');
      expect(text).not.toMatch(/\bSort\b/);
    } finally {
      await schema.drop();
    }
  });
});

describe('migration 6 on a store written before it', () => {
  it('computes the depth of the replies already stored, so the cap holds for them too', async () => {
    const dir = makeTempDir();
    const file = join(dir, 'v4.db');
    try {
      const store = new SqliteCommentStore(file);
      const articleId = makeArticleId('upgrade');
      const chain: Comment[] = [(await store.create(makeRecord({ articleId }))).comment];
      for (let level = 1; level <= LIMITS.depthMax; level++)
        chain.push((await store.create(makeRecord({ articleId, parentId: chain.at(-1)!.id }))).comment);
      await store.close();
      // Wind the file back to version 5: no depth, the two v1 indexes, none of the partial ones.
      const raw = new Database(file);
      raw.exec(WIND_BACK_V6_SQL);
      raw.close();
      const upgraded = new SqliteCommentStore(file);
      const reply = (await upgraded.create(makeRecord({ articleId, parentId: chain.at(-1)!.id }))).comment;
      expect(reply.parentId).toBe(chain.at(-2)!.id);
      await upgraded.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the replies route and page answers over REST', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers a page with moreReplies and the route with the rest; refuses bad cursors and unknown threads', async () => {
    const articleId = makeArticleId('rest');
    const api = (path: string) => `${app.url}/api/articles/${articleId}${path}`;
    const top = PostStoredSchema.parse((await postJson(api('/comments'), { author: { name: 'A' }, body: 'top' })).body);
    const long = 'x'.repeat(4000);
    for (let i = 0; i < 60; i++)
      await postJson(api('/comments'), { author: { name: 'B' }, body: `${i} ${long}`, parentId: top.comment.id });
    const res = await fetch(api('/comments?limit=1'));
    const text = await res.text();
    const page = CommentPageSchema.parse(JSON.parse(text));
    expect(page.comments).toHaveLength(1 + LIMITS.repliesPerThread);
    // 51 comments of about 4 KB: the answer stays near 200 KB, not the whole thread.
    expect(Buffer.byteLength(text)).toBeLessThan(250_000);
    const more = page.moreReplies?.[top.comment.id];
    expect(more).toEqual({ count: 10, next: expect.any(String) as string });
    const rest = RepliesPageSchema.parse(
      (await getJson(api(`/comments/${top.comment.id}/replies?after=${more!.next}&limit=100`))).body,
    );
    expect(rest).toMatchObject({ articleId, commentId: top.comment.id, more: null });
    expect(rest.comments).toHaveLength(10);
    for (const [path, status] of [
      [`/comments/${top.comment.id}/replies?after=abc`, 400],
      [`/comments/${top.comment.id}/replies?limit=101`, 400],
      [`/comments/${top.comment.id}/replies?other=1`, 400],
      [`/comments/${nanoid()}/replies`, 404],
      [`/comments/${rest.comments[0]!.id}/replies`, 404],
      ['/comments/short/replies', 400],
    ] as const) {
      const answer = await getJson(api(path));
      expect(answer.status, path).toBe(status);
      ErrorBodySchema.parse(answer.body);
    }
  });
});

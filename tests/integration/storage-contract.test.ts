import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { nanoid } from 'nanoid';
import { afterEach, describe, expect, it } from 'vitest';
import { ModeratedCommentSchema, ModeratedHeldSchema } from '../../shared/moderation.ts';
import { CommentSchema, type Comment } from '../../shared/schemas.ts';
import { MIGRATIONS } from '../../server/storage/migrations.ts';
import {
  ClientIdHeldError,
  ParentNotFoundError,
  StoreUnavailableError,
  type CommentStore,
  type NewCommentRecord,
} from '../../server/storage/port.ts';
import type { SqliteCommentStore } from '../../server/storage/sqlite.ts';
import { openSqliteStore } from '../../server/storage/sqlite.ts';
import { storeTest } from '../helpers/fixtures.ts';
import {
  makeArticleId,
  makeRecord,
  makeTempDir,
  sharedStoreFactories,
  storeFactories,
  WIND_BACK_V6_SQL,
} from '../helpers/store-factories.ts';

const seqs = (comments: readonly Comment[]): number[] => comments.map((c) => c.seq);
const run = promisify(execFile);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.each(storeFactories)('CommentStore contract: %s', (_name, makeStore) => {
  const it = storeTest(makeStore);

  /** Creates one comment and returns it, asserting it is new and well-formed. */
  async function post(store: CommentStore, overrides: Partial<NewCommentRecord>): Promise<Comment> {
    const { comment, created } = await store.create(makeRecord(overrides));
    expect(created).toBe(true);
    return CommentSchema.parse(comment);
  }

  describe('create and seq', () => {
    it('numbers comments 1, 2, 3 per article with no gaps, independently per article', async ({ newStore }) => {
      const store = await newStore();
      const a = makeArticleId();
      const b = makeArticleId();
      const a1 = await post(store, { articleId: a });
      const b1 = await post(store, { articleId: b });
      const a2 = await post(store, { articleId: a });
      const a3 = await post(store, { articleId: a });
      const b2 = await post(store, { articleId: b });
      expect([a1.seq, a2.seq, a3.seq]).toEqual([1, 2, 3]);
      expect([b1.seq, b2.seq]).toEqual([1, 2]);
      expect(await store.lastSeq(a)).toBe(3);
      expect(await store.lastSeq(b)).toBe(2);
      expect(await store.lastSeq(makeArticleId())).toBe(0);
    });

    it('returns the stored comment in the shared shape', async ({ newStore }) => {
      const store = await newStore();
      const record = makeRecord({ authorName: 'Grace', body: 'First!', createdAt: '2024-05-17T20:41:00.000Z' });
      const { comment, created } = await store.create(record);
      expect(created).toBe(true);
      const expected: Comment = {
        id: record.id,
        articleId: record.articleId,
        parentId: null,
        author: { name: 'Grace' },
        body: 'First!',
        createdAt: '2024-05-17T20:41:00.000Z',
        editedAt: null,
        status: 'visible',
        seq: 1,
        likes: 0,
      };
      expect(comment).toEqual(expected);
      expect(await store.get(record.id)).toEqual(expected);
    });

    it('gives 50 concurrent creates on one article exactly the seqs 1..50', async ({ newStore }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const results = await Promise.all(Array.from({ length: 50 }, () => store.create(makeRecord({ articleId }))));
      expect(results.every((r) => r.created)).toBe(true);
      expect(seqs(results.map((r) => r.comment)).sort((x, y) => x - y)).toEqual(range(1, 50));
      expect(new Set(results.map((r) => r.comment.id)).size).toBe(50);
      expect(await store.lastSeq(articleId)).toBe(50);
      const changes = await store.changesSince(articleId, 0, 100);
      expect(seqs(changes.comments)).toEqual(range(1, 50));
    });

    it('returns the first comment, created: false, when a clientId repeats, and stores nothing new', async ({
      newStore,
    }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const clientId = nanoid();
      const first = await store.create(makeRecord({ articleId, clientId, body: 'original' }));
      expect(first.created).toBe(true);
      const retryId = nanoid();
      const retry = await store.create(
        makeRecord({ articleId, clientId, id: retryId, body: 'retried', authorTokenHash: 'b'.repeat(64) }),
      );
      expect(retry.created).toBe(false);
      expect(retry.comment).toEqual(first.comment);
      expect(await store.lastSeq(articleId)).toBe(1);
      expect(await store.get(retryId)).toBeNull();
      expect(await store.counts([articleId])).toEqual({ [articleId]: 1 });
    });

    it('creates two comments for the same clientId in two different articles', async ({ newStore }) => {
      const store = await newStore();
      const clientId = nanoid();
      const a = await store.create(makeRecord({ articleId: makeArticleId(), clientId }));
      const b = await store.create(makeRecord({ articleId: makeArticleId(), clientId }));
      expect(a.created).toBe(true);
      expect(b.created).toBe(true);
      expect(b.comment.id).not.toBe(a.comment.id);
      expect(b.comment.seq).toBe(1);
    });

    it('accepts a reply to a parent in the same article', async ({ newStore }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const parent = await post(store, { articleId });
      const reply = await post(store, { articleId, parentId: parent.id });
      const nested = await post(store, { articleId, parentId: reply.id });
      expect(reply.parentId).toBe(parent.id);
      expect(nested.parentId).toBe(reply.id);
      expect(nested.seq).toBe(3);
      expect((await store.get(nested.id))?.parentId).toBe(reply.id);
    });

    it('refuses a parent from another article with ParentNotFoundError and uses no seq', async ({ newStore }) => {
      const store = await newStore();
      const other = makeArticleId();
      const articleId = makeArticleId();
      const foreign = await post(store, { articleId: other });
      await post(store, { articleId });
      await expect(store.create(makeRecord({ articleId, parentId: foreign.id }))).rejects.toBeInstanceOf(
        ParentNotFoundError,
      );
      expect(await store.lastSeq(articleId)).toBe(1);
      expect(await store.lastSeq(other)).toBe(1);
      expect((await post(store, { articleId })).seq).toBe(2);
    });

    it('refuses a missing parent with ParentNotFoundError naming it', async ({ newStore }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const missing = nanoid();
      const error: unknown = await store.create(makeRecord({ articleId, parentId: missing })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ParentNotFoundError);
      expect((error as ParentNotFoundError).parentId).toBe(missing);
      expect(await store.lastSeq(articleId)).toBe(0);
    });
  });

  describe('page', () => {
    /**
     * Builds, in this creation order (seq in brackets):
     * T1[1] T2[2] R1a[3]→T1 T3[4] R2a[5]→T2 R1b[6]→R1a T4[7] R3a[8]→T3 R1c[9]→T1 T5[10] R1d[11]→R1b
     */
    async function buildThreads(store: CommentStore, articleId: string): Promise<Record<string, Comment>> {
      const c: Record<string, Comment> = {};
      const add = async (name: string, parent?: string): Promise<void> => {
        const parentId = parent === undefined ? null : (c[parent]?.id ?? null);
        c[name] = await post(store, { articleId, parentId, body: name });
      };
      await add('T1');
      await add('T2');
      await add('R1a', 'T1');
      await add('T3');
      await add('R2a', 'T2');
      await add('R1b', 'R1a');
      await add('T4');
      await add('R3a', 'T3');
      await add('R1c', 'T1');
      await add('T5');
      await add('R1d', 'R1b');
      return c;
    }
    const bodies = (comments: readonly Comment[]): string[] => comments.map((x) => x.body);
    const NEWEST = ['T5', 'T4', 'T3', 'R3a', 'T2', 'R2a', 'T1', 'R1a', 'R1b', 'R1c', 'R1d'];
    const OLDEST = ['T1', 'R1a', 'R1b', 'R1c', 'R1d', 'T2', 'R2a', 'T3', 'R3a', 'T4', 'T5'];

    it('orders threads newest first, each followed by all its replies (any depth) in creation order', async ({
      newStore,
    }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const c = await buildThreads(store, articleId);
      const page = await store.page(articleId, { limit: 100, cursor: null, order: 'newest' });
      expect(bodies(page.comments)).toEqual(NEWEST);
      expect(page.next).toBeNull();
      expect(page.lastSeq).toBe(11);
      expect(page.comments.find((x) => x.body === 'R1d')).toEqual(c['R1d']);
    });

    it('orders threads oldest first when asked', async ({ newStore }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      await buildThreads(store, articleId);
      const page = await store.page(articleId, { limit: 100, cursor: null, order: 'oldest' });
      expect(bodies(page.comments)).toEqual(OLDEST);
      expect(page.next).toBeNull();
    });

    it.for([
      [
        'newest',
        NEWEST,
        [
          ['T5', 'T4'],
          ['T3', 'R3a', 'T2', 'R2a'],
          ['T1', 'R1a', 'R1b', 'R1c', 'R1d'],
        ],
      ],
      ['oldest', OLDEST, [['T1', 'R1a', 'R1b', 'R1c', 'R1d', 'T2', 'R2a'], ['T3', 'R3a', 'T4'], ['T5']]],
    ] as const)(
      'walks every %s thread exactly once through cursors',
      async ([order, all, expectedPages], { newStore }) => {
        const store = await newStore();
        const articleId = makeArticleId();
        await buildThreads(store, articleId);
        const pages: string[][] = [];
        let cursor: string | null = null;
        do {
          const page = await store.page(articleId, { limit: 2, cursor, order });
          pages.push(bodies(page.comments));
          cursor = page.next;
          expect(pages.length).toBeLessThanOrEqual(3);
        } while (cursor !== null);
        expect(pages).toEqual(expectedPages);
        expect(pages.flat()).toEqual(all);
      },
    );

    it('gives no next cursor when the last page is exactly full, and one when more remain', async ({ newStore }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      await buildThreads(store, articleId);
      const full = await store.page(articleId, { limit: 5, cursor: null, order: 'newest' });
      expect(full.next).toBeNull();
      expect(bodies(full.comments)).toEqual(NEWEST);
      const first = await store.page(articleId, { limit: 4, cursor: null, order: 'newest' });
      expect(first.next).not.toBeNull();
      const second = await store.page(articleId, { limit: 4, cursor: first.next, order: 'newest' });
      expect(bodies(second.comments)).toEqual(['T1', 'R1a', 'R1b', 'R1c', 'R1d']);
      expect(second.next).toBeNull();
    });

    it('keeps cursors stable while new comments arrive', async ({ newStore }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const c = await buildThreads(store, articleId);
      const first = await store.page(articleId, { limit: 2, cursor: null, order: 'newest' });
      await post(store, { articleId, body: 'T6' });
      await post(store, { articleId, body: 'R3b', parentId: c['T3']?.id ?? null });
      const second = await store.page(articleId, { limit: 2, cursor: first.next, order: 'newest' });
      expect(bodies(second.comments)).toEqual(['T3', 'R3a', 'R3b', 'T2', 'R2a']);
      expect(second.lastSeq).toBe(13);
    });

    it('shows only the article asked for, and an empty page for an unknown article', async ({ newStore }) => {
      const store = await newStore();
      const a = makeArticleId();
      const b = makeArticleId();
      await buildThreads(store, a);
      await post(store, { articleId: b, body: 'other' });
      const pageB = await store.page(b, { limit: 10, cursor: null, order: 'newest' });
      expect(bodies(pageB.comments)).toEqual(['other']);
      expect(pageB.lastSeq).toBe(1);
      expect(await store.page(makeArticleId(), { limit: 10, cursor: null, order: 'oldest' })).toEqual({
        lastSeq: 0,
        comments: [],
        moreReplies: {},
        next: null,
      });
    });
  });

  describe('changesSince', () => {
    it('returns comments with seq > since, ascending; since is exclusive', async ({ newStore }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const created: Comment[] = [];
      for (let i = 0; i < 5; i++)
        created.push(await post(store, { articleId, parentId: i === 3 ? (created[0]?.id ?? null) : null }));
      await post(store, { articleId: makeArticleId() });
      const changes = await store.changesSince(articleId, 2, 10);
      expect(changes).toEqual({ lastSeq: 5, comments: created.slice(2), reset: false });
      expect(seqs(changes.comments)).toEqual([3, 4, 5]);
      expect(await store.changesSince(articleId, 5, 10)).toEqual({ lastSeq: 5, comments: [], reset: false });
      expect(await store.changesSince(makeArticleId(), 0, 10)).toEqual({ lastSeq: 0, comments: [], reset: false });
    });

    it('answers reset with no comments when more than limit changed', async ({ newStore }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      for (let i = 0; i < 5; i++) await post(store, { articleId });
      const exact = await store.changesSince(articleId, 0, 5);
      expect(exact.reset).toBe(false);
      expect(seqs(exact.comments)).toEqual([1, 2, 3, 4, 5]);
      expect(await store.changesSince(articleId, 0, 4)).toEqual({ lastSeq: 5, comments: [], reset: true });
      expect(seqs((await store.changesSince(articleId, 1, 4)).comments)).toEqual([2, 3, 4, 5]);
    });
  });

  describe('reads', () => {
    it('counts visible comments per article, 0 for unknown ones', async ({ newStore }) => {
      const store = await newStore();
      const a = makeArticleId();
      const b = makeArticleId();
      const unknown = makeArticleId();
      const top = await post(store, { articleId: a });
      await post(store, { articleId: a, parentId: top.id });
      await post(store, { articleId: a });
      await post(store, { articleId: b });
      expect(await store.counts([a, b, unknown])).toEqual({ [a]: 3, [b]: 1, [unknown]: 0 });
      expect(await store.counts([unknown, a, a])).toEqual({ [a]: 3, [unknown]: 0 });
      expect(await store.counts([])).toEqual({});
    });

    it('gets null for an unknown id', async ({ newStore }) => {
      const store = await newStore();
      expect(await store.get(nanoid())).toBeNull();
    });

    it('answers ping', async ({ newStore }) => {
      const store = await newStore();
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('round-trips unicode byte-exact: emoji, curly quotes, U+2011, several lines', async ({ newStore }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const body =
        'Great piece 👍🏽 👨‍👩‍👧 — “double” and ‘single’ quotes\nnon\u2011breaking\u2011hyphen\n\n  indented line\twith tab\nend 🇺🇦';
      const authorName = 'Zoë “Z” O’Brien 🙂';
      const created = await post(store, { articleId, body, authorName });
      const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('hex');
      const read = [
        created,
        await store.get(created.id),
        (await store.page(articleId, { limit: 10, cursor: null, order: 'newest' })).comments[0],
        (await store.changesSince(articleId, 0, 10)).comments[0],
      ];
      for (const comment of read) {
        expect(utf8(comment?.body ?? '')).toBe(utf8(body));
        expect(utf8(comment?.author.name ?? '')).toBe(utf8(authorName));
      }
    });
  });

  describe('held comments (pre-moderation)', () => {
    it('holds a post with no seq, out of pages, changes and counts, and lists it for moderators', async ({
      newStore,
    }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      await post(store, { articleId });
      const record = makeRecord({ articleId, authorKey: 'key-of-ann', createdAt: '2024-05-17T20:41:00.000Z' });
      const result = await store.submit(record, { hold: true });
      expect(result).toEqual({
        kind: 'held',
        created: true,
        authorTokenHash: record.authorTokenHash,
        held: {
          id: record.id,
          articleId,
          parentId: null,
          author: { name: record.authorName },
          body: record.body,
          createdAt: record.createdAt,
          authorKey: 'key-of-ann',
          holdReason: null,
        },
      });
      expect(await store.lastSeq(articleId)).toBe(1);
      expect((await store.changesSince(articleId, 0, 10)).comments).toHaveLength(1);
      expect((await store.page(articleId, { limit: 10, cursor: null, order: 'newest' })).comments).toHaveLength(1);
      expect(await store.counts([articleId])).toEqual({ [articleId]: 1 });
      expect(await store.get(record.id)).toBeNull();
      const listed = await store.heldList(100);
      expect(listed.map((h) => ModeratedHeldSchema.parse(h).id)).toContain(record.id);
      expect(await store.getHeld(record.id)).toEqual(listed.find((h) => h.id === record.id));
    });

    it('approves into the thread with the next seq, the same id, createdAt and author key; a second approve finds nothing', async ({
      newStore,
    }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const parent = await post(store, { articleId });
      const record = makeRecord({
        articleId,
        parentId: parent.id,
        authorKey: 'key-of-bo',
        createdAt: '2024-05-17T20:41:00.000Z',
      });
      await store.submit(record, { hold: true });
      await post(store, { articleId });
      const approved = await store.approve(record.id);
      expect(ModeratedCommentSchema.parse(approved)).toMatchObject({
        id: record.id,
        parentId: parent.id,
        createdAt: '2024-05-17T20:41:00.000Z',
        status: 'visible',
        seq: 3,
        likes: 0,
        authorKey: 'key-of-bo',
        removedBy: null,
        originalBody: null,
      });
      expect(await store.approve(record.id)).toBeNull();
      expect(await store.getHeld(record.id)).toBeNull();
      expect(seqs((await store.changesSince(articleId, 2, 10)).comments)).toEqual([3]);
      const page = await store.page(articleId, { limit: 10, cursor: null, order: 'oldest' });
      expect(page.comments.map((c) => c.id)).toEqual([parent.id, record.id, expect.any(String)]);
      expect(await store.counts([articleId])).toEqual({ [articleId]: 3 });
    });

    it('rejects for good, taking no seq', async ({ newStore }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const record = makeRecord({ articleId });
      await store.submit(record, { hold: true });
      expect(await store.reject(record.id)).toBe(true);
      expect(await store.reject(record.id)).toBe(false);
      expect(await store.approve(record.id)).toBeNull();
      expect(await store.lastSeq(articleId)).toBe(0);
    });

    it('keeps a clientId to one post across held and stored comments', async ({ newStore }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const clientId = nanoid();
      const first = makeRecord({ articleId, clientId });
      expect(await store.submit(first, { hold: true })).toMatchObject({ kind: 'held', created: true });
      for (const hold of [true, false]) {
        const again = await store.submit(makeRecord({ articleId, clientId, body: 'retry' }), { hold });
        expect(again).toMatchObject({ kind: 'held', created: false, held: { id: first.id, body: first.body } });
      }
      const error: unknown = await store.create(makeRecord({ articleId, clientId })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ClientIdHeldError);
      expect(await store.heldList(100)).toHaveLength(1);
      await store.approve(first.id);
      for (const hold of [true, false]) {
        const again = await store.submit(makeRecord({ articleId, clientId }), { hold });
        expect(again).toMatchObject({ kind: 'stored', created: false, comment: { id: first.id, seq: 1 } });
      }
      const stored = makeRecord({ articleId, clientId: nanoid() });
      await store.create(stored);
      expect(await store.submit(makeRecord({ articleId, clientId: stored.clientId }), { hold: true })).toMatchObject({
        kind: 'stored',
        created: false,
        comment: { id: stored.id },
      });
      expect(await store.heldList(100)).toHaveLength(0);
      expect(await store.lastSeq(articleId)).toBe(2);
    });

    it('keeps the first token hash of a held clientId and hands it back on a repeat', async ({ newStore }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const clientId = nanoid();
      const first = makeRecord({ articleId, clientId, authorTokenHash: 'a'.repeat(64) });
      await store.submit(first, { hold: true });
      const repeat = await store.submit(makeRecord({ articleId, clientId, authorTokenHash: 'b'.repeat(64) }), {
        hold: true,
      });
      expect(repeat).toMatchObject({ kind: 'held', created: false, authorTokenHash: 'a'.repeat(64) });
      await store.approve(first.id);
      expect((await store.getRecord(first.id))?.authorTokenHash).toBe('a'.repeat(64));
    });

    it('refuses to hold a reply to a missing parent', async ({ newStore }) => {
      const store = await newStore();
      const parentId = nanoid();
      const error: unknown = await store.submit(makeRecord({ parentId }), { hold: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ParentNotFoundError);
      expect(await store.heldList(100)).toHaveLength(0);
    });
  });

  describe('edits and removals', () => {
    it('edits a visible comment with the next seq and sets editedAt; a removed one is left unchanged', async ({
      newStore,
    }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const c = await post(store, { articleId, body: 'before' });
      await post(store, { articleId });
      const edited = await store.edit(c.id, 'after', '2030-01-01T00:00:00.000Z');
      expect(edited?.changed).toBe(true);
      expect(edited?.comment).toMatchObject({
        id: c.id,
        body: 'after',
        editedAt: '2030-01-01T00:00:00.000Z',
        seq: 3,
        createdAt: c.createdAt,
      });
      expect(await store.get(c.id)).toMatchObject({ body: 'after', seq: 3 });
      expect(seqs((await store.changesSince(articleId, 2, 10)).comments)).toEqual([3]);
      await store.remove(c.id, 'moderator');
      const refused = await store.edit(c.id, 'again', '2030-01-01T00:00:01.000Z');
      expect(refused).toMatchObject({ changed: false, comment: { status: 'removed', body: '' } });
      expect(await store.lastSeq(articleId)).toBe(4);
      expect(await store.edit(nanoid(), 'x', '2030-01-01T00:00:00.000Z')).toBeNull();
    });

    it('erases the body for good when the author removes it; it cannot be restored', async ({ newStore }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const c = await post(store, { articleId, body: 'private thought' });
      const removed = await store.remove(c.id, 'author');
      expect(removed).toMatchObject({
        changed: true,
        comment: { status: 'removed', body: '', seq: 2, removedBy: 'author', originalBody: null },
      });
      expect((await store.getRecord(c.id))?.comment).toMatchObject({ body: '', originalBody: null });
      expect(await store.restore(c.id)).toMatchObject({ changed: false, comment: { status: 'removed' } });
      expect(await store.remove(c.id, 'author')).toMatchObject({ changed: false });
      expect(await store.remove(c.id, 'moderator')).toMatchObject({ changed: false, comment: { removedBy: 'author' } });
      expect(await store.lastSeq(articleId)).toBe(2);
      expect(await store.counts([articleId])).toEqual({ [articleId]: 0 });
      expect(await store.remove(nanoid(), 'author')).toBeNull();
    });

    it('keeps the body of a moderator removal out of every public read, and restores it with the next seq', async ({
      newStore,
    }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const c = await post(store, { articleId, body: 'heated words' });
      const removed = await store.remove(c.id, 'moderator');
      expect(removed).toMatchObject({
        changed: true,
        comment: { status: 'removed', body: '', seq: 2, removedBy: 'moderator', originalBody: 'heated words' },
      });
      expect(await store.get(c.id)).toMatchObject({ body: '', status: 'removed' });
      expect(JSON.stringify(await store.page(articleId, { limit: 10, cursor: null, order: 'newest' }))).not.toContain(
        'heated words',
      );
      expect(JSON.stringify(await store.changesSince(articleId, 0, 10))).not.toContain('heated words');
      expect(await store.counts([articleId])).toEqual({ [articleId]: 0 });
      const restored = await store.restore(c.id);
      expect(restored).toMatchObject({
        changed: true,
        comment: { status: 'visible', body: 'heated words', seq: 3, removedBy: null, originalBody: null },
      });
      expect(await store.restore(c.id)).toMatchObject({ changed: false });
      expect(await store.counts([articleId])).toEqual({ [articleId]: 1 });
      expect(await store.restore(nanoid())).toBeNull();
    });

    it("lets the author erase what a moderator's removal kept, taking no seq", async ({ newStore }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const c = await post(store, { articleId, body: 'take it back' });
      await store.remove(c.id, 'moderator');
      const erased = await store.remove(c.id, 'author');
      expect(erased).toMatchObject({ changed: false, comment: { status: 'removed', originalBody: null } });
      expect((await store.getRecord(c.id))?.comment.originalBody).toBeNull();
      expect(await store.restore(c.id)).toMatchObject({ changed: false });
      expect(await store.lastSeq(articleId)).toBe(2);
    });

    it('reads a record with the token hash and the moderator fields', async ({ newStore }) => {
      const store = await newStore();
      const record = makeRecord({ authorTokenHash: 'f'.repeat(64), authorKey: 'the-key' });
      await store.create(record);
      const found = await store.getRecord(record.id);
      expect(found?.authorTokenHash).toBe('f'.repeat(64));
      expect(ModeratedCommentSchema.parse(found?.comment)).toMatchObject({
        id: record.id,
        authorKey: 'the-key',
        removedBy: null,
        originalBody: null,
      });
      expect(await store.getRecord(nanoid())).toBeNull();
    });
  });

  describe('likes', () => {
    it('counts one like per reader; a repeat or an undo of nothing takes no seq', async ({ newStore }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const c = await post(store, { articleId });
      expect(await store.setLike(c.id, 'reader-one-0001', true)).toMatchObject({
        changed: true,
        comment: { likes: 1, seq: 2 },
      });
      expect(await store.setLike(c.id, 'reader-one-0001', true)).toMatchObject({
        changed: false,
        comment: { likes: 1, seq: 2 },
      });
      expect(await store.setLike(c.id, 'reader-two-0002', true)).toMatchObject({
        changed: true,
        comment: { likes: 2, seq: 3 },
      });
      expect(await store.setLike(c.id, 'reader-one-0001', false)).toMatchObject({
        changed: true,
        comment: { likes: 1, seq: 4 },
      });
      expect(await store.setLike(c.id, 'reader-one-0001', false)).toMatchObject({
        changed: false,
        comment: { likes: 1 },
      });
      expect(await store.lastSeq(articleId)).toBe(4);
      expect((await store.changesSince(articleId, 3, 10)).comments).toEqual([
        expect.objectContaining({ id: c.id, likes: 1, seq: 4 }),
      ]);
      expect(await store.get(c.id)).toMatchObject({ likes: 1 });
      expect(await store.setLike(nanoid(), 'reader-one-0001', true)).toBeNull();
    });

    it("lists the article's comments a reader likes", async ({ newStore }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const [a, b, c] = [
        await post(store, { articleId }),
        await post(store, { articleId }),
        await post(store, { articleId }),
      ];
      const elsewhere = await post(store, {});
      for (const id of [c.id, a.id, elsewhere.id]) await store.setLike(id, 'reader-three-03', true);
      await store.setLike(b.id, 'someone-else-1', true);
      expect(await store.readerLikes(articleId, 'reader-three-03')).toEqual([a.id, c.id]);
      expect(await store.readerLikes(articleId, 'nobody-at-all-1')).toEqual([]);
    });

    it('keeps likes exact and seqs gapless under concurrent likes, edits and posts on one article', async ({
      newStore,
    }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const c = await post(store, { articleId });
      const readers = Array.from({ length: 20 }, (_, i) => `reader-${String(i).padStart(8, '0')}`);
      await Promise.all([
        ...readers.map((reader) => store.setLike(c.id, reader, true)),
        // The same reader twice at once: one like.
        ...readers.slice(0, 5).map((reader) => store.setLike(c.id, reader, true)),
        ...Array.from({ length: 5 }, (_, i) => store.edit(c.id, `edit ${i}`, new Date().toISOString())),
        ...Array.from({ length: 10 }, () => store.create(makeRecord({ articleId }))),
      ]);
      expect(await store.get(c.id)).toMatchObject({ likes: 20 });
      const total = 1 + 20 + 5 + 10;
      expect(await store.lastSeq(articleId)).toBe(total);
      const changes = await store.changesSince(articleId, 0, 100);
      // Each comment shows its latest change once; those seqs are distinct and the highest is the head.
      expect(new Set(seqs(changes.comments)).size).toBe(changes.comments.length);
      expect(Math.max(...seqs(changes.comments))).toBe(total);
      await Promise.all(readers.map((reader) => store.setLike(c.id, reader, false)));
      expect(await store.get(c.id)).toMatchObject({ likes: 0, seq: total + 20 });
    });

    it('orders top threads by likes, ties newest first, each with its replies, paged by offset', async ({
      newStore,
    }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const [a, b, c, d] = [
        await post(store, { articleId }),
        await post(store, { articleId }),
        await post(store, { articleId }),
        await post(store, { articleId }),
      ];
      const replyToA = await post(store, { articleId, parentId: a.id });
      for (const reader of ['reader-aaaaaaa1', 'reader-aaaaaaa2']) await store.setLike(a.id, reader, true);
      await store.setLike(c.id, 'reader-aaaaaaa1', true);
      await store.setLike(replyToA.id, 'reader-aaaaaaa3', true);
      const first = await store.page(articleId, { limit: 2, cursor: null, order: 'top' });
      expect(first.comments.map((x) => x.id)).toEqual([a.id, replyToA.id, c.id]);
      expect(first.next).toBe('2');
      const second = await store.page(articleId, { limit: 2, cursor: first.next, order: 'top' });
      // b and d have no likes: newest first.
      expect(second.comments.map((x) => x.id)).toEqual([d.id, b.id]);
      expect(second.next).toBeNull();
    });
  });

  describe('secrets', () => {
    it('keeps the first secret by a name and returns it to every later caller', async ({ newStore }) => {
      const store = await newStore();
      expect(await store.keepSecret('secret_key', 'first-candidate')).toBe('first-candidate');
      expect(await store.keepSecret('secret_key', 'second-candidate')).toBe('first-candidate');
      expect(await store.keepSecret('another', 'other-value')).toBe('other-value');
      expect(await store.keepSecret('secret_key', 'third-candidate')).toBe('first-candidate');
    });
  });

  describe('bans, article settings and the moderator feed', () => {
    it('bans an author key until lifted or expired', async ({ newStore }) => {
      const store = await newStore();
      const now = '2030-01-01T00:00:00.000Z';
      /** Whether the key has a ban in force at `at`. */
      const banned = async (key: string, at: string) => (await store.bans(at)).some((ban) => ban.authorKey === key);
      expect(await banned('key-a', now)).toBe(false);
      const forever = { authorKey: 'key-a', authorName: 'Ann', reason: 'spam', createdAt: now, expiresAt: null };
      const brief = {
        authorKey: 'key-b',
        authorName: 'Bo',
        reason: null,
        createdAt: '2030-01-01T00:00:01.000Z',
        expiresAt: '2030-01-01T01:00:00.000Z',
      };
      expect(await store.addBan(forever)).toEqual(forever);
      await store.addBan(brief);
      expect(await store.bans(now)).toEqual([brief, forever]);
      expect(await banned('key-a', now)).toBe(true);
      expect(await banned('key-b', now)).toBe(true);
      expect(await banned('key-b', '2030-01-01T01:00:00.000Z')).toBe(false);
      expect(await store.bans('2030-01-01T02:00:00.000Z')).toEqual([forever]);
      const extended = { ...brief, expiresAt: null, reason: 'again' };
      await store.addBan(extended);
      expect(await banned('key-b', '2031-01-01T00:00:00.000Z')).toBe(true);
      expect(await store.removeBan('key-a')).toBe(true);
      expect(await store.removeBan('key-a')).toBe(false);
      expect(await banned('key-a', now)).toBe(false);
    });

    it('applies the posting gate inside submit: refuses locked articles and banned keys, holds on pre-moderated articles', async ({
      newStore,
    }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      const now = new Date().toISOString();
      const accepted = makeRecord({ articleId, clientId: nanoid(), authorKey: 'key-gate', createdAt: now });
      await store.submit(accepted, { hold: false });
      await store.setArticleSettings(articleId, { locked: true });
      expect(await store.submit(makeRecord({ articleId, createdAt: now }), { hold: false })).toEqual({
        kind: 'refused',
        reason: 'locked',
      });
      expect(await store.submit(makeRecord({ articleId, createdAt: now }), { hold: true })).toEqual({
        kind: 'refused',
        reason: 'locked',
      });
      // A retry of a post accepted before the lock answers the stored comment.
      expect(
        await store.submit(makeRecord({ articleId, clientId: accepted.clientId, createdAt: now }), { hold: false }),
      ).toMatchObject({ kind: 'stored', created: false, comment: { id: accepted.id } });
      // Trusted writes skip the gate.
      expect((await store.create(makeRecord({ articleId }))).created).toBe(true);
      await store.setArticleSettings(articleId, { locked: false, premoderated: true });
      const held = await store.submit(makeRecord({ articleId, createdAt: now }), { hold: false });
      expect(held).toMatchObject({ kind: 'held', created: true });
      await store.addBan({
        authorKey: 'key-gate',
        authorName: 'Ann',
        reason: null,
        createdAt: now,
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      });
      expect(
        await store.submit(makeRecord({ articleId, authorKey: 'key-gate', createdAt: now }), { hold: false }),
      ).toEqual({ kind: 'refused', reason: 'banned' });
      // After the ban's expiry (judged at the post's time) the key posts again.
      const later = new Date(Date.now() + 120_000).toISOString();
      expect(
        await store.submit(makeRecord({ articleId, authorKey: 'key-gate', createdAt: later }), { hold: false }),
      ).toMatchObject({ kind: 'held' });
      await store.setArticleSettings(articleId, { premoderated: false });
      expect(
        await store.submit(makeRecord({ articleId, authorKey: 'key-other', createdAt: now }), { hold: false }),
      ).toMatchObject({ kind: 'stored', created: true, comment: { seq: 3 } });
      expect(
        await store
          .submit(makeRecord({ articleId, parentId: nanoid(), createdAt: now }), { hold: false })
          .catch((e: unknown) => e),
      ).toBeInstanceOf(ParentNotFoundError);
      expect(await store.lastSeq(articleId)).toBe(3);
    });

    it('locks and pre-moderates per article, changing only the given settings and taking no seq', async ({
      newStore,
    }) => {
      const store = await newStore();
      const articleId = makeArticleId();
      await post(store, { articleId });
      expect(await store.articleSettings(articleId)).toEqual({ locked: false, premoderated: false });
      expect(await store.setArticleSettings(articleId, { locked: true })).toEqual({
        locked: true,
        premoderated: false,
      });
      expect(await store.setArticleSettings(articleId, { premoderated: true })).toEqual({
        locked: true,
        premoderated: true,
      });
      expect(await store.setArticleSettings(articleId, { locked: false })).toEqual({
        locked: false,
        premoderated: true,
      });
      expect(await store.articleSettings(articleId)).toEqual({ locked: false, premoderated: true });
      expect(await store.articleSettings(makeArticleId())).toEqual({ locked: false, premoderated: false });
      expect(await store.lastSeq(articleId)).toBe(1);
    });

    it('feeds the newest comments first across articles or of one, as moderators see them', async ({ newStore }) => {
      const store = await newStore();
      const [x, y] = [makeArticleId(), makeArticleId()];
      const at = (minute: number) => new Date(Date.UTC(2030, 0, 1, 0, minute)).toISOString();
      const c1 = await post(store, { articleId: x, createdAt: at(1), authorKey: 'k1' });
      const c2 = await post(store, { articleId: y, createdAt: at(2) });
      const c3 = await post(store, { articleId: x, createdAt: at(3), body: 'kept by the moderator' });
      await store.remove(c3.id, 'moderator');
      const all = await store.feed({ limit: 10 });
      expect(all.slice(0, 3).map((c) => c.id)).toEqual([c3.id, c2.id, c1.id]);
      expect(ModeratedCommentSchema.parse(all[0])).toMatchObject({
        body: '',
        originalBody: 'kept by the moderator',
        removedBy: 'moderator',
      });
      expect(all[2]?.authorKey).toBe('k1');
      expect((await store.feed({ limit: 10, articleId: x })).map((c) => c.id)).toEqual([c3.id, c1.id]);
      expect((await store.feed({ limit: 1, articleId: x })).map((c) => c.id)).toEqual([c3.id]);
    });
  });
});

describe.each(sharedStoreFactories)('secrets across instances: %s', (_name, openShared) => {
  it('gives every instance the first secret when several on one database propose theirs at once', async () => {
    const shared = await openShared(4);
    try {
      for (let round = 0; round < 5; round++) {
        const name = `race-${round}`;
        const kept = await Promise.all(shared.stores.map((store, i) => store.keepSecret(name, `candidate-${i}`)));
        expect(new Set(kept).size).toBe(1);
        expect(kept[0]).toMatch(/^candidate-[0-3]$/);
      }
    } finally {
      await shared.close();
    }
  });
});

describe('SqliteCommentStore specifics', () => {
  const dirs: string[] = [];
  const closers: Array<{ close(): unknown }> = [];
  function tempFile(): string {
    const dir = makeTempDir();
    dirs.push(dir);
    return join(dir, 'nested', 'dir', 'comments.db');
  }
  function open(path: string): SqliteCommentStore {
    const store = openSqliteStore(path);
    closers.push(store);
    return store;
  }
  afterEach(async () => {
    for (const closer of closers.splice(0).reverse()) await closer.close();
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('creates the parent directory, uses WAL, and applies each migration once', async () => {
    const file = tempFile();
    const first = open(file);
    await first.create(makeRecord());
    const second = open(file);
    const raw = new Database(file, { readonly: true });
    closers.push(raw);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    const versions = raw.prepare<[], number>('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
    expect(versions).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await second.counts(['x'])).toEqual({ x: 0 });
  });

  it('upgrades a version-1 file in place: old comments read with no likes and no moderator fields', async () => {
    const file = tempFile();
    const v1 = open(file);
    const { comment } = await v1.create(makeRecord({ body: 'from version 1' }));
    await v1.close();
    // Wind the file back to version 1: drop what later migrations added, as a file written by the previous release.
    const raw = new Database(file);
    raw.exec(`
      ${WIND_BACK_V6_SQL}
      DROP TABLE held_comments; DROP TABLE reactions; DROP TABLE bans; DROP TABLE article_settings;
      DROP TABLE import_sources; DROP TABLE import_jobs; DROP TABLE secrets;
      ALTER TABLE comments DROP COLUMN likes; ALTER TABLE comments DROP COLUMN removed_by;
      ALTER TABLE comments DROP COLUMN original_body; ALTER TABLE comments DROP COLUMN author_key;
      DELETE FROM schema_migrations WHERE version > 1;
    `);
    raw.close();
    const upgraded = open(file);
    expect(await upgraded.get(comment.id)).toEqual({ ...comment, likes: 0 });
    expect((await upgraded.getRecord(comment.id))?.comment).toMatchObject({
      removedBy: null,
      originalBody: null,
      authorKey: null,
    });
    expect(await upgraded.setLike(comment.id, 'reader-upgrade-1', true)).toMatchObject({
      changed: true,
      comment: { likes: 1, seq: 2 },
    });
  });

  it('works in memory', async () => {
    const store = open(':memory:');
    const { comment } = await store.create(makeRecord());
    expect(comment.seq).toBe(1);
    expect(await store.get(comment.id)).toEqual(comment);
  });

  it('keeps seqs gapless when two instances (two processes) share one file', async () => {
    const file = tempFile();
    const stores = [open(file), open(file)] as const;
    const articleId = makeArticleId();
    const n = 40;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => (i % 2 === 0 ? stores[0] : stores[1]).create(makeRecord({ articleId }))),
    );
    expect(results.map((r) => r.comment.seq).sort((x, y) => x - y)).toEqual(range(1, n));
    expect(await stores[0].lastSeq(articleId)).toBe(n);
    expect(await stores[1].lastSeq(articleId)).toBe(n);
    expect(seqs((await stores[0].changesSince(articleId, 0, 100)).comments)).toEqual(range(1, n));
  });

  it('keeps seqs gapless when real processes open a fresh file and post to one article at once', async () => {
    const file = tempFile();
    const articleId = makeArticleId();
    const perProcess = 30;
    const script = `
      import { openSqliteStore } from ${JSON.stringify(new URL('../../server/storage/sqlite.ts', import.meta.url).href)};
      import { nanoid } from 'nanoid';
      const store = openSqliteStore(process.env.DB_FILE);
      for (let i = 0; i < ${perProcess}; i++) {
        await store.create({ id: nanoid(), articleId: process.env.ARTICLE_ID, parentId: null, authorName: 'p', body: 'b',
          createdAt: new Date().toISOString(), clientId: null, authorTokenHash: 'h' });
      }
      await store.close();
    `;
    const env = { ...process.env, DB_FILE: file, ARTICLE_ID: articleId };
    const processes = 3;
    await Promise.all(
      Array.from({ length: processes }, () =>
        run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env, timeout: 15_000 }),
      ),
    );
    const store = open(file);
    const changes = await store.changesSince(articleId, 0, 1000);
    expect(seqs(changes.comments)).toEqual(range(1, processes * perProcess));
    expect(changes.lastSeq).toBe(processes * perProcess);
  });

  it('upgrades a version-4 file: author keys erased, bans lifted, comments kept', async () => {
    const file = tempFile();
    const v3 = open(file);
    const { comment } = await v3.create(makeRecord({ body: 'before keyed keys' }));
    await v3.submit(makeRecord({}), { hold: true });
    await v3.close();
    // Wind the file back to version 4, with author keys and a ban as the previous release wrote them.
    const raw = new Database(file);
    raw.exec(`
      ${WIND_BACK_V6_SQL}
      DROP TABLE secrets; DELETE FROM schema_migrations WHERE version > 4;
      UPDATE comments SET author_key = 'old-sha256-key'; UPDATE held_comments SET author_key = 'old-held-key';
      INSERT INTO bans (author_key, author_name, created_at) VALUES ('old-sha256-key', 'Ada', '2030-01-01T00:00:00.000Z');
    `);
    raw.close();

    const upgraded = open(file);
    expect(await upgraded.get(comment.id)).toEqual(comment);
    expect((await upgraded.getRecord(comment.id))?.comment.authorKey).toBeNull();
    expect((await upgraded.heldList(10)).map((held) => held.authorKey)).toEqual([null]);
    expect(await upgraded.bans('2000-01-01T00:00:00.000Z')).toEqual([]);
    expect(await upgraded.keepSecret('secret_key', 'new')).toBe('new');
  });

  it('keeps one secret when real processes open a fresh file and propose theirs at once', async () => {
    const file = tempFile();
    const script = `
      import { openSqliteStore } from ${JSON.stringify(new URL('../../server/storage/sqlite.ts', import.meta.url).href)};
      import { randomBytes } from 'node:crypto';
      const store = openSqliteStore(process.env.DB_FILE);
      process.stdout.write(await store.keepSecret('secret_key', randomBytes(32).toString('base64url')));
      await store.close();
    `;
    const env = { ...process.env, DB_FILE: file };
    const outputs = await Promise.all(
      Array.from({ length: 3 }, () =>
        run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env, timeout: 40_000 }),
      ),
    );
    const kept = outputs.map((output) => output.stdout);
    expect(kept[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set(kept).size).toBe(1);
    expect(await open(file).keepSecret('secret_key', 'later')).toBe(kept[0]);
  }, 60_000);

  it('rejects with StoreUnavailableError after about the busy timeout while another connection holds the lock', async () => {
    const file = tempFile();
    const store = open(file);
    const articleId = makeArticleId();
    await store.create(makeRecord({ articleId }));
    const locker = new Database(file);
    closers.push(locker);
    locker.exec('BEGIN EXCLUSIVE');
    const started = performance.now();
    const error: unknown = await store.create(makeRecord({ articleId })).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as StoreUnavailableError).cause).toMatchObject({ code: expect.stringMatching(/^SQLITE_BUSY/) });
    expect(elapsed).toBeGreaterThanOrEqual(800);
    expect(elapsed).toBeLessThan(2000);
    locker.exec('ROLLBACK');
    const { comment } = await store.create(makeRecord({ articleId }));
    expect(comment.seq).toBe(2);
  });

  it('opens a new file that another process holds locked longer than the busy timeout, once the lock is released', async () => {
    const file = tempFile();
    // Another process creates the file and holds an exclusive lock for 1.5 s (past the 1 s busy timeout),
    // as an instance starting at the same moment might while it switches to WAL and migrates.
    const holder = `const D = require('better-sqlite3'); const db = new D(process.argv[1]); db.exec('BEGIN EXCLUSIVE'); db.exec('CREATE TABLE hold (x)');
      console.log('locked'); setTimeout(() => { db.exec('ROLLBACK'); db.close(); }, 1500);`;
    const { spawn } = await import('node:child_process');
    mkdirSync(dirname(file), { recursive: true });
    const child = spawn(process.execPath, ['-e', holder, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('error', reject);
    });
    const started = performance.now();
    const store = open(file);
    const elapsed = performance.now() - started;
    await exited;
    expect(elapsed).toBeGreaterThan(1000);
    const { comment } = await store.create(makeRecord({ articleId: makeArticleId() }));
    expect(comment.seq).toBe(1);
  });

  it('rejects with StoreUnavailableError once closed', async () => {
    const store = open(tempFile());
    await store.close();
    await expect(store.create(makeRecord())).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.get(nanoid())).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('never replaces the stored token hash when a clientId repeats', async () => {
    const file = tempFile();
    const store = open(file);
    const articleId = makeArticleId();
    const clientId = nanoid();
    const first = await store.create(makeRecord({ articleId, clientId, authorTokenHash: 'a'.repeat(64) }));
    await store.create(makeRecord({ articleId, clientId, authorTokenHash: 'b'.repeat(64) }));
    const raw = new Database(file, { readonly: true });
    closers.push(raw);
    const hashes = raw
      .prepare<[string], string>('SELECT author_token_hash FROM comments WHERE article_id = ?')
      .pluck()
      .all(articleId);
    expect(hashes).toEqual(['a'.repeat(64)]);
    expect(first.created).toBe(true);
  });

  it('does not count removed comments', async () => {
    const file = tempFile();
    const store = open(file);
    const articleId = makeArticleId();
    const { comment } = await store.create(makeRecord({ articleId }));
    await store.create(makeRecord({ articleId }));
    const raw = new Database(file);
    closers.push(raw);
    raw.prepare("UPDATE comments SET status = 'removed', body = '' WHERE id = ?").run(comment.id);
    expect(await store.counts([articleId])).toEqual({ [articleId]: 1 });
  });

  it('refuses to open an unusable path with StoreUnavailableError', () => {
    const dir = makeTempDir();
    dirs.push(dir);
    expect(() => openSqliteStore(dir)).toThrow(StoreUnavailableError);
  });
});

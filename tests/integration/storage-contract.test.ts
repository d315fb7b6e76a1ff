import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { nanoid } from 'nanoid';
import { afterEach, describe, expect, it } from 'vitest';
import { CommentSchema, type Comment } from '../../shared/schemas.ts';
import { ParentNotFoundError, StoreUnavailableError, type CommentStore, type NewCommentRecord } from '../../server/storage/port.ts';
import type { SqliteCommentStore } from '../../server/storage/sqlite.ts';
import { openSqliteStore } from '../../server/storage/sqlite.ts';
import { makeArticleId, makeRecord, makeTempDir, storeFactories } from '../helpers/store-factories.ts';

const seqs = (comments: readonly Comment[]): number[] => comments.map((c) => c.seq);
const run = promisify(execFile);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.each(storeFactories)('CommentStore contract: %s', (_name, makeStore) => {
  const opened: CommentStore[] = [];
  async function newStore(): Promise<CommentStore> {
    const store = await makeStore();
    opened.push(store);
    return store;
  }
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  /** Creates one comment and returns it, asserting it is new and well-formed. */
  async function post(store: CommentStore, overrides: Partial<NewCommentRecord>): Promise<Comment> {
    const { comment, created } = await store.create(makeRecord(overrides));
    expect(created).toBe(true);
    return CommentSchema.parse(comment);
  }

  describe('create and seq', () => {
    it('numbers comments 1, 2, 3 per article with no gaps, independently per article', async () => {
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

    it('returns the stored comment in the shared shape', async () => {
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

    it('gives 50 concurrent creates on one article exactly the seqs 1..50', async () => {
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

    it('returns the first comment, created: false, when a clientId repeats, and stores nothing new', async () => {
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

    it('creates two comments for the same clientId in two different articles', async () => {
      const store = await newStore();
      const clientId = nanoid();
      const a = await store.create(makeRecord({ articleId: makeArticleId(), clientId }));
      const b = await store.create(makeRecord({ articleId: makeArticleId(), clientId }));
      expect(a.created).toBe(true);
      expect(b.created).toBe(true);
      expect(b.comment.id).not.toBe(a.comment.id);
      expect(b.comment.seq).toBe(1);
    });

    it('accepts a reply to a parent in the same article', async () => {
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

    it('refuses a parent from another article with ParentNotFoundError and uses no seq', async () => {
      const store = await newStore();
      const other = makeArticleId();
      const articleId = makeArticleId();
      const foreign = await post(store, { articleId: other });
      await post(store, { articleId });
      await expect(store.create(makeRecord({ articleId, parentId: foreign.id }))).rejects.toBeInstanceOf(ParentNotFoundError);
      expect(await store.lastSeq(articleId)).toBe(1);
      expect(await store.lastSeq(other)).toBe(1);
      expect((await post(store, { articleId })).seq).toBe(2);
    });

    it('refuses a missing parent with ParentNotFoundError naming it', async () => {
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

    it('orders threads newest first, each followed by all its replies (any depth) in creation order', async () => {
      const store = await newStore();
      const articleId = makeArticleId();
      const c = await buildThreads(store, articleId);
      const page = await store.page(articleId, { limit: 100, cursor: null, order: 'newest' });
      expect(bodies(page.comments)).toEqual(NEWEST);
      expect(page.next).toBeNull();
      expect(page.lastSeq).toBe(11);
      expect(page.comments.find((x) => x.body === 'R1d')).toEqual(c['R1d']);
    });

    it('orders threads oldest first when asked', async () => {
      const store = await newStore();
      const articleId = makeArticleId();
      await buildThreads(store, articleId);
      const page = await store.page(articleId, { limit: 100, cursor: null, order: 'oldest' });
      expect(bodies(page.comments)).toEqual(OLDEST);
      expect(page.next).toBeNull();
    });

    it.each([
      ['newest', NEWEST, [['T5', 'T4'], ['T3', 'R3a', 'T2', 'R2a'], ['T1', 'R1a', 'R1b', 'R1c', 'R1d']]],
      ['oldest', OLDEST, [['T1', 'R1a', 'R1b', 'R1c', 'R1d', 'T2', 'R2a'], ['T3', 'R3a', 'T4'], ['T5']]],
    ] as const)('walks every %s thread exactly once through cursors', async (order, all, expectedPages) => {
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
    });

    it('gives no next cursor when the last page is exactly full, and one when more remain', async () => {
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

    it('keeps cursors stable while new comments arrive', async () => {
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

    it('shows only the article asked for, and an empty page for an unknown article', async () => {
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
        next: null,
      });
    });
  });

  describe('changesSince', () => {
    it('returns comments with seq > since, ascending; since is exclusive', async () => {
      const store = await newStore();
      const articleId = makeArticleId();
      const created: Comment[] = [];
      for (let i = 0; i < 5; i++) created.push(await post(store, { articleId, parentId: i === 3 ? (created[0]?.id ?? null) : null }));
      await post(store, { articleId: makeArticleId() });
      const changes = await store.changesSince(articleId, 2, 10);
      expect(changes).toEqual({ lastSeq: 5, comments: created.slice(2), reset: false });
      expect(seqs(changes.comments)).toEqual([3, 4, 5]);
      expect(await store.changesSince(articleId, 5, 10)).toEqual({ lastSeq: 5, comments: [], reset: false });
      expect(await store.changesSince(makeArticleId(), 0, 10)).toEqual({ lastSeq: 0, comments: [], reset: false });
    });

    it('answers reset with no comments when more than limit changed', async () => {
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
    it('counts visible comments per article, 0 for unknown ones', async () => {
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

    it('gets null for an unknown id', async () => {
      const store = await newStore();
      expect(await store.get(nanoid())).toBeNull();
    });

    it('answers ping', async () => {
      const store = await newStore();
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('round-trips unicode byte-exact: emoji, curly quotes, U+2011, several lines', async () => {
      const store = await newStore();
      const articleId = makeArticleId();
      const body = 'Great piece 👍🏽 👨‍👩‍👧 — “double” and ‘single’ quotes\nnon\u2011breaking\u2011hyphen\n\n  indented line\twith tab\nend 🇺🇦';
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
    expect(versions).toEqual([1]);
    expect(await second.counts(['x'])).toEqual({ x: 0 });
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

  it('rejects with StoreUnavailableError once closed', async () => {
    const store = open(tempFile());
    await store.close();
    await expect(store.create(makeRecord())).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.get(nanoid())).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('replaces the stored token hash when a clientId repeats', async () => {
    const file = tempFile();
    const store = open(file);
    const articleId = makeArticleId();
    const clientId = nanoid();
    const first = await store.create(makeRecord({ articleId, clientId, authorTokenHash: 'a'.repeat(64) }));
    await store.create(makeRecord({ articleId, clientId, authorTokenHash: 'b'.repeat(64) }));
    const raw = new Database(file, { readonly: true });
    closers.push(raw);
    const hashes = raw.prepare<[string], string>('SELECT author_token_hash FROM comments WHERE article_id = ?').pluck().all(articleId);
    expect(hashes).toEqual(['b'.repeat(64)]);
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

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync, gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  NativeCommentSchema,
  NativeHeaderSchema,
  type NativeComment,
  type NativeHeader,
} from '../../shared/import-export.ts';
import { normaliseAuthorName } from '../../server/abuse/keys.ts';
import { memberProfileText } from '../../server/storage/rows.ts';
import { CommentSchema } from '../../shared/schemas.ts';
import { ImportFileError } from '../../server/import/errors.ts';
import { htmlToText } from '../../server/import/html-text.ts';
import { importedCommentId } from '../../server/import/ids.ts';
import { runImport, type ImportOptions } from '../../server/import/importer.ts';
import { writeNativeExport } from '../../server/import/native.ts';
import type { CommentStore } from '../../server/storage/port.ts';
import { makePostgresStore, makeRecord, makeTempDir, storeFactories } from '../helpers/store-factories.ts';
import { SqliteCommentStore } from '../../server/storage/sqlite.ts';
import { Keyring } from '../../server/keys/keyring.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/import');
const DISQUS = join(FIXTURES, 'disqus.xml');
const WXR = join(FIXTURES, 'wordpress.xml');

const keys = new Keyring(randomBytes(32).toString('base64url'));
const opened: CommentStore[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});
const track = <S extends CommentStore>(store: S): S => {
  opened.push(store);
  return store;
};
const sqlite = (): SqliteCommentStore => track(new SqliteCommentStore(join(makeTempDir(), 'comments.db')));

/** Every comment of the store in export order, as the native export writes them. */
async function exported(store: CommentStore): Promise<{ header: unknown; comments: NativeComment[] }> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  await writeNativeExport(store, sink);
  const lines = gunzipSync(Buffer.concat(chunks)).toString('utf8').trim().split('\n');
  const [header = '', ...rest] = lines;
  return {
    header: NativeHeaderSchema.parse(JSON.parse(header)),
    comments: rest.map((line) => NativeCommentSchema.parse(JSON.parse(line))),
  };
}

async function threadOf(store: CommentStore, articleId: string) {
  const page = await store.page(articleId, { limit: 100, cursor: null, order: 'oldest' });
  for (const comment of page.comments) CommentSchema.parse(comment);
  return page;
}

const run = (store: CommentStore, options: Partial<ImportOptions> & Pick<ImportOptions, 'format' | 'input'>) =>
  runImport({ store, keys, ...options });

describe('HTML bodies become plain text', () => {
  it('turns breaks and paragraphs into newlines, keeps link targets, decodes entities and drops other markup', () => {
    expect(
      htmlToText('<p>One<br/>two &amp; <b>three</b></p><p>See <a href="https://x.org/a">this</a> &lt;ok&gt;</p>', {
        newlines: 'collapse',
      }),
    ).toBe('One\ntwo & three\n\nSee this (https://x.org/a) <ok>');
    expect(
      htmlToText('<a href="https://x.org/">https://x.org/</a><script>alert(1)</script>', { newlines: 'collapse' }),
    ).toBe('https://x.org/');
    expect(htmlToText('<a href="javascript:alert(1)">click</a>', { newlines: 'collapse' })).toBe('click');
    expect(htmlToText('line one\nline two\n\nnext', { newlines: 'keep' })).toBe('line one\nline two\n\nnext');
    expect(htmlToText('line one\nline two', { newlines: 'collapse' })).toBe('line one line two');
  });
});

describe.each(storeFactories)('import into %s', (_name, makeStore) => {
  const newStore = async (): Promise<CommentStore> => track(await makeStore());

  it('imports a Disqus export: nested replies out of order, a deleted parent as placeholder, spam skipped, HTML, CDATA, long and non-Latin bodies', async () => {
    const store = await newStore();
    const summary = await run(store, { format: 'disqus', input: DISQUS, keepClosed: true });
    expect(summary).toMatchObject({
      records: 9,
      imported: 5,
      placeholders: 1,
      held: 0,
      truncated: 1,
      locked: 1,
      skipped: { spam: 1, deleted: 0, orphans: 2, duplicates: 0 },
      threads: { read: 3, mapped: 2, unmapped: 1 },
    });
    const page = await threadOf(store, 'election-night');
    const byAuthor = new Map(page.comments.map((c) => [c.author.name, c]));
    const alice = byAuthor.get('Alice');
    const carol = byAuthor.get('Carol');
    // A removed comment shows readers no name: Bob's is the comment Carol answered.
    const bob = page.comments.find((c) => c.id === carol?.parentId);
    const dave = byAuthor.get('Dave');
    const erin = byAuthor.get('Erin');
    expect(alice?.body).toBe('First!\n\nSecond paragraph\nwith a break — and a source (https://example.org/facts).');
    expect(alice?.createdAt).toBe('2024-11-05T18:05:00.000Z');
    // Bob's post was deleted but Carol answered it: a removed placeholder keeps the tree whole.
    expect(bob).toMatchObject({ status: 'removed', body: '', author: { name: '' }, parentId: alice?.id });
    expect(carol).toMatchObject({ parentId: bob?.id, body: 'Replying to Bob: agreed & more.' });
    // Dave's reply came after its parent in time, but Carol's post came first in the file.
    expect(dave).toMatchObject({ parentId: carol?.id, body: 'Escaped markup, not CDATA: 5 < 6 & "quotes" — done' });
    expect(erin?.body.length).toBe(5000);
    expect(erin?.body.endsWith('…')).toBe(true);
    expect(page.comments.some((c) => c.body.includes('watches'))).toBe(false);
    // seq follows createdAt.
    const byTime = [...page.comments].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    expect(byTime.map((c) => c.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(page.lastSeq).toBe(5);
    expect(await store.articleSettings('election-night')).toEqual({ locked: true, premoderated: false });

    const tokyo = await threadOf(store, 'E6-9D-B1-E4-BA-AC-report');
    expect(tokyo.comments.map((c) => [c.author.name, c.body])).toEqual([
      ['山田 太郎', '東京からこんにちは。Привет! مرحبا'],
    ]);
    // Imported authors carry a ban key; the same source author always gets the same one.
    const moderated = await store.feed({ limit: 50, articleId: 'election-night' });
    expect(moderated.every((c) => c.authorKey !== null)).toBe(true);
    // Keyed with the server secret: Alice's key is not a hash anyone could recompute from her username.
    const aliceKey = moderated.find((c) => c.author.name === 'Alice')?.authorKey;
    expect(aliceKey).toBe(keys.deriveKey('author', 'import:disqus:user:alice'));
    expect(aliceKey).not.toBe(createHash('sha256').update('import:disqus:user:alice').digest('base64url').slice(0, 32));
  });

  it('imports WordPress: pending to the review queue, spam, trash and pings skipped, newlines kept, closed posts locked', async () => {
    const store = await newStore();
    const summary = await run(store, { format: 'wxr', input: WXR, keepClosed: true });
    expect(summary).toMatchObject({
      imported: 2,
      held: 1,
      skipped: { spam: 1, deleted: 1, pings: 2, orphans: 1 },
      locked: 1,
    });
    const page = await threadOf(store, 'hello-world');
    expect(page.comments.map((c) => c.body)).toEqual([
      'Hi, this is a comment.\n\nTo get started, visit the support forums (https://wordpress.org/support/) & read.',
      'A reply to the first comment.\nWith a second line.',
    ]);
    expect(page.comments[1]?.parentId).toBe(page.comments[0]?.id);
    expect(page.comments[0]?.createdAt).toBe('2020-01-01T09:00:00.000Z');
    const held = await store.heldList(10);
    expect(held).toMatchObject([
      { articleId: 'hello-world', author: { name: 'Waiting Walter' }, body: 'Please approve me.' },
    ]);
    expect(held[0]?.createdAt).toBe('2020-01-03T10:00:00.000Z');
  });

  it('is idempotent and additive: a re-run adds nothing, existing comments stay, and imported threads join them in time order', async () => {
    const store = await newStore();
    const live = await store.create({
      id: 'LiveCommentBeforeImpo',
      articleId: 'election-night',
      parentId: null,
      authorName: 'Live reader',
      body: 'Posted here before the import',
      createdAt: '2025-01-01T00:00:00.000Z',
      clientId: null,
      authorTokenHash: 'a'.repeat(64),
    });
    const first = await run(store, { format: 'disqus', input: DISQUS });
    expect(first.imported).toBe(5);
    const before = await threadOf(store, 'election-night');
    // A dry run counts as the re-run will: nothing left to import.
    const dry = await run(store, { format: 'disqus', input: DISQUS, dryRun: true });
    expect(dry).toMatchObject({ imported: 0, held: 0, placeholders: 0, alreadyPresent: 6 });
    const again = await run(store, { format: 'disqus', input: DISQUS });
    expect(again).toMatchObject({ imported: 0, placeholders: 0, alreadyPresent: 6 });
    const after = await threadOf(store, 'election-night');
    expect(after).toEqual(before);
    expect(after.lastSeq).toBe(6);
    // The live comment keeps its seq; imported ones come after it in seq, but pages list threads by time.
    expect(after.comments.find((c) => c.id === live.comment.id)?.seq).toBe(1);
    const tops = after.comments.filter((c) => c.parentId === null).map((c) => c.createdAt);
    expect(tops).toEqual([...tops].sort());
    expect(tops.at(-1)).toBe('2025-01-01T00:00:00.000Z');
  });

  it('a dry run reports the mapping, collisions and orphans and writes nothing', async () => {
    const store = await newStore();
    const lines: string[] = [];
    const map = new Map([['https://news.example.com/', 'election-night']]);
    const summary = await run(store, {
      format: 'disqus',
      input: DISQUS,
      dryRun: true,
      map,
      onReport: (l) => lines.push(l),
    });
    expect(summary).toMatchObject({ dryRun: true, imported: 6, threads: { collisions: 1, unmapped: 0 } });
    expect(lines.filter((l) => l.startsWith('map'))).toHaveLength(3);
    expect(lines.some((l) => l.startsWith('collision election-night'))).toBe(true);
    expect(lines.filter((l) => l.startsWith('orphan'))).toEqual([expect.stringContaining('dsq:id 7002')]);
    expect(await store.exportArticles()).toEqual([]);
    expect(await store.lastSeq('election-night')).toBe(0);
  });

  it('a malformed file names the record and imports nothing at all', async () => {
    const store = await newStore();
    const xml = (await readFile(DISQUS, 'utf8')).replace(
      '<createdAt>2024-11-05T20:00:00Z</createdAt>',
      '<createdAt>yesterday</createdAt>',
    );
    await expect(run(store, { format: 'disqus', input: Readable.from([xml]) })).rejects.toThrow(
      /post #8 \(dsq:id 5005\) at line \d+: <createdAt> "yesterday" is not a date/,
    );
    const broken = (await readFile(DISQUS, 'utf8')).replace(
      '</post>\n  <post dsq:id="5006">',
      '</pots>\n  <post dsq:id="5006">',
    );
    await expect(run(store, { format: 'disqus', input: Readable.from([broken]) })).rejects.toThrow(ImportFileError);
    await expect(
      run(store, { format: 'native', input: Readable.from([gzipSync('{"format":"other"}\n')]) }),
    ).rejects.toThrow(/line 1: not a live-comments export/);
    expect(await store.exportArticles()).toEqual([]);
  });

  it('reads gzip, and skips a record repeated in the file as a duplicate', async () => {
    const store = await newStore();
    const xml = await readFile(WXR, 'utf8');
    const item = /<item>[\s\S]*?<\/item>/.exec(xml)?.[0] ?? '';
    const twice = xml.replace(item, `${item}${item}`);
    const summary = await run(store, { format: 'wxr', input: Readable.from([gzipSync(twice)]) });
    expect(summary.skipped.duplicates).toBe(8 - 1);
    expect(summary.imported).toBe(2);
    expect(await store.existingIds([importedCommentId('wxr', 'blog.example.com#1')])).toEqual(
      new Set([importedCommentId('wxr', 'blog.example.com#1')]),
    );
  });
});

describe('native export and restore', () => {
  it('round-trips SQLite → PostgreSQL → SQLite exactly: ids, parents, bodies, times, statuses, likes, order, bans, settings', async () => {
    const source = sqlite();
    await run(source, { format: 'disqus', input: DISQUS, keepClosed: true });
    await run(source, { format: 'wxr', input: WXR });
    // Live history on top: likes, an edit, a moderator removal, a ban, pre-moderation.
    const page = await threadOf(source, 'election-night');
    const [first, second] = page.comments.filter((c) => c.status === 'visible');
    if (!first || !second) throw new Error('fixture changed');
    await source.setLike(first.id, 'reader-0000001', true);
    await source.setLike(first.id, 'reader-0000002', true);
    await source.edit(second.id, 'Edited after import', '2025-02-01T00:00:00.000Z');
    await source.remove(first.id, 'moderator');
    await source.addBan({
      authorKey: 'someAuthorKey',
      authorName: 'Troll',
      reason: 'spam',
      createdAt: '2025-01-01T00:00:00.000Z',
      expiresAt: null,
    });
    // A member (signed in by the host site): their profile, a comment with its badges and avatar, a held one.
    const member = {
      sub: 'host-user-42',
      name: 'Mara Quill',
      email: 'mara@example.com',
      avatar: 'https://example.com/mara.png',
      badges: ['staff'],
      url: null,
      iat: 1_736_000_000,
    };
    await source.saveMember(member, normaliseAuthorName(member.name), '2025-01-03T00:00:00.000Z');
    const byMember = {
      articleId: 'election-night',
      authorName: member.name,
      memberSub: member.sub,
      memberProfile: memberProfileText({ badges: member.badges, avatar: member.avatar }),
    };
    await source.create(makeRecord({ ...byMember, body: 'Signed in', createdAt: '2025-01-03T00:00:01.000Z' }));
    await source.submit(makeRecord({ ...byMember, body: 'Signed in, held', createdAt: '2025-01-03T00:00:02.000Z' }), {
      hold: true,
      gate: false,
    });
    await source.setArticleSettings('hello-world', { premoderated: true });

    const original = await exported(source);
    expect(original.comments.filter((c) => c.author.member?.sub === member.sub)).toEqual([
      expect.objectContaining({
        body: 'Signed in',
        author: expect.objectContaining({ member: { sub: member.sub, badges: ['staff'], avatar: member.avatar } }),
      }),
      expect.objectContaining({ body: 'Signed in, held', status: 'held' }),
    ]);
    expect((original.header as NativeHeader).members).toEqual([member]);
    const dir = makeTempDir();
    const file = join(dir, 'backup.jsonl.gz');
    await writeNativeExport(source, (await import('node:fs')).createWriteStream(file));

    const middle = track(await makePostgresStore());
    const restored = await run(middle, { format: 'native', input: file });
    expect(restored).toMatchObject({ imported: original.comments.length - 2, held: 2, bans: 1 });
    const viaPostgres = await exported(middle);
    expect(viaPostgres.comments).toEqual(original.comments);
    const back = join(dir, 'back.jsonl.gz');
    await writeNativeExport(middle, (await import('node:fs')).createWriteStream(back));

    const target = sqlite();
    await run(target, { format: 'native', input: createReadStream(back) });
    const final = await exported(target);
    expect(final.comments).toEqual(original.comments);
    expect({ ...(final.header as object), exportedAt: null }).toEqual({
      ...(original.header as object),
      exportedAt: null,
    });
    for (const articleId of ['election-night', 'hello-world', 'E6-9D-B1-E4-BA-AC-report'])
      expect(await threadOf(target, articleId)).toEqual(await threadOf(source, articleId));
    // The member is one again: verified with their badge and avatar, their name reserved, their data theirs.
    const signed = (await threadOf(target, 'election-night')).comments.find((c) => c.body === 'Signed in');
    expect(signed?.author).toEqual({ name: member.name, verified: true, badges: ['staff'], avatar: member.avatar });
    expect(await target.getMember(member.sub)).toEqual(member);
    expect(await target.memberNameTaken(normaliseAuthorName('mara quill'))).toBe(true);
    const mine = await target.memberComments(member.sub);
    expect([...mine.comments, ...mine.held].map((c) => c.body).sort()).toEqual(['Signed in', 'Signed in, held']);
    // Restoring again adds nothing.
    const again = await run(target, { format: 'native', input: back });
    expect(again).toMatchObject({ imported: 0, held: 0, alreadyPresent: original.comments.length });
    await writeFile(join(dir, 'unused'), '');
  });
});

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema } from '../../shared/errors.ts';
import {
  ImportJobResultSchema,
  NativeCommentSchema,
  NativeHeaderSchema,
  type ImportJob,
} from '../../shared/import-export.ts';
import type { ArticleHead, CountChanged } from '../../shared/schemas.ts';
import { connectSocket, startTwoTestApps, type TestAppPair } from '../helpers/test-app.ts';

const ADMIN_TOKEN = `admin-${nanoid(24)}`;
const DISQUS = join(import.meta.dirname, '../fixtures/import/disqus.xml');

describe('admin API: import jobs and export', () => {
  let pair: TestAppPair;
  beforeAll(async () => {
    pair = await startTwoTestApps({ ADMIN_TOKEN });
  });
  afterAll(async () => {
    await pair.close();
  });

  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

  async function job(url: string, id: string): Promise<ImportJob> {
    const res = await fetch(`${url}/api/admin/import/${id}`, { headers: auth });
    expect(res.status).toBe(200);
    return ImportJobResultSchema.parse(await res.json()).job;
  }

  it('takes a gzipped upload as a job on one instance, reports its progress and summary on the other, and open widgets catch up', async () => {
    // A reader of the article on instance b, and a list page watching its count.
    const reader = await connectSocket(pair.b.url);
    const heads: ArticleHead[] = [];
    const counts: CountChanged[] = [];
    reader.on('article:head', (head) => heads.push(head));
    reader.on('count:changed', (change) => counts.push(change));
    const subscribed = await reader.emitWithAck('article:subscribe', { articleId: 'election-night' });
    expect(subscribed).toMatchObject({ ok: true, lastSeq: 0 });
    expect(await reader.emitWithAck('counts:subscribe', { articleIds: ['election-night'] })).toMatchObject({
      ok: true,
    });

    const upload = gzipSync(await readFile(DISQUS));
    const res = await fetch(`${pair.a.url}/api/admin/import?format=disqus&keepClosed=true`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/gzip' },
      body: upload,
    });
    expect(res.status).toBe(202);
    const started = ImportJobResultSchema.parse(await res.json()).job;
    expect(started).toMatchObject({ state: 'running', format: 'disqus', dryRun: false });
    expect(started.progress.records).toBe(12);
    expect(started.progress.bytes).toBe(upload.length);

    let seen = started;
    await expect
      .poll(async () => (seen = await job(pair.b.url, started.id)).state, { timeout: 10_000, interval: 100 })
      .toBe('done');
    expect(seen.progress).toMatchObject({ phase: 'done', written: 6, toWrite: 6 });
    expect(seen.summary).toMatchObject({ imported: 5, placeholders: 1, locked: 1, skipped: { spam: 1, orphans: 2 } });

    await expect.poll(() => heads, { timeout: 5000 }).toEqual([{ articleId: 'election-night', lastSeq: 5 }]);
    await expect.poll(() => counts, { timeout: 5000 }).toEqual([{ articleId: 'election-night', count: 4 }]);
    const caughtUp = await reader.emitWithAck('article:subscribe', { articleId: 'election-night', since: 0 });
    expect(caughtUp).toMatchObject({ ok: true, lastSeq: 5 });
    reader.disconnect();
  });

  it('refuses a malformed file with a clear error naming the record, and writes nothing', async () => {
    const xml = (await readFile(DISQUS, 'utf8'))
      .replaceAll('election-night', 'broken-night')
      .replace('<createdAt>2024-11-05T20:00:00Z</createdAt>', '<createdAt>soon</createdAt>');
    const res = await fetch(`${pair.a.url}/api/admin/import?format=disqus`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/xml' },
      body: xml,
    });
    expect(res.status).toBe(400);
    const body = ErrorBodySchema.parse(await res.json());
    expect(body.error.code).toBe('invalid_input');
    expect(body.error.message).toMatch(/nothing was written: post #8 \(dsq:id 5005\) at line \d+: <createdAt> "soon"/);
    const page = await (await fetch(`${pair.b.url}/api/articles/broken-night/comments`)).json();
    expect(page).toMatchObject({ lastSeq: 0, comments: [] });
  });

  it('needs the moderator token, and a known format', async () => {
    expect((await fetch(`${pair.a.url}/api/admin/import?format=disqus`, { method: 'POST', body: 'x' })).status).toBe(
      403,
    );
    expect((await fetch(`${pair.a.url}/api/admin/export`)).status).toBe(403);
    const bad = await fetch(`${pair.a.url}/api/admin/import?format=csv`, { method: 'POST', headers: auth, body: 'x' });
    expect(bad.status).toBe(400);
    expect((await fetch(`${pair.a.url}/api/admin/import/nosuchjob1`, { headers: auth })).status).toBe(404);
  });

  it('streams the gzipped native export', async () => {
    const res = await fetch(`${pair.b.url}/api/admin/export`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/gzip');
    const lines = gunzipSync(Buffer.from(await res.arrayBuffer()))
      .toString('utf8')
      .trim()
      .split('\n');
    const header = NativeHeaderSchema.parse(JSON.parse(lines[0] ?? ''));
    expect(header.articles.find((a) => a.id === 'election-night')).toEqual({
      id: 'election-night',
      lastSeq: 5,
      locked: true,
      premoderated: false,
    });
    const comments = lines.slice(1).map((line) => NativeCommentSchema.parse(JSON.parse(line)));
    expect(comments.filter((c) => c.articleId === 'election-night')).toHaveLength(5);
    expect(comments.every((c) => c.source?.format === 'disqus')).toBe(true);
  });
});

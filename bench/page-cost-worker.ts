/**
 * Read-path cost of the pages the audit of issue 10 found unbounded, on SQLite in this process:
 * a `top` page of an article with 50,000 top-level comments (random likes), and a page of one
 * thread with 2,000 replies of 4,000 characters (answer size and time). Prints `BENCH_RESULT {json}`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { nanoid } from 'nanoid';
import { SqliteCommentStore } from '../server/storage/sqlite.ts';

const TOPS = Number(process.argv[2] ?? 50_000);
const REPLIES = Number(process.argv[3] ?? 2000);
const RUNS = 25;
const dir = mkdtempSync(join(tmpdir(), 'live-comments-page-cost-'));
const path = join(dir, 'c.db');
const store = new SqliteCommentStore(path);
const record = (articleId: string, parentId: string | null, body: string) => ({
  id: nanoid(),
  articleId,
  parentId,
  authorName: 'Reader',
  body,
  createdAt: new Date().toISOString(),
  clientId: null,
  authorTokenHash: 'a'.repeat(64),
});
for (let i = 0; i < TOPS; i++) await store.create(record('big-top', null, `comment ${i}`));
const raw = new Database(path);
raw.prepare("UPDATE comments SET likes = abs(random()) % 500 WHERE article_id = 'big-top'").run();
raw.close();
const top = (await store.create(record('big-thread', null, 'the thread'))).comment;
const long = 'x'.repeat(4000);
for (let i = 0; i < REPLIES; i++) await store.create(record('big-thread', top.id, `${i} ${long}`));

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
async function time(fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}
const topMs = await time(() => store.page('big-top', { limit: 20, cursor: null, order: 'top' }));
const topDeepMs = await time(() => store.page('big-top', { limit: 20, cursor: '10000', order: 'top' }));
const newestMs = await time(() => store.page('big-top', { limit: 20, cursor: null, order: 'newest' }));
const threadPage = await store.page('big-thread', { limit: 1, cursor: null, order: 'newest' });
const threadMs = await time(() => store.page('big-thread', { limit: 1, cursor: null, order: 'newest' }));
const threadBytes = Buffer.byteLength(JSON.stringify(threadPage));
await store.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  `BENCH_RESULT ${JSON.stringify({ tops: TOPS, topPageMs: topMs, topPageAtOffset10000Ms: topDeepMs, newestPageMs: newestMs, replies: REPLIES, threadPageMs: threadMs, threadPageBytes: threadBytes, threadPageComments: threadPage.comments.length })}\n`,
);

import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { NativeCommentSchema, NativeHeaderSchema } from '../../shared/import-export.ts';
import { rowsOf } from '../helpers/browser.ts';
import { postJson, tempDir, uniqueArticle } from '../helpers/test-app.ts';
import { ADMIN_TOKEN, startTwoInstances, WAIT, type TwoInstances } from './two-instances.ts';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '../..');

/**
 * A small Disqus export of one thread mapped to `articleId` (its `<id>`): Alice's post, Bob's reply to
 * it placed before it in the file, Carol's post, and a spam post. `tag` keeps the ids apart per test
 * (imported ids derive from the Disqus ids).
 */
function disqusExport(articleId: string, tag: string, options: { badDate?: boolean } = {}): string {
  const post = (id: string, at: string, name: string, html: string, extra = '') => `
  <post dsq:id="${tag}-${id}">
    <message><![CDATA[${html}]]></message>
    <createdAt>${at}</createdAt>
    <isDeleted>false</isDeleted>
    <isSpam>${extra.includes('spam') ? 'true' : 'false'}</isSpam>
    <author><email>${name.toLowerCase()}@example.com</email><name>${name}</name><isAnonymous>false</isAnonymous><username>${name.toLowerCase()}</username></author>
    <thread dsq:id="${tag}-thread"/>
    ${extra.startsWith('parent:') ? `<parent dsq:id="${tag}-${extra.slice(7)}"/>` : ''}
  </post>`;
  return `<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
  <thread dsq:id="${tag}-thread">
    <id>${articleId}</id>
    <link>https://news.example.com/2020/01/${articleId}/</link>
    <title>An old story</title>
    <createdAt>2020-01-01T09:00:00Z</createdAt>
    <isClosed>false</isClosed>
    <isDeleted>false</isDeleted>
  </thread>${post('2', '2020-01-01T10:05:00Z', 'Bob', 'Agreed &amp; <b>well said</b>', 'parent:1')}${post(
    '1',
    options.badDate ? 'yesterday' : '2020-01-01T10:00:00Z',
    'Alice',
    '<p>Imported from Disqus</p>',
  )}${post('3', '2020-01-01T11:00:00Z', 'Carol', 'A second thread, with a <a href="https://example.org/x">link</a>')}${post(
    '4',
    '2020-01-01T11:30:00Z',
    'Spammer',
    'Buy now',
    'spam',
  )}
</disqus>
`;
}

/** What the three imported comments look like in a widget, in its default order (newest threads first). */
const IMPORTED_ROWS = [
  { author: 'Carol', body: 'A second thread, with a link (https://example.org/x)', level: 1 },
  { author: 'Alice', body: 'Imported from Disqus', level: 1 },
  { author: 'Bob', body: 'Agreed & well said', level: 2 },
];

// A page, two readers and (once) a separate CLI process per test: a loaded 2-core machine needs more than the default.
describe('import and export in Chromium, across two instances', { timeout: 60_000 }, () => {
  let env: TwoInstances;
  const files = tempDir();

  beforeAll(async () => {
    env = await startTwoInstances();
  });
  afterEach(() => env.closeContexts());
  afterAll(async () => {
    await env?.close();
    files.cleanup();
  });

  async function moderator(): Promise<{ page: Page; problems: string[] }> {
    const opened = await env.open(env.b, '/admin');
    await opened.page.getByLabel('Moderator token').fill(ADMIN_TOKEN);
    await opened.page.getByRole('button', { name: 'Sign in' }).click();
    await opened.page.locator('.status[data-live]').waitFor(WAIT);
    return opened;
  }

  async function widgetRows(widget: Parameters<typeof rowsOf>[0]) {
    return (await rowsOf(widget)).map(({ author, body, level }) => ({ author, body, level }));
  }

  it('imports a gzipped Disqus file through the admin panel, shows the summary, and an open widget catches up live', async () => {
    const articleId = uniqueArticle('disqus');
    // A reader already on the article, on the other instance: the import reaches it through Redis.
    const reader = await env.reader(env.a, articleId);
    expect(await rowsOf(reader.widget)).toEqual([]);

    const { page, problems } = await moderator();
    const panel = page.getByRole('region', { name: 'Import and export' });
    await panel.getByLabel('Format').selectOption({ label: 'Disqus (XML export)' });
    await panel.getByLabel('File', { exact: true }).setInputFiles({
      name: 'disqus-export.xml.gz',
      mimeType: 'application/gzip',
      buffer: gzipSync(disqusExport(articleId, articleId)),
    });
    // The keyboard way: focus the button and press Enter.
    await panel.getByRole('button', { name: 'Import' }).focus();
    await page.keyboard.press('Enter');

    const title = panel.getByRole('heading', { name: 'Imported disqus-export.xml.gz' });
    await title.waitFor(WAIT);
    // The focus follows the result (the moderator stayed on the button), and a screen reader hears it.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('import-job-title');
    await page.locator('[aria-live="polite"]').getByText('Import done: 3 imported, 1 skipped.').waitFor(WAIT);
    const counts = await panel
      .locator('dl.counts')
      .evaluate((list) =>
        Object.fromEntries(
          [...list.querySelectorAll('dt')].map((term) => [term.textContent, term.nextElementSibling?.textContent]),
        ),
      );
    expect(counts).toMatchObject({
      'Source threads': '1 (1 with an article id, 0 without, 0 sharing one)',
      Articles: '1',
      'Comments in the file': '4',
      Imported: '3',
      'Held for review': '0',
      'Already imported before': '0',
      Skipped: '1 spam',
    });
    await panel.getByRole('list', { name: 'Why' }).getByText('1 marked as spam in the source: not imported').waitFor();
    expect(await panel.getByRole('progressbar').evaluate((bar) => (bar as HTMLProgressElement).value)).toBe(1);
    // Imports push no comment one by one: the page reads its feed again once the job is done.
    await page
      .getByRole('list', { name: 'Comments, newest first' })
      .getByRole('listitem')
      .filter({ hasText: 'Imported from Disqus' })
      .waitFor(WAIT);

    // The widget shows the imported thread, nested as it was, without a reload.
    await vi.waitFor(async () => expect(await widgetRows(reader.widget)).toEqual(IMPORTED_ROWS), WAIT);
    await reader.widget.getByRole('heading', { name: '3 comments' }).waitFor(WAIT);

    // A reload of the admin page shows the same job's summary again (its id is kept in the tab).
    await page.reload();
    await panel.getByRole('heading', { name: 'The last import (disqus): done' }).waitFor(WAIT);
    expect(problems).toEqual([]);
    expect(reader.problems).toEqual([]);
  });

  it('a dry run shows the mapping and writes nothing; a malformed file is refused naming the record', async () => {
    const articleId = uniqueArticle('dry');
    const { page, problems } = await moderator();
    const panel = page.getByRole('region', { name: 'Import and export' });
    await panel.getByLabel('File', { exact: true }).setInputFiles({
      name: 'export.xml',
      mimeType: 'application/xml',
      buffer: Buffer.from(disqusExport(articleId, articleId)),
    });
    await panel.getByRole('checkbox', { name: /^Dry run/ }).check();
    await panel.getByRole('button', { name: 'Check the file' }).click();
    await panel.getByRole('heading', { name: 'Dry run of export.xml: nothing was written' }).waitFor(WAIT);
    const report = panel.getByRole('region', { name: 'Threads to articles, collisions and orphans' });
    expect(await report.textContent()).toContain(
      `map       thread ${articleId}-thread (https://news.example.com/2020/01/${articleId}/) -> ${articleId} (by id), 4 comment(s)`,
    );
    expect(await panel.locator('dl.counts').textContent()).toContain('To import3');
    const stored = await fetch(`${env.a.url}/api/articles/${articleId}/comments`);
    expect(await stored.json()).toMatchObject({ lastSeq: 0, comments: [] });

    await panel.getByRole('checkbox', { name: /^Dry run/ }).uncheck();
    await panel.getByLabel('File', { exact: true }).setInputFiles({
      name: 'broken.xml',
      mimeType: 'application/xml',
      buffer: Buffer.from(disqusExport(articleId, articleId, { badDate: true })),
    });
    await panel.getByRole('button', { name: 'Import' }).click();
    const alert = panel.getByRole('alert').filter({ hasText: 'nothing was written' });
    await alert.waitFor(WAIT);
    expect(await alert.textContent()).toMatch(
      new RegExp(`post #3 \\(dsq:id ${articleId}-1\\) at line \\d+: <createdAt> "yesterday" is not a date`),
    );
    await panel.getByRole('heading', { name: 'broken.xml: not imported' }).waitFor();
    expect(await (await fetch(`${env.a.url}/api/articles/${articleId}/comments`)).json()).toMatchObject({
      lastSeq: 0,
      comments: [],
    });
    // The refused upload is logged by Chromium as the failed request it was; nothing else went wrong.
    expect(problems.filter((problem) => !problem.includes('status of 400'))).toEqual([]);
  });

  it('an import from the command line (another process, over Redis) reaches an open widget live', async () => {
    const articleId = uniqueArticle('cli');
    const reader = await env.reader(env.b, articleId);
    const file = join(files.dir, `${articleId}.xml`);
    await writeFile(file, disqusExport(articleId, articleId));
    const { stdout } = await run(
      join(REPO, 'node_modules/.bin/tsx'),
      ['server/cli.ts', 'import', '--format', 'disqus', '--file', file],
      { cwd: REPO, env: { ...process.env, ...env.storeEnv, LOG_LEVEL: 'silent' } },
    );
    expect(stdout).toMatch(/imported\s+3/i);
    await vi.waitFor(async () => expect(await widgetRows(reader.widget)).toEqual(IMPORTED_ROWS), WAIT);
    expect(reader.problems).toEqual([]);
  });

  it('"Download export" saves the gzipped native export, fetched with the token', async () => {
    const articleId = uniqueArticle('export');
    const posted = await postJson(`${env.a.url}/api/articles/${articleId}/comments`, {
      author: { name: 'Dana' },
      body: 'To be exported',
    });
    expect(posted.status).toBe(201);
    const { page, problems } = await moderator();
    const panel = page.getByRole('region', { name: 'Import and export' });
    const [download] = await Promise.all([
      page.waitForEvent('download', WAIT),
      panel.getByRole('button', { name: 'Download export' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^comments-\d{4}-\d{2}-\d{2}\.jsonl\.gz$/);
    const lines = gunzipSync(await readFile(await download.path()))
      .toString('utf8')
      .trim()
      .split('\n');
    const header = NativeHeaderSchema.parse(JSON.parse(lines[0] ?? ''));
    expect(header.articles).toContainEqual({ id: articleId, lastSeq: 1, locked: false, premoderated: false });
    const comments = lines.slice(1).map((line) => NativeCommentSchema.parse(JSON.parse(line)));
    expect(comments.filter((comment) => comment.articleId === articleId)).toMatchObject([
      { author: { name: 'Dana' }, body: 'To be exported', seq: 1, source: null },
    ]);
    await panel
      .getByRole('status')
      .filter({ hasText: /^Saved comments-.+\.jsonl\.gz \(.+\)\.$/ })
      .waitFor(WAIT);
    expect(problems).toEqual([]);
  });
});

import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { COUNT_GZIP_BUDGET_BYTES, COUNT_PATH, gzippedSize } from '../../client/build.mjs';
import { PostStoredSchema } from '../../shared/schemas.ts';
import { collectProblems, startStaticSite, strictCsp, type StaticSite } from '../helpers/browser.ts';
import { postJson, uniqueArticle } from '../helpers/test-app.ts';
import { ADMIN_TOKEN, startTwoInstances, WAIT, type TwoInstances } from './two-instances.ts';

/** The text of every count element on a page, by article id. */
const counts = (page: Page) =>
  page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('[data-live-comments-count]')].map((element) => [
        element.getAttribute('data-live-comments-count'),
        element.textContent,
      ]),
    ),
  );

/** Requests a page makes to `/api/counts` (the polling fallback). */
function countPolls(page: Page): string[] {
  const polls: string[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/api/counts') polls.push(request.url());
  });
  return polls;
}

describe('count.js: live comment counts on list pages, across two instances', () => {
  let env: TwoInstances;
  let site: StaticSite;
  /** Pages of the host site, by path (set per test). */
  const pages = new Map<string, { html: string; headers?: Record<string, string> }>();

  beforeAll(async () => {
    env = await startTwoInstances();
    site = await startStaticSite((path) => pages.get(path));
  });
  afterEach(() => env.closeContexts());
  afterAll(async () => {
    await site?.close();
    await env?.close();
  });

  const post = async (url: string, articleId: string, body: string) =>
    PostStoredSchema.parse(
      (await postJson(`${url}/api/articles/${articleId}/comments`, { author: { name: 'Reader' }, body })).body,
    ).comment;

  it(`is one small script: under ${COUNT_GZIP_BUDGET_BYTES / 1024} KB gzipped, without socket.io-client or eval`, () => {
    const source = readFileSync(COUNT_PATH);
    console.info(`count.js: ${source.length} bytes, ${gzippedSize(source)} gzipped`);
    expect(gzippedSize(source)).toBeLessThanOrEqual(COUNT_GZIP_BUDGET_BYTES);
    expect(source.toString()).not.toMatch(/\beval\(|innerHTML|engine\.io|socket\.io-client/);
  });

  it('fills the counts of the list page and keeps them live when comments are posted and removed on the other instance', async () => {
    const [busy, quiet] = [uniqueArticle('busy'), uniqueArticle('quiet')];
    await post(env.a.url, busy, 'one');
    const removable = await post(env.b.url, busy, 'two');
    const context = await env.browser.newContext();
    const page = await context.newPage();
    const problems = collectProblems(page);
    const polls = countPolls(page);
    await page.goto(`${env.a.url}/articles?articles=${busy},${quiet}`);
    await vi.waitFor(
      async () => expect(await counts(page)).toEqual({ [busy]: '2 comments', [quiet]: '0 comments' }),
      WAIT,
    );

    await post(env.b.url, quiet, 'a first one');
    await vi.waitFor(
      async () => expect(await counts(page)).toEqual({ [busy]: '2 comments', [quiet]: '1 comment' }),
      WAIT,
    );
    const removed = await postJson(
      `${env.b.url}/api/admin/comments/${removable.id}/remove`,
      {},
      { authorization: `Bearer ${ADMIN_TOKEN}` },
    );
    expect(removed.status).toBe(200);
    await vi.waitFor(
      async () => expect(await counts(page)).toEqual({ [busy]: '1 comment', [quiet]: '1 comment' }),
      WAIT,
    );

    // The server ends every connection (a deploy): count.js reconnects, subscribes again and stays live.
    env.a.app.io.disconnectSockets(true);
    await post(env.b.url, busy, 'after the reconnect');
    await vi.waitFor(
      async () => expect(await counts(page)).toEqual({ [busy]: '2 comments', [quiet]: '1 comment' }),
      WAIT,
    );
    await post(env.b.url, busy, 'and live again');
    await vi.waitFor(
      async () => expect(await counts(page)).toEqual({ [busy]: '3 comments', [quiet]: '1 comment' }),
      WAIT,
    );
    // Live over the socket: no poll was needed (the reconnect came back within a second or so).
    expect(polls).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('works from another origin under a strict CSP, with the bare number when no template is given', async () => {
    const articleId = uniqueArticle('cross');
    await post(env.a.url, articleId, 'hello');
    pages.set('/list', {
      html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>List</title><link rel="icon" href="data:,"></head><body>
<ul><li><a href="/post" data-live-comments-count="${articleId}">…</a> comments</li><li><span data-live-comments-count="${articleId}">…</span></li><li><span data-live-comments-count="not valid!">kept</span></li></ul>
<script src="${env.b.url}/count.js" async></script></body></html>`,
      headers: { 'content-security-policy': strictCsp(env.b.url, site.url) },
    });
    const context = await env.browser.newContext();
    const page = await context.newPage();
    const problems = collectProblems(page);
    await page.goto(`${site.url}/list`);
    const texts = () => page.evaluate(() => [...document.querySelectorAll('li')].map((li) => li.textContent));
    await vi.waitFor(async () => expect(await texts()).toEqual(['1 comments', '1', 'kept']), WAIT);
    await post(env.a.url, articleId, 'hello again');
    await vi.waitFor(async () => expect(await texts()).toEqual(['2 comments', '2', 'kept']), WAIT);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('words counts in the widget’s language with data-live-comments-words: the element’s lang, else the page’s; live', async () => {
    const articleId = uniqueArticle('words');
    await post(env.a.url, articleId, 'eins');
    await post(env.a.url, articleId, 'zwei');
    const span = (lang = '') =>
      `<li${lang ? ` lang="${lang}"` : ''}><span data-live-comments-count="${articleId}" data-live-comments-words>…</span></li>`;
    pages.set('/words', {
      html: `<!doctype html><html lang="de-CH"><head><meta charset="utf-8"><title>Liste</title><link rel="icon" href="data:,"></head><body>
<ul>${span()}${span('ar')}${span('en')}${span('ja')}<li><span data-live-comments-count="${articleId}" data-live-comments-words data-live-comments-template="{n} Briefe">…</span></li></ul>
<script src="${env.b.url}/count.js" async></script></body></html>`,
      headers: { 'content-security-policy': strictCsp(env.b.url, site.url) },
    });
    const context = await env.browser.newContext();
    const page = await context.newPage();
    const problems = collectProblems(page);
    const tables: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith('/i18n/')) tables.push(url.pathname);
    });
    await page.goto(`${site.url}/words`);
    const texts = () => page.evaluate(() => [...document.querySelectorAll('li')].map((li) => li.textContent));
    // A site's own template still wins.
    await vi.waitFor(
      async () => expect(await texts()).toEqual(['2 Kommentare', 'تعليقان', '2 comments', 'コメント 2 件', '2 Briefe']),
      WAIT,
    );
    await post(env.a.url, articleId, 'drei');
    await vi.waitFor(
      async () =>
        expect(await texts()).toEqual(['3 Kommentare', '3 تعليقات', '3 comments', 'コメント 3 件', '3 Briefe']),
      WAIT,
    );
    // One fetch per language, none for English.
    expect(tables.sort()).toEqual(['/i18n/ar.json', '/i18n/de.json', '/i18n/ja.json']);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('picks up count elements the page adds later (infinite scroll), of known and new articles, and keeps them live', async () => {
    const [first, later] = [uniqueArticle('first'), uniqueArticle('later')];
    await post(env.a.url, first, 'one');
    await post(env.a.url, later, 'one');
    await post(env.a.url, later, 'two');
    pages.set('/scroll', {
      html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>List</title><link rel="icon" href="data:,"></head><body>
<ul id="list"><li data-live-comments-count="${first}">…</li></ul>
<script src="${env.b.url}/count.js" async></script></body></html>`,
      headers: { 'content-security-policy': strictCsp(env.b.url, site.url) },
    });
    const context = await env.browser.newContext();
    const page = await context.newPage();
    const problems = collectProblems(page);
    const polls = countPolls(page);
    await page.goto(`${site.url}/scroll`);
    const texts = () => page.evaluate(() => [...document.querySelectorAll('li')].map((li) => li.textContent));
    await vi.waitFor(async () => expect(await texts()).toEqual(['1']), WAIT);

    // The next "page" of the list arrives: one more element of the known article, and a new article's inside a wrapper.
    await page.evaluate(
      ([known, fresh]) => {
        const list = document.getElementById('list')!;
        const again = document.createElement('li');
        again.setAttribute('data-live-comments-count', known!);
        const wrapper = document.createElement('div');
        const item = document.createElement('li');
        item.setAttribute('data-live-comments-count', fresh!);
        wrapper.append(item);
        list.append(again, wrapper);
      },
      [first, later],
    );
    await vi.waitFor(async () => expect(await texts()).toEqual(['1', '1', '2']), WAIT);
    // Both stay live over the socket.
    await post(env.a.url, later, 'three');
    await post(env.a.url, first, 'two');
    await vi.waitFor(async () => expect(await texts()).toEqual(['2', '2', '3']), WAIT);
    expect(polls).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('falls back to polling /api/counts every 30 s when the WebSocket cannot connect', async () => {
    const articleId = uniqueArticle('poll');
    await post(env.a.url, articleId, 'hello');
    // The page's CSP allows fetches to the server but no WebSocket to it.
    pages.set('/no-ws', {
      html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>List</title><link rel="icon" href="data:,"></head><body>
<p data-live-comments-count="${articleId}" data-live-comments-template="{n} comments" data-live-comments-template-one="{n} comment">…</p>
<script src="${env.a.url}/count.js" async></script></body></html>`,
      headers: { 'content-security-policy': `default-src 'none'; script-src ${env.a.url}; connect-src ${env.a.url}` },
    });
    const context = await env.browser.newContext();
    const page = await context.newPage();
    await page.clock.install();
    const polls = countPolls(page);
    const text = () => page.locator('p').textContent();
    await page.goto(`${site.url}/no-ws`);
    await vi.waitFor(async () => expect(await text()).toBe('1 comment'), WAIT);
    expect(polls).toHaveLength(1);

    await post(env.b.url, articleId, 'posted on the other instance');
    await page.clock.runFor(29_000);
    expect(await text()).toBe('1 comment');
    await page.clock.runFor(1_000);
    await vi.waitFor(async () => expect(await text()).toBe('2 comments'), WAIT);
    expect(polls).toHaveLength(2);
    await context.close();
  });
});

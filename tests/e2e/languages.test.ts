import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  collectProblems,
  startBrowserAndApp,
  startStaticSite,
  type StaticSite,
  strictCsp,
  waitForLive,
  widgetOf,
} from '../helpers/browser.ts';
import { postJson, uniqueArticle, type TestApp } from '../helpers/test-app.ts';

const WAIT = { timeout: 15_000 } as const;

/** Where a widget's thing sits across its row: its left and right edge, and the row's. */
async function across(row: Locator, selector: string) {
  return row.evaluate((li, selector) => {
    const box = li.getBoundingClientRect();
    const thing = li.querySelector(selector)!.getBoundingClientRect();
    return { left: thing.left - box.left, right: box.right - thing.right };
  }, selector);
}

describe('the widget in German and Arabic, in Chromium', () => {
  let browser: Browser;
  let server: TestApp;
  let site: StaticSite;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [browser, server] = await startBrowserAndApp();
    // /<html lang>/<article>?attrs: a host page in that language (`-`: none), under a strict CSP.
    site = await startStaticSite((path) => {
      const match = /^\/([a-zA-Z-]+)\/([A-Za-z0-9._:-]+)(?:\/(.*))?$/.exec(path);
      if (!match) return undefined;
      const [, pageLang, articleId, attributes = ''] = match as unknown as [string, string, string, string?];
      return {
        html: `<!doctype html>
<html${pageLang === '-' ? '' : ` lang="${pageLang}"`}><head><meta charset="utf-8"><title>Host page</title><link rel="icon" href="data:,"></head>
<body><h1>A page</h1>
<script src="${server.url}/widget.js" async></script>
<live-comments article="${articleId}" ${decodeURIComponent(attributes)}></live-comments>
</body></html>`,
        headers: { 'content-security-policy': strictCsp(server.url, site.url) },
      };
    });
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await server?.close();
  });

  /** An article with one comment by Anna, and a page showing it. */
  async function open(pageLang: string, attributes = '', setup?: (page: Page) => Promise<unknown>) {
    const articleId = uniqueArticle('lang');
    await postJson(`${server.url}/api/articles/${articleId}/comments`, { author: { name: 'Anna' }, body: 'Hallo' });
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const problems = collectProblems(page);
    const fetched: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith('/i18n/')) fetched.push(url.pathname);
    });
    await setup?.(page);
    await page.goto(`${site.url}/${pageLang}/${articleId}/${encodeURIComponent(attributes)}`);
    const widget = widgetOf(page);
    await waitForLive(widget);
    return { page, widget, problems, fetched, row: widget.locator('li.comment').first() };
  }

  it('speaks German by its lang attribute on an English page: words, plurals, numbers; fetched once', async () => {
    const { widget, problems, fetched, row } = await open('en', 'lang="de"');
    await widget.getByRole('heading', { name: '1 Kommentar' }).waitFor(WAIT);
    expect(await widget.locator('.root').getAttribute('lang')).toBe('de');
    expect(await widget.locator('.root').getAttribute('dir')).toBe('ltr');
    await row.getByRole('button', { name: 'Anna antworten' }).waitFor(WAIT);
    await row.getByRole('button', { name: 'Gefällt mir' }).waitFor(WAIT);
    expect(await row.locator('time').textContent()).toBe('gerade eben');
    await widget.getByRole('button', { name: 'Absenden' }).waitFor(WAIT);
    await widget.getByRole('group', { name: 'Kommentare sortieren' }).waitFor(WAIT);
    // The shared schema's check, in German.
    await widget.getByRole('button', { name: 'Absenden' }).click();
    await widget.getByText('Bitte geben Sie einen Namen ein.').waitFor(WAIT);
    expect(fetched).toEqual(['/i18n/de.json']);
    expect(problems).toEqual([]);
  });

  it('speaks German by the page’s <html lang="de-AT">', async () => {
    const { widget, problems } = await open('de-AT');
    await widget.getByRole('heading', { name: '1 Kommentar' }).waitFor(WAIT);
    expect(await widget.locator('.root').getAttribute('lang')).toBe('de-AT');
    expect(problems).toEqual([]);
  });

  it('speaks Arabic by its lang attribute, right to left: the name on the right of its row, the actions too', async () => {
    const { widget, problems, row } = await open('en', 'lang="ar"');
    await widget.getByRole('heading', { name: 'تعليق واحد' }).waitFor(WAIT);
    expect(await widget.locator('.root').getAttribute('dir')).toBe('rtl');
    await row.getByRole('button', { name: 'إعجاب' }).waitFor(WAIT);
    // Mirrored: the author's name starts at the right of the row, and the Like button is on the right.
    const name = await across(row, '.author');
    expect(name.right).toBeLessThan(name.left);
    expect(name.right).toBeLessThan(40);
    const like = await across(row, '.like-button');
    expect(like.right).toBeLessThan(like.left);
    // The sort buttons are one pill: its round ends are the first button's right and the last one's left.
    const corners = await widget.locator('.order button').evaluateAll((buttons) =>
      buttons.map((button) => {
        const style = getComputedStyle(button);
        return [style.borderTopLeftRadius, style.borderTopRightRadius];
      }),
    );
    expect(corners[0]).toEqual(['0px', '999px']);
    expect(corners.at(-1)).toEqual(['999px', '0px']);
    // The comment text keeps its own direction (dir=auto): a German comment reads left to right.
    expect(await row.locator('.body').evaluate((body) => getComputedStyle(body).direction)).toBe('ltr');
    expect(problems).toEqual([]);
  });

  it('speaks Arabic by the page’s <html lang="ar">, with its plural forms as comments arrive', async () => {
    const { page, widget, problems, row } = await open('ar');
    await widget.getByRole('heading', { name: 'تعليق واحد' }).waitFor(WAIT);
    expect(await widget.locator('.root').getAttribute('dir')).toBe('rtl');
    const name = await across(row, '.author');
    expect(name.right).toBeLessThan(name.left);
    // Two more arrive live: 3 is Arabic's `few` form, written in the language's digits.
    const articleId = (await page.locator('live-comments').getAttribute('article'))!;
    for (const body of ['ثانٍ', 'ثالث'])
      await postJson(`${server.url}/api/articles/${articleId}/comments`, { author: { name: 'Omar' }, body });
    const three = await page.evaluate(() => new Intl.NumberFormat('ar').format(3));
    await widget.getByRole('heading', { name: `${three} تعليقات` }).waitFor(WAIT);
    expect(problems).toEqual([]);
  });

  it('matches the language alone: pt-BR reads Portuguese, zh-Hans Chinese, he-IL Hebrew (right to left)', async () => {
    for (const [pageLang, heading, dir] of [
      ['pt-BR', '1 comentário', 'ltr'],
      ['zh-Hans', '1 条评论', 'ltr'],
      ['he-IL', 'תגובה אחת', 'rtl'],
    ] as const) {
      const { widget, problems } = await open(pageLang);
      await widget.getByRole('heading', { name: heading }).waitFor(WAIT);
      expect(await widget.locator('.root').getAttribute('dir')).toBe(dir);
      expect(problems).toEqual([]);
    }
  });

  it('an English page stays English, the name on the left (the layout above is mirrored, not always right)', async () => {
    const { widget, row } = await open('en');
    await widget.getByRole('heading', { name: '1 comment' }).waitFor(WAIT);
    expect(await widget.locator('.root').getAttribute('dir')).toBe('ltr');
    const name = await across(row, '.author');
    expect(name.left).toBeLessThan(name.right);
  });

  it('takes a site’s strings over the language (attribute JSON and property), and redraws when they or lang change', async () => {
    const strings = JSON.stringify({ titleCount: { one: '{n} Leserbrief', other: '{n} Leserbriefe' }, post: 42 });
    const { page, widget, problems } = await open('de', `strings='${strings}'`);
    await widget.getByRole('heading', { name: '1 Leserbrief' }).waitFor(WAIT);
    // A value of the wrong shape gives the language's own word.
    await widget.getByRole('button', { name: 'Absenden' }).waitFor(WAIT);
    await page.locator('live-comments').evaluate((element) => {
      (element as HTMLElement & { strings: unknown }).strings = { post: 'Brief abschicken' };
    });
    await widget.getByRole('button', { name: 'Brief abschicken' }).waitFor(WAIT);
    await page.locator('live-comments').evaluate((element) => element.setAttribute('lang', 'ar'));
    await widget.getByRole('button', { name: 'Brief abschicken' }).waitFor(WAIT);
    await widget.getByRole('heading', { name: '1 Leserbrief' }).waitFor(WAIT);
    await widget.getByRole('group', { name: 'ترتيب التعليقات' }).waitFor(WAIT);
    expect(await widget.locator('.root').getAttribute('dir')).toBe('rtl');
    expect(problems).toEqual([]);
  });

  it('takes strings the page set on the element before widget.js defined it', async () => {
    const { widget, problems } = await open('en', '', async (page) => {
      await page.addInitScript(() => {
        document.addEventListener('DOMContentLoaded', () => {
          const element = document.querySelector('live-comments') as HTMLElement & { strings?: unknown };
          element.strings = { title: 'Letters', titleCount: { one: '{n} letter', other: '{n} letters' } };
          (window as { stringsSet?: boolean }).stringsSet = true;
        });
      });
      // widget.js runs only once the page has set the property on the plain element.
      await page.route('**/widget.js', async (route) => {
        await page.waitForFunction(() => (window as { stringsSet?: boolean }).stringsSet === true);
        await route.continue();
      });
    });
    await widget.getByRole('heading', { name: '1 letter' }).waitFor(WAIT);
    expect(problems).toEqual([]);
  });

  it('speaks English when the language cannot be fetched, or for each value a table gets wrong', async () => {
    const failed = await open('de', '', (page) => page.route('**/i18n/de.json', (route) => route.abort()));
    await failed.widget.getByRole('heading', { name: '1 comment' }).waitFor(WAIT);
    await failed.widget.getByRole('button', { name: 'Post' }).waitFor(WAIT);
    expect(failed.problems.filter((problem) => !problem.includes('net::ERR_FAILED'))).toEqual([]);

    const broken = await open('de', '', (page) =>
      page.route('**/i18n/de.json', (route) =>
        route.fulfill({
          contentType: 'application/json',
          headers: { 'access-control-allow-origin': '*' },
          body: JSON.stringify({ titleCount: 'not forms', newest: 'Neueste', post: null }),
        }),
      ),
    );
    await broken.widget.getByRole('heading', { name: '1 comment' }).waitFor(WAIT);
    await broken.widget.getByRole('button', { name: 'Neueste' }).waitFor(WAIT);
    await broken.widget.getByRole('button', { name: 'Post' }).waitFor(WAIT);
    expect(broken.problems).toEqual([]);
  });
});

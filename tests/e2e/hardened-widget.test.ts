import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LIMITS, PostStoredSchema, type Comment } from '../../shared/schemas.ts';
import type { SqliteCommentStore } from '../../server/storage/sqlite.ts';
import {
  collectProblems,
  E2E_ENV,
  embedHtml,
  rowsOf,
  startBrowserAndApp,
  startStaticSite,
  type StaticSite,
  waitForLive,
  widgetOf,
} from '../helpers/browser.ts';
import { postJson, startTestApp, uniqueArticle, type TestApp } from '../helpers/test-app.ts';

const ADMIN_TOKEN = 'e2e-hardening-token-0123456789';
const WAIT = { timeout: 15_000, interval: 50 } as const;

/** The widget and the admin page facing what the outside audit of issue 10 found. */
describe('widget and admin page, hardened', () => {
  let browser: Browser;
  let app: TestApp;
  let site: StaticSite;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [browser, app] = await startBrowserAndApp({ ADMIN_TOKEN });
    site = await startStaticSite((path) => {
      const match = /^\/embed\/([A-Za-z0-9._:-]+)$/.exec(path);
      return match ? { html: embedHtml(app.url, match[1]!) } : undefined;
    });
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await app?.close();
  });

  async function open(url: string): Promise<{ page: Page; problems: string[] }> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const problems = collectProblems(page);
    await page.goto(url);
    return { page, problems };
  }

  const api = (path: string) => `${app.url}/api${path}`;
  async function post(articleId: string, name: string, body: string, parentId?: string): Promise<Comment> {
    const res = await postJson(api(`/articles/${articleId}/comments`), {
      author: { name },
      body,
      ...(parentId ? { parentId } : {}),
    });
    return PostStoredSchema.parse(res.body).comment;
  }

  /** Rewrites stored rows as an older server could have left them (three U+FFFD per lone surrogate, past the limits). */
  function poison(table: 'comments' | 'held_comments', id: string): void {
    const db = new Database((app.app.store as SqliteCommentStore).path);
    try {
      db.prepare(`UPDATE ${table} SET author_name = ?, body = ? WHERE id = ?`).run(
        '\ufffd'.repeat(72),
        `${'x'.repeat(4999)}\ufffd\ufffd\ufffd`,
        id,
      );
    } finally {
      db.close();
    }
  }

  it('shows a thread, its catch-up and live changes even when one stored comment is not valid', async () => {
    const articleId = uniqueArticle('poisoned');
    await post(articleId, 'Ann', 'before the bad one');
    const bad = await post(articleId, 'Bad', 'about to be poisoned');
    await post(articleId, 'Cy', 'after the bad one');
    poison('comments', bad.id);

    const { page, problems } = await open(`${site.url}/embed/${articleId}`);
    const widget = widgetOf(page);
    await waitForLive(widget);
    expect((await rowsOf(widget)).map((row) => row.body)).toEqual(['after the bad one', 'before the bad one']);
    await expect(widget.locator('.error').filter({ hasText: 'could not be loaded' }).count()).resolves.toBe(0);

    // A moderator's removal repairs it for readers: no name, no body, a valid placeholder.
    await postJson(api(`/admin/comments/${bad.id}/remove`), {}, { authorization: `Bearer ${ADMIN_TOKEN}` });
    await post(articleId, 'Dee', 'live after the removal');
    await vi.waitFor(
      async () =>
        expect((await rowsOf(widget)).map((row) => row.body)).toEqual([
          'live after the removal',
          'after the bad one',
          'This comment was removed',
          'before the bad one',
        ]),
      WAIT,
    );
    expect(problems).toEqual([]);
  });

  it('signs a moderator in, and shows the rest of the feed and queue, when a held or stored comment is not valid', async () => {
    const articleId = uniqueArticle('poisoned-admin');
    const good = await post(articleId, 'Good', 'a fine comment');
    const bad = await post(articleId, 'Bad', 'to be poisoned');
    poison('comments', bad.id);
    const heldArticle = uniqueArticle('poisoned-held');
    await fetch(api(`/admin/articles/${heldArticle}`), {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ premoderated: true }),
    });
    const held = await postJson(api(`/articles/${heldArticle}/comments`), { author: { name: 'H' }, body: 'held' });
    const ok = await postJson(api(`/articles/${heldArticle}/comments`), { author: { name: 'K' }, body: 'also held' });
    expect([held.status, ok.status]).toEqual([202, 202]);
    poison('held_comments', (held.body as { held: { id: string } }).held.id);

    const { page } = await open(`${app.url}/admin`);
    await page.getByLabel('Moderator token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.status[data-live]').waitFor(WAIT);
    const feed = page.getByRole('list', { name: 'Comments, newest first' });
    await feed.getByRole('listitem').filter({ hasText: good.body }).waitFor(WAIT);
    const queue = page.getByRole('list', { name: 'Held comments' });
    await queue.getByRole('listitem').filter({ hasText: 'also held' }).waitFor(WAIT);
  });

  it('says a deep reply answers a removed comment without naming its author', async () => {
    const articleId = uniqueArticle('reply-to-removed');
    let parent = await post(articleId, 'Top', 'level 0');
    const chain: Comment[] = [parent];
    for (let level = 1; level <= 4; level++)
      chain.push((parent = await post(articleId, `Level ${level}`, `level ${level}`, parent.id)));
    await postJson(api(`/admin/comments/${chain[3]!.id}/remove`), {}, { authorization: `Bearer ${ADMIN_TOKEN}` });

    const { page } = await open(`${site.url}/embed/${articleId}`);
    const widget = widgetOf(page);
    await waitForLive(widget);
    const deepest = widget.locator(`li[data-id="${chain[4]!.id}"] .reply-to`);
    await expect(deepest.textContent()).resolves.toBe('replying to a removed comment');
    expect(await widget.locator('li.comment').allTextContents()).not.toContain('Level 3');
    expect((await widget.textContent()) ?? '').not.toContain('Level 3');
  });

  it('shows a long thread’s first replies and “Show N more replies”, by keyboard, focus on the first new reply', async () => {
    const articleId = uniqueArticle('more-replies');
    const top = await post(articleId, 'Top', 'a busy thread');
    for (let i = 1; i <= LIMITS.repliesPerThread + 5; i++) await post(articleId, `R${i}`, `reply ${i}`, top.id);
    const { page, problems } = await open(`${site.url}/embed/${articleId}`);
    const widget = widgetOf(page);
    await waitForLive(widget);
    expect(await widget.locator('li.comment').count()).toBe(1 + LIMITS.repliesPerThread);
    // A comment count from the server, not from the 51 loaded.
    await expect(widget.locator('.title').textContent()).resolves.toBe(`${LIMITS.repliesPerThread + 6} comments`);
    const more = widget.getByRole('button', { name: 'Show 5 more replies' });
    await more.focus();
    await page.keyboard.press('Enter');
    await vi.waitFor(
      async () => expect(await widget.locator('li.comment').count()).toBe(LIMITS.repliesPerThread + 6),
      WAIT,
    );
    await expect(more.count()).resolves.toBe(0);
    const focused = await page.evaluate(
      () => document.querySelector('live-comments')?.shadowRoot?.activeElement?.querySelector('.body')?.textContent,
    );
    expect(focused).toBe(`reply ${LIMITS.repliesPerThread + 1}`);
    expect(problems).toEqual([]);
  });

  it('shows the “N new comments” button at its full height, not squashed by its bar', async () => {
    const articleId = uniqueArticle('new-bar');
    for (let i = 0; i < 12; i++) await post(articleId, `Reader ${i}`, `comment ${i}\n${'a line of text '.repeat(20)}`);
    const { page } = await open(`${site.url}/embed/${articleId}`);
    const widget = widgetOf(page);
    await waitForLive(widget);
    // The reader is inside the thread: a new comment is offered by the button, not inserted above them.
    await widget.locator('li.comment').nth(6).scrollIntoViewIfNeeded();
    await post(articleId, 'Late', 'a new one');
    const button = widget.locator('.new-button');
    await button.waitFor({ state: 'visible', ...WAIT });
    const box = await button.boundingBox();
    const text = await button.evaluate((element) => {
      const range = document.createRange();
      range.selectNodeContents(element);
      return range.getBoundingClientRect().height;
    });
    expect(box!.height).toBeGreaterThan(text);
    expect(box!.height).toBeGreaterThanOrEqual(24);
  });

  it('shows why a like was not saved, beside the button', async () => {
    const articleId = uniqueArticle('like-failed');
    await post(articleId, 'Ann', 'like me');
    const { page } = await open(`${site.url}/embed/${articleId}`);
    const widget = widgetOf(page);
    await waitForLive(widget);
    await page.route('**/like', (route) =>
      route.fulfill({
        status: 429,
        contentType: 'application/json',
        headers: { 'retry-after': '30', 'access-control-allow-origin': '*' },
        body: JSON.stringify({ error: { code: 'rate_limited', message: 'Too many likes; try again in 30 s' } }),
      }),
    );
    await widget.getByRole('button', { name: 'Like' }).click();
    const shown = widget.locator('li.comment .actions .error');
    await shown.waitFor(WAIT);
    expect(await shown.textContent()).toBe('Like not saved: Too many likes; try again in 30 s');
    expect(await shown.isVisible()).toBe(true);
  });

  it('clips a name made only of combining marks to its own box, as author and in “replying to”', async () => {
    const articleId = uniqueArticle('zalgo');
    // Marks that stack above and below the line, as "zalgo" text does; no letter to carry them.
    const marks = `${'\u030d\u030e\u0304\u0305\u033f\u0311\u0306\u0310\u0352\u0357'.repeat(3)}${'\u0316\u0317\u0318\u0319\u031c\u031d\u031e\u031f\u0320'.repeat(3)}`;
    let parent = await post(articleId, 'Top', 'level 0');
    for (let level = 1; level <= 3; level++)
      parent = await post(articleId, level === 3 ? marks : `L${level}`, `level ${level}`, parent.id);
    const deep = await post(articleId, 'Deep', 'answers the marks', parent.id);
    const { page } = await open(`${site.url}/embed/${articleId}`);
    const widget = widgetOf(page);
    await waitForLive(widget);
    for (const name of [
      widget.locator(`li[data-id="${parent.id}"] .author`),
      widget.locator(`li[data-id="${deep.id}"] .reply-to .author-name`),
    ]) {
      expect(await name.evaluate((element) => getComputedStyle(element).overflowY)).toBe('clip');
      // The band just above the name is the row's own padding and meta line: with the marks clipped
      // nothing is painted there, exactly as with a plain one-letter name in their place.
      await name.evaluate((element) => element.scrollIntoView({ block: 'center' }));
      const box = (await name.boundingBox())!;
      const band = { x: box.x - 2, y: box.y - 10, width: box.width + 30, height: 9 };
      const withMarks = await page.screenshot({ clip: band });
      await name.evaluate((element) => {
        element.textContent = 'A';
      });
      const plain = await page.screenshot({ clip: band });
      expect(withMarks.equals(plain)).toBe(true);
    }
  });

  it('loads and goes live by itself when the server comes up after the page opened', async () => {
    const articleId = uniqueArticle('server-down');
    await post(articleId, 'Ann', 'waiting for you');
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    // The comment server is unreachable: every request to it (REST and the socket) fails.
    let down = true;
    await page.route(`${app.url}/**`, (route) =>
      down && !route.request().url().endsWith('/widget.js') ? route.abort('connectionrefused') : route.continue(),
    );
    await page.goto(`${site.url}/embed/${articleId}`);
    const widget = widgetOf(page);
    await widget.locator('.error').filter({ hasText: 'could not be loaded' }).waitFor(WAIT);
    down = false;
    await waitForLive(widget);
    expect((await rowsOf(widget)).map((row) => row.body)).toEqual(['waiting for you']);
    await expect(widget.locator('.error').filter({ hasText: 'could not be loaded' }).count()).resolves.toBe(0);
  });

  it('tells the site owner in the console when its page origin is not in ALLOWED_ORIGINS', async () => {
    const locked = await startTestApp({ env: { ...E2E_ENV, ALLOWED_ORIGINS: 'https://news.example' } });
    const lockedSite = await startStaticSite(() => ({ html: embedHtml(locked.url, 'some-article') }));
    try {
      const context = await browser.newContext();
      contexts.push(context);
      const page = await context.newPage();
      const consoleErrors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(message.text());
      });
      await page.goto(`${lockedSite.url}/`);
      const widget = widgetOf(page);
      await widget.locator('.error').filter({ hasText: 'not enabled for this page' }).waitFor(WAIT);
      await vi.waitFor(
        () =>
          expect(consoleErrors.some((text) => text.includes('live-comments') && text.includes('ALLOWED_ORIGINS'))).toBe(
            true,
          ),
        WAIT,
      );
      expect(consoleErrors.find((text) => text.includes('live-comments'))).toContain(lockedSite.url);
    } finally {
      await lockedSite.close();
      await locked.close();
    }
  });
});

import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PostStoredSchema, type Comment } from '../../shared/schemas.ts';
import type { SqliteCommentStore } from '../../server/storage/sqlite.ts';
import {
  collectProblems,
  E2E_ENV,
  embedHtml,
  ensureWidgetBuilt,
  launchBrowser,
  rowsOf,
  startStaticSite,
  waitForLive,
  widgetOf,
  type StaticSite,
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
    [browser, app] = await Promise.all([
      launchBrowser(),
      ensureWidgetBuilt().then(() => startTestApp({ env: { ...E2E_ENV, ADMIN_TOKEN } })),
    ]);
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
});

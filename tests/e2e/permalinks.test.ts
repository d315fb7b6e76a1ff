import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { collectProblems, startBrowserAndApp, waitForLive, widgetOf } from '../helpers/browser.ts';
import { uniqueArticle, type TestApp } from '../helpers/test-app.ts';
import { TestClient } from '../helpers/test-client.ts';
import { WAIT } from './two-instances.ts';

/**
 * Permalinks (`#comment-<id>`) in Chromium: the Link action copies one, and opening one scrolls to its
 * comment and marks it, loading the page of its thread and the page of replies holding it first.
 */
describe('permalinks in Chromium', () => {
  let browser: Browser;
  let server: TestApp;
  beforeAll(async () => {
    [browser, server] = await startBrowserAndApp();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lands on a reply of a thread on the third page, in its second page of replies, and again after a reload', async () => {
    const articleId = uniqueArticle('permalink');
    const api = new TestClient(server.url);
    // The oldest thread, with 70 replies (the first page of a thread shows 50), then 45 newer threads:
    // newest first, 20 a page, the old thread is on the third page.
    const top = (await api.stored(articleId, { name: 'Ada', body: 'The oldest thread' })).comment;
    let target = '';
    for (let i = 1; i <= 70; i += 1) {
      const reply = (await api.stored(articleId, { name: 'Bo', body: `Reply number ${i}`, parentId: top.id })).comment;
      if (i === 64) target = reply.id;
    }
    for (let i = 1; i <= 45; i += 1) await api.stored(articleId, { name: 'Cy', body: `Newer thread ${i}` });

    const context = await browser.newContext();
    try {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
      const page = await context.newPage();
      const problems = collectProblems(page);
      await page.goto(`${server.url}/articles/${articleId}#comment-${target}`);
      const widget = widgetOf(page);
      await waitForLive(widget);
      const row = widget.locator(`li.comment[data-id="${target}"]`);
      const landed = async () => {
        await row.waitFor(WAIT);
        await vi.waitFor(async () => {
          expect(await row.getAttribute('data-target')).toBe('');
          expect(await row.locator('.body').first().textContent()).toBe('Reply number 64');
          // Scrolled to: inside the viewport.
          const box = await row.boundingBox();
          const height = page.viewportSize()?.height ?? 0;
          expect(box).not.toBeNull();
          expect(box!.y).toBeGreaterThanOrEqual(0);
          expect(box!.y).toBeLessThan(height);
        }, WAIT);
      };
      await landed();
      await page.reload();
      await waitForLive(widget);
      await landed();

      // The Link action copies the address of a comment.
      const other = widget.locator('li.comment', { hasText: 'Newer thread 45' });
      await other.getByRole('button', { name: 'Link' }).click();
      const otherId = await other.getAttribute('data-id');
      await vi.waitFor(
        async () =>
          expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
            `${server.url}/articles/${articleId}#comment-${otherId}`,
          ),
        WAIT,
      );
      // Following a link on the page moves to its comment without a reload.
      await page.evaluate((id) => (location.hash = `comment-${id}`), otherId);
      await vi.waitFor(async () => expect(await other.getAttribute('data-target')).toBe(''), WAIT);
      expect(await row.getAttribute('data-target')).toBeNull();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

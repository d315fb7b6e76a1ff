import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { collectProblems, postFromWidget, startBrowserAndApp, waitForLive, widgetOf } from '../helpers/browser.ts';
import { postJson, uniqueArticle, type TestApp } from '../helpers/test-app.ts';

describe('replies to the reader in Chromium', () => {
  let browser: Browser;
  let server: TestApp;
  beforeAll(async () => {
    [browser, server] = await startBrowserAndApp();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('marks a reply to the reader’s comment "Reply to you" and counts it in the header, live and after a reload, until shown', async () => {
    const articleId = uniqueArticle('to-you');
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const problems = collectProblems(page);
      await page.goto(`${server.url}/articles/${articleId}`);
      const widget = widgetOf(page);
      await waitForLive(widget);
      await postFromWidget(widget, 'Ada', 'Does anyone know?');
      const mine = widget.locator('li.comment', { hasText: 'Does anyone know?' });
      await mine.locator('.badge', { hasText: 'you' }).waitFor();
      const parentId = await mine.getAttribute('data-id');

      // Someone else answers (from another browser: over the API).
      const answer = await postJson(`${server.url}/api/articles/${articleId}/comments`, {
        author: { name: 'Bob' },
        body: 'I do.',
        parentId,
      });
      expect(answer.status).toBe(201);
      const reply = widget.locator('li.comment', { hasText: 'I do.' });
      const button = widget.locator('[part="replies-to-you"]');
      await reply.locator('[part="reply-to-you"]', { hasText: 'Reply to you' }).waitFor();
      await vi.waitFor(async () => expect(await button.textContent()).toBe('1 new reply to you'));
      // The reader's own comment and others' top-level comments are not marked.
      expect(await mine.locator('[part="reply-to-you"]').count()).toBe(0);

      await page.reload();
      await waitForLive(widget);
      await reply.locator('[part="reply-to-you"]').waitFor();
      await vi.waitFor(async () => expect(await button.textContent()).toBe('1 new reply to you'));

      // The button walks to the reply: it takes the focus, and the count is gone.
      await button.click();
      await vi.waitFor(async () => expect(await button.isHidden()).toBe(true));
      expect(
        await reply.evaluate(
          (li) => li.getRootNode() instanceof ShadowRoot && li === (li.getRootNode() as ShadowRoot).activeElement,
        ),
      ).toBe(true);

      await page.reload();
      await waitForLive(widget);
      await reply.locator('[part="reply-to-you"]').waitFor();
      expect(await button.isHidden()).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

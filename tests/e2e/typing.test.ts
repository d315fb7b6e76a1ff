import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { visibleText, waitForLive, widgetOf } from '../helpers/browser.ts';
import { signal } from '../helpers/signal.ts';
import { TestClient } from '../helpers/test-client.ts';
import { uniqueArticle } from '../helpers/test-app.ts';
import { rowWithText, startTwoInstances, WAIT, type TwoInstances } from './two-instances.ts';

/**
 * Resolves once the widget's typing part (loaded when the reader first moves into the widget) watches
 * its forms: keystrokes before that are not told to anyone.
 */
async function typingPartLoaded(widget: Locator): Promise<void> {
  await widget.locator('.typing[part="typing"]').first().waitFor({ state: 'attached', timeout: WAIT.timeout });
}

/** "Someone is writing…": a reader on one instance types, a reader on the other sees it, and sees it end. */
describe('typing indicators in Chromium', () => {
  let setup: TwoInstances;
  beforeAll(async () => {
    setup = await startTwoInstances();
  });
  afterAll(async () => {
    await setup?.close();
  });

  it('shows a reader on the other instance that someone writes a comment or a reply, and clears it', async () => {
    const articleId = uniqueArticle('typing');
    await new TestClient(setup.a.url).stored(articleId, { name: 'Ada', body: 'Something to answer' });
    const writer = await setup.reader(setup.a, articleId);
    const watcher = await setup.reader(setup.b, articleId);
    const above = watcher.widget.locator('.typing[part="typing"]').first();

    const compose = writer.widget.getByRole('form', { name: 'Write a comment' });
    await compose.getByLabel('Name').fill('Wren');
    await typingPartLoaded(writer.widget);
    await compose.getByLabel('Comment').pressSequentially('I think');
    await vi.waitFor(async () => expect(await visibleText(above)).toBe('Someone is writing a comment…'), WAIT);
    // The writer does not see themself.
    expect(await writer.widget.locator('[part="typing"]:visible').count()).toBe(0);

    // Leaving the form ends it.
    await writer.page.locator('h1').click();
    await vi.waitFor(async () => expect(await visibleText(above)).toBeNull(), WAIT);

    // A reply shows under the comment it answers.
    const row = rowWithText(writer.widget, 'Something to answer');
    await row.getByRole('button', { name: 'Reply' }).click();
    await writer.widget
      .getByRole('form', { name: /Reply to/ })
      .getByLabel('Comment')
      .pressSequentially('Indeed');
    const underRow = rowWithText(watcher.widget, 'Something to answer').locator('[part="typing"]');
    await vi.waitFor(async () => expect(await visibleText(underRow)).toBe('Someone is replying…'), WAIT);
    expect(await visibleText(above)).toBeNull();

    // Sending ends it.
    await writer.widget
      .getByRole('form', { name: /Reply to/ })
      .getByRole('button', { name: 'Reply', exact: true })
      .click();
    await rowWithText(watcher.widget, 'Indeed').waitFor(WAIT);
    await vi.waitFor(async () => expect(await visibleText(underRow)).toBeNull(), WAIT);
    expect(writer.problems).toEqual([]);
    expect(watcher.problems).toEqual([]);
    await setup.closeContexts();
  });

  it('clears what ended while the typing part was still loading', async () => {
    const articleId = uniqueArticle('typing-loading');
    const writer = await setup.reader(setup.a, articleId);
    // The watcher's page is opened by hand: its WebSocket frames are watched from the start, and the
    // typing part (loaded when someone first writes) is held back until the writer has stopped.
    const context = await setup.browser.newContext();
    const page = await context.newPage();
    const ended = new Promise<void>((resolve) =>
      page.on('websocket', (socket) =>
        socket.on('framereceived', ({ payload }) => {
          if (String(payload).includes('"typing:changed"') && String(payload).includes('"count":0')) resolve();
        }),
      ),
    );
    const partRequested = signal();
    const released = signal();
    await page.route('**/widget-typing.js', async (route) => {
      partRequested.fire();
      await released.fired;
      await route.continue();
    });
    try {
      await page.goto(`${setup.site.url}/b/${articleId}`);
      const watcher = widgetOf(page);
      await waitForLive(watcher);
      const above = watcher.locator('.typing[part="typing"]').first();

      const compose = writer.widget.getByRole('form', { name: 'Write a comment' });
      await compose.getByLabel('Name').fill('Wren');
      await typingPartLoaded(writer.widget);
      await compose.getByLabel('Comment').pressSequentially('Hm');
      await partRequested.fired;
      await writer.page.locator('h1').click();
      await ended;
      released.fire();
      // The part's line is made when it loads, and both changes are applied right after, in their
      // order: nobody writes. (Dropping the end while loading left "Someone is writing…" for good.)
      await above.waitFor({ state: 'attached', timeout: WAIT.timeout });
      expect(await visibleText(above)).toBeNull();
      // And it works from then on.
      await compose.getByLabel('Comment').pressSequentially(' yes');
      await vi.waitFor(async () => expect(await visibleText(above)).toBe('Someone is writing a comment…'), WAIT);
      await writer.page.locator('h1').click();
      await vi.waitFor(async () => expect(await visibleText(above)).toBeNull(), WAIT);
    } finally {
      released.fire();
      await context.close();
      await setup.closeContexts();
    }
  });
});

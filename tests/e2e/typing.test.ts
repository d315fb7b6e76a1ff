import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TestClient } from '../helpers/test-client.ts';
import { uniqueArticle } from '../helpers/test-app.ts';
import { rowWithText, startTwoInstances, WAIT, type TwoInstances } from './two-instances.ts';

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
    const text = async (locator: typeof above) => ((await locator.isVisible()) ? await locator.textContent() : null);

    const compose = writer.widget.getByRole('form', { name: 'Write a comment' });
    await compose.getByLabel('Name').fill('Wren');
    await compose.getByLabel('Comment').pressSequentially('I think');
    await vi.waitFor(async () => expect(await text(above)).toBe('Someone is writing a comment…'), WAIT);
    // The writer does not see themself.
    expect(await writer.widget.locator('[part="typing"]:visible').count()).toBe(0);

    // Leaving the form ends it.
    await writer.page.locator('h1').click();
    await vi.waitFor(async () => expect(await text(above)).toBeNull(), WAIT);

    // A reply shows under the comment it answers.
    const row = rowWithText(writer.widget, 'Something to answer');
    await row.getByRole('button', { name: 'Reply' }).click();
    await writer.widget
      .getByRole('form', { name: /Reply to/ })
      .getByLabel('Comment')
      .pressSequentially('Indeed');
    const underRow = rowWithText(watcher.widget, 'Something to answer').locator('[part="typing"]');
    await vi.waitFor(async () => expect(await text(underRow)).toBe('Someone is replying…'), WAIT);
    expect(await text(above)).toBeNull();

    // Sending ends it.
    await writer.widget
      .getByRole('form', { name: /Reply to/ })
      .getByRole('button', { name: 'Reply', exact: true })
      .click();
    await rowWithText(watcher.widget, 'Indeed').waitFor(WAIT);
    await vi.waitFor(async () => expect(await text(underRow)).toBeNull(), WAIT);
    expect(writer.problems).toEqual([]);
    expect(watcher.problems).toEqual([]);
    await setup.closeContexts();
  });
});

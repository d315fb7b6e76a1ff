import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PostStoredSchema } from '../../shared/schemas.ts';
import { postFromWidget } from '../helpers/browser.ts';
import { postJson, uniqueArticle } from '../helpers/test-app.ts';
import { rowWithText, startTwoInstances, WAIT, type Reader, type TwoInstances } from './two-instances.ts';

describe('reporting a comment from the widget in Chromium, across two instances', { timeout: 60_000 }, () => {
  let env: TwoInstances;

  beforeAll(async () => {
    env = await startTwoInstances({ REPORT_HOLD_THRESHOLD: '3' });
  });
  afterEach(() => env.closeContexts());
  afterAll(() => env?.close());

  /** Reports a comment from a reader's widget; `hides`: this report is the one that takes the comment out of view. */
  async function report(
    reader: Reader,
    text: string,
    reason: string,
    options: { note?: string; hides?: boolean } = {},
  ) {
    const row = rowWithText(reader.widget, text);
    await row.getByRole('button', { name: /^Report comment by / }).click();
    const form = reader.widget.getByRole('form', { name: /^Report comment by / });
    await form.getByRole('radio', { name: reason }).check();
    if (options.note) await form.getByLabel('Note for the moderators (optional)').fill(options.note);
    await form.getByRole('button', { name: 'Send report' }).click();
    if (options.hides) {
      // The comment leaves the thread, and its form with it.
      await reader.widget.getByText('This comment was removed').waitFor(WAIT);
      await form.waitFor({ state: 'detached', ...WAIT });
      return;
    }
    await form.getByText('Thank you. A moderator will review this comment.').waitFor(WAIT);
    await form.getByRole('button', { name: 'Close' }).click();
    await form.waitFor({ state: 'detached', ...WAIT });
  }

  it('three readers take an abusive comment out of view for everyone, live; nobody reports their own', async () => {
    const articleId = uniqueArticle('report');
    const body = 'Everyone here is an idiot';
    await postJson(`${env.a.url}/api/articles/${articleId}/comments`, { author: { name: 'Troll' }, body }).then((res) =>
      PostStoredSchema.parse(res.body),
    );
    const readers = [
      await env.reader(env.a, articleId),
      await env.reader(env.b, articleId),
      await env.reader(env.a, articleId),
    ];
    const watcher = await env.reader(env.b, articleId);
    await rowWithText(watcher.widget, body).waitFor(WAIT);

    // Nothing chosen: the form says so and sends nothing. Escape closes it and gives the focus back.
    const first = readers[0]!;
    await rowWithText(first.widget, body).getByRole('button', { name: 'Report comment by Troll' }).click();
    const form = first.widget.getByRole('form', { name: 'Report comment by Troll' });
    // Each reason is a small radio beside its label (the widget's inputs are otherwise full-width fields).
    const radio = form.getByRole('radio', { name: 'Spam or advertising' });
    expect(await radio.evaluate((element) => element.getBoundingClientRect().width)).toBeLessThan(40);
    // A theme change swaps only the theme's sheets: the form's own (adopted by widget-report.js) stays.
    await first.page.locator('live-comments').evaluate((element) => element.setAttribute('theme', 'dark'));
    expect(await radio.evaluate((element) => element.getBoundingClientRect().width)).toBeLessThan(40);
    await form.getByRole('button', { name: 'Send report' }).click();
    await form.getByRole('alert').filter({ hasText: 'Choose a reason.' }).waitFor(WAIT);
    await first.page.keyboard.press('Escape');
    await form.waitFor({ state: 'detached', ...WAIT });
    expect(
      await rowWithText(first.widget, body)
        .getByRole('button', { name: 'Report comment by Troll' })
        .evaluate((button) => button === (button.getRootNode() as ShadowRoot).activeElement),
    ).toBe(true);

    await report(readers[0]!, body, 'Abuse or harassment', { note: 'insults every reader' });
    await report(readers[1]!, body, 'Abuse or harassment');
    expect(await rowWithText(watcher.widget, body).count()).toBe(1);
    await report(readers[2]!, body, 'Off topic', { hides: true });
    for (const reader of [...readers, watcher]) {
      await reader.widget.getByText('This comment was removed').waitFor(WAIT);
      expect(await rowWithText(reader.widget, body).count()).toBe(0);
    }

    // A reader's own comment has Edit and Delete, no Report.
    await postFromWidget(watcher.widget, 'Watcher', 'My own words');
    const own = rowWithText(watcher.widget, 'My own words');
    await own.getByRole('button', { name: 'Edit your comment' }).waitFor(WAIT);
    expect(await own.getByRole('button', { name: /^Report/ }).count()).toBe(0);
    for (const reader of [...readers, watcher]) expect(reader.problems).toEqual([]);
  });
});

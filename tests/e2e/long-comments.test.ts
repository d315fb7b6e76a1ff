import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PostStoredSchema } from '../../shared/schemas.ts';
import { postFromWidget } from '../helpers/browser.ts';
import { postJson, uniqueArticle } from '../helpers/test-app.ts';
import { ADMIN_TOKEN, rowWithText, startTwoInstances, WAIT, type TwoInstances } from './two-instances.ts';

/** 20 short lines: long by its lines (over 12), short by its characters. */
const MANY_LINES = Array.from({ length: 20 }, (_, i) => `Line ${i + 1} of a long story`).join('\n');
/** One paragraph of 1,200 characters: long by its characters. */
const WALL = `A wall of text. ${'Words and more words. '.repeat(60)}`.slice(0, 1200);

/** The fold button of a row (or feed item), and whether its body is clipped right now. */
async function foldState(row: Locator): Promise<{ expanded: string | null; label: string; clipped: boolean }> {
  const button = row.getByRole('button', { name: /^Show (more|less)$/ });
  return button.evaluate((element) => {
    // The widget's body is in its shadow root, the admin page's in the document.
    const root = element.getRootNode() as Document | ShadowRoot;
    const body = root.getElementById(element.getAttribute('aria-controls') ?? '');
    return {
      expanded: element.getAttribute('aria-expanded'),
      label: element.textContent ?? '',
      clipped: body !== null && body.scrollHeight > body.clientHeight + 1,
    };
  });
}

const folded = { expanded: 'false', label: 'Show more', clipped: true };
const unfolded = { expanded: 'true', label: 'Show less', clipped: false };

/** The element focused in the page or inside the widget's shadow root: its text. */
const focusedText = (page: Page) =>
  page.evaluate(() => {
    const active = document.querySelector('live-comments')?.shadowRoot?.activeElement ?? document.activeElement;
    return active?.textContent ?? null;
  });

describe('long comments fold in Chromium (widget and admin feed)', () => {
  let env: TwoInstances;

  beforeAll(async () => {
    env = await startTwoInstances();
  });
  afterEach(() => env.closeContexts());
  afterAll(() => env?.close());

  it('folds a long comment behind Show more, unfolds and folds it by keyboard, keeps it unfolded through a live update; a short one has no button', async () => {
    const articleId = uniqueArticle('fold');
    await postJson(`${env.a.url}/api/articles/${articleId}/comments`, {
      author: { name: 'Bob' },
      body: 'Short and sweet',
    });
    const alice = await env.reader(env.a, articleId);
    const bob = await env.reader(env.b, articleId);
    await postFromWidget(alice.widget, 'Alice', MANY_LINES);

    const row = rowWithText(alice.widget, 'Line 1 of a long story');
    await row.getByRole('button', { name: 'Show more' }).waitFor(WAIT);
    expect(await foldState(row)).toEqual(folded);
    // The button names the body it controls.
    const controls = await row.getByRole('button', { name: 'Show more' }).getAttribute('aria-controls');
    expect(await row.locator('.body').getAttribute('id')).toBe(controls);
    const short = rowWithText(alice.widget, 'Short and sweet');
    expect(await short.getByRole('button', { name: /^Show (more|less)$/ }).count()).toBe(0);

    // Keyboard: Enter unfolds, Space folds, Enter unfolds again; the button keeps the focus.
    await row.getByRole('button', { name: 'Show more' }).focus();
    await alice.page.keyboard.press('Enter');
    expect(await foldState(row)).toEqual(unfolded);
    expect(await focusedText(alice.page)).toBe('Show less');
    await alice.page.keyboard.press('Space');
    expect(await foldState(row)).toEqual(folded);
    expect(await focusedText(alice.page)).toBe('Show more');
    await alice.page.keyboard.press('Enter');
    expect(await foldState(row)).toEqual(unfolded);

    // Bob (on the other instance) likes it: Alice's row is rebuilt live and stays unfolded.
    const bobRow = rowWithText(bob.widget, 'Line 1 of a long story');
    expect(await foldState(bobRow)).toEqual(folded);
    await bobRow.getByRole('button', { name: /^Like/ }).click();
    await vi.waitFor(async () => expect(await row.locator('.like-count').textContent()).toBe('1'), WAIT);
    expect(await foldState(row)).toEqual(unfolded);
    expect(await foldState(bobRow)).toEqual(folded);
    expect([...alice.problems, ...bob.problems]).toEqual([]);
  });

  it('folds by characters too (over 1,000), and the admin feed folds long comments', async () => {
    const articleId = uniqueArticle('fold-admin');
    const { page, problems } = await env.open(env.b, '/admin');
    await page.getByLabel('Moderator token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.status[data-live]').waitFor(WAIT);

    for (const body of [WALL, 'Brief and kind'])
      PostStoredSchema.parse(
        (await postJson(`${env.a.url}/api/articles/${articleId}/comments`, { author: { name: 'Carol' }, body })).body,
      );
    const feedItem = (text: string) =>
      page.getByRole('list', { name: 'Comments, newest first' }).getByRole('listitem').filter({ hasText: text });
    await feedItem('A wall of text.').getByRole('button', { name: 'Show more' }).waitFor(WAIT);
    expect(await foldState(feedItem('A wall of text.'))).toEqual(folded);
    await feedItem('Brief and kind').waitFor(WAIT);
    expect(
      await feedItem('Brief and kind')
        .getByRole('button', { name: /^Show (more|less)$/ })
        .count(),
    ).toBe(0);
    await feedItem('A wall of text.').getByRole('button', { name: 'Show more' }).focus();
    await page.keyboard.press('Enter');
    expect(await foldState(feedItem('A wall of text.'))).toEqual(unfolded);
    await page.keyboard.press('Space');
    expect(await foldState(feedItem('A wall of text.'))).toEqual(folded);

    // The reader's widget folds the same comment.
    const reader = await env.reader(env.a, articleId);
    expect(await foldState(rowWithText(reader.widget, 'A wall of text.'))).toEqual(folded);
    expect([...problems, ...reader.problems]).toEqual([]);
  });
});

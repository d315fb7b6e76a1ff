import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CommentPageSchema, PostStoredSchema } from '../../shared/schemas.ts';
import { postFromWidget, rowsOf } from '../helpers/browser.ts';
import { getJson, postJson, uniqueArticle } from '../helpers/test-app.ts';
import { rowWithText, startTwoInstances, WAIT, type TwoInstances } from './two-instances.ts';

/** The element focused inside the widget's shadow root: its tag, and its aria-label or text. */
const focused = (reader: { page: Page }) =>
  reader.page.evaluate(() => {
    const active = document.querySelector('live-comments')?.shadowRoot?.activeElement;
    if (!active) return null;
    return active.tagName === 'TEXTAREA'
      ? 'textarea'
      : `${active.tagName.toLowerCase()}:${active.getAttribute('aria-label') ?? active.textContent ?? ''}`;
  });

describe('own comments in Chromium, across two instances: edit and delete', () => {
  let env: TwoInstances;

  beforeAll(async () => {
    env = await startTwoInstances();
  });
  afterEach(() => env.closeContexts());
  afterAll(() => env?.close());

  it('edits the reader’s own comment in place, and the other instance’s reader sees it edited', async () => {
    const articleId = uniqueArticle('edit');
    const alice = await env.reader(env.a, articleId);
    const bob = await env.reader(env.b, articleId);

    await postFromWidget(alice.widget, 'Alice', 'Frist post');
    const aliceRow = rowWithText(alice.widget, 'Frist post');
    await aliceRow.getByRole('button', { name: 'Edit your comment' }).waitFor(WAIT);
    // Only the author has the buttons.
    const bobRow = rowWithText(bob.widget, 'Frist post');
    await bobRow.waitFor(WAIT);
    expect(await bobRow.getByRole('button', { name: 'Edit your comment' }).count()).toBe(0);
    expect(await bobRow.getByRole('button', { name: 'Delete your comment' }).count()).toBe(0);

    // Cancel (Escape) leaves the text as it was and gives focus back to Edit.
    await aliceRow.getByRole('button', { name: 'Edit your comment' }).click();
    const form = alice.widget.getByRole('form', { name: 'Edit your comment' });
    expect(await focused(alice)).toBe('textarea');
    await form.getByRole('textbox').fill('Something else');
    await alice.page.keyboard.press('Escape');
    await form.waitFor({ state: 'detached' });
    expect(await focused(alice)).toBe('button:Edit your comment');
    expect((await rowsOf(alice.widget))[0]?.body).toBe('Frist post');

    // An empty text is refused by the shared schema before anything is sent.
    await alice.page.keyboard.press('Enter');
    await form.getByRole('textbox').fill('   ');
    await form.getByRole('button', { name: 'Save' }).click();
    await form.getByRole('alert').filter({ hasText: 'Comment must not be empty' }).waitFor(WAIT);

    await form.getByRole('textbox').fill('First post (typo fixed)');
    await form.getByRole('button', { name: 'Save' }).click();
    await form.waitFor({ state: 'detached' });
    expect(await focused(alice)).toBe('button:Edit your comment');

    for (const reader of [alice, bob]) {
      const row = rowWithText(reader.widget, 'First post (typo fixed)');
      await row.locator('.edited').waitFor(WAIT);
      expect(await row.locator('.edited').textContent()).toBe('edited');
      expect(await rowWithText(reader.widget, 'Frist post').count()).toBe(0);
    }
    // The record agrees: one comment, edited.
    const page = CommentPageSchema.parse((await getJson(`${env.b.url}/api/articles/${articleId}/comments`)).body);
    expect(page.comments.map((comment) => [comment.body, comment.editedAt !== null])).toEqual([
      ['First post (typo fixed)', true],
    ]);
    expect([...alice.problems, ...bob.problems]).toEqual([]);
  });

  it('shows the server’s refusal of an edit in the form and keeps the typed text', async () => {
    const articleId = uniqueArticle('refused');
    const alice = await env.reader(env.a, articleId);
    await postFromWidget(alice.widget, 'Alice', 'Mine to edit');
    const row = rowWithText(alice.widget, 'Mine to edit');
    await row.getByRole('button', { name: 'Edit your comment' }).waitFor(WAIT);
    // The stored token no longer matches (as if another browser's): the server answers 403.
    await alice.page.evaluate(() => {
      for (const key of Object.keys(localStorage))
        if (key.startsWith('live-comments:token:')) localStorage.setItem(key, 'not-the-token');
    });
    await row.getByRole('button', { name: 'Edit your comment' }).click();
    const form = alice.widget.getByRole('form', { name: 'Edit your comment' });
    await form.getByRole('textbox').fill('Changed text');
    await form.getByRole('button', { name: 'Save' }).click();
    const alert = form.getByRole('alert');
    await vi.waitFor(async () => expect(await alert.textContent()).toMatch(/^Not saved: .+/), WAIT);
    expect(await form.getByRole('textbox').inputValue()).toBe('Changed text');
    expect(await form.getByRole('textbox').getAttribute('aria-invalid')).toBe('true');
    const page = CommentPageSchema.parse((await getJson(`${env.a.url}/api/articles/${articleId}/comments`)).body);
    expect(page.comments[0]?.body).toBe('Mine to edit');
  });

  it('deletes after a confirmation: a placeholder for everyone, the replies keep their place', async () => {
    const articleId = uniqueArticle('delete');
    const later = await postJson(`${env.b.url}/api/articles/${articleId}/comments`, {
      author: { name: 'Earlier' },
      body: 'An earlier comment',
    });
    expect(later.status).toBe(201);
    const alice = await env.reader(env.a, articleId);
    const bob = await env.reader(env.b, articleId);

    await postFromWidget(alice.widget, 'Alice', 'Regrettable comment');
    const aliceRow = rowWithText(alice.widget, 'Regrettable comment');
    await aliceRow.getByRole('button', { name: 'Delete your comment' }).waitFor(WAIT);
    const parentId = await aliceRow.getAttribute('data-id');
    // Bob answers it (on the other instance).
    const reply = await postJson(`${env.b.url}/api/articles/${articleId}/comments`, {
      author: { name: 'Bob' },
      body: 'A reply that stays',
      parentId,
    });
    expect(PostStoredSchema.parse(reply.body).comment.parentId).toBe(parentId);
    await rowWithText(alice.widget, 'A reply that stays').waitFor(WAIT);
    await rowWithText(bob.widget, 'A reply that stays').waitFor(WAIT);

    // Cancel keeps it, and focus goes back to Delete.
    await aliceRow.getByRole('button', { name: 'Delete your comment' }).click();
    const confirm = alice.widget.getByRole('group', { name: 'Delete your comment? This cannot be undone.' });
    await confirm.waitFor(WAIT);
    expect(await focused(alice)).toBe('button:Cancel');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    expect(await focused(alice)).toBe('button:Delete your comment');

    await aliceRow.getByRole('button', { name: 'Delete your comment' }).click();
    // Its style comes with widget-own.js (own-panels.css): the irreversible button is painted in the danger colour.
    const danger = confirm.getByRole('button', { name: 'Yes, delete' });
    expect(await danger.evaluate((button) => getComputedStyle(button).backgroundColor)).toBe('rgb(179, 38, 30)');
    await danger.click();

    const expected = [
      ['', 'This comment was removed', 1],
      ['Bob', 'A reply that stays', 2],
      ['Earlier', 'An earlier comment', 1],
    ];
    for (const reader of [alice, bob]) {
      await vi.waitFor(
        async () =>
          expect((await rowsOf(reader.widget)).map((row) => [row.author, row.body, row.level])).toEqual(expected),
        WAIT,
      );
      await reader.widget.getByRole('heading', { name: '2 comments' }).waitFor(WAIT);
    }
    // The placeholder has the focus, and no buttons; the token is forgotten.
    expect(
      await alice.page.evaluate(() => document.querySelector('live-comments')?.shadowRoot?.activeElement?.className),
    ).toContain('removed-comment');
    expect(await alice.widget.locator('li.removed-comment button').count()).toBe(0);
    expect(
      await alice.page.evaluate(() =>
        Object.keys(localStorage).filter((key) => key.startsWith('live-comments:token:')),
      ),
    ).toEqual([]);
    // An author's delete erases the text for good.
    const page = CommentPageSchema.parse((await getJson(`${env.a.url}/api/articles/${articleId}/comments`)).body);
    expect(page.comments.find((comment) => comment.id === parentId)).toMatchObject({ status: 'removed', body: '' });
    expect([...alice.problems, ...bob.problems]).toEqual([]);
  });
});

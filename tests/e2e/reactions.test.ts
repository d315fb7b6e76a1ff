import { nanoid } from 'nanoid';
import type { Locator } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CommentPageSchema, LikeResultSchema, PostStoredSchema } from '../../shared/schemas.ts';
import { rowsOf, waitForLive } from '../helpers/browser.ts';
import { signal } from '../helpers/signal.ts';
import { getJson, postJson, uniqueArticle } from '../helpers/test-app.ts';
import { rowWithText, startTwoInstances, WAIT, type TwoInstances } from './two-instances.ts';

/** What a row's Like button shows, read in one go: pressed or not, and the count (0 when none is shown). */
function likeState(row: Locator): Promise<{ pressed: string | null; count: number }> {
  return row.locator('.like-button').evaluate((button) => ({
    pressed: button.getAttribute('aria-pressed'),
    count: Number(button.querySelector('.like-count')?.textContent ?? 0),
  }));
}

describe('likes, Top order and presence in Chromium, across two instances', () => {
  let env: TwoInstances;

  beforeAll(async () => {
    env = await startTwoInstances();
  });
  afterEach(() => env.closeContexts());
  afterAll(() => env?.close());

  const post = async (articleId: string, name: string, body: string) =>
    PostStoredSchema.parse(
      (await postJson(`${env.b.url}/api/articles/${articleId}/comments`, { author: { name }, body })).body,
    ).comment;

  it('counts a like once per reader, live on the other instance, and undoes it', async () => {
    const articleId = uniqueArticle('like');
    const comment = await post(articleId, 'Carol', 'Worth a like');
    const alice = await env.reader(env.a, articleId);
    const bob = await env.reader(env.b, articleId);
    const aliceRow = rowWithText(alice.widget, 'Worth a like');
    const bobRow = rowWithText(bob.widget, 'Worth a like');
    expect(await likeState(aliceRow)).toEqual({ pressed: 'false', count: 0 });

    await aliceRow.getByRole('button', { name: /^Like/ }).click();
    await vi.waitFor(async () => expect(await likeState(bobRow)).toEqual({ pressed: 'false', count: 1 }), WAIT);
    expect(await likeState(aliceRow)).toEqual({ pressed: 'true', count: 1 });

    // After a reload the widget knows this reader likes it (its reader id is kept), and pressing again undoes it.
    await alice.page.reload();
    await waitForLive(alice.widget);
    await vi.waitFor(async () => expect(await likeState(aliceRow)).toEqual({ pressed: 'true', count: 1 }), WAIT);

    await bobRow.getByRole('button', { name: /^Like/ }).click();
    for (const row of [aliceRow, bobRow])
      await vi.waitFor(async () => expect((await likeState(row)).count).toBe(2), WAIT);

    await aliceRow.getByRole('button', { name: /^Like/ }).click();
    await vi.waitFor(async () => expect(await likeState(bobRow)).toEqual({ pressed: 'true', count: 1 }), WAIT);
    await vi.waitFor(async () => expect(await likeState(aliceRow)).toEqual({ pressed: 'false', count: 1 }), WAIT);

    // The record: one like, Bob's; Alice's reader id likes nothing.
    const readerId = await alice.page.evaluate(() => localStorage.getItem('live-comments:reader'));
    expect(readerId).toMatch(/^[A-Za-z0-9_-]{21}$/);
    const likes = await getJson(`${env.a.url}/api/articles/${articleId}/likes?reader=${readerId}`);
    expect(likes.body).toEqual({ articleId, commentIds: [] });
    const page = CommentPageSchema.parse((await getJson(`${env.a.url}/api/articles/${articleId}/comments`)).body);
    expect(page.comments.find((c) => c.id === comment.id)?.likes).toBe(1);
    expect([...alice.problems, ...bob.problems]).toEqual([]);
  });

  it('shows a like at once and rolls it back when the server refuses it', async () => {
    const articleId = uniqueArticle('rollback');
    await post(articleId, 'Dan', 'Like me if you can');
    const alice = await env.reader(env.a, articleId);
    const row = rowWithText(alice.widget, 'Like me if you can');
    // Hold the like request until the optimistic state has been seen, then fail it.
    const released = signal();
    await alice.page.route('**/api/comments/*/like', async (route) => {
      await released.fired;
      await route.fulfill({
        status: 503,
        contentType: 'application/json',
        headers: { 'access-control-allow-origin': '*' },
        body: JSON.stringify({ error: { code: 'unavailable', message: 'Try again later.' } }),
      });
    });
    await row.getByRole('button', { name: /^Like/ }).click();
    await vi.waitFor(async () => expect(await likeState(row)).toEqual({ pressed: 'true', count: 1 }), WAIT);
    released.fire();
    await vi.waitFor(async () => expect(await likeState(row)).toEqual({ pressed: 'false', count: 0 }), WAIT);
    await vi.waitFor(
      async () =>
        expect(await alice.widget.locator('[aria-live="polite"]').textContent()).toBe(
          'Your like was not saved: Try again later.',
        ),
      WAIT,
    );
    const page = CommentPageSchema.parse((await getJson(`${env.b.url}/api/articles/${articleId}/comments`)).body);
    expect(page.comments[0]?.likes).toBe(0);
  });

  it('lists the most liked threads first with Top, ties newest first', async () => {
    const articleId = uniqueArticle('top');
    const liked = async (body: string, likes: number) => {
      const comment = await post(articleId, 'Poster', body);
      // Each like from another reader id, so each one counts.
      for (let i = 0; i < likes; i++) {
        const answer = await postJson(`${env.a.url}/api/comments/${comment.id}/like`, {
          readerId: nanoid(),
          liked: true,
        });
        expect(LikeResultSchema.parse(answer.body).comment.likes).toBe(i + 1);
      }
    };
    await liked('one like', 1);
    await liked('three likes', 3);
    await liked('no likes, older', 0);
    await liked('two likes', 2);
    await liked('no likes, newer', 0);
    const alice = await env.reader(env.a, articleId);
    const order = alice.widget.getByRole('group', { name: 'Sort comments' });
    await order.getByRole('button', { name: 'Top' }).click();
    expect(await order.getByRole('button', { name: 'Top' }).getAttribute('aria-pressed')).toBe('true');
    expect(await order.getByRole('button', { name: 'Newest' }).getAttribute('aria-pressed')).toBe('false');
    await vi.waitFor(async () => {
      expect((await rowsOf(alice.widget)).map((row) => row.body)).toEqual([
        'three likes',
        'two likes',
        'one like',
        'no likes, newer',
        'no likes, older',
      ]);
    }, WAIT);
    // Likes arriving live do not move a comment under the reader's eyes; choosing Top again ranks afresh.
    const last = await rowWithText(alice.widget, 'no likes, older').getAttribute('data-id');
    for (let i = 0; i < 4; i++)
      await postJson(`${env.b.url}/api/comments/${last}/like`, { readerId: nanoid(), liked: true });
    await vi.waitFor(
      async () => expect((await likeState(rowWithText(alice.widget, 'no likes, older'))).count).toBe(4),
      WAIT,
    );
    expect((await rowsOf(alice.widget)).map((row) => row.body).at(-1)).toBe('no likes, older');
    await order.getByRole('button', { name: 'Newest' }).click();
    await order.getByRole('button', { name: 'Top' }).click();
    await vi.waitFor(
      async () => expect((await rowsOf(alice.widget)).map((row) => row.body)[0]).toBe('no likes, older'),
      WAIT,
    );
  });

  it('shows how many read the article, counted across both instances', async () => {
    const articleId = uniqueArticle('presence');
    const alice = await env.reader(env.a, articleId);
    const presence = (widget: Locator) => widget.locator('.presence');
    await vi.waitFor(async () => expect(await presence(alice.widget).textContent()).toBe('1 reading now'), WAIT);
    const bob = await env.reader(env.b, articleId);
    for (const reader of [alice, bob])
      await vi.waitFor(async () => expect(await presence(reader.widget).textContent()).toBe('2 reading now'), WAIT);
    expect(await presence(bob.widget).isVisible()).toBe(true);
    await bob.context.close();
    await vi.waitFor(async () => expect(await presence(alice.widget).textContent()).toBe('1 reading now'), WAIT);
  });
});

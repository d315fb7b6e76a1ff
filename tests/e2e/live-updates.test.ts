import { nanoid } from 'nanoid';
import type { Browser, BrowserContext, Locator } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { articleRoom } from '../../shared/events.ts';
import { CommentPageSchema, PostStoredSchema } from '../../shared/schemas.ts';
import {
  collectProblems,
  embedHtml,
  postFromWidget,
  rowsOf,
  startBrowserAndApp,
  startStaticSite,
  type StaticSite,
  waitForLive,
  widgetOf,
} from '../helpers/browser.ts';
import { getJson, postJson, uniqueArticle, type TestApp } from '../helpers/test-app.ts';

const WAIT = { timeout: 15_000, interval: 50 };

describe('live updates between readers in Chromium', () => {
  let browser: Browser;
  let server: TestApp;
  let site: StaticSite;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [browser, server] = await startBrowserAndApp();
    site = await startStaticSite((path) => {
      const match = /^\/article\/([A-Za-z0-9._:-]+)$/.exec(path);
      return match ? { html: embedHtml(server.url, match[1]!) } : undefined;
    });
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await server?.close();
  });

  /** A reader: a fresh context (own storage) with the article open and live. */
  async function reader(articleId: string, options: { viewport?: { width: number; height: number } } = {}) {
    const context = await browser.newContext(options);
    contexts.push(context);
    const page = await context.newPage();
    const problems = collectProblems(page);
    await page.goto(`${site.url}/article/${articleId}`);
    const widget = widgetOf(page);
    await waitForLive(widget);
    return { context, page, widget, problems };
  }

  const countText = (widget: Locator, text: string) =>
    widget.locator('li.comment .body').getByText(text, { exact: true }).count();
  const post = (articleId: string, body: Record<string, unknown>) =>
    postJson(`${server.url}/api/articles/${articleId}/comments`, body);

  it('shows a comment typed in one context in another without reload', async () => {
    const articleId = uniqueArticle('live');
    const alice = await reader(articleId);
    const bob = await reader(articleId);
    await bob.page.evaluate(() => Object.assign(window, { notReloaded: true }));

    await postFromWidget(alice.widget, 'Alice', 'Hello from Alice\nsecond line');
    // Alice sees hers at once, then confirmed (no longer "Sending…"), marked as hers, once.
    await vi.waitFor(async () => expect(await countText(alice.widget, 'Hello from Alice\nsecond line')).toBe(1), WAIT);
    await vi.waitFor(async () => expect(await alice.widget.locator('li.comment.pending').count()).toBe(0), WAIT);
    expect(await alice.widget.locator('li.comment .badge').textContent()).toBe('you');
    // Bob gets it live.
    await vi.waitFor(async () => expect(await countText(bob.widget, 'Hello from Alice\nsecond line')).toBe(1), WAIT);
    await bob.widget.getByRole('heading', { name: '1 comment' }).waitFor();
    expect(await bob.page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    // The name is remembered, and the author token kept under the comment id.
    const stored = await alice.page.evaluate(() => Object.entries(localStorage));
    expect(stored).toContainEqual(['live-comments:name', 'Alice']);
    expect(stored.filter(([key]) => key.startsWith('live-comments:token:'))).toHaveLength(1);
    // Bob's answer comes back to Alice.
    await postFromWidget(bob.widget, 'Bob', 'Hi Alice');
    await vi.waitFor(async () => expect(await countText(alice.widget, 'Hi Alice')).toBe(1), WAIT);
    expect(alice.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
  });

  it('shows a reply under its parent in the other context', async () => {
    const articleId = uniqueArticle('reply');
    await post(articleId, { author: { name: 'Root' }, body: 'The parent comment' });
    await post(articleId, { author: { name: 'Later' }, body: 'A later top-level comment' });
    const alice = await reader(articleId);
    const bob = await reader(articleId);

    await alice.widget.getByRole('button', { name: 'Reply to Root' }).click();
    const form = alice.widget.getByRole('form', { name: 'Reply to Root' });
    expect(await form.getByLabel('Name').inputValue()).toBe('');
    await form.getByLabel('Name').fill('Replier');
    await form.getByLabel('Comment').fill('An answer to the parent');
    await form.getByRole('button', { name: 'Reply', exact: true }).click();
    await form.waitFor({ state: 'detached' });

    for (const { widget } of [alice, bob]) {
      await vi.waitFor(async () => {
        expect((await rowsOf(widget)).map((row) => [row.author, row.level])).toEqual([
          ['Later', 1],
          ['Root', 1],
          ['Replier', 2],
        ]);
      }, WAIT);
    }
    expect(await countText(bob.widget, 'An answer to the parent')).toBe(1);
  });

  it('shows the field errors of the shared schema next to the fields and sends nothing', async () => {
    const articleId = uniqueArticle('invalid');
    const alice = await reader(articleId);
    const form = alice.widget.getByRole('form', { name: 'Write a comment' });
    await form.getByLabel('Name').fill('   ');
    await form.getByLabel('Comment').fill(' \n ');
    await form.getByRole('button', { name: 'Post', exact: true }).click();
    const name = form.getByLabel('Name');
    await vi.waitFor(async () => expect(await name.getAttribute('aria-invalid')).toBe('true'));
    const describedBy = async (label: string) => {
      const ids = (await form.getByLabel(label).getAttribute('aria-describedby'))!.split(' ');
      return form.locator(`[id="${ids[0]}"]`).textContent();
    };
    expect(await describedBy('Name')).toBe('Name must not be empty');
    expect(await describedBy('Comment')).toBe('Comment must not be empty');
    expect(
      await alice.page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.getAttribute('name')),
    ).toBe('name');
    const page = CommentPageSchema.parse((await getJson(`${server.url}/api/articles/${articleId}/comments`)).body);
    expect(page.comments).toEqual([]);
  });

  it('shows the server’s field issues next to the fields and gives the text back', async () => {
    const articleId = uniqueArticle('refused');
    const context = await browser.newContext();
    contexts.push(context);
    // The server answers this post with field issues the shared schema did not catch on the client.
    await context.routeWebSocket(/\/socket\.io\//, (ws) => {
      const upstream = ws.connectToServer();
      ws.onMessage((message) => {
        const match = /^42(\d+)\["comment:post"/.exec(String(message));
        if (!match) return upstream.send(message);
        const error = {
          code: 'invalid_input',
          message: 'Invalid comment',
          issues: [
            { path: 'author.name', message: 'That name is taken here' },
            { path: 'body', message: 'Too spicy for this article' },
          ],
        };
        ws.send(`43${match[1]}${JSON.stringify([{ ok: false, error }])}`);
      });
    });
    const page = await context.newPage();
    await page.goto(`${site.url}/article/${articleId}`);
    const widget = widgetOf(page);
    await waitForLive(widget);
    await postFromWidget(widget, 'Taken', 'A spicy take');
    const form = widget.getByRole('form', { name: 'Write a comment' });
    await vi.waitFor(
      async () => expect(await form.getByLabel('Comment').getAttribute('aria-invalid')).toBe('true'),
      WAIT,
    );
    const describedBy = async (label: string) => {
      const ids = (await form.getByLabel(label).getAttribute('aria-describedby'))!.split(' ');
      return form.locator(`[id="${ids[0]}"]`).textContent();
    };
    expect(await describedBy('Name')).toBe('That name is taken here');
    expect(await describedBy('Comment')).toBe('Too spicy for this article');
    expect(await form.getByLabel('Comment').inputValue()).toBe('A spicy take');
    expect(await widget.locator('li.comment').count()).toBe(0);
  });

  it('shows what a reader missed while offline once each, after coming back', async () => {
    const articleId = uniqueArticle('offline');
    await post(articleId, { author: { name: 'Before' }, body: 'Posted before going offline' });
    const bob = await reader(articleId);
    await vi.waitFor(async () => expect(await countText(bob.widget, 'Posted before going offline')).toBe(1), WAIT);

    await bob.context.setOffline(true);
    await bob.widget.locator('.root[data-live="paused"]').waitFor();
    await bob.widget.getByRole('status').getByText('Live updates paused').waitFor();
    const missed = ['Missed one', 'Missed two', 'Missed three'];
    for (const body of missed) expect((await post(articleId, { author: { name: 'Poster' }, body })).status).toBe(201);

    const started = Date.now();
    await bob.context.setOffline(false);
    await bob.widget.getByRole('status').getByText('Live updates are back.').waitFor({ timeout: 15_000 });
    console.info(`offline reader caught up ${Date.now() - started} ms after going back online`);
    for (const body of [...missed, 'Posted before going offline']) expect(await countText(bob.widget, body)).toBe(1);
    expect(await bob.widget.locator('li.comment').count()).toBe(4);
    await bob.widget.getByRole('heading', { name: '4 comments' }).waitFor();
  });

  it('catches up when a pushed seq skips one it never received', async () => {
    const articleId = uniqueArticle('gap');
    const bob = await reader(articleId);
    // Stored without being published: the push for seq 1 never happens.
    await server.app.store.create({
      id: nanoid(),
      articleId,
      parentId: null,
      authorName: 'Silent',
      body: 'Stored without a push',
      createdAt: new Date().toISOString(),
      clientId: null,
      authorTokenHash: '0'.repeat(64),
    });
    expect((await post(articleId, { author: { name: 'Loud' }, body: 'Pushed with seq 2' })).status).toBe(201);
    await vi.waitFor(async () => expect(await countText(bob.widget, 'Stored without a push')).toBe(1), WAIT);
    expect(await countText(bob.widget, 'Pushed with seq 2')).toBe(1);
    expect(await bob.widget.locator('li.comment').count()).toBe(2);
  });

  it('applies a comment:batch change by change, and shows a burst of posts once each', async () => {
    const articleId = uniqueArticle('batch');
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const subscribes: string[] = [];
    page.on('websocket', (socket) =>
      socket.on('framesent', ({ payload }) => {
        if (String(payload).includes('"article:subscribe"')) subscribes.push(String(payload));
      }),
    );
    await page.goto(`${site.url}/article/${articleId}`);
    const bob = widgetOf(page);
    await waitForLive(bob);
    expect(subscribes).toHaveLength(1);
    expect(JSON.parse(subscribes[0]!.replace(/^42\d*/, ''))[1]).toMatchObject({ articleId, batch: true });

    // Two stored changes delivered only as one batch frame: no catch-up is needed to show them.
    const stored = [];
    for (const body of ['First of a batch', 'Second of a batch']) {
      stored.push(
        (
          await server.app.store.create({
            id: nanoid(),
            articleId,
            parentId: null,
            authorName: 'Batcher',
            body,
            createdAt: new Date().toISOString(),
            clientId: null,
            authorTokenHash: '0'.repeat(64),
          })
        ).comment,
      );
    }
    server.app.io.to(articleRoom(articleId)).emit('comment:batch', {
      articleId,
      changes: stored.map((comment) => ({ event: 'comment:created' as const, comment })),
    });
    await vi.waitFor(
      async () => expect((await rowsOf(bob)).map((row) => row.body)).toEqual(['Second of a batch', 'First of a batch']),
      WAIT,
    );
    expect(subscribes).toHaveLength(1);

    // A real burst, batched or not as the server sees fit: every comment shows exactly once.
    const burst = Array.from({ length: 12 }, (_, i) => `Burst ${i + 1}`);
    const answers = await Promise.all(
      burst.map((body, i) => post(articleId, { author: { name: `Burster ${i}` }, body })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(burst.map(() => 201));
    await vi.waitFor(async () => expect(await bob.locator('li.comment').count()).toBe(14), WAIT);
    for (const body of burst) expect(await countText(bob, body)).toBe(1);
    await bob.getByRole('heading', { name: '14 comments' }).waitFor();
  });

  it('updates edits and removals in place: an "edited" mark, and a placeholder that keeps the replies', async () => {
    const articleId = uniqueArticle('edits');
    const parent = PostStoredSchema.parse(
      (await post(articleId, { author: { name: 'Parent' }, body: 'Original text' })).body,
    ).comment;
    const reply = PostStoredSchema.parse(
      (await post(articleId, { author: { name: 'Child' }, body: 'A reply', parentId: parent.id })).body,
    ).comment;
    const bob = await reader(articleId);
    await vi.waitFor(async () => expect(await bob.widget.locator('li.comment').count()).toBe(2), WAIT);
    await bob.widget
      .locator('li.comment')
      .first()
      .evaluate((li) => Object.assign(li, { sameElement: true }));

    // The server pushes an edit and then a removal (seq 3 and 4), as the edit/delete API will.
    const room = articleRoom(articleId);
    server.app.io
      .to(room)
      .emit('comment:updated', { ...parent, body: 'Edited text', editedAt: new Date().toISOString(), seq: 3 });
    await vi.waitFor(async () => expect((await rowsOf(bob.widget))[0]?.body).toBe('Edited text'), WAIT);
    expect(await bob.widget.locator('li.comment').first().locator('.edited').textContent()).toBe('edited');
    expect(
      await bob.widget
        .locator('li.comment')
        .first()
        .evaluate((li) => (li as unknown as { sameElement?: boolean }).sameElement),
    ).toBe(true);

    server.app.io.to(room).emit('comment:removed', { ...parent, body: '', status: 'removed', seq: 4 });
    await vi.waitFor(async () => expect((await rowsOf(bob.widget))[0]?.body).toBe('This comment was removed'), WAIT);
    const rows = await rowsOf(bob.widget);
    expect(rows.map((row) => [row.author, row.body, row.level])).toEqual([
      ['', 'This comment was removed', 1],
      ['Child', reply.body, 2],
    ]);
    expect(await bob.widget.getByRole('button', { name: 'Reply to Parent' }).count()).toBe(0);
    await bob.widget.getByRole('heading', { name: '1 comment' }).waitFor();
  });

  it('retries a post whose ack was lost with the same clientId, so it is stored once', async () => {
    const articleId = uniqueArticle('retry');
    const context = await browser.newContext();
    contexts.push(context);
    let postAckId: string | null = null;
    let dropped = false;
    // Forward socket.io frames, but lose the ack of the first comment:post and cut the connection.
    await context.routeWebSocket(/\/socket\.io\//, (ws) => {
      const upstream = ws.connectToServer();
      ws.onMessage((message) => {
        const text = String(message);
        const match = /^42(\d+)\["comment:post"/.exec(text);
        if (match && postAckId === null) postAckId = match[1]!;
        upstream.send(message);
      });
      upstream.onMessage((message) => {
        if (!dropped && postAckId !== null && String(message).startsWith(`43${postAckId}[`)) {
          dropped = true;
          void ws.close();
          return;
        }
        ws.send(message);
      });
    });
    const page = await context.newPage();
    await page.goto(`${site.url}/article/${articleId}`);
    const alice = widgetOf(page);
    await waitForLive(alice);
    await postFromWidget(alice, 'Alice', 'Sent once, acked never');
    const retry = alice.getByRole('button', { name: 'Retry' });
    await retry.waitFor();
    expect(await alice.locator('li.comment.failed').textContent()).toContain('Not posted');
    expect(dropped).toBe(true);
    await retry.click();
    await vi.waitFor(async () => expect(await alice.locator('li.comment.pending').count()).toBe(0), WAIT);
    await vi.waitFor(async () => expect(await countText(alice, 'Sent once, acked never')).toBe(1), WAIT);
    const stored = CommentPageSchema.parse((await getJson(`${server.url}/api/articles/${articleId}/comments`)).body);
    expect(stored.comments.map((comment) => comment.body)).toEqual(['Sent once, acked never']);
    const tokens = await page.evaluate(() =>
      Object.keys(localStorage).filter((key) => key.startsWith('live-comments:token:')),
    );
    expect(tokens).toEqual([`live-comments:token:${stored.comments[0]!.id}`]);
  });

  it('pages long threads with Load more, live comments included, and counts them all', async () => {
    const articleId = uniqueArticle('pages');
    for (let i = 1; i <= 23; i++)
      expect((await post(articleId, { author: { name: `Writer ${i}` }, body: `Thread ${i}` })).status).toBe(201);
    await post(articleId, {
      author: { name: 'Answer' },
      body: 'Reply in the oldest thread',
      parentId: CommentPageSchema.parse(
        (await getJson(`${server.url}/api/articles/${articleId}/comments?order=oldest&limit=1`)).body,
      ).comments[0]!.id,
    });
    const bob = await reader(articleId);
    await vi.waitFor(async () => expect(await bob.widget.locator('li.comment').count()).toBe(20), WAIT);
    await bob.widget.getByRole('heading', { name: '24 comments' }).waitFor();
    expect((await rowsOf(bob.widget))[0]?.body).toBe('Thread 23');

    expect((await post(articleId, { author: { name: 'Live' }, body: 'Thread 24, live' })).status).toBe(201);
    await vi.waitFor(async () => expect((await rowsOf(bob.widget))[0]?.body).toBe('Thread 24, live'), WAIT);
    await bob.widget.getByRole('heading', { name: '25 comments' }).waitFor();

    await bob.widget.getByRole('button', { name: 'Load more comments' }).click();
    await vi.waitFor(async () => expect(await bob.widget.locator('li.comment').count()).toBe(25), WAIT);
    const rows = await rowsOf(bob.widget);
    expect(rows.map((row) => row.body)).toEqual([
      'Thread 24, live',
      ...Array.from({ length: 23 }, (_, i) => `Thread ${23 - i}`).flatMap((body) =>
        body === 'Thread 1' ? [body, 'Reply in the oldest thread'] : [body],
      ),
    ]);
    expect(rows.at(-1)?.level).toBe(2);
    await bob.widget.getByRole('button', { name: 'Load more comments' }).waitFor({ state: 'hidden' });
    await bob.widget.getByRole('heading', { name: '25 comments' }).waitFor();
  });

  it('offers "N new comments" instead of shifting the text under a reader scrolled inside the thread', async () => {
    const articleId = uniqueArticle('scroll');
    for (let i = 1; i <= 12; i++)
      await post(articleId, {
        author: { name: `Writer ${i}` },
        body: `Comment number ${i}\nwith a second line\nand a third`,
      });
    const bob = await reader(articleId, { viewport: { width: 800, height: 400 } });
    await vi.waitFor(async () => expect(await bob.widget.locator('li.comment').count()).toBe(12), WAIT);
    await bob.widget.locator('li.comment').nth(6).scrollIntoViewIfNeeded();
    const listTop = () => bob.widget.locator('ol.thread').evaluate((list) => list.getBoundingClientRect().top);
    expect(await listTop()).toBeLessThan(0);
    const anchor = bob.widget.locator('li.comment').nth(6);
    const anchorTop = await anchor.evaluate((li) => li.getBoundingClientRect().top);

    expect(
      (await post(articleId, { author: { name: 'Newcomer' }, body: 'Arrived while Bob was reading' })).status,
    ).toBe(201);
    const button = bob.widget.getByRole('button', { name: '1 new comment' });
    await button.waitFor();
    expect(await countText(bob.widget, 'Arrived while Bob was reading')).toBe(0);
    expect(await anchor.evaluate((li) => li.getBoundingClientRect().top)).toBe(anchorTop);

    await button.click();
    await vi.waitFor(async () => expect(await countText(bob.widget, 'Arrived while Bob was reading')).toBe(1), WAIT);
    const focused = await bob.page.evaluate(
      () => document.querySelector('live-comments')?.shadowRoot?.activeElement?.textContent ?? '',
    );
    expect(focused).toContain('Arrived while Bob was reading');
    await button.waitFor({ state: 'hidden' });
  });
});

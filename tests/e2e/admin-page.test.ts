import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CommentPageSchema } from '../../shared/schemas.ts';
import { postFromWidget, rowsOf } from '../helpers/browser.ts';
import { signal } from '../helpers/signal.ts';
import { getJson, postJson, uniqueArticle } from '../helpers/test-app.ts';
import { PostStoredSchema } from '../../shared/schemas.ts';
import { ADMIN_TOKEN, premoderate, rowWithText, startTwoInstances, WAIT, type TwoInstances } from './two-instances.ts';

describe('the /admin page in Chromium, across two instances', () => {
  let env: TwoInstances;

  beforeAll(async () => {
    env = await startTwoInstances({ WEBHOOK_ALLOW_PRIVATE: 'true' });
  });
  afterEach(() => env.closeContexts());
  afterAll(() => env?.close());

  /** The moderator, signed in on instance b, with the live feed subscribed. */
  async function moderator() {
    const opened = await env.open(env.b, '/admin');
    await signIn(opened.page, ADMIN_TOKEN);
    await opened.page.locator('.status[data-live]').waitFor(WAIT);
    return opened;
  }

  async function signIn(page: Page, token: string) {
    await page.getByLabel('Moderator token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  /** A feed or queue item of the admin page, by the comment's text. */
  const item = (page: Page, list: string, text: string) =>
    page.getByRole('list', { name: list }).getByRole('listitem').filter({ hasText: text });

  it('signs in with the token (kept in the tab, never in the URL) under a strict CSP, and removes and restores live', async () => {
    const response = await fetch(`${env.b.url}/admin`);
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("default-src 'none'");
    expect(policy).not.toContain('unsafe-inline');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).not.toMatch(/<script>|style=/);

    const articleId = uniqueArticle('moderate');
    const { page, problems } = await env.open(env.b, '/admin');
    await signIn(page, 'not-the-token-at-all');
    await page.getByRole('alert').filter({ hasText: 'That token was refused.' }).waitFor(WAIT);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await signIn(page, ADMIN_TOKEN);
    await page.locator('.status[data-live]').waitFor(WAIT);
    expect(page.url()).toBe(`${env.b.url}/admin`);
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([ADMIN_TOKEN]);
    expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([]);

    // A reader on the other instance posts: the moderator sees it arrive.
    const alice = await env.reader(env.a, articleId);
    const bob = await env.reader(env.b, articleId);
    await postFromWidget(alice.widget, 'Alice', 'Spam spam spam');
    const entry = item(page, 'Comments, newest first', 'Spam spam spam');
    await entry.waitFor(WAIT);
    expect(await entry.locator('.article').textContent()).toBe(articleId);

    await entry.getByRole('button', { name: 'Remove comment by Alice' }).click();
    for (const reader of [alice, bob]) {
      await vi.waitFor(
        async () => expect((await rowsOf(reader.widget)).map((row) => row.body)).toEqual(['This comment was removed']),
        WAIT,
      );
    }
    // The moderator still reads what was removed, struck through, and can restore it.
    await entry.locator('.body.removed').filter({ hasText: 'Spam spam spam' }).waitFor(WAIT);
    await entry.getByRole('button', { name: 'Restore comment by Alice' }).click();
    for (const reader of [alice, bob]) await rowWithText(reader.widget, 'Spam spam spam').waitFor(WAIT);
    await entry.getByRole('button', { name: 'Remove comment by Alice' }).waitFor(WAIT);

    // A reload keeps the moderator signed in (the tab's sessionStorage); signing out forgets the token.
    await page.reload();
    await page.locator('.status[data-live]').waitFor(WAIT);
    await item(page, 'Comments, newest first', 'Spam spam spam').waitFor(WAIT);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Moderator token').waitFor(WAIT);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    // 'That token was refused' is logged by Chromium as the failed request it was; nothing else went wrong.
    expect(problems.filter((problem) => !problem.includes('status of 403'))).toEqual([]);
    expect([...alice.problems, ...bob.problems]).toEqual([]);
  });

  it('works the reported comments live: three reports take one out of view, Keep (keyboard) restores it, Remove removes one', async () => {
    const articleId = uniqueArticle('reported');
    const { page, problems } = await moderator();
    const bob = await env.reader(env.b, articleId);
    const postAs = async (name: string, body: string) => {
      const res = await postJson(`${env.a.url}/api/articles/${articleId}/comments`, { author: { name }, body });
      return PostStoredSchema.parse(res.body).comment.id;
    };
    const report = (id: string, reason: string, readerId: string, note?: string) =>
      postJson(`${(readerId.endsWith('a') ? env.a : env.b).url}/api/comments/${id}/report`, {
        readerId: `reader-${readerId}`,
        reason,
        ...(note ? { note } : {}),
      });
    const rude = await postAs('Rude', 'You are all idiots');
    const pills = await postAs('Seller', 'Cheap pills here');
    await rowWithText(bob.widget, 'You are all idiots').waitFor(WAIT);

    await report(pills, 'spam', 'spam-0001a');
    const pillsItem = item(page, 'Reported comments', 'Cheap pills here');
    await pillsItem.getByText('public', { exact: true }).waitFor(WAIT);
    await report(rude, 'abuse', 'rude-0001a', 'insults every reader');
    await report(rude, 'abuse', 'rude-0002b');
    await report(rude, 'off_topic', 'rude-0003a');
    const rudeItem = item(page, 'Reported comments', 'You are all idiots');
    await rudeItem.getByText('out of view until reviewed').waitFor(WAIT);
    await rudeItem.getByText('3 reports: abuse 2, off topic 1').waitFor(WAIT);
    await rudeItem.getByText('“insults every reader”').waitFor(WAIT);
    await page.getByRole('heading', { name: 'Reported by readers (2)' }).waitFor(WAIT);
    await vi.waitFor(async () => expect(await page.title()).toBe('(2) Moderation · Live Comments'), WAIT);
    // Readers saw it leave the thread.
    await bob.widget.getByText('This comment was removed').waitFor(WAIT);
    expect(await rowWithText(bob.widget, 'You are all idiots').count()).toBe(0);

    // Filters narrow the list.
    await page.getByLabel('Filter by reason').selectOption('reported:spam');
    await rudeItem.waitFor({ state: 'detached', ...WAIT });
    expect(await pillsItem.count()).toBe(1);
    await page.getByLabel('Filter by reason').selectOption('');
    await rudeItem.waitFor(WAIT);
    await page.getByRole('heading', { name: 'Review queue (2)' }).waitFor(WAIT);

    // Keyboard: focus the item, press A to keep it (restored for readers), R on the other to remove it.
    await rudeItem.getByRole('button', { name: 'Keep comment by Rude' }).focus();
    await page.keyboard.press('a');
    await rudeItem.waitFor({ state: 'detached', ...WAIT });
    await rowWithText(bob.widget, 'You are all idiots').waitFor(WAIT);
    await pillsItem.getByRole('button', { name: 'Keep comment by Seller' }).focus();
    await page.keyboard.press('r');
    await pillsItem.waitFor({ state: 'detached', ...WAIT });
    await vi.waitFor(async () => expect(await rowWithText(bob.widget, 'Cheap pills here').count()).toBe(0), WAIT);
    await page.getByRole('heading', { name: 'Reported by readers', exact: true }).waitFor(WAIT);
    await vi.waitFor(async () => expect(await page.title()).toBe('Moderation · Live Comments'), WAIT);
    expect(problems).toEqual([]);
    expect(bob.problems).toEqual([]);
  });

  it('adds a webhook (its secret shown once), lists its deliveries and the outbox health, and removes it', async () => {
    const received: string[] = [];
    const receiver = createServer((req, res) => {
      received.push(String(req.headers['x-live-comments-event']));
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    try {
      const { page, problems } = await moderator();
      const panel = page.getByRole('region', { name: 'Notifications' });
      await panel.getByText(/^Outbox: \d+ queued/).waitFor(WAIT);
      const form = page.getByRole('form', { name: 'Add a webhook' });
      await form.getByLabel('Receiver URL').fill('ftp://example.com/x');
      await form.getByRole('button', { name: 'Add webhook' }).click();
      await form.getByRole('alert').filter({ hasText: 'url' }).waitFor(WAIT);
      await form.getByLabel('Receiver URL').fill(url);
      await form.getByRole('button', { name: 'Add webhook' }).click();
      await panel.getByText(`Signing secret of ${url}`).waitFor(WAIT);
      expect(await panel.locator('.secret code').textContent()).toMatch(/^\S{32,}$/);
      await panel.getByRole('button', { name: 'Done' }).click();
      expect(await panel.locator('.secret code').count()).toBe(0);

      const articleId = uniqueArticle('hooked');
      // Instance b added it, so b knows it at once (another instance learns of it on its next outbox poll).
      await postJson(`${env.b.url}/api/articles/${articleId}/comments`, {
        author: { name: 'Hana' },
        body: 'Hello hook',
      });
      await vi.waitFor(() => expect(received).toContain('comment.created'), WAIT);
      const hook = panel.getByRole('list', { name: 'Webhooks' }).getByRole('listitem').filter({ hasText: url });
      await hook.getByRole('button', { name: `Deliveries of ${url}` }).click();
      await hook
        .getByRole('list', { name: `Deliveries of ${url}` })
        .getByText(/comment\.created · attempt 1/)
        .first()
        .waitFor(WAIT);
      await hook.getByRole('button', { name: `Remove the webhook for ${url}` }).click();
      await hook.waitFor({ state: 'detached', ...WAIT });
      const left = await getJson(`${env.b.url}/api/admin/webhooks`, { authorization: `Bearer ${ADMIN_TOKEN}` });
      expect(JSON.stringify(left.body)).not.toContain(url);
      expect(problems).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  it('holds posts of a pre-moderated article until approved, then shows them live to every reader', async () => {
    const articleId = uniqueArticle('held');
    const { page, problems } = await moderator();
    await page.getByLabel('Article id').fill(articleId);
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByRole('button', { name: `Pre-moderate ${articleId}` }).click();
    await page.getByRole('button', { name: `Stop pre-moderating ${articleId}` }).waitFor(WAIT);

    const alice = await env.reader(env.a, articleId);
    const bob = await env.reader(env.b, articleId);
    await alice.widget.getByText('Comments are reviewed by a moderator before they appear.').waitFor(WAIT);
    await postFromWidget(alice.widget, 'Alice', 'Please approve me');
    const waiting = rowWithText(alice.widget, 'Please approve me');
    await waiting.getByText('Your comment is awaiting moderation.').waitFor(WAIT);
    await postFromWidget(alice.widget, 'Alice', 'Reject me');
    await rowWithText(alice.widget, 'Reject me').getByText('Your comment is awaiting moderation.').waitFor(WAIT);

    const held = item(page, 'Held comments', 'Please approve me');
    await held.waitFor(WAIT);
    await page.getByRole('heading', { name: 'Held for review (2)' }).waitFor(WAIT);
    // Not published: the other reader and the record have nothing.
    expect(await rowsOf(bob.widget)).toEqual([]);
    expect(
      CommentPageSchema.parse((await getJson(`${env.a.url}/api/articles/${articleId}/comments`)).body).comments,
    ).toEqual([]);

    await item(page, 'Held comments', 'Reject me').getByRole('button', { name: 'Reject comment by Alice' }).click();
    await held.getByRole('button', { name: 'Approve comment by Alice' }).click();
    await page.getByRole('heading', { name: 'Held for review', exact: true }).waitFor(WAIT);

    await rowWithText(bob.widget, 'Please approve me').waitFor(WAIT);
    // The author's own copy is now the published comment, theirs to edit.
    await waiting.getByRole('button', { name: 'Edit your comment' }).waitFor(WAIT);
    expect(await waiting.getByText('Your comment is awaiting moderation.').count()).toBe(0);
    for (const reader of [alice, bob]) await reader.widget.getByRole('heading', { name: '1 comment' }).waitFor(WAIT);
    expect(await rowWithText(bob.widget, 'Reject me').count()).toBe(0);
    expect(problems).toEqual([]);
    expect([...alice.problems, ...bob.problems]).toEqual([]);
  });

  it('shows why the moderation pipeline held a comment, set on one instance and applied on the other', async () => {
    const articleId = uniqueArticle('pipeline');
    const { page, problems } = await moderator();
    // Set on the page (instance b), applied on instance a, where the reader posts.
    const rules = page.getByRole('form', { name: 'Moderation rules' });
    await rules.getByLabel('Suspect words and phrases').fill('casino\n  \n');
    await rules.getByLabel('Most links').fill('-1');
    await rules.getByRole('button', { name: 'Save rules' }).click();
    await rules.getByRole('alert').filter({ hasText: 'maxLinks' }).waitFor(WAIT);
    await rules.getByLabel('Most links').fill('2');
    await rules.getByRole('button', { name: 'Save rules' }).click();
    await rules.getByText(/^Version \d+ is in force\.$/).waitFor(WAIT);
    const saved = await getJson(`${env.b.url}/api/admin/settings/moderation`, {
      authorization: `Bearer ${ADMIN_TOKEN}`,
    });
    const { version, settings } = saved.body as { version: number; settings: { suspectWords: string[] } };
    expect(settings.suspectWords).toEqual(['casino']);
    await vi.waitFor(
      async () =>
        expect(
          (
            (await getJson(`${env.a.url}/api/admin/settings/moderation`, { authorization: `Bearer ${ADMIN_TOKEN}` }))
              .body as { version: number }
          ).version,
        ).toBe(version),
      { timeout: 5000, interval: 50 },
    );
    const reader = await env.reader(env.a, articleId);
    await postFromWidget(reader.widget, 'Carol', 'Come play at my c4sino tonight');
    const held = item(page, 'Held comments', 'Come play at my c4sino tonight');
    await held.getByText('Held: suspect word “casino”').waitFor(WAIT);
    await held.getByRole('button', { name: 'Reject comment by Carol' }).click();
    await held.waitFor({ ...WAIT, state: 'detached' });
    await fetch(`${env.a.url}/api/admin/settings/moderation`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: '{}',
    });
    expect(problems).toEqual([]);
    expect(reader.problems).toEqual([]);
  });

  it('locks an article: every reader sees it closed at once, and unlocking opens it again', async () => {
    const articleId = uniqueArticle('lock');
    const alice = await env.reader(env.a, articleId);
    await postFromWidget(alice.widget, 'Alice', 'Before the lock');
    await rowWithText(alice.widget, 'Before the lock').getByRole('button', { name: 'Reply to Alice' }).waitFor(WAIT);
    const { page } = await moderator();
    await page.getByRole('button', { name: `Lock ${articleId}` }).click();

    await alice.widget.getByText('Comments are closed.').waitFor(WAIT);
    expect(await alice.widget.getByRole('form', { name: 'Write a comment' }).isHidden()).toBe(true);
    expect(await alice.widget.getByRole('button', { name: 'Reply to Alice' }).count()).toBe(0);
    // A reader arriving later sees it closed too (the page answer says so).
    const bob = await env.reader(env.b, articleId);
    await bob.widget.getByText('Comments are closed.').waitFor(WAIT);

    await page.getByRole('button', { name: `Unlock ${articleId}` }).click();
    for (const reader of [alice, bob]) {
      await reader.widget.getByRole('form', { name: 'Write a comment' }).waitFor({ state: 'visible', ...WAIT });
      expect(await reader.widget.getByText('Comments are closed.').isHidden()).toBe(true);
    }
  });

  it('bans an author: their next post is refused with the server’s reason, until the ban is lifted', async () => {
    const articleId = uniqueArticle('ban');
    const alice = await env.reader(env.a, articleId);
    await postFromWidget(alice.widget, 'Troll', 'First provocation');
    const { page } = await moderator();
    const entry = item(page, 'Comments, newest first', 'First provocation');
    await entry.getByRole('button', { name: 'Ban Troll' }).click();
    const form = page.getByRole('form', { name: 'Ban the author' });
    await form.getByLabel('Ban for').selectOption({ label: '1 hour' });
    await form.getByLabel('Reason (optional)').fill('Provocations');
    await form.getByRole('button', { name: 'Ban', exact: true }).click();
    const ban = page.getByRole('list', { name: 'Bans in force' }).getByRole('listitem').filter({ hasText: 'Troll' });
    await ban.waitFor(WAIT);
    expect(await ban.textContent()).toContain('Provocations');

    await postFromWidget(alice.widget, 'Troll', 'Second provocation');
    const compose = alice.widget.getByRole('form', { name: 'Write a comment' });
    await vi.waitFor(
      async () => expect(await compose.getByRole('alert').textContent()).toMatch(/^Your comment was not posted: .+/),
      WAIT,
    );
    expect(await compose.getByLabel('Comment').inputValue()).toBe('Second provocation');

    await ban.getByRole('button', { name: 'Lift the ban on Troll' }).click();
    await ban.waitFor({ state: 'detached', ...WAIT });
    await compose.getByRole('button', { name: 'Post', exact: true }).click();
    await rowWithText(alice.widget, 'Second provocation')
      .getByRole('button', { name: 'Edit your comment' })
      .waitFor(WAIT);
  });

  it('keeps a comment pushed while the sign-in reload was under way, though that reload read the queue before it', async () => {
    const premoderated = uniqueArticle('held-reload');
    const earlier = uniqueArticle('feed-reload');
    await premoderate(env.a, premoderated);
    const earlierBody = `Posted before sign-in ${earlier}`;
    await postJson(`${env.a.url}/api/articles/${earlier}/comments`, { author: { name: 'Omar' }, body: earlierBody });

    const { page, problems } = await env.open(env.b, '/admin');
    // The sign-in reload reads the held queue at once, but its answer reaches the page only later.
    const queueRead = signal();
    const released = signal();
    await page.route(
      '**/api/admin/held?*',
      async (route) => {
        const response = await route.fetch();
        queueRead.fire();
        await released.fired;
        await route.fulfill({ response });
      },
      { times: 1 },
    );
    await signIn(page, ADMIN_TOKEN);
    await queueRead.fired;
    const heldBody = `Held while loading ${premoderated}`;
    await postJson(`${env.a.url}/api/articles/${premoderated}/comments`, { author: { name: 'Greta' }, body: heldBody });
    const held = item(page, 'Held comments', heldBody);
    await held.waitFor(WAIT);
    released.fire();
    // The reload's answer is shown (the feed has what was posted before sign-in), and the pushed comment stays.
    await item(page, 'Comments, newest first', earlierBody).waitFor(WAIT);
    expect(await held.count()).toBe(1);
    expect(problems).toEqual([]);
  });
});

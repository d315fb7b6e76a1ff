import { join } from 'node:path';
import { SignJWT } from 'jose';
import { nanoid } from 'nanoid';
import { describe, expect, vi } from 'vitest';
import { test as it } from '../helpers/fixtures.ts';
import { bodyOf, startSmtp, type ReceivedMail } from '../helpers/smtp.ts';
import { getJson, postJson, startTestApp, tempDir, uniqueArticle, type TestApp } from '../helpers/test-app.ts';

const PAGE_ORIGIN = 'https://blog.example.test';
const PUBLIC_URL = 'https://comments.example.test';

const mailEnv = (port: number): Record<string, string> => ({
  SMTP_URL: `smtp://127.0.0.1:${port}`,
  MAIL_FROM: 'comments@example.test',
  PUBLIC_URL,
  ALLOWED_ORIGINS: PAGE_ORIGIN,
});

/** The links of a mail (the text's http(s) URLs), on the test app instead of PUBLIC_URL. */
function linksOf(mail: ReceivedMail, app: TestApp): { confirm?: string; unsubscribe?: string } {
  const text = bodyOf(mail.raw);
  const onApp = (url: string | undefined) => url?.replace(PUBLIC_URL, app.url);
  return {
    confirm: onApp(/https:\/\/\S+\/notify\/confirm\?token=\S+/.exec(text)?.[0]),
    unsubscribe: onApp(/https:\/\/\S+\/notify\/unsubscribe\?token=\S+/.exec(text)?.[0]),
  };
}

const headerOf = (raw: string, name: string): string | undefined =>
  new RegExp(`^${name}: (.*)\\r$`, 'mi').exec(raw.replace(/\r\n[ \t]+/g, ' '))?.[1];

describe('reply e-mails: subscribing', () => {
  it('a guest who asks gets one confirmation e-mail; its GET page changes nothing, its POST confirms', async ({
    defer,
  }) => {
    const smtp = await startSmtp();
    defer(smtp.close);
    const t = await startTestApp({ env: mailEnv(smtp.port), outbox: { pollMs: 20 } });
    defer(() => t.close());
    const articleId = uniqueArticle();
    const clientId = nanoid();
    const post = {
      author: { name: 'Ada' },
      body: 'Tell me when someone answers',
      clientId,
      notify: { email: 'ada@example.test', pageUrl: `${PAGE_ORIGIN}/posts/1?x=1#old` },
    };
    const answer = await postJson(`${t.url}/api/articles/${articleId}/comments`, post, { origin: PAGE_ORIGIN });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ notify: 'confirm' });
    // A retry of the same post asks nothing new.
    const retry = await postJson(`${t.url}/api/articles/${articleId}/comments`, post, { origin: PAGE_ORIGIN });
    expect(retry.status).toBe(200);
    expect(retry.body).not.toHaveProperty('notify');

    await vi.waitFor(() => expect(smtp.mails).toHaveLength(1), { timeout: 10_000, interval: 20 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(smtp.mails).toHaveLength(1);
    const [mail] = smtp.mails as [ReceivedMail];
    expect(mail.to).toEqual(['ada@example.test']);
    expect(headerOf(mail.raw, 'Subject')).toBe('Confirm: e-mail me when someone replies');
    expect(headerOf(mail.raw, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(headerOf(mail.raw, 'List-Unsubscribe')).toMatch(
      /^<https:\/\/comments\.example\.test\/notify\/unsubscribe\?token=/,
    );
    expect(bodyOf(mail.raw)).toContain(`${PAGE_ORIGIN}/posts/1?x=1`);
    const { confirm, unsubscribe } = linksOf(mail, t);
    expect(confirm).toBeDefined();
    expect(unsubscribe).toBeDefined();

    // A link preview fetching the link confirms nothing: GET shows a button.
    const shown = await fetch(confirm!);
    expect(shown.status).toBe(200);
    expect(await shown.text()).toContain('<form method="post">');
    // Single purpose: the unsubscribe token does not confirm, nor a confirm token unsubscribe.
    expect(
      (await fetch(confirm!.replace(/token=.*/, unsubscribe!.split('token=')[1]!), { method: 'POST' })).status,
    ).toBe(400);
    expect(
      (await fetch(unsubscribe!.replace(/token=.*/, confirm!.split('token=')[1]!), { method: 'POST' })).status,
    ).toBe(400);
    const confirmed = await fetch(confirm!, { method: 'POST' });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain('Confirmed');
    // A second click still says so.
    expect((await fetch(confirm!, { method: 'POST' })).status).toBe(200);
  });

  it('refuses a page on an origin ALLOWED_ORIGINS does not allow, and notify without SMTP_URL', async ({ defer }) => {
    const smtp = await startSmtp();
    defer(smtp.close);
    const t = await startTestApp({ env: mailEnv(smtp.port), outbox: { pollMs: 20 } });
    defer(() => t.close());
    const articleId = uniqueArticle();
    const foreign = await postJson(
      `${t.url}/api/articles/${articleId}/comments`,
      { author: { name: 'Eve' }, body: 'Hi', notify: { email: 'eve@example.test', pageUrl: 'https://evil.example/x' } },
      { origin: PAGE_ORIGIN },
    );
    expect(foreign.status).toBe(400);
    expect(foreign.body).toMatchObject({ error: { code: 'invalid_input' } });
    const badEmail = await postJson(
      `${t.url}/api/articles/${articleId}/comments`,
      { author: { name: 'Eve' }, body: 'Hi', notify: { email: 'not an address', pageUrl: `${PAGE_ORIGIN}/x` } },
      { origin: PAGE_ORIGIN },
    );
    expect(badEmail.status).toBe(400);

    // The first page answer says whether reply e-mails are on (the widget offers them only then).
    expect((await getJson(`${t.url}/api/articles/${articleId}/comments`)).body).toMatchObject({ replyEmails: true });
    const plain = await startTestApp({ outbox: { pollMs: 20 } });
    defer(() => plain.close());
    expect((await getJson(`${plain.url}/api/articles/${articleId}/comments`)).body).not.toHaveProperty('replyEmails');
    const refused = await postJson(`${plain.url}/api/articles/${articleId}/comments`, {
      author: { name: 'Eve' },
      body: 'Hi',
      notify: { email: 'eve@example.test', pageUrl: 'https://any.example/x' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { code: 'invalid_input' } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(smtp.mails).toEqual([]);
  });
});

describe('reply e-mails: replies, batching, caps and unsubscribe (two instances)', () => {
  it('e-mails confirmed subscribers of others’ replies, batched, capped, never their own, until they unsubscribe', async ({
    defer,
  }) => {
    const smtp = await startSmtp();
    defer(smtp.close);
    const temp = tempDir();
    defer(async () => temp.cleanup());
    const clock = { offsetMs: 0 };
    const env = { ...mailEnv(smtp.port), REPLY_EMAIL_BATCH_MINUTES: '10', REPLY_EMAIL_DAILY_CAP: '2' };
    const outbox = { pollMs: 20, now: () => Date.now() + clock.offsetMs };
    const sqlitePath = join(temp.dir, 'replies.db');
    const a = await startTestApp({ sqlitePath, env, outbox });
    defer(() => a.close());
    const b = await startTestApp({ sqlitePath, env, outbox });
    defer(() => b.close());
    const articleId = uniqueArticle();
    const post = async (app: TestApp, name: string, body: string, extra: Record<string, unknown> = {}) => {
      const answer = await postJson(
        `${app.url}/api/articles/${articleId}/comments`,
        { author: { name }, body, ...extra },
        { origin: PAGE_ORIGIN },
      );
      expect(answer.status).toBe(201);
      return (answer.body as { comment: { id: string } }).comment.id;
    };
    const mailsTo = (to: string) => smtp.mails.filter((m) => m.to.includes(to));
    const settled = () => new Promise((resolve) => setTimeout(resolve, 300));

    const ada = await post(a, 'Ada', 'Who has an answer?', {
      notify: { email: 'ada@example.test', pageUrl: `${PAGE_ORIGIN}/posts/1` },
    });
    await vi.waitFor(() => expect(mailsTo('ada@example.test')).toHaveLength(1), { timeout: 10_000, interval: 20 });
    // No e-mail before confirmation: this reply is never e-mailed.
    await post(b, 'Bob', 'Too early', { parentId: ada });
    await settled();
    expect(smtp.mails).toHaveLength(1);
    const { confirm, unsubscribe } = linksOf(smtp.mails[0]!, a);
    expect((await fetch(confirm!, { method: 'POST' })).status).toBe(200);

    // Nothing to self.
    await post(a, 'Ada', 'Answering myself', { parentId: ada });
    await settled();
    expect(smtp.mails).toHaveLength(1);

    // The first reply in a quiet thread: at once, from either instance.
    const bob = await post(b, 'Bob', 'Here is one answer.\nOn two lines.', { parentId: ada });
    await vi.waitFor(() => expect(smtp.mails).toHaveLength(2), { timeout: 10_000, interval: 20 });
    const first = smtp.mails[1]!;
    expect(first.to).toEqual(['ada@example.test']);
    expect(headerOf(first.raw, 'Subject')).toBe('Bob replied to your comment');
    expect(headerOf(first.raw, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(headerOf(first.raw, 'List-Unsubscribe')).toMatch(
      /^<https:\/\/comments\.example\.test\/notify\/unsubscribe\?token=/,
    );
    const text = bodyOf(first.raw);
    expect(text).toContain('Here is one answer.\r\nOn two lines.');
    expect(text).toContain(`Read it and answer: ${PAGE_ORIGIN}/posts/1#comment-${bob}`);
    expect(text).not.toContain('Too early');
    expect(text).not.toContain('Answering myself');
    expect(linksOf(first, a).unsubscribe).toBe(unsubscribe);

    // Further replies within the window: one e-mail at its end.
    const cy = await post(a, 'Cy', 'Second answer', { parentId: ada });
    const dee = await post(b, 'Dee', 'Third answer', { parentId: ada });
    await settled();
    expect(smtp.mails).toHaveLength(2);
    clock.offsetMs = 11 * 60_000;
    await vi.waitFor(() => expect(smtp.mails).toHaveLength(3), { timeout: 10_000, interval: 20 });
    const batch = smtp.mails[2]!;
    expect(headerOf(batch.raw, 'Subject')).toBe('2 new replies to your comment');
    const batchText = bodyOf(batch.raw);
    expect(batchText).toContain(`#comment-${cy}`);
    expect(batchText).toContain(`#comment-${dee}`);
    expect(batchText).toContain('Dee replied to your comment:');

    // The daily cap (2 reply e-mails): the next window's reply is not e-mailed.
    await post(a, 'Eve', 'Over the cap', { parentId: ada });
    clock.offsetMs = 22 * 60_000;
    await settled();
    expect(smtp.mails).toHaveLength(3);

    // One-click unsubscribe (RFC 8058): a POST, no further step; then nothing more, whatever the clock.
    const oneClick = await fetch(unsubscribe!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(oneClick.status).toBe(200);
    expect(await oneClick.text()).toContain('Your e-mail address has been erased');
    await post(b, 'Fay', 'After unsubscribe', { parentId: ada });
    clock.offsetMs = 2 * 86_400_000;
    await settled();
    expect(smtp.mails).toHaveLength(3);
  });

  it('unsubscribes by the visible link: GET shows a button, POST unsubscribes', async ({ defer }) => {
    const smtp = await startSmtp();
    defer(smtp.close);
    const t = await startTestApp({ env: mailEnv(smtp.port), outbox: { pollMs: 20 } });
    defer(() => t.close());
    const articleId = uniqueArticle();
    const answer = await postJson(
      `${t.url}/api/articles/${articleId}/comments`,
      { author: { name: 'Gus' }, body: 'Hello', notify: { email: 'gus@example.test', pageUrl: `${PAGE_ORIGIN}/p` } },
      { origin: PAGE_ORIGIN },
    );
    const gus = (answer.body as { comment: { id: string } }).comment.id;
    await vi.waitFor(() => expect(smtp.mails).toHaveLength(1), { timeout: 10_000, interval: 20 });
    const { confirm, unsubscribe } = linksOf(smtp.mails[0]!, t);
    expect((await fetch(confirm!, { method: 'POST' })).status).toBe(200);
    const shown = await fetch(unsubscribe!);
    expect(await shown.text()).toContain('<form method="post">');
    // The GET changed nothing: a reply is still e-mailed.
    await postJson(`${t.url}/api/articles/${articleId}/comments`, {
      author: { name: 'Hal' },
      body: 'Hi Gus',
      parentId: gus,
    });
    await vi.waitFor(() => expect(smtp.mails).toHaveLength(2), { timeout: 10_000, interval: 20 });
    expect((await fetch(unsubscribe!, { method: 'POST' })).status).toBe(200);
    // The confirm link no longer works: the subscription is gone.
    expect((await fetch(confirm!, { method: 'POST' })).status).toBe(400);
  });
});

describe('reply e-mails: signed-in members', () => {
  it('a member whose token carries the address subscribes without confirmation; never told of their own reply', async ({
    defer,
  }) => {
    const smtp = await startSmtp();
    defer(smtp.close);
    const secret = `sso-${nanoid(40)}`;
    const t = await startTestApp({
      env: { ...mailEnv(smtp.port), SSO_SECRETS: secret, SSO_MODE: 'optional' },
      outbox: { pollMs: 20 },
    });
    defer(() => t.close());
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({
      aud: 'live-comments',
      iat: now - 5,
      exp: now + 600,
      sub: 'm-1',
      name: 'Mara',
      email: 'mara@example.test',
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode(secret));
    const articleId = uniqueArticle();
    const url = `${t.url}/api/articles/${articleId}/comments`;
    const asMember = { origin: PAGE_ORIGIN, authorization: `Bearer ${token}` };
    const answer = await postJson(url, { body: 'Members first', notify: { pageUrl: `${PAGE_ORIGIN}/m` } }, asMember);
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ notify: 'subscribed' });
    const mara = (answer.body as { comment: { id: string } }).comment.id;
    // Their own reply (same member) tells them nothing; no confirmation e-mail either.
    expect((await postJson(url, { body: 'Me again', parentId: mara }, asMember)).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.mails).toEqual([]);
    const reply = await postJson(
      url,
      { author: { name: 'Guest' }, body: 'Hello Mara', parentId: mara },
      { origin: PAGE_ORIGIN },
    );
    const replyId = (reply.body as { comment: { id: string } }).comment.id;
    await vi.waitFor(() => expect(smtp.mails).toHaveLength(1), { timeout: 10_000, interval: 20 });
    expect(smtp.mails[0]!.to).toEqual(['mara@example.test']);
    expect(bodyOf(smtp.mails[0]!.raw)).toContain(`${PAGE_ORIGIN}/m#comment-${replyId}`);

    // Another address than the token's must prove itself: a confirmation first.
    const other = await postJson(
      url,
      { body: 'Elsewhere', notify: { email: 'other@example.test', pageUrl: `${PAGE_ORIGIN}/m` } },
      asMember,
    );
    expect(other.body).toMatchObject({ notify: 'confirm' });
  });
});

import { nanoid } from 'nanoid';
import { describe, expect, vi } from 'vitest';
import { test as it } from '../helpers/fixtures.ts';
import { bodyOf, startSmtp, type ReceivedMail } from '../helpers/smtp.ts';
import { postJson, startTestApp, uniqueArticle, type TestApp } from '../helpers/test-app.ts';

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

    const plain = await startTestApp({ outbox: { pollMs: 20 } });
    defer(() => plain.close());
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

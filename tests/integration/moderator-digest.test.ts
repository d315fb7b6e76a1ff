import { join } from 'node:path';
import { describe, expect, vi } from 'vitest';
import { test as it } from '../helpers/fixtures.ts';
import { OutboxHealthSchema } from '../../shared/notifications.ts';
import { getJson, postJson, startTestApp, tempDir, uniqueArticle } from '../helpers/test-app.ts';
import { bodyOf, startSmtp, type ReceivedMail } from '../helpers/smtp.ts';

const ADMIN_TOKEN = 'digest-test-moderator-token';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const WINDOW_MS = 10 * 60_000;

describe('moderator alerts', () => {
  it('mails one digest per MODERATOR_ALERT_MINUTES window to MODERATOR_EMAILS, from any of two instances', async ({
    defer,
  }) => {
    const smtp = await startSmtp();
    defer(smtp.close);
    const temp = tempDir();
    defer(async () => temp.cleanup());
    const clock = { offsetMs: 0 };
    const env = {
      ADMIN_TOKEN,
      PREMODERATION: 'all',
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      MAIL_FROM: 'Comments <comments@example.test>',
      PUBLIC_URL: 'https://comments.example.test/',
      MODERATOR_EMAILS: 'mod-one@example.test, mod-two@example.test',
      MODERATOR_ALERT_MINUTES: '10',
    };
    const outbox = { pollMs: 20, now: () => Date.now() + clock.offsetMs, random: () => 0.5 };
    const sqlitePath = join(temp.dir, 'digest.db');
    const a = await startTestApp({ sqlitePath, env, outbox });
    defer(() => a.close());
    const b = await startTestApp({ sqlitePath, env, outbox });
    defer(() => b.close());

    const articleId = uniqueArticle();
    for (const [name, body] of [
      ['Ann', 'First held comment'],
      ['Bob', 'Second one,\nover two lines'],
    ]) {
      const answer = await postJson(`${a.url}/api/articles/${articleId}/comments`, { author: { name }, body });
      expect(answer.status).toBe(202);
    }
    // Nothing is sent while the window the comments were held in lasts.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(smtp.mails).toEqual([]);

    // The next window begins (and its grace): one digest, whichever instance queues it.
    const heldWindow = Math.floor(Date.now() / WINDOW_MS);
    clock.offsetMs = (heldWindow + 1) * WINDOW_MS + 6_000 - Date.now();
    await vi.waitFor(() => expect(smtp.mails).toHaveLength(1), { timeout: 10_000, interval: 20 });
    await vi.waitFor(
      async () =>
        expect(OutboxHealthSchema.parse((await getJson(`${b.url}/api/admin/outbox`, auth)).body).queued).toBe(0),
      { timeout: 10_000, interval: 20 },
    );
    // Both instances have polled in the new window many times over by now; still one mail.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.mails).toHaveLength(1);
    const [mail] = smtp.mails as [ReceivedMail];
    expect(mail.from).toBe('comments@example.test');
    expect(mail.to.sort()).toEqual(['mod-one@example.test', 'mod-two@example.test']);
    expect(mail.raw).toMatch(/^Subject: 2 new comments waiting for review\r$/m);
    const text = bodyOf(mail.raw);
    expect(text).toContain('2 wait in all');
    expect(text).toContain(`- Ann on ${articleId}: First held comment`);
    expect(text).toContain(`- Bob on ${articleId}: Second one, over two lines`);
    expect(text).toContain('Review them: https://comments.example.test/admin');

    // A window with nothing new held sends nothing.
    clock.offsetMs += WINDOW_MS;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.mails).toHaveLength(1);
  });

  it('lists the comments readers reported in the window, and whether reports took them out of view', async ({
    defer,
  }) => {
    const smtp = await startSmtp();
    defer(smtp.close);
    const clock = { offsetMs: 0 };
    const t = await startTestApp({
      env: {
        ADMIN_TOKEN,
        REPORT_HOLD_THRESHOLD: '2',
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        MAIL_FROM: 'comments@example.test',
        PUBLIC_URL: 'https://comments.example.test',
        MODERATOR_EMAILS: 'mod@example.test',
        MODERATOR_ALERT_MINUTES: '10',
      },
      outbox: { pollMs: 20, now: () => Date.now() + clock.offsetMs, random: () => 0.5 },
    });
    defer(() => t.close());
    const articleId = uniqueArticle();
    const posted = async (body: string) => {
      const answer = await postJson(`${t.url}/api/articles/${articleId}/comments`, { author: { name: 'Cy' }, body });
      expect(answer.status).toBe(201);
      return (answer.body as { comment: { id: string } }).comment.id;
    };
    const rude = await posted('You are all fools');
    const dull = await posted('Off topic rambling');
    for (const [id, reason, reader] of [
      [rude, 'abuse', 'reader-digest-0001'],
      [rude, 'spam', 'reader-digest-0002'],
      [dull, 'off_topic', 'reader-digest-0003'],
    ] as const)
      expect((await postJson(`${t.url}/api/comments/${id}/report`, { readerId: reader, reason })).status).toBe(201);

    const reportedWindow = Math.floor(Date.now() / WINDOW_MS);
    clock.offsetMs = (reportedWindow + 1) * WINDOW_MS + 6_000 - Date.now();
    await vi.waitFor(() => expect(smtp.mails).toHaveLength(1), { timeout: 10_000, interval: 20 });
    const [mail] = smtp.mails as [ReceivedMail];
    expect(mail.raw).toMatch(/^Subject: 2 new comments waiting for review\r$/m);
    const text = bodyOf(mail.raw);
    expect(text).toContain('2 comments were reported by readers');
    expect(text).toContain(
      `- Cy on ${articleId} (2 reports: spam 1, abuse 1, out of view until reviewed): You are all fools`,
    );
    expect(text).toContain(`- Cy on ${articleId} (1 report: off topic 1): Off topic rambling`);
    expect(text).not.toContain('held for review');
  });

  it('refuses MODERATOR_EMAILS without SMTP_URL, and SMTP_URL without MAIL_FROM and PUBLIC_URL', async () => {
    await expect(startTestApp({ env: { MODERATOR_EMAILS: 'mod@example.test' } })).rejects.toThrow(/MODERATOR_EMAILS/);
    await expect(startTestApp({ env: { SMTP_URL: 'smtp://127.0.0.1:2525' } })).rejects.toThrow(/MAIL_FROM/);
    await expect(startTestApp({ env: { MODERATOR_EMAILS: 'not an address' } })).rejects.toThrow(/not an e-mail/);
  });
});

import { SignJWT } from 'jose';
import { nanoid } from 'nanoid';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { collectProblems, E2E_ENV, embedHtml, startStaticSite, waitForLive, widgetOf } from '../helpers/browser.ts';
import { bodyOf, startSmtp, type ReceivedMail } from '../helpers/smtp.ts';
import { startTestApp, uniqueArticle } from '../helpers/test-app.ts';
import { rowWithText, startTwoInstances, WAIT, type Reader, type TwoInstances } from './two-instances.ts';

/** Where the e-mails' links point (PUBLIC_URL); the test follows them on instance A instead. */
const PUBLIC_URL = 'https://comments.example.test';
const OPT_IN = 'Email me when someone replies';
const HINT = 'A confirmation e-mail comes first; every e-mail has an unsubscribe link.';
const INVALID = 'Enter a valid e-mail address.';
const SSO_SECRET = `e2e-sso-${nanoid(40)}`;

/** A member token as the host site's backend signs it, with the member's address. */
function memberToken(claims: { sub: string; name: string; email: string }): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ aud: 'live-comments', iat: now - 5, exp: now + 600, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SSO_SECRET));
}

/** Waits for the `n`th mail to `to` at the test SMTP server. */
async function mailTo(mails: ReceivedMail[], to: string, n = 1): Promise<ReceivedMail> {
  return vi.waitFor(
    () => {
      const found = mails.filter((mail) => mail.to.includes(to));
      expect(found.length).toBeGreaterThanOrEqual(n);
      return found[n - 1]!;
    },
    { timeout: 15_000, interval: 50 },
  );
}

/** The parts of the widget a page fetched (`/widget-<name>.js`). */
function partsFetched(reader: { page: Reader['page'] }): string[] {
  const parts: string[] = [];
  reader.page.on('request', (request) => {
    const match = /\/widget-\w+\.js$/.exec(new URL(request.url()).pathname);
    if (match) parts.push(match[0]);
  });
  return parts;
}

describe('"Email me when someone replies" in the widget, in Chromium', { timeout: 90_000 }, () => {
  let env: TwoInstances;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;

  beforeAll(async () => {
    smtp = await startSmtp();
    env = await startTwoInstances({
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      MAIL_FROM: 'comments@example.test',
      PUBLIC_URL,
      SSO_SECRETS: SSO_SECRET,
    });
  });
  afterEach(() => env.closeContexts());
  afterAll(async () => {
    await env?.close();
    await smtp?.close();
  });

  it('is not offered, nor its part loaded, by a server that sends no e-mail', async () => {
    const plain = await startTestApp({ env: { ...E2E_ENV } });
    const articleId = uniqueArticle('plain');
    const site = await startStaticSite({ '/': { html: embedHtml(plain.url, articleId) } });
    const context = await env.browser.newContext();
    try {
      const page = await context.newPage();
      const problems = collectProblems(page);
      const parts = partsFetched({ page });
      await page.goto(`${site.url}/`);
      const widget = widgetOf(page);
      await waitForLive(widget);
      await widget.getByRole('form', { name: 'Write a comment' }).getByLabel('Comment').waitFor(WAIT);
      expect(await widget.getByRole('checkbox', { name: OPT_IN }).count()).toBe(0);
      expect(parts).not.toContain('/widget-notify.js');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await site.close();
      await plain.close();
    }
  });

  it('a guest opts in, confirms, is e-mailed a reply with its link, and finds the address remembered', async () => {
    const articleId = uniqueArticle('notify');
    const ada = await env.reader(env.a, articleId);
    const form = ada.widget.getByRole('form', { name: 'Write a comment' });
    const check = form.getByRole('checkbox', { name: OPT_IN });
    await check.waitFor(WAIT);
    // The checkbox is a box beside its label, not a full-width field (the part brings its style rules).
    expect(await check.evaluate((box) => box.getBoundingClientRect().width)).toBeLessThan(40);
    const email = form.getByRole('textbox', { name: 'Your e-mail address' });
    // Hidden until the box is checked; a keyboard user checks it with Space and tabs on to the field.
    expect(await email.isVisible()).toBe(false);
    await form.getByLabel('Name').fill('Ada');
    await form.getByLabel('Comment').fill('Tell me when someone answers');
    await check.focus();
    await ada.page.keyboard.press('Space');
    expect(await check.isChecked()).toBe(true);
    await ada.page.keyboard.press('Tab');
    expect(await email.evaluate((input) => input === (input.getRootNode() as ShadowRoot).activeElement)).toBe(true);
    expect(await email.getAttribute('type')).toBe('email');
    expect(await email.getAttribute('autocomplete')).toBe('email');
    // Its hint (a confirmation first, an unsubscribe link in every e-mail) and its error describe it.
    await expect.poll(() => email.evaluate((input) => (input as HTMLInputElement).value)).toBe('');
    const describedBy = (await email.getAttribute('aria-describedby'))!.split(' ');
    const said = await email.evaluate(
      (input, ids) => ids.map((id) => (input.getRootNode() as ShadowRoot).getElementById(id)?.textContent ?? null),
      describedBy,
    );
    expect(said).toContain(HINT);

    // Not an address: said under the field, which gets the focus; nothing is posted.
    await email.fill('ada at example');
    await form.getByRole('button', { name: 'Post', exact: true }).click();
    await form.getByText(INVALID).waitFor(WAIT);
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    expect(await email.evaluate((input) => input === (input.getRootNode() as ShadowRoot).activeElement)).toBe(true);
    expect(await form.getByLabel('Comment').inputValue()).toBe('Tell me when someone answers');
    expect(await ada.widget.locator('li.comment').count()).toBe(0);

    await email.fill('ada@example.test');
    await form.getByRole('button', { name: 'Post', exact: true }).click();
    const own = rowWithText(ada.widget, 'Tell me when someone answers');
    await own.waitFor(WAIT);
    // Shown, and said to screen readers, once.
    await form.getByRole('status').filter({ hasText: 'Check your inbox: confirm to get reply e-mails.' }).waitFor(WAIT);
    // The form starts afresh: box unchecked, field hidden, no error left.
    expect(await check.isChecked()).toBe(false);
    const field = form.locator('input[type="email"]');
    expect(await field.isVisible()).toBe(false);
    expect(await field.getAttribute('aria-invalid')).toBeNull();

    // The confirmation e-mail, for the page the reader was on (without a fragment).
    const confirmation = await mailTo(smtp.mails, 'ada@example.test');
    const pageUrl = `${env.site.url}/a/${articleId}`;
    expect(bodyOf(confirmation.raw)).toContain(pageUrl);
    const confirm = /https:\/\/\S+\/notify\/confirm\?token=\S+/.exec(bodyOf(confirmation.raw))?.[0];
    expect(confirm).toBeDefined();
    expect((await fetch(confirm!.replace(PUBLIC_URL, env.a.url), { method: 'POST' })).status).toBe(200);

    // Another reader, on the other instance, replies from their widget.
    const bob = await env.reader(env.b, articleId);
    await rowWithText(bob.widget, 'Tell me when someone answers').getByRole('button', { name: 'Reply to Ada' }).click();
    const reply = bob.widget.getByRole('form', { name: 'Reply to Ada' });
    // The reply form has the opt-in too.
    const replyCheck = reply.getByRole('checkbox', { name: OPT_IN });
    expect(await replyCheck.evaluate((box) => box.getBoundingClientRect().width)).toBeLessThan(40);
    await reply.getByLabel('Name').fill('Bob');
    await reply.getByLabel('Comment').fill('Here is your answer');
    await reply.getByRole('button', { name: 'Reply', exact: true }).click();
    const replyRow = rowWithText(bob.widget, 'Here is your answer');
    await replyRow.waitFor(WAIT);
    const replyId = await replyRow.getAttribute('data-id');

    const replyMail = await mailTo(smtp.mails, 'ada@example.test', 2);
    const text = bodyOf(replyMail.raw);
    expect(text).toContain('Here is your answer');
    expect(text).toContain(`${pageUrl}#comment-${replyId}`);
    // Bob asked for nothing: he gets nothing.
    expect(smtp.mails.filter((mail) => mail.to.includes('bob@example.test'))).toEqual([]);

    // After a reload the address is filled in as soon as the box is checked.
    await ada.page.reload();
    await waitForLive(ada.widget);
    await check.check();
    await expect.poll(() => email.inputValue()).toBe('ada@example.test');
    for (const reader of [ada, bob]) expect(reader.problems).toEqual([]);
  });

  it('an address the server refuses shows under the field and the comment stays in the form', async () => {
    const articleId = uniqueArticle('refused');
    const eve = await env.reader(env.a, articleId);
    const form = eve.widget.getByRole('form', { name: 'Write a comment' });
    await form.getByRole('checkbox', { name: OPT_IN }).check();
    await form.getByLabel('Name').fill('Eve');
    await form.getByLabel('Comment').fill('A comment worth keeping');
    // Looks like an address, but longer than any (254): the field's maxlength stops typing, not a script.
    const email = form.getByRole('textbox', { name: 'Your e-mail address' });
    await email.evaluate((input) => ((input as HTMLInputElement).value = `${'e'.repeat(250)}@example.test`));
    await form.getByRole('button', { name: 'Post', exact: true }).click();
    await form.getByText(INVALID).waitFor(WAIT);
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    expect(await form.getByLabel('Comment').inputValue()).toBe('A comment worth keeping');
    expect(await form.getByRole('checkbox', { name: OPT_IN }).isChecked()).toBe(true);
    expect(await email.inputValue()).toBe(`${'e'.repeat(250)}@example.test`);
    expect(await eve.widget.locator('li.comment').count()).toBe(0);
    // Fixed, it goes.
    await email.fill('eve@example.test');
    await form.getByRole('button', { name: 'Post', exact: true }).click();
    await rowWithText(eve.widget, 'A comment worth keeping').waitFor(WAIT);
    await mailTo(smtp.mails, 'eve@example.test');
    expect(eve.problems).toEqual([]);
  });

  it('a signed-in member whose token carries an address needs no field: subscribed at once', async () => {
    const articleId = uniqueArticle('member');
    const mia = await env.reader(env.a, articleId);
    const token = await memberToken({ sub: 'member-mia', name: 'Mia', email: 'mia@example.test' });
    await mia.widget.evaluate((element, value) => {
      (element as HTMLElement & { ssoToken: string | null }).ssoToken = value;
    }, token);
    const form = mia.widget.getByRole('form', { name: 'Write a comment' });
    await form.getByText('Commenting as Mia').waitFor(WAIT);
    await form.getByRole('checkbox', { name: OPT_IN }).check();
    await form.getByText('E-mails go to mia@example.test. Every e-mail has an unsubscribe link.').waitFor(WAIT);
    expect(await form.locator('input[type="email"]').isVisible()).toBe(false);
    await form.getByLabel('Comment').fill('Members hear of replies');
    await form.getByRole('button', { name: 'Post', exact: true }).click();
    await form.getByText('You will get an e-mail when someone replies.').waitFor(WAIT);

    const guest = await env.reader(env.b, articleId);
    await rowWithText(guest.widget, 'Members hear of replies').getByRole('button', { name: 'Reply to Mia' }).click();
    const reply = guest.widget.getByRole('form', { name: 'Reply to Mia' });
    await reply.getByLabel('Name').fill('Gus');
    await reply.getByLabel('Comment').fill('Welcome, Mia');
    await reply.getByRole('button', { name: 'Reply', exact: true }).click();
    // No confirmation first: the first e-mail is the reply.
    const mail = await mailTo(smtp.mails, 'mia@example.test');
    expect(bodyOf(mail.raw)).toContain('Welcome, Mia');
    for (const reader of [mia, guest]) expect(reader.problems).toEqual([]);
  });

  it('speaks the widget’s language (lang="de")', async () => {
    const articleId = uniqueArticle('de');
    const site = await startStaticSite({
      '/': { html: embedHtml(env.a.url, articleId, { attributes: ' lang="de"' }) },
    });
    const context = await env.browser.newContext();
    try {
      const page = await context.newPage();
      const problems = collectProblems(page);
      await page.goto(`${site.url}/`);
      const widget = widgetOf(page);
      await waitForLive(widget);
      const check = widget.getByRole('checkbox', { name: 'Per E-Mail benachrichtigen, wenn jemand antwortet' });
      await check.first().check();
      const form = widget.locator('form.compose');
      await form
        .getByText('Zuerst kommt eine Bestätigungs-E-Mail; jede E-Mail enthält einen Link zum Abbestellen.')
        .waitFor(WAIT);
      await form.getByRole('textbox', { name: 'Ihre E-Mail-Adresse' }).fill('kein Adresse');
      await form.getByLabel('Name').fill('Heidi');
      await form.getByLabel('Kommentar').fill('Hallo');
      await form.locator('button[type="submit"]').click();
      await form.getByText('Bitte geben Sie eine gültige E-Mail-Adresse ein.').waitFor(WAIT);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await site.close();
    }
  });
});

import { SignJWT, type JWTPayload } from 'jose';
import { nanoid } from 'nanoid';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  collectProblems,
  embedHtml,
  startBrowserAndApp,
  startStaticSite,
  type StaticSite,
  visibleText,
  waitForLive,
  widgetOf,
} from '../helpers/browser.ts';
import { uniqueArticle, type TestApp } from '../helpers/test-app.ts';
import { rowWithText, startTwoInstances, WAIT, type TwoInstances } from './two-instances.ts';

const SECRET = `e2e-sso-${nanoid(40)}`;
const LOGIN_URL = 'https://news.example.com/login';
const nowS = () => Math.floor(Date.now() / 1000);
/** A 1×1 GIF: the member's avatar as the test serves it. */
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/** A member token as the host site's backend signs it (README: "Sign-in from your site"). */
function memberToken(claims: JWTPayload & { sub: string; name: string }): Promise<string> {
  return new SignJWT({ aud: 'live-comments', iat: nowS() - 5, exp: nowS() + 600, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET));
}

const form = (widget: Locator) => widget.getByRole('form', { name: 'Write a comment' });

/** Sets the element's `ssoToken` property (null: signs out), as a host page's script does. */
async function setToken(widget: Locator, token: string | null): Promise<void> {
  await widget.evaluate((element, value) => {
    (element as HTMLElement & { ssoToken: string | null }).ssoToken = value;
  }, token);
}

async function postBody(widget: Locator, body: string): Promise<void> {
  await form(widget).getByLabel('Comment').fill(body);
  await form(widget).getByRole('button', { name: 'Post', exact: true }).click();
}

/** The "Commenting as" line of the main form, '' when hidden. */
async function signedInAs(widget: Locator): Promise<string> {
  return (await visibleText(form(widget).locator('[part="signed-in"]'))) ?? '';
}

describe('sign-in from the host site in Chromium, across two instances', () => {
  let env: TwoInstances;
  beforeAll(async () => {
    env = await startTwoInstances({ SSO_SECRETS: SECRET });
  });
  afterEach(async () => env?.closeContexts());
  afterAll(async () => env?.close());

  it('a member edits and deletes their comment from another browser: the account, not the browser, is the key', async () => {
    const articleId = uniqueArticle('sso');
    const token = await memberToken({ sub: `user-${nanoid(8)}`, name: 'Tove Lind' });
    const laptop = await env.reader(env.a, articleId);
    await setToken(laptop.widget, token);
    await vi.waitFor(async () => expect(await signedInAs(laptop.widget)).toBe('Commenting as Tove Lind'), WAIT);
    await postBody(laptop.widget, 'Posted on my laptop');
    await rowWithText(laptop.widget, 'Posted on my laptop')
      .getByRole('button', { name: 'Edit your comment' })
      .waitFor(WAIT);

    // Another browser (no author token of it), on the other instance: a guest first, then signed in.
    const phone = await env.reader(env.b, articleId);
    const row = rowWithText(phone.widget, 'Posted on my laptop');
    await row.waitFor(WAIT);
    expect(await row.getByRole('button', { name: 'Edit your comment' }).count()).toBe(0);
    await setToken(phone.widget, token);
    await row.getByRole('button', { name: 'Edit your comment' }).click();
    const editor = phone.widget.getByRole('form', { name: 'Edit your comment' });
    await editor.getByLabel('Your comment').fill('Edited on my phone');
    await editor.getByRole('button', { name: 'Save' }).click();
    await rowWithText(laptop.widget, 'Edited on my phone').waitFor(WAIT);
    await rowWithText(phone.widget, 'Edited on my phone').getByRole('button', { name: 'Delete your comment' }).click();
    await phone.widget.getByRole('button', { name: 'Yes, delete' }).click();
    await laptop.widget.getByText('This comment was removed').waitFor(WAIT);
    expect([...laptop.problems, ...phone.problems]).toEqual([]);
  });

  it('signs a live widget in and out without a reload: a member’s post shows verified on the other instance', async () => {
    const articleId = uniqueArticle('sso');
    const member = await env.reader(env.a, articleId);
    const other = await env.reader(env.b, articleId);
    // A reload would lose this.
    await member.page.evaluate(() => ((window as unknown as { stay: number }).stay = 1));
    const sub = `user-${nanoid(8)}`;
    // The host site's avatar server, here: what each request for the picture carried as its referrer.
    const referrers: Array<string | undefined> = [];
    for (const { context } of [member, other])
      await context.route('https://example.com/**', async (route) => {
        referrers.push(route.request().headers().referer);
        await route.fulfill({ status: 200, contentType: 'image/gif', body: GIF });
      });

    await setToken(
      member.widget,
      await memberToken({ sub, name: 'Mara Quill', badges: ['staff'], avatar: 'https://example.com/mara.png' }),
    );
    await vi.waitFor(async () => expect(await signedInAs(member.widget)).toBe('Commenting as Mara Quill'), WAIT);
    expect(await form(member.widget).getByLabel('Name').isHidden()).toBe(true);

    await postBody(member.widget, 'Posted as a member');
    const seen = rowWithText(other.widget, 'Posted as a member');
    await seen.waitFor(WAIT);
    expect(await seen.locator('[part="author"]').textContent()).toBe('Mara Quill');
    expect(await seen.locator('[part="verified"]').count()).toBe(1);
    expect(await seen.locator('[part="member-badge"]').textContent()).toBe('staff');
    const avatar = seen.locator('img[part="avatar"]');
    expect(await avatar.getAttribute('src')).toBe('https://example.com/mara.png');
    expect(await avatar.getAttribute('referrerpolicy')).toBe('no-referrer');
    expect(await avatar.getAttribute('loading')).toBe('lazy');
    await vi.waitFor(() => expect(referrers.length).toBeGreaterThan(0), WAIT);
    expect(referrers.filter((referrer) => referrer !== undefined)).toEqual([]);

    // Sign-out: the guest form comes back, and a post is a guest's again.
    await setToken(member.widget, null);
    await form(member.widget).getByLabel('Name').waitFor(WAIT);
    expect(await signedInAs(member.widget)).toBe('');
    await form(member.widget).getByLabel('Name').fill('Gil Guest');
    await postBody(member.widget, 'Posted as a guest');
    const guestRow = rowWithText(other.widget, 'Posted as a guest');
    await guestRow.waitFor(WAIT);
    expect(await guestRow.locator('[part="author"]').textContent()).toBe('Gil Guest');
    expect(await guestRow.locator('[part="verified"]').count()).toBe(0);

    // Signed in again, through the attribute this time.
    const again = await memberToken({ sub, name: 'Mara Quill' });
    await member.widget.evaluate((element, token) => element.setAttribute('sso-token', token), again);
    await vi.waitFor(async () => expect(await signedInAs(member.widget)).toBe('Commenting as Mara Quill'), WAIT);
    await postBody(member.widget, 'Back as a member');
    const back = rowWithText(other.widget, 'Back as a member');
    await back.waitFor(WAIT);
    expect(await back.locator('[part="verified"]').count()).toBe(1);

    expect(await member.page.evaluate(() => (window as unknown as { stay?: number }).stay)).toBe(1);
    expect([...member.problems, ...other.problems]).toEqual([]);
  });

  it('a token set on one widget signs in the other widgets of that server on the page', async () => {
    const reader = await env.reader(env.a, uniqueArticle('sso'));
    // A second thread on the same page, from the same server (one shared connection).
    await reader.page.evaluate((articleId) => {
      const second = document.createElement('live-comments');
      second.setAttribute('article', articleId);
      document.body.append(second);
    }, uniqueArticle('sso'));
    const second = widgetOf(reader.page, 1);
    await waitForLive(second);
    await setToken(reader.widget, await memberToken({ sub: `user-${nanoid(8)}`, name: 'Pia Both' }));
    for (const widget of [reader.widget, second])
      await vi.waitFor(async () => expect(await signedInAs(widget)).toBe('Commenting as Pia Both'), WAIT);
    // Clearing it on the other one signs both out.
    await setToken(second, null);
    for (const widget of [reader.widget, second]) await form(widget).getByLabel('Name').waitFor(WAIT);
    expect(reader.problems).toEqual([]);
  });

  it('signs in again by itself after a reconnect: the handshake carries the token', async () => {
    const articleId = uniqueArticle('sso');
    const member = await env.reader(env.a, articleId);
    const other = await env.reader(env.b, articleId);
    await setToken(member.widget, await memberToken({ sub: `user-${nanoid(8)}`, name: 'Rae Connect' }));
    await vi.waitFor(async () => expect(await signedInAs(member.widget)).toBe('Commenting as Rae Connect'), WAIT);
    // The server ends every connection of instance a (as a restart does); the widget reconnects.
    env.a.app.io.disconnectSockets(true);
    await member.widget.locator('.root[data-live="paused"]').waitFor(WAIT);
    await waitForLive(member.widget);
    // Posted over the new connection, which only the handshake signed in (no auth:set was sent).
    await postBody(member.widget, 'Still signed in after the reconnect');
    const row = rowWithText(other.widget, 'Still signed in after the reconnect');
    await row.locator('[part="verified"]').waitFor(WAIT);
    expect(await row.locator('[part="author"]').textContent()).toBe('Rae Connect');
    expect([...member.problems, ...other.problems]).toEqual([]);
  });

  it('asks the page for a fresh token a minute before expiry, and signs in with it', async () => {
    const articleId = uniqueArticle('sso');
    const reader = await env.reader(env.a, articleId);
    const sub = `user-${nanoid(8)}`;
    // Expires in 63 s: refreshed about 3 s from now.
    const short = await memberToken({ sub, name: 'Rita Early', exp: nowS() + 63 });
    const fresh = await memberToken({ sub, name: 'Rita Renewed' });
    await reader.widget.evaluate(
      (element, tokens) => {
        const host = element as HTMLElement & { ssoToken: string; refreshSsoToken: () => Promise<string> };
        const counter = window as unknown as { refreshed: number };
        counter.refreshed = 0;
        host.refreshSsoToken = async () => {
          counter.refreshed++;
          return tokens.fresh;
        };
        host.ssoToken = tokens.short;
      },
      { short, fresh },
    );
    await vi.waitFor(async () => expect(await signedInAs(reader.widget)).toBe('Commenting as Rita Early'), WAIT);
    await vi.waitFor(async () => expect(await signedInAs(reader.widget)).toBe('Commenting as Rita Renewed'), {
      timeout: 20_000,
      interval: 100,
    });
    expect(await reader.page.evaluate(() => (window as unknown as { refreshed: number }).refreshed)).toBe(1);
    await postBody(reader.widget, 'After the refresh');
    const row = rowWithText(reader.widget, 'After the refresh');
    await row.locator('[part="verified"]').waitFor(WAIT);
    expect(await row.locator('[part="author"]').textContent()).toBe('Rita Renewed');
    expect(reader.problems).toEqual([]);
  });

  it('an expired token: the post is refused, the page gives a fresh token, and the post goes through once', async () => {
    const articleId = uniqueArticle('sso');
    const reader = await env.reader(env.b, articleId);
    const sub = `user-${nanoid(8)}`;
    const expired = await memberToken({ sub, name: 'Otto Late', iat: nowS() - 900, exp: nowS() - 300 });
    const fresh = await memberToken({ sub, name: 'Otto Late' });
    await reader.widget.evaluate(
      (element, tokens) => {
        const host = element as HTMLElement & { ssoToken: string; refreshSsoToken: () => Promise<string> };
        const counter = window as unknown as { refreshed: number };
        counter.refreshed = 0;
        host.refreshSsoToken = async () => {
          counter.refreshed++;
          return tokens.fresh;
        };
        host.ssoToken = tokens.expired;
      },
      { expired, fresh },
    );
    await vi.waitFor(async () => expect(await signedInAs(reader.widget)).toBe('Commenting as Otto Late'), WAIT);
    await postBody(reader.widget, 'Posted with a stale token');
    const row = rowWithText(reader.widget, 'Posted with a stale token');
    await row.locator('[part="verified"]').waitFor(WAIT);
    // Stored once, as the member.
    const page = (await (await fetch(`${env.b.url}/api/articles/${articleId}/comments`)).json()) as {
      comments: Array<{ body: string; author: { verified?: boolean } }>;
    };
    expect(page.comments.filter((comment) => comment.body === 'Posted with a stale token')).toEqual([
      expect.objectContaining({ author: expect.objectContaining({ verified: true }) }),
    ]);
    expect(await reader.page.evaluate(() => (window as unknown as { refreshed: number }).refreshed)).toBe(1);
    expect(reader.problems).toEqual([]);
  });
});

describe('SSO_MODE=required in Chromium', () => {
  let browser: Browser;
  let server: TestApp;
  let site: StaticSite;
  const articles = [uniqueArticle('sso-req'), uniqueArticle('sso-req')] as const;

  beforeAll(async () => {
    [browser, server] = await startBrowserAndApp({
      SSO_SECRETS: SECRET,
      SSO_MODE: 'required',
      SSO_LOGIN_URL: LOGIN_URL,
    });
    const listener = `<script>
      window.asked = 0;
      addEventListener('live-comments:login-required', (event) => {
        window.asked++;
        if (location.pathname === '/handled') event.preventDefault();
      });
    </script>`;
    // Two widgets of one server on each page: they share its connection, and so the sign-in.
    const html = embedHtml(server.url, articles[0], {
      head: listener,
      before: `<h1>Members only</h1><live-comments article="${articles[1]}"></live-comments>`,
    });
    // The page sets the property before widget.js has defined the element (the script comes after).
    const early = await memberToken({ sub: `user-${nanoid(8)}`, name: 'Early Bird' });
    const earlyHtml = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Early</title><link rel="icon" href="data:,"></head>
<body><live-comments article="${articles[0]}"></live-comments>
<script>
  document.querySelector('live-comments').ssoToken = ${JSON.stringify(early)};
  const script = document.createElement('script');
  script.src = ${JSON.stringify(`${server.url}/widget.js`)};
  document.body.append(script);
</script></body></html>`;
    site = await startStaticSite({ '/linked': { html }, '/handled': { html }, '/early': { html: earlyHtml } });
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await server?.close();
  });

  const open = async (path: string): Promise<{ page: Page; widgets: [Locator, Locator]; problems: string[] }> => {
    const page = await browser.newPage();
    const problems = collectProblems(page);
    await page.goto(`${site.url}${path}`);
    const widgets: [Locator, Locator] = [widgetOf(page, 0), widgetOf(page, 1)];
    await Promise.all(widgets.map(waitForLive));
    return { page, widgets, problems };
  };

  it('focusing the form asks the page to sign the reader in; unhandled, it links to SSO_LOGIN_URL', async () => {
    const { page, widgets, problems } = await open('/linked');
    try {
      await form(widgets[0]).getByLabel('Comment').focus();
      const link = form(widgets[0]).getByRole('link', { name: 'Sign in to comment' });
      await link.waitFor(WAIT);
      expect(await link.getAttribute('href')).toBe(LOGIN_URL);
      // Moving between the form's fields is not asking again.
      await form(widgets[0]).getByLabel('Name').focus();
      expect(await page.evaluate(() => (window as unknown as { asked: number }).asked)).toBe(1);

      // A token on one widget signs in every widget of that server on the page.
      await setToken(widgets[0], await memberToken({ sub: `user-${nanoid(8)}`, name: 'Nia Member' }));
      for (const widget of widgets)
        await vi.waitFor(async () => expect(await signedInAs(widget)).toBe('Commenting as Nia Member'), WAIT);
      expect(await link.isHidden()).toBe(true);
      await postBody(widgets[1], 'Members only, and I am one');
      await rowWithText(widgets[1], 'Members only, and I am one').locator('[part="verified"]').waitFor(WAIT);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('takes a token the page set on the element before widget.js defined it', async () => {
    const page = await browser.newPage();
    try {
      const problems = collectProblems(page);
      await page.goto(`${site.url}/early`);
      const widget = widgetOf(page);
      await waitForLive(widget);
      await vi.waitFor(async () => expect(await signedInAs(widget)).toBe('Commenting as Early Bird'), WAIT);
      expect(await widget.evaluate((element) => (element as HTMLElement & { ssoToken: string }).ssoToken)).toMatch(
        /^ey/,
      );
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('shows no link when the page handles live-comments:login-required (cancels it)', async () => {
    const { page, widgets, problems } = await open('/handled');
    try {
      await form(widgets[0]).getByLabel('Comment').focus();
      await vi.waitFor(
        async () => expect(await page.evaluate(() => (window as unknown as { asked: number }).asked)).toBe(1),
        WAIT,
      );
      expect(await form(widgets[0]).getByRole('link', { name: 'Sign in to comment' }).count()).toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

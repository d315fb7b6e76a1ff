import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CommentPageSchema } from '../../shared/schemas.ts';
import { articleRoom } from '../../shared/events.ts';
import {
  collectProblems,
  embedHtml,
  postFromWidget,
  rowsOf,
  startBrowserAndApp,
  startStaticSite,
  type StaticSite,
  strictCsp,
  waitForLive,
  widgetOf,
} from '../helpers/browser.ts';
import { getJson, postJson, uniqueArticle, type TestApp } from '../helpers/test-app.ts';

const WAIT = { timeout: 15_000, interval: 50 };

/** Global rules a careless (or hostile) host page may carry; none of them may reach inside the widget. */
const HOSTILE_CSS = `
html { font-size: 40px !important; }
* {
  color: red !important; background: yellow !important; font-family: "Comic Sans MS", fantasy !important;
  font-size: 30px !important; font-style: italic !important; font-weight: 900 !important; line-height: 4 !important;
  letter-spacing: 0.5em !important; word-spacing: 2em !important; text-transform: uppercase !important;
  text-align: right !important; text-indent: 5em !important; text-decoration: line-through !important;
  text-shadow: 2px 2px red !important; white-space: nowrap !important; direction: rtl !important;
  cursor: wait !important; list-style: square inside !important; visibility: visible !important;
  margin: 3em !important; padding: 2em !important; border: 5px dashed lime !important; box-sizing: content-box !important;
}
li, button, input, textarea, a, p, div, span, form, label, time, ol, h2 { display: inline !important; float: left !important; }
live-comments { color: red !important; font: italic 900 30px/4 fantasy !important; --unrelated: 1; }
`;

/** Computed styles of the widget's parts, to compare a clean host page with a hostile one. */
function widgetStyles(page: Page) {
  return page.evaluate(() => {
    const root = document.querySelector('live-comments')!.shadowRoot!;
    const properties = [
      'color',
      'background-color',
      'font-family',
      'font-size',
      'font-style',
      'font-weight',
      'line-height',
      'letter-spacing',
      'word-spacing',
      'text-transform',
      'text-align',
      'text-indent',
      'text-decoration-line',
      'text-shadow',
      'white-space',
      'direction',
      'cursor',
      'display',
      'float',
      'margin-top',
      'margin-left',
      'padding-top',
      'padding-left',
      'border-top-width',
      'border-top-style',
      'box-sizing',
      'visibility',
      'list-style-type',
    ];
    const selectors = [
      '.root',
      '.title',
      'li.comment',
      'li.comment .author',
      'li.comment .body',
      'li.comment .body a',
      'li.comment time',
      '.reply-button',
      'form label',
      'form input',
      'form textarea',
      'form button[type=submit]',
      '.order button',
    ];
    return Object.fromEntries(
      selectors.map((selector) => {
        const element = root.querySelector(selector);
        if (!element) return [selector, null];
        const style = getComputedStyle(element);
        return [
          selector,
          Object.fromEntries(properties.map((property) => [property, style.getPropertyValue(property)])),
        ];
      }),
    );
  });
}

describe('the widget embedded on another origin in Chromium', () => {
  let browser: Browser;
  let server: TestApp;
  let site: StaticSite;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [browser, server] = await startBrowserAndApp();
    site = await startStaticSite((path) => {
      if (path === '/hostile.css') return { html: HOSTILE_CSS, headers: { 'content-type': 'text/css; charset=utf-8' } };
      const match = /^\/(plain|hostile|several)\/([A-Za-z0-9._:-]+)$/.exec(path);
      if (!match) return undefined;
      const [, kind, articleId] = match as unknown as [string, string, string];
      const csp = { 'content-security-policy': strictCsp(server.url, site.url) };
      if (kind === 'plain') return { html: embedHtml(server.url, articleId), headers: csp };
      if (kind === 'hostile')
        return {
          html: embedHtml(server.url, articleId, { head: '<link rel="stylesheet" href="/hostile.css">' }),
          headers: csp,
        };
      // Two widgets of one article and one of another, in separate containers.
      return {
        html: embedHtml(server.url, articleId, {
          before: `<h1>Several</h1><div id="a"><live-comments article="${articleId}"></live-comments></div><div id="b"><live-comments article="${articleId}-other"></live-comments></div>`,
        }),
        headers: csp,
      };
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

  async function open(path: string) {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const problems = collectProblems(page);
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    await page.goto(`${site.url}${path}`);
    return { context, page, problems, dialogs, sockets };
  }

  const post = (articleId: string, body: Record<string, unknown>) =>
    postJson(`${server.url}/api/articles/${articleId}/comments`, body);

  it('reads and posts from a page of another origin under a strict CSP, live in both directions', async () => {
    const articleId = uniqueArticle('embed');
    await post(articleId, { author: { name: 'Existing' }, body: 'Already there' });
    const { page, problems, sockets } = await open(`/plain/${articleId}`);
    expect(new URL(page.url()).origin).not.toBe(server.url);
    const widget = widgetOf(page);
    await waitForLive(widget);
    expect((await rowsOf(widget)).map((row) => row.body)).toEqual(['Already there']);

    await postFromWidget(widget, 'Embedder', 'Posted from another origin');
    await vi.waitFor(async () => {
      const stored = CommentPageSchema.parse((await getJson(`${server.url}/api/articles/${articleId}/comments`)).body);
      expect(stored.comments.map((comment) => comment.body)).toContain('Posted from another origin');
    }, WAIT);
    await vi.waitFor(async () => expect(await widget.locator('li.comment.pending').count()).toBe(0), WAIT);

    expect(
      (await post(articleId, { author: { name: 'Server side' }, body: 'Pushed to the other origin' })).status,
    ).toBe(201);
    await vi.waitFor(
      async () =>
        expect((await rowsOf(widget)).map((row) => row.body)).toEqual([
          'Pushed to the other origin',
          'Posted from another origin',
          'Already there',
        ]),
      WAIT,
    );
    // The script's own src told the widget where the server is; one WebSocket, to that server.
    expect(sockets.map((url) => new URL(url).host)).toEqual([new URL(server.url).host]);
    expect(problems).toEqual([]);
  });

  it('shows hostile comment text and names as text and runs nothing', async () => {
    const articleId = uniqueArticle('hostile');
    const hostile = [
      {
        author: { name: '<img src=x onerror="window.pwned=1">Mallory' },
        body: '<script>window.pwned = "script"; alert(1)</script>',
      },
      {
        author: { name: '<b onmouseover=alert(1)>Bold</b>' },
        body: '<img src=x onerror="window.pwned=\'img\'"> <svg onload="window.pwned=\'svg\'"></svg> <iframe src="javascript:alert(1)"></iframe>',
      },
      {
        author: { name: 'Linker' },
        body: '[click me](javascript:alert(1)) javascript:alert(document.domain) <a href="javascript:alert(1)">link</a> data:text/html,<script>alert(1)</script>',
      },
      {
        author: { name: 'Fine' },
        body: 'A real link: https://example.com/page?q=1 and {{constructor.constructor("alert(1)")()}} &lt;b&gt;',
      },
    ];
    for (const comment of hostile) expect((await post(articleId, comment)).status).toBe(201);
    const { page, problems, dialogs } = await open(`/plain/${articleId}`);
    const widget = widgetOf(page);
    await waitForLive(widget);
    // One more through the widget itself (the pending and confirmed rendering paths).
    await postFromWidget(widget, '"><svg onload=alert(1)>', '</textarea><script>alert("typed")</script>');
    await vi.waitFor(async () => expect(await widget.locator('li.comment:not(.pending)').count()).toBe(5), WAIT);

    const rows = await rowsOf(widget);
    for (const comment of [
      ...hostile,
      { author: { name: '"><svg onload=alert(1)>' }, body: '</textarea><script>alert("typed")</script>' },
    ]) {
      expect(rows).toContainEqual(expect.objectContaining({ author: comment.author.name, body: comment.body }));
    }
    await widget.locator('li.comment .author').first().hover();
    const markup = await page.evaluate(() => {
      const root = document.querySelector('live-comments')!.shadowRoot!;
      return {
        tags: [...new Set([...root.querySelectorAll('.thread *')].map((element) => element.localName))].sort(),
        links: [...root.querySelectorAll('a')].map((a) => ({
          href: a.getAttribute('href'),
          rel: a.getAttribute('rel'),
          target: a.getAttribute('target'),
          text: a.textContent,
        })),
        pwned: (window as unknown as { pwned?: unknown }).pwned ?? null,
        styleAttributes: root.querySelectorAll('[style]').length + document.querySelectorAll('[style]').length,
      };
    });
    // Only the widget's own elements: nothing from the comments became an element.
    expect(markup.tags.filter((tag) => !['a', 'button', 'div', 'li', 'p', 'span', 'time'].includes(tag))).toEqual([]);
    expect(markup.links).toEqual([
      {
        href: 'https://example.com/page?q=1',
        rel: 'nofollow noopener ugc',
        target: '_blank',
        text: 'https://example.com/page?q=1',
      },
    ]);
    expect(markup.pwned).toBeNull();
    expect(markup.styleAttributes).toBe(0);
    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('looks the same under a hostile host stylesheet', async () => {
    const articleId = uniqueArticle('css');
    await post(articleId, { author: { name: 'Styled' }, body: 'Look at https://example.com/styles' });
    const styles = [];
    for (const kind of ['plain', 'hostile']) {
      const { page, problems } = await open(`/${kind}/${articleId}`);
      const widget = widgetOf(page);
      await waitForLive(widget);
      await widget.locator('li.comment .body a').waitFor();
      if (kind === 'hostile') {
        // The hostile sheet did load and does apply to the host page.
        expect(await page.locator('h1').evaluate((h1) => getComputedStyle(h1).color)).toBe('rgb(255, 0, 0)');
      }
      styles.push(await widgetStyles(page));
      expect(problems).toEqual([]);
    }
    const [plain, hostile] = styles;
    expect(Object.values(plain!).every((value) => value !== null)).toBe(true);
    expect(hostile).toEqual(plain);
  });

  it('shares one connection between widgets, unsubscribes removed ones, and reconnects when re-added', async () => {
    const articleId = uniqueArticle('multi');
    const otherId = `${articleId}-other`;
    const { page, sockets, problems } = await open(`/several/${articleId}`);
    const widgets = page.locator('live-comments');
    expect(await widgets.count()).toBe(3);
    for (let i = 0; i < 3; i++) await waitForLive(widgets.nth(i));
    expect(sockets).toHaveLength(1);
    await vi.waitFor(() => expect(server.app.io.engine.clientsCount).toBe(1));

    expect((await post(articleId, { author: { name: 'Ann' }, body: 'For the first article' })).status).toBe(201);
    const bodies = async (nth: number) => (await rowsOf(widgets.nth(nth))).map((row) => row.body);
    await vi.waitFor(async () => {
      expect(await bodies(0)).toEqual(['For the first article']);
      expect(await bodies(2)).toEqual(['For the first article']);
    }, WAIT);
    expect(await bodies(1)).toEqual([]);

    // Moving an element keeps it running on the same connection.
    await page.evaluate(() => document.querySelector('#b')!.append(document.querySelector('#a live-comments')!));
    expect(sockets).toHaveLength(1);

    // Removing both widgets of the first article unsubscribes it; the other article stays live.
    const room = articleRoom(articleId);
    const socketIds = [...(server.app.io.of('/').adapter.rooms.get(room) ?? [])];
    expect(socketIds).toHaveLength(1);
    await page.evaluate(
      (id) => document.querySelectorAll(`live-comments[article="${id}"]`).forEach((element) => element.remove()),
      articleId,
    );
    await vi.waitFor(() => expect(server.app.io.of('/').adapter.rooms.has(room)).toBe(false), WAIT);
    expect(server.app.io.of('/').adapter.rooms.has(articleRoom(otherId))).toBe(true);
    expect((await post(otherId, { author: { name: 'Ann' }, body: 'For the other article' })).status).toBe(201);
    await vi.waitFor(
      async () =>
        expect(await rowsOf(widgetOf(page))).toEqual([expect.objectContaining({ body: 'For the other article' })]),
      WAIT,
    );

    // The last one gone closes the connection; adding one again opens a new one and catches up.
    await page.evaluate(() => document.querySelector('live-comments')!.remove());
    await vi.waitFor(() => expect(server.app.io.engine.clientsCount).toBe(0), WAIT);
    await page.evaluate((id) => {
      const element = document.createElement('live-comments');
      element.setAttribute('article', id);
      document.body.append(element);
    }, articleId);
    const readded = widgetOf(page);
    await waitForLive(readded);
    expect(sockets).toHaveLength(2);
    expect(server.app.io.engine.clientsCount).toBe(1);
    expect((await rowsOf(readded)).map((row) => row.body)).toEqual(['For the first article']);
    expect((await post(articleId, { author: { name: 'Ann' }, body: 'After re-adding' })).status).toBe(201);
    await vi.waitFor(
      async () =>
        expect((await rowsOf(readded)).map((row) => row.body)).toEqual(['After re-adding', 'For the first article']),
      WAIT,
    );
    expect(problems).toEqual([]);
  });
});

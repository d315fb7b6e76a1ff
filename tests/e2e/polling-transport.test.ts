import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectProblems, postFromWidget, waitForLive, widgetOf } from '../helpers/browser.ts';
import { uniqueArticle } from '../helpers/test-app.ts';
import { rowWithText, startTwoInstances, WAIT, type TwoInstances } from './two-instances.ts';

/**
 * widget.js carries a trimmed socket.io-client (text-only parser, no WebTransport, no polling): where
 * WebSockets cannot get through (proxies that refuse the upgrade) it loads HTTP long-polling
 * (widget-polling.js) and must still work over it. Where they do, that part is never loaded.
 */
describe('the widget when WebSockets fail, in Chromium', () => {
  let env: TwoInstances;

  beforeAll(async () => {
    env = await startTwoInstances();
  });
  afterAll(() => env?.close());

  it('stays live over HTTP long-polling: posts, likes and pushes in both directions', async () => {
    const articleId = uniqueArticle('polling');
    const context = await env.browser.newContext();
    await context.addInitScript(() => {
      // Every WebSocket fails to connect, as behind a proxy that refuses the upgrade (port 9: nothing listens).
      const Native = window.WebSocket;
      window.WebSocket = class extends Native {
        constructor(_url: string | URL, protocols?: string | string[]) {
          super('ws://127.0.0.1:9/', protocols);
        }
      };
    });
    const page = await context.newPage();
    const problems = collectProblems(page);
    const transports = new Set<string>();
    const parts: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === '/socket.io/') transports.add(url.searchParams.get('transport') ?? '');
      if (url.pathname.startsWith('/widget-')) parts.push(url.pathname);
    });
    // The refused WebSocket attempts are logged by Chromium; nothing else may go wrong.
    const unexpected = () =>
      problems.filter((problem) => !problem.includes("WebSocket connection to 'ws://127.0.0.1:9/"));
    await page.goto(`${env.site.url}/a/${articleId}`);
    const polling = widgetOf(page);
    await waitForLive(polling);
    const other = await env.reader(env.b, articleId);

    await postFromWidget(polling, 'Polly', 'Sent over polling');
    await rowWithText(other.widget, 'Sent over polling').waitFor(WAIT);
    await postFromWidget(other.widget, 'Wes', 'Pushed over polling');
    const row = rowWithText(polling, 'Pushed over polling');
    await row.waitFor(WAIT);
    await rowWithText(other.widget, 'Pushed over polling').getByRole('button', { name: /^Like/ }).click();
    await row.locator('.like-count').filter({ hasText: '1' }).waitFor(WAIT);

    expect([...transports]).toEqual(['polling']);
    expect(parts).toContain('/widget-polling.js');
    expect(unexpected()).toEqual([]);
    await context.close();
    await env.closeContexts();
  });

  it('never loads the polling part where WebSockets work', async () => {
    const articleId = uniqueArticle('websocket');
    const context = await env.browser.newContext();
    const page = await context.newPage();
    const problems = collectProblems(page);
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(new URL(socket.url()).pathname));
    const parts: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith('/widget-')) parts.push(url.pathname);
    });
    await page.goto(`${env.site.url}/a/${articleId}`);
    const widget = widgetOf(page);
    await waitForLive(widget);
    await postFromWidget(widget, 'Wendy', 'Sent over a WebSocket');
    await rowWithText(widget, 'Sent over a WebSocket').waitFor(WAIT);

    expect(sockets).toEqual(['/socket.io/']);
    // Posting made a comment of the reader's own: that part (widget-own.js) loads, polling does not.
    expect(parts).not.toContain('/widget-polling.js');
    expect(problems).toEqual([]);
    await context.close();
  });
});

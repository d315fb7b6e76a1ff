import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { buildAll } from '../../client/build.mjs';
import { startTestApp, type TestApp } from './test-app.ts';

/** Debian's Chromium; the tests never download a browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** One Chromium per test file (launching takes about a second); give each test its own context. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/**
 * What a browser test file starts first, side by side: Chromium, and one app on the current build of
 * the widget with E2E_ENV and `env` over it.
 */
export function startBrowserAndApp(env: Record<string, string> = {}): Promise<[Browser, TestApp]> {
  return Promise.all([launchBrowser(), ensureWidgetBuilt().then(() => startTestApp({ env: { ...E2E_ENV, ...env } }))]);
}

let built: Promise<unknown> | null = null;

/**
 * Builds widget.js, admin.js and count.js from the current sources once per test process, so
 * browser tests never run against a stale bundle (the build writes atomically; parallel workers
 * are harmless).
 */
export function ensureWidgetBuilt(): Promise<unknown> {
  built ??= buildAll();
  return built;
}

export interface StaticSite {
  url: string;
  close(): Promise<void>;
}

export interface StaticPage {
  html: string;
  /** Extra response headers, e.g. a Content-Security-Policy. */
  headers?: Record<string, string>;
}

/** A second origin (its own port) serving pages by path: the host site of a cross-origin embed. */
export async function startStaticSite(
  pages: Record<string, StaticPage> | ((path: string) => StaticPage | undefined),
): Promise<StaticSite> {
  const resolve = typeof pages === 'function' ? pages : (path: string) => pages[path];
  const server: Server = createServer((req, res) => {
    const page = resolve(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (!page) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...page.headers })
      .end(page.html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Server settings for browser tests: post budgets off (they are tested elsewhere), nothing else changed. */
export const E2E_ENV: Readonly<Record<string, string>> = {
  RATE_LIMIT_POSTS_PER_MINUTE_IP: '0',
  RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: '0',
  RATE_LIMIT_EDITS_PER_MINUTE_IP: '0',
  RATE_LIMIT_EDITS_PER_MINUTE_COMMENT: '0',
  RATE_LIMIT_DELETES_PER_MINUTE_IP: '0',
  RATE_LIMIT_LIKES_PER_MINUTE_IP: '0',
  RATE_LIMIT_LIKES_PER_MINUTE_COMMENT: '0',
};

/** The two lines a site owner pastes, pointing at `serverUrl`. */
export function embedHtml(
  serverUrl: string,
  articleId: string,
  extra: { head?: string; before?: string; attributes?: string } = {},
): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Host page</title><link rel="icon" href="data:,">${extra.head ?? ''}</head>
<body>
${extra.before ?? '<h1>A page on another site</h1>'}
<script src="${serverUrl}/widget.js" async></script>
<live-comments article="${articleId}"${extra.attributes ?? ''}></live-comments>
</body></html>`;
}

/** A strict host policy: no inline script or style, scripts and connections only to the comment server. */
export function strictCsp(serverUrl: string, siteUrl: string): string {
  const ws = serverUrl.replace(/^http/, 'ws');
  return `default-src 'none'; script-src ${serverUrl}; connect-src ${serverUrl} ${ws}; style-src ${siteUrl}; img-src data:; base-uri 'none'; form-action 'none'`;
}

/** Every console error, uncaught exception and CSP violation of a page, for asserting there were none. */
export function collectProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  return problems;
}

/** The widget element; playwright locators pierce its open shadow root. */
export function widgetOf(page: Page, nth = 0): Locator {
  return page.locator('live-comments').nth(nth);
}

/**
 * The text of the first visible element the locator finds, or null when none is visible, read in one
 * step in the page. Asking `isVisible()` and then `textContent()` races the widget: an element removed
 * between the two makes `textContent()` wait for it to come back, for Playwright's 30 s, while the
 * `vi.waitFor` around it can only report the text it read before.
 */
export function visibleText(locator: Locator): Promise<string | null> {
  return locator.evaluateAll((elements) => {
    const shown = elements.find((element) => {
      const box = element.getBoundingClientRect();
      return box.width > 0 && box.height > 0 && getComputedStyle(element).visibility !== 'hidden';
    });
    return shown ? shown.textContent : null;
  });
}

/** Resolves once the widget is subscribed and caught up. */
export async function waitForLive(widget: Locator): Promise<void> {
  await widget.locator('.root[data-live="live"]').waitFor();
}

/** Types a comment into the widget's main form and presses Post. */
export async function postFromWidget(widget: Locator, name: string, body: string): Promise<void> {
  const form = widget.getByRole('form', { name: 'Write a comment' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Comment').fill(body);
  await form.getByRole('button', { name: 'Post', exact: true }).click();
}

/** What the widget shows, row by row: author, body text, nesting level, and the classes of the row. */
export async function rowsOf(
  widget: Locator,
): Promise<Array<{ author: string; body: string; level: number; className: string }>> {
  return widget.locator('li.comment').evaluateAll((items) =>
    items.map((li) => ({
      author: li.querySelector('.author')?.textContent ?? '',
      body: li.querySelector('.body')?.textContent ?? li.querySelector('.removed')?.textContent ?? '',
      level: Number(li.getAttribute('aria-level')),
      className: li.className,
    })),
  );
}

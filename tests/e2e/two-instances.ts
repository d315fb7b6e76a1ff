import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import {
  collectProblems,
  E2E_ENV,
  embedHtml,
  ensureWidgetBuilt,
  launchBrowser,
  startStaticSite,
  waitForLive,
  widgetOf,
  type StaticSite,
} from '../helpers/browser.ts';
import { REDIS_URL, startTwoTestApps, type TestApp } from '../helpers/test-app.ts';

/** The moderator token of the test instances. */
export const ADMIN_TOKEN = 'e2e-moderator-token-0123456789';

/** Waits of browser tests: generous (a 2-core machine runs several suites), polled often. */
export const WAIT = { timeout: 15_000, interval: 50 } as const;

export interface Reader {
  context: BrowserContext;
  page: Page;
  widget: Locator;
  /** Console errors, uncaught exceptions: expected to stay empty. */
  problems: string[];
}

export interface TwoInstances {
  browser: Browser;
  /** Two apps over one SQLite file and one Redis prefix, as behind a load balancer. */
  a: TestApp;
  b: TestApp;
  /** The environment that points a separate process (the `npm run comments` CLI) at the same store and Redis prefix. */
  storeEnv: Readonly<Record<string, string>>;
  /** A page of another origin embedding the article's widget from `app`: a fresh context (own storage, so another reader), live. */
  reader(app: TestApp, articleId: string): Promise<Reader>;
  /** The host site of the embeds (its own origin): `/a/<articleId>` embeds from `a`, `/b/<articleId>` from `b`. */
  site: StaticSite;
  /** A fresh context with a page of `app` open at `path`. */
  open(app: TestApp, path: string): Promise<{ context: BrowserContext; page: Page; problems: string[] }>;
  /** Closes the contexts of the test that just ran. */
  closeContexts(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Chromium and two instances of the server sharing one SQLite file and one Redis prefix, each with
 * ADMIN_TOKEN set: every browser test of the moderation, likes and presence features runs a reader (or the moderator) on
 * each instance, so everything it checks went through the Redis fan-out.
 */
export async function startTwoInstances(env: Record<string, string> = {}): Promise<TwoInstances> {
  const [browser, pair] = await Promise.all([
    launchBrowser(),
    ensureWidgetBuilt().then(() => startTwoTestApps({ ...E2E_ENV, ADMIN_TOKEN, ...env })),
  ]);
  const { a, b } = pair;
  const site = await startStaticSite((path) => {
    const match = /^\/([ab])\/([A-Za-z0-9._:-]+)$/.exec(path);
    return match ? { html: embedHtml((match[1] === 'a' ? a : b).url, match[2]!) } : undefined;
  });
  const contexts: BrowserContext[] = [];

  const openUrl = async (url: string) => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const problems = collectProblems(page);
    await page.goto(url);
    return { context, page, problems };
  };

  return {
    browser,
    a,
    b,
    storeEnv: { SQLITE_PATH: pair.sqlitePath, REDIS_URL, REDIS_PREFIX: pair.redisPrefix },
    site,
    open: (app, path) => openUrl(`${app.url}${path}`),
    reader: async (app, articleId) => {
      const { context, page, problems } = await openUrl(`${site.url}/${app === a ? 'a' : 'b'}/${articleId}`);
      const widget = widgetOf(page);
      await waitForLive(widget);
      return { context, page, widget, problems };
    },
    closeContexts: async () => {
      await Promise.all(contexts.splice(0).map((context) => context.close()));
    },
    close: async () => {
      await browser?.close();
      await site.close();
      await pair.close();
    },
  };
}

/** Makes the article pre-moderated, as a moderator does over the admin API of `app`. */
export async function premoderate(app: TestApp, articleId: string): Promise<void> {
  const response = await fetch(`${app.url}/api/admin/articles/${articleId}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ premoderated: true }),
  });
  if (response.status !== 200) throw new Error(`premoderating ${articleId} answered ${response.status}`);
}

/** The row of a comment in a widget, found by its text. */
export function rowWithText(widget: Locator, text: string): Locator {
  return widget.locator('li.comment').filter({ has: widget.page().locator('.body', { hasText: text }) });
}

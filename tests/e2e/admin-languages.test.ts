import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { collectProblems } from '../helpers/browser.ts';
import { postJson, uniqueArticle } from '../helpers/test-app.ts';
import { ADMIN_TOKEN, premoderate, startTwoInstances, WAIT, type TwoInstances } from './two-instances.ts';

describe('the /admin page in the moderator’s language, in Chromium', () => {
  let env: TwoInstances;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    env = await startTwoInstances();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });
  afterAll(() => env?.close());

  /** /admin of instance b in a browser whose language is `locale`. */
  async function open(locale: string): Promise<{ page: Page; problems: string[] }> {
    const context = await env.browser.newContext({ locale });
    contexts.push(context);
    const page = await context.newPage();
    const problems = collectProblems(page);
    await page.goto(`${env.b.url}/admin`);
    return { page, problems };
  }

  async function signIn(page: Page, label: string, button: string): Promise<void> {
    await page.getByLabel(label).fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: button }).click();
    await page.locator('.status[data-live]').waitFor(WAIT);
  }

  /** A comment held for review (its article pre-moderated) and one published, both posted on instance a. */
  async function heldAndPublished(): Promise<{ held: string; published: string }> {
    const held = uniqueArticle('held');
    const published = uniqueArticle('published');
    await premoderate(env.a, held);
    await postJson(`${env.a.url}/api/articles/${held}/comments`, { author: { name: 'Greta' }, body: 'Wartet noch' });
    await postJson(`${env.a.url}/api/articles/${published}/comments`, { author: { name: 'Omar' }, body: 'Schon da' });
    return { held, published };
  }

  const item = (page: Page, list: string, text: string) =>
    page.getByRole('list', { name: list }).getByRole('listitem').filter({ hasText: text });

  it('speaks German to a browser set to de-DE: sign-in, the review queue, the feed, dates and counts', async () => {
    const { page, problems } = await open('de-DE');
    await page.getByRole('heading', { name: 'Anmelden' }).waitFor(WAIT);
    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual([
      'de-DE',
      'ltr',
    ]);
    await signIn(page, 'Moderationstoken', 'Anmelden');
    const { held, published } = await heldAndPublished();

    await page.getByRole('heading', { name: 'Prüfwarteschlange (1)' }).waitFor(WAIT);
    const waiting = item(page, 'Zurückgehaltene Kommentare', held);
    await waiting.getByText(`Greta zu ${held}`).waitFor(WAIT);
    await waiting.getByText('gerade eben').waitFor(WAIT);
    const time = await waiting.locator('time').getAttribute('title');
    // The exact time in German (a month name, "um"), whatever the month.
    expect(time).toMatch(/^\d{1,2}\. \p{L}+ \d{4} um \d{1,2}:\d{2}/u);
    await vi.waitFor(async () => expect(await page.title()).toBe('(1) Moderation · Live Comments'), WAIT);

    const feed = item(page, 'Kommentare, neueste zuerst', 'Schon da');
    await feed.getByText(`Omar zu ${published}`).waitFor(WAIT);
    await waiting.getByRole('button', { name: 'Kommentar von Greta freigeben' }).click();
    await waiting.waitFor({ state: 'detached', ...WAIT });
    await page.getByText('Kommentar von Greta freigegeben.').waitFor({ state: 'attached', ...WAIT });
    await page.getByRole('heading', { name: 'Prüfwarteschlange', exact: true }).waitFor(WAIT);
    await page.getByText('Nichts wartet auf Prüfung.').waitFor(WAIT);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Moderation');
    // The sections below the queue too: rules, notifications, import and export.
    for (const name of ['Moderationsregeln', 'Benachrichtigungen', 'Import und Export'])
      await page.getByRole('region', { name }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Export herunterladen' }).waitFor(WAIT);
    expect(problems).toEqual([]);
  });

  it('lays itself out right to left in Arabic, with Arabic words', async () => {
    const { page, problems } = await open('ar');
    await signIn(page, 'رمز المشرف', 'تسجيل الدخول');
    const { held } = await heldAndPublished();
    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual([
      'ar',
      'rtl',
    ]);
    await page.getByRole('heading', { name: /^قائمة المراجعة/ }).waitFor(WAIT);
    // Its own article: a comment another test left waiting must not be taken for it.
    const waiting = item(page, 'التعليقات المحتجزة', held);
    await waiting.getByText(`Greta على ${held}`).waitFor(WAIT);
    const approve = waiting.getByRole('button', { name: 'الموافقة على تعليق Greta' });
    const reject = waiting.getByRole('button', { name: 'رفض تعليق Greta' });
    await approve.waitFor(WAIT);
    // Mirrored: the first action sits at the right, the next one to its left.
    const [first, second] = await Promise.all([approve.boundingBox(), reject.boundingBox()]);
    expect(first!.x).toBeGreaterThan(second!.x);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('الإشراف');
    expect(problems).toEqual([]);
  });

  it('switches language live from its menu, remembers the choice, and goes back to the browser’s', async () => {
    const { page, problems } = await open('en-US');
    await signIn(page, 'Moderator token', 'Sign in');
    await heldAndPublished();
    await page.getByRole('heading', { name: /^Review queue/ }).waitFor(WAIT);
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));

    await page.getByLabel('Language').selectOption('de');
    await page.getByRole('heading', { name: /^Prüfwarteschlange/ }).waitFor(WAIT);
    // Still signed in, live, and the same document (no reload).
    await page.locator('.status[data-live]').filter({ hasText: 'Live' }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Abmelden' }).waitFor(WAIT);
    await item(page, 'Zurückgehaltene Kommentare', 'Wartet noch').first().waitFor(WAIT);
    expect(await page.evaluate(() => 'notReloaded' in window)).toBe(true);
    expect(await page.evaluate(() => localStorage.getItem('live-comments:admin-lang'))).toBe('de');

    await page.reload();
    await page.getByRole('heading', { name: /^Prüfwarteschlange/ }).waitFor(WAIT);
    await page.getByLabel('Sprache').selectOption('ar');
    await page.getByRole('heading', { name: /^قائمة المراجعة/ }).waitFor(WAIT);
    expect(await page.evaluate(() => document.documentElement.dir)).toBe('rtl');

    await page.getByLabel('اللغة').selectOption('');
    await page.getByRole('heading', { name: /^Review queue/ }).waitFor(WAIT);
    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual([
      'en-US',
      'ltr',
    ]);
    expect(await page.evaluate(() => localStorage.getItem('live-comments:admin-lang'))).toBeNull();
    expect(problems).toEqual([]);
  });
});

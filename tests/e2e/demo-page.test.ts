import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseSeed } from '../../server/seed/parse-seed.ts';
import {
  collectProblems,
  rowsOf,
  startBrowserAndApp,
  startStaticSite,
  waitForLive,
  widgetOf,
} from '../helpers/browser.ts';
import { type TestApp } from '../helpers/test-app.ts';

const seed = parseSeed(readFileSync(new URL('../../server/seed/data/putin-china-visit.txt', import.meta.url), 'utf8'));

describe('the demo page in Chromium', () => {
  let browser: Browser;
  let server: TestApp;
  beforeAll(async () => {
    [browser, server] = await startBrowserAndApp({ SEED_DEMO: 'true' });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows the article and its eight sample comments intact, replies under the comment they answer', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const problems = collectProblems(page);
      await page.goto(`${server.url}/`);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(seed.title);
      const widget = widgetOf(page);
      await waitForLive(widget);
      await vi.waitFor(async () => expect(await widget.locator('li.comment').count()).toBe(8), { timeout: 10_000 });
      await widget.getByRole('heading', { name: '8 comments' }).waitFor();

      const rows = await rowsOf(widget);
      // Newest thread first; John Crulz's two replies follow him, one level deeper.
      expect(rows.map((row) => [row.author, row.level])).toEqual([
        ['Susan Mark', 1],
        ['Matt Heitz', 1],
        ['Nancy Perez de Lezama', 1],
        ['John Crulz', 1],
        ['Anita Drake', 2],
        ['Eduardo Lopez', 2],
        ['Madison Neal', 1],
        ['Jasmine Hinds', 1],
      ]);
      for (const original of seed.comments) {
        expect(rows.find((row) => row.author === original.author)?.body).toBe(original.body);
      }
      // Emoji, curly quotes and non-breaking hyphens arrive as typed.
      expect(rows.find((row) => row.author === 'Jasmine Hinds')?.body).toContain('😮');
      expect(rows.find((row) => row.author === 'Eduardo Lopez')?.body).toContain('we’re');
      expect(rows.find((row) => row.author === 'Madison Neal')?.body).toContain('Sino\u2011Russian');

      // The exact time is on hover; the relative one is shown.
      const time = widget.locator('li.comment').first().locator('time');
      expect(await time.getAttribute('datetime')).toBe('2024-05-18T00:23:00.000Z');
      expect(await time.getAttribute('title')).toMatch(/2024/);
      expect(await time.textContent()).toMatch(/ago$/);

      await widget.getByRole('button', { name: 'Oldest' }).click();
      await vi.waitFor(async () => expect((await rowsOf(widget))[0]?.author).toBe('Jasmine Hinds'));
      expect((await rowsOf(widget)).map((row) => row.author).slice(2, 5)).toEqual([
        'John Crulz',
        'Anita Drake',
        'Eduardo Lopez',
      ]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('follows the reader’s dark colour scheme, and the theme attribute overrides it', async () => {
    const context = await browser.newContext({ colorScheme: 'dark' });
    try {
      const page = await context.newPage();
      await page.goto(`${server.url}/`);
      const root = widgetOf(page).locator('.root');
      await root.waitFor();
      const background = () => root.evaluate((element) => getComputedStyle(element).backgroundColor);
      expect(await background()).toBe('rgb(21, 24, 29)');
      await page.evaluate(() => document.querySelector('live-comments')?.setAttribute('theme', 'light'));
      expect(await background()).toBe('rgb(255, 255, 255)');
      await page.emulateMedia({ colorScheme: 'light' });
      await page.evaluate(() => document.querySelector('live-comments')?.setAttribute('theme', 'dark'));
      expect(await background()).toBe('rgb(21, 24, 29)');
    } finally {
      await context.close();
    }
  });

  it('matches a dark host page by itself (theme="auto"), follows its dark-mode toggle, and theme="system" follows the reader', async () => {
    const site = await startStaticSite({
      '/dark': {
        html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Dark site</title><link rel="icon" href="data:,">
<style>body { background: #121417; color: #eee } body.light { background: #fafafa; color: #111 }</style></head><body>
<main><live-comments article="theme-auto"></live-comments></main>
<script src="${server.url}/widget.js" async></script></body></html>`,
      },
    });
    // The reader's system is light: only the page says dark.
    const context = await browser.newContext({ colorScheme: 'light' });
    try {
      const page = await context.newPage();
      const problems = collectProblems(page);
      await page.goto(`${site.url}/dark`);
      const root = widgetOf(page).locator('.root');
      await root.waitFor();
      const background = () => root.evaluate((element) => getComputedStyle(element).backgroundColor);
      const dark = 'rgb(21, 24, 29)';
      const light = 'rgb(255, 255, 255)';
      await vi.waitFor(async () => expect(await background()).toBe(dark));
      // The site's own toggle: a class on <body>.
      await page.evaluate(() => document.body.classList.add('light'));
      await vi.waitFor(async () => expect(await background()).toBe(light));
      await page.evaluate(() => document.body.classList.remove('light'));
      await vi.waitFor(async () => expect(await background()).toBe(dark));
      // theme="system": today's behaviour, the reader's colour scheme whatever the page.
      await page.evaluate(() => document.querySelector('live-comments')?.setAttribute('theme', 'system'));
      expect(await background()).toBe(light);
      await page.emulateMedia({ colorScheme: 'dark' });
      await vi.waitFor(async () => expect(await background()).toBe(dark));
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await site.close();
    }
  });
});

/**
 * Makes the README screenshots of the demo page: a real server with the sample article on a free
 * port, Debian's Chromium. docs/demo-light.png and demo-dark.png in each colour scheme; demo-de.png,
 * demo-ar.png and demo-he.png (dark) with the widget in German, Arabic and Hebrew (its `lang`
 * attribute: the sample article itself is English); demo-mobile.png at a phone's width (380 px).
 * Run with `npm run screenshots` (it builds widget.js first).
 */
import { fileURLToPath } from 'node:url';
import { launchBrowser, waitForLive, widgetOf } from '../tests/helpers/browser.ts';
import { startTestApp } from '../tests/helpers/test-app.ts';

interface Shot {
  name: string;
  scheme: 'light' | 'dark';
  viewport: { width: number; height: number };
  /** The widget's `lang`, and its heading in that language once it has redrawn. */
  lang?: { tag: string; heading: string };
}

const DESKTOP = { width: 960, height: 1760 };
const SHOTS: Shot[] = [
  { name: 'light', scheme: 'light', viewport: DESKTOP },
  { name: 'dark', scheme: 'dark', viewport: DESKTOP },
  { name: 'de', scheme: 'light', viewport: DESKTOP, lang: { tag: 'de', heading: '8 Kommentare' } },
  { name: 'ar', scheme: 'light', viewport: DESKTOP, lang: { tag: 'ar', heading: '8 تعليقات' } },
  { name: 'he', scheme: 'dark', viewport: DESKTOP, lang: { tag: 'he', heading: '8 תגובות' } },
  { name: 'mobile', scheme: 'light', viewport: { width: 380, height: 1600 } },
];

const server = await startTestApp({ env: { SEED_DEMO: 'true' } });
const browser = await launchBrowser();
try {
  for (const shot of SHOTS) {
    const context = await browser.newContext({
      colorScheme: shot.scheme,
      viewport: shot.viewport,
      deviceScaleFactor: 1,
    });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    const widget = widgetOf(page);
    await waitForLive(widget);
    await widget.getByRole('heading', { name: '8 comments' }).waitFor();
    if (shot.lang) {
      const { tag, heading } = shot.lang;
      await widget.evaluate((element, tag) => element.setAttribute('lang', tag), tag);
      await waitForLive(widget);
      await widget.getByRole('heading', { name: heading }).waitFor();
    }
    // Show the end of the article above the comments.
    await page
      .locator('section.comments')
      .evaluate((section) => window.scrollTo(0, section.getBoundingClientRect().top + window.scrollY - 110));
    const path = fileURLToPath(new URL(`./demo-${shot.name}.png`, import.meta.url));
    await page.screenshot({ path });
    console.log(`wrote ${path}`);
    await context.close();
  }
} finally {
  await browser.close();
  await server.close();
}

/**
 * Makes the README screenshots of the demo page (docs/demo-light.png, docs/demo-dark.png): a real
 * server with the sample article on a free port, Debian's Chromium in each colour scheme.
 * Run with `npm run screenshots` (it builds widget.js first).
 */
import { fileURLToPath } from 'node:url';
import { launchBrowser, waitForLive, widgetOf } from '../tests/helpers/browser.ts';
import { startTestApp } from '../tests/helpers/test-app.ts';

const VIEWPORT = { width: 960, height: 1760 };

const server = await startTestApp({ env: { SEED_DEMO: 'true' } });
const browser = await launchBrowser();
try {
  for (const scheme of ['light', 'dark'] as const) {
    const context = await browser.newContext({ colorScheme: scheme, viewport: VIEWPORT, deviceScaleFactor: 1 });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    const widget = widgetOf(page);
    await waitForLive(widget);
    await widget.getByRole('heading', { name: '8 comments' }).waitFor();
    // Show the end of the article above the comments.
    await page
      .locator('section.comments')
      .evaluate((section) => window.scrollTo(0, section.getBoundingClientRect().top + window.scrollY - 110));
    const path = fileURLToPath(new URL(`./demo-${scheme}.png`, import.meta.url));
    await page.screenshot({ path });
    console.log(`wrote ${path}`);
    await context.close();
  }
} finally {
  await browser.close();
  await server.close();
}

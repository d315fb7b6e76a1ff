import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LANGUAGES } from '../../shared/i18n.ts';
import { ensureWidgetBuilt } from '../helpers/browser.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';

describe('GET /i18n/<lang>.json: the widget’s language tables', () => {
  let server: TestApp;
  beforeAll(async () => {
    await ensureWidgetBuilt();
    server = await startTestApp();
  });
  afterAll(() => server.close());

  it('serves each language but English as cacheable JSON any origin may fetch, with a working ETag', async () => {
    for (const lang of LANGUAGES.filter((language) => language !== 'en')) {
      const answer = await fetch(`${server.url}/i18n/${lang}.json`, {
        headers: { origin: 'https://news.example.com' },
      });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(answer.headers.get('cache-control')).toBe('public, max-age=300');
      expect(answer.headers.get('access-control-allow-origin')).toBe('*');
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      const source = JSON.parse(
        readFileSync(new URL(`../../client/i18n/${lang}.json`, import.meta.url), 'utf8'),
      ) as unknown;
      expect(await answer.json()).toEqual(source);

      const etag = answer.headers.get('etag');
      expect(etag).toMatch(/^"[A-Za-z0-9_-]+(-gz)?"$/);
      const again = await fetch(`${server.url}/i18n/${lang}.json`, { headers: { 'if-none-match': etag! } });
      expect(again.status).toBe(304);
    }
  });

  it('answers 404 for English (it is in widget.js), unknown languages and other names', async () => {
    for (const path of ['en.json', 'xx.json', 'de.js', 'de.json.gz', '..%2Fwidget.js', 'DE.json'])
      expect((await fetch(`${server.url}/i18n/${path}`)).status).toBe(404);
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWidgetBuilt } from '../helpers/browser.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';

const FOLDER = new URL('../../client/i18n/admin/', import.meta.url);

describe('GET /i18n/admin/<lang>.json: the /admin page’s language tables', () => {
  let server: TestApp;
  beforeAll(async () => {
    await ensureWidgetBuilt();
    server = await startTestApp();
  });
  afterAll(() => server.close());

  it('serves each table as the widget’s are served: cacheable JSON with a working ETag', async () => {
    const files = readdirSync(FOLDER).filter((name) => name.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const answer = await fetch(`${server.url}/i18n/admin/${file}`);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(answer.headers.get('cache-control')).toBe('public, max-age=300');
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await answer.json()).toEqual(JSON.parse(readFileSync(new URL(file, FOLDER), 'utf8')));
      const etag = answer.headers.get('etag');
      const again = await fetch(`${server.url}/i18n/admin/${file}`, { headers: { 'if-none-match': etag! } });
      expect(again.status).toBe(304);
    }
  });

  it('answers 404 for English (it is in admin.js), unknown languages and other names', async () => {
    for (const path of ['en.json', 'xx.json', 'de.js', 'DE.json', '..%2Fde.json', 'admin.json'])
      expect((await fetch(`${server.url}/i18n/admin/${path}`)).status).toBe(404);
  });
});

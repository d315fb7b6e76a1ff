import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { WIDGET_PATH } from '../../client/build.mjs';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { embedSnippet, escapeHtml } from '../../server/http/demo-pages.ts';
import { ensureWidgetBuilt } from '../helpers/browser.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';

describe('static routes: widget.js, the demo page and the embed example', () => {
  let server: TestApp;
  beforeAll(async () => {
    await ensureWidgetBuilt();
    server = await startTestApp({ env: { SEED_DEMO: 'true' } });
  });
  afterAll(() => server.close());

  it('serves widget.js as cacheable JavaScript that any origin may load, gzipped when asked, with a working ETag', async () => {
    const plain = await fetch(`${server.url}/widget.js`, {
      headers: { 'accept-encoding': 'identity', origin: 'https://news.example.com' },
    });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(plain.headers.get('cache-control')).toBe('public, max-age=300');
    expect(plain.headers.get('access-control-allow-origin')).toBe('*');
    expect(plain.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(plain.headers.get('x-content-type-options')).toBe('nosniff');
    const etag = plain.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const body = Buffer.from(await plain.arrayBuffer());
    expect(body.equals(readFileSync(WIDGET_PATH))).toBe(true);

    const again = await fetch(`${server.url}/widget.js`, {
      headers: { 'accept-encoding': 'identity', 'if-none-match': etag! },
    });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');

    // node's fetch would decompress on its own; ask node:http for the raw bytes.
    const { request } = await import('node:http');
    const raw = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      request(`${server.url}/widget.js`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });
    expect(raw.headers['content-encoding']).toBe('gzip');
    expect(raw.headers.etag).not.toBe(etag);
    expect(raw.headers.vary).toMatch(/Accept-Encoding/i);
    expect(gunzipSync(raw.body).equals(body)).toBe(true);
  });

  it('serves the sample article with the widget embedded by exactly the two-line snippet', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain(`<h1>Putin&#39;s Diplomatic Mission in China</h1>`);
    expect(html).toContain('<h2>The Inseparable Partnership</h2>');
    expect(html.split('<p>').length - 1).toBeGreaterThanOrEqual(7);
    expect(html).toContain(embedSnippet(`${server.url}/widget.js`, 'putin-china-visit'));
    expect(html.match(/<script\b/g)).toHaveLength(1);
    expect(html).not.toMatch(/<script>|style=/);
  });

  it('shows the snippet to copy on /embed-example, escaped, for a valid article id only', async () => {
    const html = await (await fetch(`${server.url}/embed-example?article=my-post.2024`)).text();
    expect(html).toContain(escapeHtml(embedSnippet(`${server.url}/widget.js`, 'my-post.2024')));
    // Sign-in from the host site: the attribute, the refresh hook and the event, with this article.
    expect(html).toContain(escapeHtml('<live-comments article="my-post.2024" sso-token="TOKEN_FROM_YOUR_BACKEND">'));
    expect(html).toContain('refreshSsoToken');
    expect(html).toContain('live-comments:login-required');
    const hostile = await (
      await fetch(`${server.url}/embed-example?article=${encodeURIComponent('"><script>alert(1)</script>')}`)
    ).text();
    expect(hostile).not.toContain('<script>alert(1)');
    expect(hostile).toContain(escapeHtml(embedSnippet(`${server.url}/widget.js`, 'my-article-slug')));
  });

  it('escapes a hostile Host header instead of writing it into the page', async () => {
    const { request } = await import('node:http');
    const html = await new Promise<string>((resolve, reject) => {
      request(`${server.url}/`, { headers: { host: 'evil.example"><script>alert(1)</script>' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(text));
      })
        .on('error', reject)
        .end();
    });
    expect(html).not.toContain('evil.example');
    expect(html).toContain('<script src="/widget.js" async></script>');
  });

  it('escapes every special character', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      '&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;&#60;/a&#62;',
    );
  });

  it('sends /admin/ (trailing slash) to /admin, where the page finds its script', async () => {
    const redirect = await fetch(`${server.url}/admin/`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('../admin');
    const page = await fetch(`${server.url}/admin/`);
    expect(page.url).toBe(`${server.url}/admin`);
    const src = /<script src="([^"]+)"/.exec(await page.text())?.[1];
    expect(src).toBeDefined();
    expect((await fetch(new URL(src!, page.url))).status).toBe(200);
  });
});

describe('DEMO_PAGES: the demo pages can be switched off', () => {
  it('is on by default, and off by default only in production without the sample article', () => {
    expect(loadConfig({}).demoPages).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production' }).demoPages).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production', SEED_DEMO: 'false' }).demoPages).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', SEED_DEMO: 'false', DEMO_PAGES: 'true' }).demoPages).toBe(true);
    expect(loadConfig({ SEED_DEMO: 'true', DEMO_PAGES: 'false' }).demoPages).toBe(false);
    expect(() => loadConfig({ DEMO_PAGES: 'off' })).toThrow(ConfigError);
  });

  it('answers 404 for every demo page when off, and still serves the scripts, the API and /admin', async () => {
    await ensureWidgetBuilt();
    const server = await startTestApp({ env: { SEED_DEMO: 'true', DEMO_PAGES: 'false' } });
    try {
      for (const path of ['/', '/articles', '/articles/any-article', '/embed-example', '/demo.css'])
        expect((await fetch(`${server.url}${path}`)).status, path).toBe(404);
      for (const path of ['/widget.js', '/count.js', '/admin.js', '/admin', '/api/articles/any-article/comments'])
        expect((await fetch(`${server.url}${path}`)).status, path).toBe(200);
    } finally {
      await server.close();
    }
  });
});

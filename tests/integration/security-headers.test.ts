import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PART_PATHS } from '../../client/build.mjs';
import { startTestApp, uniqueArticle, type TestApp } from '../helpers/test-app.ts';

/** The directives of a Content-Security-Policy header, by name. */
function csp(headers: Headers): Map<string, string[]> {
  const value = headers.get('content-security-policy');
  expect(value).not.toBeNull();
  const directives = new Map<string, string[]>();
  for (const part of (value ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) directives.set(name, sources);
  }
  return directives;
}

describe('security headers, every origin allowed (default)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('sends the helmet set on API answers, errors included', async () => {
    for (const path of [`/api/articles/${uniqueArticle()}/comments`, '/healthz', '/no-such-page']) {
      const res = await fetch(`${app.url}${path}`);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(res.headers.get('x-powered-by')).toBeNull();
      // frame-ancestors replaces X-Frame-Options, which cannot name several origins.
      expect(res.headers.get('x-frame-options')).toBeNull();
      const directives = csp(res.headers);
      expect(directives.get('frame-ancestors')).toEqual(['*']);
      expect(directives.get('default-src')).toEqual(["'self'"]);
      expect(directives.get('object-src')).toEqual(["'none'"]);
      // A plain-http install must keep working: nothing is rewritten to https.
      expect(directives.has('upgrade-insecure-requests')).toBe(false);
    }
  });

  it.each(['/widget.js', '/count.js', ...Object.values(PART_PATHS).map((path) => `/${basename(path)}`)])(
    'lets other sites load %s with a plain script tag',
    async (path) => {
      const res = await fetch(`${app.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    },
  );

  it('sends frame-ancestors on every served HTML page', async () => {
    const res = await fetch(`${app.url}/`);
    const type = res.headers.get('content-type') ?? '';
    expect(csp(res.headers).get('frame-ancestors')).toEqual(['*']);
    if (type.startsWith('text/html')) expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
  });
});

describe('security headers with ALLOWED_ORIGINS', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { ALLOWED_ORIGINS: 'https://news.example.com,https://www.example.com' } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('allows framing by this origin and the allowed page origins only', async () => {
    const res = await fetch(`${app.url}/healthz`);
    expect(csp(res.headers).get('frame-ancestors')).toEqual([
      "'self'",
      'https://news.example.com',
      'https://www.example.com',
    ]);
  });

  it('still serves /widget.js cross-origin: embedding is decided by frame-ancestors and CORS, not by who may load the script', async () => {
    const res = await fetch(`${app.url}/widget.js`);
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
  });
});

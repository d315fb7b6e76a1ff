import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GZIP_BUDGET_BYTES, gzippedSize, WIDGET_PATH } from '../../client/build.mjs';
import { ensureWidgetBuilt } from '../helpers/browser.ts';

describe('widget.js size', () => {
  it(`stays within its budget of ${GZIP_BUDGET_BYTES / 1024} KB gzipped`, async () => {
    // Measures the file the server serves, rebuilt from the current sources.
    await ensureWidgetBuilt();
    const bytes = readFileSync(WIDGET_PATH);
    const gzipped = gzippedSize(bytes);
    console.info(`widget.js: ${(bytes.length / 1024).toFixed(1)} KB, ${(gzipped / 1024).toFixed(1)} KB gzipped`);
    expect(gzipped).toBeGreaterThan(0);
    expect(gzipped, `widget.js is ${gzipped} bytes gzipped; the budget is ${GZIP_BUDGET_BYTES}`).toBeLessThanOrEqual(
      GZIP_BUDGET_BYTES,
    );
  });

  it('is one self-contained script: no imports, no eval, no HTML parsing of data', () => {
    const source = readFileSync(WIDGET_PATH, 'utf8');
    expect(source).not.toMatch(/^\s*import[\s{*]/m);
    expect(source).not.toMatch(/\binnerHTML\b|\bouterHTML\b|insertAdjacentHTML|document\.write\b|\beval\(/);
  });

  it('leaves out what readers never need: the admin page, the binary Socket.IO parser, WebTransport, polling, server-only schemas', () => {
    const source = readFileSync(WIDGET_PATH, 'utf8');
    // Moderator code lives in admin.js; the text-only parser replaces socket.io-parser (no binary placeholders).
    expect(source).not.toMatch(/admin:subscribe|Ban the author|_placeholder|WebTransport/);
    // HTTP long-polling is the part widget-polling.js, loaded after a WebSocket connection failed.
    expect(source).not.toMatch(/XMLHttpRequest/);
    // Schemas of server-only inputs (query strings, socket payloads, ban input) are tree-shaken away.
    expect(source).not.toMatch(/before must be a cursor|articleIds must not be empty|expiresInMinutes/);
    // … while the ones the widget checks its input and answers with are there.
    expect(source).toMatch(/Comment must not be empty/);
  });
});

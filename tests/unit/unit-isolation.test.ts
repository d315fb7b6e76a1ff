import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// `npm run test:unit` promises tests that need no Redis, PostgreSQL or Chromium (and no preflight). A unit
// test that starts the app, a store on PostgreSQL, a Redis client or a browser belongs in tests/integration
// or tests/e2e: this fails when one reaches for them.
const ROOT = resolve(import.meta.dirname, '..', '..');
const UNIT = join(ROOT, 'tests', 'unit');

/** What a unit test may not use: the service helpers and clients, and launching the browser. */
const FORBIDDEN: ReadonlyArray<[RegExp, string]> = [
  [/from\s+'[./]*helpers\/(test-app|store-factories|processes|redis-cluster|logged-process)\.ts'/, 'a service helper'],
  [/from\s+'(ioredis|pg|socket\.io-client)'/, 'a service client'],
  [/\blaunchBrowser\(/, 'Chromium'],
  [/\b(REDIS_URL|DATABASE_URL|TEST_DATABASE_URL)\b/, 'a service address'],
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('unit tests need no service', () => {
  it('no file in tests/unit uses Redis, PostgreSQL, Chromium or the app', () => {
    const self = relative(ROOT, import.meta.filename);
    const found = sources(UNIT)
      .map((path) => relative(ROOT, path))
      .filter((file) => file !== self)
      .flatMap((file) => {
        const text = readFileSync(join(ROOT, file), 'utf8');
        return FORBIDDEN.filter(([pattern]) => pattern.test(text)).map(([, what]) => `${file}: ${what}`);
      });
    expect(found, 'move these to tests/integration or tests/e2e').toEqual([]);
  });
});

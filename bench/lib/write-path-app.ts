import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createApp, type App } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';

/**
 * The product's comment service and SQLite store as `createApp` wires them, on a fresh file, silent and
 * with every budget off, for the in-process write-path workers (no HTTP, no subscribers).
 */
export async function startWritePathApp(): Promise<{ app: App; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'live-comments-bench-write-'));
  const off = '0';
  const app = await createApp(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      SQLITE_PATH: join(dir, 'bench.db'),
      SEED_DEMO: 'false',
      LOG_LEVEL: 'silent',
      RATE_LIMIT_POSTS_PER_MINUTE_IP: off,
      RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: off,
      RATE_LIMIT_LIKES_PER_MINUTE_IP: off,
      RATE_LIMIT_LIKES_PER_MINUTE_COMMENT: off,
    }),
    { logger: pino({ level: 'silent' }) },
  );
  return {
    app,
    close: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

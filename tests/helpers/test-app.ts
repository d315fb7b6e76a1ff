import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nanoid } from 'nanoid';
import { pino, type Logger } from 'pino';
import { io as connect, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../shared/events.ts';
import { createApp, type App, type AppOverrides } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestApp {
  app: App;
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Share one SQLite file between apps; a fresh temp file when absent. */
  sqlitePath?: string;
  /** Use Redis fan-out with this channel prefix (one per test, so tests never hear each other). */
  redisPrefix?: string;
  /** With `redisPrefix`: a Redis Cluster (REDIS_CLUSTER_NODES) instead of the machine's Redis. */
  redisClusterNodes?: string;
  env?: Record<string, string>;
  /** The app's logger (silent unless TEST_LOG_LEVEL is set). */
  logger?: Logger;
  /** The outbox worker's poll interval and clock. */
  outbox?: AppOverrides['outbox'];
}

/** A temp directory removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'live-comments-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A real app on 127.0.0.1 and a free port, with its own SQLite file unless one is given. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const temp = options.sqlitePath ? null : tempDir();
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    SQLITE_PATH: options.sqlitePath ?? join(temp!.dir, 'comments.db'),
    SEED_DEMO: 'false',
    LOG_LEVEL: 'silent',
    // Abuse budgets off unless a test sets them: suites post and connect from one address far faster than any reader.
    RATE_LIMIT_POSTS_PER_MINUTE_IP: '0',
    RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: '0',
    RATE_LIMIT_EDITS_PER_MINUTE_IP: '0',
    RATE_LIMIT_EDITS_PER_MINUTE_COMMENT: '0',
    RATE_LIMIT_DELETES_PER_MINUTE_IP: '0',
    RATE_LIMIT_LIKES_PER_MINUTE_IP: '0',
    RATE_LIMIT_LIKES_PER_MINUTE_COMMENT: '0',
    RATE_LIMIT_REPORTS_PER_MINUTE_IP: '0',
    RATE_LIMIT_REPORTS_PER_MINUTE_COMMENT: '0',
    SOCKET_EVENTS_PER_10S: '0',
    MAX_CONNECTIONS_PER_IP: '0',
    ...(options.redisPrefix
      ? {
          ...(options.redisClusterNodes ? { REDIS_CLUSTER_NODES: options.redisClusterNodes } : { REDIS_URL }),
          REDIS_PREFIX: options.redisPrefix,
        }
      : {}),
    ...options.env,
  });
  const app = await createApp(config, {
    logger: options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    ...(options.outbox ? { outbox: options.outbox } : {}),
  }).catch((error: unknown) => {
    temp?.cleanup();
    throw error;
  });
  const port = await app.listen();
  return {
    app,
    port,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      temp?.cleanup();
    },
  };
}

export interface TestAppPair {
  a: TestApp;
  b: TestApp;
  /** The SQLite file both use, and their Redis prefix: what another process (the CLI) needs to join them. */
  sqlitePath: string;
  redisPrefix: string;
  /** Closes both apps and removes their shared SQLite file. */
  close(): Promise<void>;
}

/**
 * Two instances over one SQLite file and one fresh Redis prefix (on a Redis Cluster when its nodes are
 * given), as two apps in this process: the pair integration and browser tests (tests/e2e/two-instances.ts)
 * share. B starts once A has created and migrated the file.
 */
export async function startTwoTestApps(
  env: Record<string, string> = {},
  redisClusterNodes?: string,
): Promise<TestAppPair> {
  const temp = tempDir();
  const sqlitePath = join(temp.dir, 'shared.db');
  const redisPrefix = uniquePrefix();
  const cluster = redisClusterNodes ? { redisClusterNodes } : {};
  const a = await startTestApp({ sqlitePath, redisPrefix, env, ...cluster });
  const b = await startTestApp({ sqlitePath, redisPrefix, env, ...cluster });
  return {
    a,
    b,
    sqlitePath,
    redisPrefix,
    close: async () => {
      await a.close();
      await b.close();
      temp.cleanup();
    },
  };
}

export type TestSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A connected socket.io-client on the websocket transport. */
export async function connectSocket(
  url: string,
  options: { extraHeaders?: Record<string, string>; auth?: Record<string, unknown> } = {},
): Promise<TestSocket> {
  const socket: TestSocket = connect(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...options,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

export const uniqueArticle = (label = 'a') => `${label}-${nanoid(10)}`;
export const uniquePrefix = () => `test:${nanoid(8)}:`;

/** POSTs JSON and returns status, headers and the parsed body. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : null };
}

export async function getJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : null };
}

/** True when `text` is well-formed UTF-16: it survives a UTF-8 round trip unchanged (a lone surrogate would not). */
export function survivesUtf8(text: string): boolean {
  return Buffer.from(text, 'utf8').toString('utf8') === text;
}

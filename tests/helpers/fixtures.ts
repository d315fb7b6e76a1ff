import { test as base } from 'vitest';
import type { CommentStore } from '../../server/storage/port.ts';
import { connectSocket, startTestApp, type TestApp, type TestAppOptions, type TestSocket } from './test-app.ts';
import { TestClient } from './test-client.ts';

/** A started app with its typed REST client. */
export interface ClientApp extends TestApp {
  api: TestClient;
}

/**
 * Self-cleaning fixtures (vitest `test.extend`): what a test opens through them is closed after it, last
 * opened first, whether it passed or failed, so test files keep no teardown arrays.
 *
 * - `defer(fn)`: runs `fn` after the test.
 * - `startApp(options)`: an app (tests/helpers/test-app.ts) with its typed client `api`.
 * - `connect(url)`: a socket.io-client on the websocket transport.
 */
export const test = base
  // vitest reads a fixture's dependencies from its first parameter's destructuring: this one has none.
  .extend('defer', async ({}, { onCleanup }) => {
    const cleanups: Array<() => unknown> = [];
    onCleanup(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    return (cleanup: () => unknown): void => void cleanups.push(cleanup);
  })
  .extend('startApp', async ({ defer }) => {
    return async (options: TestAppOptions = {}): Promise<ClientApp> => {
      const app = await startTestApp(options);
      defer(() => app.close());
      return { ...app, api: new TestClient(app.url) };
    };
  })
  .extend('connect', async ({ defer }) => {
    return async (url: string, options?: Parameters<typeof connectSocket>[1]): Promise<TestSocket> => {
      const socket = await connectSocket(url, options);
      defer(() => socket.disconnect());
      return socket;
    };
  });

/** `test` with `newStore()`: a fresh, empty store made by `make` (tests/helpers/store-factories.ts), closed after the test. */
export function storeTest(make: () => Promise<CommentStore>) {
  return test.extend('newStore', async ({ defer }) => {
    return async (): Promise<CommentStore> => {
      const store = await make();
      defer(() => store.close());
      return store;
    };
  });
}

import { describe, expect, it, vi } from 'vitest';
import { WriteBreaker } from '../../server/comments/write-breaker.ts';
import { createLogger } from '../../server/logger.ts';
import { OutboxWorker } from '../../server/notify/outbox-worker.ts';
import type { NotifySubscribers } from '../../server/notify/subscribers.ts';
import { StoreUnavailableError, type CommentStore } from '../../server/storage/port.ts';

// A locked SQLite file blocks the event loop for its busy timeout on every call. Posts stop asking the
// store for a moment after one slow failure (WriteBreaker); the outbox worker, polling every second,
// must go through the same breaker, or each of its polls adds that wait to whatever post comes next.
describe('the outbox worker and the write breaker', () => {
  it('does not touch the store while the breaker is open, and opens it when a poll finds the store down', async () => {
    let clock = 0;
    const breaker = new WriteBreaker(1000, 250, () => clock);
    let refreshes = 0;
    const subscribers = {
      refresh: async () => {
        refreshes += 1;
        clock += 1000; // the store's busy timeout, spent
        throw new StoreUnavailableError('database is locked');
      },
    } as unknown as NotifySubscribers;
    const worker = new OutboxWorker({
      store: {} as CommentStore,
      subscribers,
      breaker,
      logger: createLogger('silent', 'test'),
      allowPrivate: false,
      retryHorizonMs: 1000,
      pollMs: 5,
    });
    worker.start();
    await vi.waitFor(() => expect(refreshes).toBe(1));
    // The poll failed slowly: the breaker is open, so posts fail fast and the next polls do not ask.
    expect(breaker.open).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(refreshes).toBe(1);
    // After the cool-down the next poll is the probe.
    clock += 1000;
    await vi.waitFor(() => expect(refreshes).toBe(2));
    await worker.stop();
  });
});

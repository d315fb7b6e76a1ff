import { describe, expect, it } from 'vitest';
import { createLogger } from '../../server/logger.ts';
import type { Mailer } from '../../server/notify/mailer.ts';
import { OutboxWorker } from '../../server/notify/outbox-worker.ts';
import { NotifySubscribers } from '../../server/notify/subscribers.ts';
import type { WebhookRecord } from '../../server/storage/outbox.ts';
import type { CommentStore } from '../../server/storage/port.ts';

// Every instance polls the outbox once a second. With no webhook, no mailer and no digest nothing can be
// due (rows are written only for subscribers, mail only by a digest), so a poll reads the webhook list
// (how a webhook added on another instance reaches this one) and asks the store nothing more.
function fakeStore(webhooks: WebhookRecord[]) {
  const calls = { webhooks: 0, claims: 0 };
  const store = {
    webhooks: async () => {
      calls.webhooks += 1;
      return webhooks;
    },
    claimOutbox: async () => {
      calls.claims += 1;
      return [];
    },
    pruneOutbox: async () => 0,
    pruneSubscriptions: async () => 0,
  } as unknown as CommentStore;
  return { store, calls };
}

function worker(store: CommentStore, options: { mailer?: Mailer } = {}) {
  return new OutboxWorker({
    store,
    subscribers: new NotifySubscribers(store),
    logger: createLogger('silent', 'test'),
    allowPrivate: false,
    retryHorizonMs: 1000,
    ...options,
  });
}

const hook: WebhookRecord = {
  id: 'wh_1',
  url: 'https://hooks.example.com/x',
  events: ['comment.created'],
  secret: 's',
  createdAt: '2026-01-01T00:00:00.000Z',
};

describe('the outbox worker with nothing to deliver', () => {
  it('refreshes the webhook list on each poll and claims nothing without webhooks, mailer or digest', async () => {
    const { store, calls } = fakeStore([]);
    const idle = worker(store);
    for (let i = 0; i < 3; i++) expect(await idle.pollOnce()).toBe(0);
    expect(calls).toEqual({ webhooks: 3, claims: 0 });
  });

  it('claims once a webhook exists', async () => {
    const { store, calls } = fakeStore([hook]);
    await worker(store).pollOnce();
    expect(calls).toEqual({ webhooks: 1, claims: 1 });
  });

  it('claims with a mailer, for mail queued by any instance', async () => {
    const { store, calls } = fakeStore([]);
    await worker(store, { mailer: {} as Mailer }).pollOnce();
    expect(calls).toEqual({ webhooks: 1, claims: 1 });
  });
});

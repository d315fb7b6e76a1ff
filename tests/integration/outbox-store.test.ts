import fc from 'fast-check';
import { nanoid } from 'nanoid';
import { describe, expect, it } from 'vitest';
import { WebhookPayloadSchema, type WebhookEvent } from '../../shared/notifications.ts';
import type { OutboxSubscriber, WebhookRecord } from '../../server/storage/outbox.ts';
import type { CommentStore } from '../../server/storage/port.ts';
import { storeTest } from '../helpers/fixtures.ts';
import { makeArticleId, makeRecord, sharedStoreFactories, storeFactories } from '../helpers/store-factories.ts';

const ALL: WebhookEvent[] = ['comment.created', 'comment.updated', 'comment.removed', 'comment.held'];

function webhook(events: WebhookEvent[] = ALL): WebhookRecord {
  return {
    id: `wh_${nanoid(10)}`,
    url: 'http://127.0.0.1:9/hook',
    events,
    secret: 's'.repeat(32),
    createdAt: new Date().toISOString(),
  };
}

const target = (w: WebhookRecord): OutboxSubscriber => ({ kind: 'webhook', id: w.id, events: w.events });
const FAR = '2999-01-01T00:00:00.000Z';
const iso = (ms: number): string => new Date(ms).toISOString();

describe.each(storeFactories)('outbox contract: %s', (_name, makeStore) => {
  const it = storeTest(makeStore);

  it('keeps webhooks: add, list with secret, remove', async ({ newStore }) => {
    const store = await newStore();
    const a = webhook(['comment.created']);
    const b = webhook();
    await store.addWebhook(a);
    await store.addWebhook(b);
    expect((await store.webhooks()).map((w) => w.id).sort()).toEqual([a.id, b.id].sort());
    expect((await store.webhooks()).find((w) => w.id === a.id)).toEqual(a);
    expect(await store.removeWebhook(a.id)).toBe(true);
    expect(await store.removeWebhook(a.id)).toBe(false);
    expect((await store.webhooks()).map((w) => w.id)).toEqual([b.id]);
  });

  it('writes nothing without targets, and one row per subscribed target with each change', async ({ newStore }) => {
    const store = await newStore();
    const all = webhook();
    const createdOnly = webhook(['comment.created']);
    await store.addWebhook(all);
    await store.addWebhook(createdOnly);
    const articleId = makeArticleId();
    await store.submit(makeRecord({ articleId }), { hold: false });
    expect((await store.outboxStats()).queued).toBe(0);

    const notify = [target(all), target(createdOnly)];
    const stored = await store.submit(makeRecord({ articleId, body: 'first' }), { hold: false, notify });
    expect(stored.kind).toBe('stored');
    const id = stored.kind === 'stored' ? stored.comment.id : '';
    expect((await store.outboxStats()).queued).toBe(2);
    await store.edit(id, 'edited', new Date().toISOString(), notify);
    await store.remove(id, 'moderator', notify);
    await store.restore(id, notify);
    const held = await store.submit(makeRecord({ articleId, body: 'waits' }), { hold: true, notify });
    const heldId = held.kind === 'held' ? held.held.id : '';
    await store.approve(heldId, notify);
    // A change that changes nothing writes nothing.
    await store.restore(id, notify);

    const items = await store.claimOutbox(FAR, 100, 60_000);
    const payloads = items.map((item) => ({ item, payload: WebhookPayloadSchema.parse(JSON.parse(item.payload)) }));
    const forAll = payloads.filter((p) => p.item.target === all.id).map((p) => p.payload);
    // Rows of one instant come in no particular order: compare what each carries.
    const seen = forAll.map(
      (p) => `${p.type} ${p.data.comment.body} ${'seq' in p.data.comment ? p.data.comment.seq : '-'}`,
    );
    expect(seen.sort()).toEqual(
      [
        'comment.created first 2',
        'comment.updated edited 3',
        'comment.removed  4',
        'comment.updated edited 5',
        'comment.held waits -',
        'comment.created waits 6',
      ].sort(),
    );
    const created = forAll.find((p) => p.type === 'comment.created' && p.data.comment.id === id);
    expect(created?.data.comment).toMatchObject({ id, seq: 2, status: 'visible', editedAt: null });
    expect(forAll.find((p) => p.type === 'comment.held')?.data.comment).not.toHaveProperty('authorKey');
    expect(payloads.filter((p) => p.item.target === createdOnly.id).map((p) => p.payload.type)).toEqual([
      'comment.created',
      'comment.created',
    ]);
    // Each row's id is the payload's id, and unique.
    expect(payloads.every((p) => p.payload.id === p.item.id)).toBe(true);
    expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
  });

  it('writes no row for a repeated clientId', async ({ newStore }) => {
    const store = await newStore();
    const w = webhook();
    await store.addWebhook(w);
    const record = makeRecord({ clientId: nanoid() });
    await store.submit(record, { hold: false, notify: [target(w)] });
    const again = await store.submit({ ...record, id: nanoid() }, { hold: false, notify: [target(w)] });
    expect(again).toMatchObject({ kind: 'stored', created: false });
    expect((await store.outboxStats()).queued).toBe(1);
  });

  it('claims with a lease: claimed rows are not due again until it ends, then come back', async ({ newStore }) => {
    const store = await newStore();
    const w = webhook();
    await store.addWebhook(w);
    await store.submit(makeRecord(), { hold: false, notify: [target(w)] });
    const now = Date.now() + 1000;
    const first = await store.claimOutbox(iso(now), 10, 60_000);
    expect(first).toHaveLength(1);
    expect(await store.claimOutbox(iso(now + 59_000), 10, 60_000)).toEqual([]);
    const again = await store.claimOutbox(iso(now + 61_000), 10, 60_000);
    expect(again.map((i) => i.id)).toEqual(first.map((i) => i.id));
    // The expired claim no longer settles; the current one does.
    const claimed = first[0]!;
    expect(await store.settleOutbox(claimed.id, claimed.claim, { outcome: 'sent', at: iso(now), status: 200 })).toBe(
      false,
    );
    const current = again[0]!;
    expect(
      await store.settleOutbox(current.id, current.claim, { outcome: 'sent', at: iso(now + 61_000), status: 204 }),
    ).toBe(true);
    expect(await store.outboxStats()).toEqual({ queued: 0, failed: 0, oldestCreatedAt: null });
  });

  it('settles: retry later with attempts counted, then failed; attempts listed newest first', async ({ newStore }) => {
    const store = await newStore();
    const w = webhook();
    await store.addWebhook(w);
    await store.submit(makeRecord(), { hold: false, notify: [target(w)] });
    const t0 = Date.now() + 1000;
    const [item] = await store.claimOutbox(iso(t0), 10, 60_000);
    expect(item?.attempts).toBe(0);
    await store.settleOutbox(item!.id, item!.claim, {
      outcome: 'retry',
      at: iso(t0),
      nextAt: iso(t0 + 10_000),
      status: 500,
      error: 'HTTP 500',
    });
    expect(await store.claimOutbox(iso(t0 + 9_000), 10, 60_000)).toEqual([]);
    const stats = await store.outboxStats();
    expect(stats.queued).toBe(1);
    expect(stats.oldestCreatedAt).not.toBeNull();
    const [retried] = await store.claimOutbox(iso(t0 + 10_000), 10, 60_000);
    expect(retried).toMatchObject({ id: item!.id, attempts: 1, payload: item!.payload });
    await store.settleOutbox(retried!.id, retried!.claim, {
      outcome: 'failed',
      at: iso(t0 + 10_000),
      status: null,
      error: 'connect ECONNREFUSED',
    });
    expect(await store.outboxStats()).toEqual({ queued: 0, failed: 1, oldestCreatedAt: null });
    expect(await store.outboxAttempts(w.id, 10)).toEqual([
      {
        deliveryId: item!.id,
        type: 'comment.created',
        attempt: 2,
        at: iso(t0 + 10_000),
        outcome: 'failed',
        status: null,
        error: 'connect ECONNREFUSED',
      },
      {
        deliveryId: item!.id,
        type: 'comment.created',
        attempt: 1,
        at: iso(t0),
        outcome: 'retry',
        status: 500,
        error: 'HTTP 500',
      },
    ]);
    expect(await store.claimOutbox(FAR, 10, 60_000)).toEqual([]);
    // Pruning drops settled rows and attempts older than the cut.
    expect(await store.pruneOutbox(FAR)).toBe(1);
    expect(await store.outboxAttempts(w.id, 10)).toEqual([]);
    expect(await store.outboxStats()).toEqual({ queued: 0, failed: 0, oldestCreatedAt: null });
  });

  it('queues a notification made outside a change once per id (the moderators’ digest)', async ({ newStore }) => {
    const store = await newStore();
    const row = {
      id: `digest_${nanoid(6)}`,
      kind: 'mail' as const,
      target: 'moderators',
      type: 'moderation.digest' as const,
      payload: '{"to":["m@example.test"],"subject":"s","text":"t"}',
      createdAt: new Date().toISOString(),
    };
    expect(await store.enqueueOutbox(row)).toBe(true);
    expect(await store.enqueueOutbox({ ...row, payload: '{}' })).toBe(false);
    const items = await store.claimOutbox(FAR, 10, 60_000);
    expect(items).toEqual([{ ...row, attempts: 0, claim: items[0]?.claim }]);
  });

  it('drops a removed webhook’s pending rows', async ({ newStore }) => {
    const store = await newStore();
    const w = webhook();
    await store.addWebhook(w);
    await store.submit(makeRecord(), { hold: false, notify: [target(w)] });
    await store.removeWebhook(w.id);
    expect((await store.outboxStats()).queued).toBe(0);
  });
});

describe.each(sharedStoreFactories)('outbox claims across instances: %s', (_name, openShared) => {
  it('never gives one row to two claimers at once (property over claims, settles and expiries)', async () => {
    const shared = await openShared(3);
    try {
      const [a, b, c] = shared.stores as [CommentStore, CommentStore, CommentStore];
      const w = webhook();
      await a.addWebhook(w);
      const articleId = makeArticleId();
      for (let i = 0; i < 12; i++) await a.submit(makeRecord({ articleId }), { hold: false, notify: [target(w)] });
      let epoch = Date.now() + 1000;
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              claimer: fc.constantFrom(0, 1, 2),
              limit: fc.integer({ min: 1, max: 5 }),
              advance: fc.integer({ min: 0, max: 70_000 }),
              settle: fc.boolean(),
            }),
            { minLength: 1, maxLength: 12 },
          ),
          async (steps) => {
            // Each run starts far past every lease of the previous one.
            epoch += 1e9;
            let clock = epoch;
            /** Row id → lease end of the claim that holds it. */
            const held = new Map<string, { until: number; claim: string }>();
            const stores = [a, b, c];
            for (const step of steps) {
              clock += step.advance;
              // Two claimers at the same instant, concurrently: their rows never overlap.
              const [first, second] = await Promise.all([
                stores[step.claimer]!.claimOutbox(iso(clock), step.limit, 60_000),
                stores[(step.claimer + 1) % 3]!.claimOutbox(iso(clock), step.limit, 60_000),
              ]);
              const ids = [...first, ...second].map((item) => item.id);
              expect(new Set(ids).size).toBe(ids.length);
              for (const item of [...first, ...second]) {
                const previous = held.get(item.id);
                // A row is claimed again only after its previous lease ended.
                if (previous) expect(clock).toBeGreaterThanOrEqual(previous.until);
                held.set(item.id, { until: clock + 60_000, claim: item.claim });
              }
              if (step.settle)
                for (const item of first) {
                  const settled = await stores[step.claimer]!.settleOutbox(item.id, item.claim, {
                    outcome: 'retry',
                    at: iso(clock),
                    nextAt: iso(clock + 1),
                    status: 500,
                    error: 'HTTP 500',
                  });
                  expect(settled).toBe(true);
                  held.set(item.id, { until: clock + 1, claim: '' });
                }
            }
          },
        ),
        { numRuns: 15 },
      );
    } finally {
      await shared.close();
    }
  });
});

import { nanoid } from 'nanoid';
import { describe, expect, test } from 'vitest';
import type { OutboxRow } from '../../server/storage/outbox.ts';
import { newSubscriptionId, type NewSubscription, type SubscribeWith } from '../../server/storage/subscriptions.ts';
import { storeTest } from '../helpers/fixtures.ts';
import { makeRecord, sharedStoreFactories, storeFactories } from '../helpers/store-factories.ts';

const FAR = '2999-01-01T00:00:00.000Z';
const iso = (ms: number): string => new Date(ms).toISOString();

/** A guest's pending subscription to `commentId`, expiring in a day, with its confirmation e-mail row. */
function subscribing(commentId: string, articleId: string, overrides: Partial<NewSubscription> = {}): SubscribeWith {
  const now = Date.now();
  const subscription: NewSubscription = {
    id: newSubscriptionId(),
    commentId,
    articleId,
    pageUrl: 'https://blog.example/post',
    email: 'ada@example.org',
    authorKey: 'k'.repeat(32),
    memberSub: null,
    createdAt: iso(now),
    status: 'pending',
    expiresAt: iso(now + 86_400_000),
    ...overrides,
  };
  const confirmation: OutboxRow | null =
    subscription.status === 'pending'
      ? {
          id: `dlv_${nanoid(24)}`,
          kind: 'mail',
          target: subscription.id,
          type: 'subscription.confirm',
          payload: JSON.stringify({ subscriptionId: subscription.id }),
          createdAt: subscription.createdAt,
        }
      : null;
  return { subscription, confirmation };
}

describe.each(storeFactories)('reply subscriptions contract: %s', (_name, makeStore) => {
  const it = storeTest(makeStore);

  it('writes a pending subscription and its confirmation e-mail with the post, stored or held', async ({
    newStore,
  }) => {
    const store = await newStore();
    const record = makeRecord();
    const subscribe = subscribing(record.id, record.articleId);
    const stored = await store.submit(record, { hold: false, subscribe });
    expect(stored.kind).toBe('stored');
    const kept = await store.getSubscription(subscribe.subscription.id);
    expect(kept).toMatchObject({
      ...subscribe.subscription,
      confirmedAt: null,
      lastMailAt: null,
      mailedSeq: 0,
    });
    const [mail] = await store.claimOutbox(FAR, 10, 60_000);
    expect(mail).toMatchObject({ kind: 'mail', type: 'subscription.confirm', target: subscribe.subscription.id });

    const held = makeRecord();
    const heldSubscribe = subscribing(held.id, held.articleId);
    expect((await store.submit(held, { hold: true, subscribe: heldSubscribe })).kind).toBe('held');
    expect(await store.getSubscription(heldSubscribe.subscription.id)).not.toBeNull();
  });

  it('writes nothing for a repeated clientId or a refused post', async ({ newStore }) => {
    const store = await newStore();
    const record = makeRecord({ clientId: nanoid() });
    await store.submit(record, { hold: false });
    const again = subscribing(record.id, record.articleId);
    expect(await store.submit({ ...record, id: nanoid() }, { hold: false, subscribe: again })).toMatchObject({
      created: false,
    });
    expect(await store.getSubscription(again.subscription.id)).toBeNull();

    const locked = makeRecord();
    await store.setArticleSettings(locked.articleId, { locked: true });
    const refused = subscribing(locked.id, locked.articleId);
    expect((await store.submit(locked, { hold: false, subscribe: refused })).kind).toBe('refused');
    expect(await store.getSubscription(refused.subscription.id)).toBeNull();
    expect((await store.outboxStats()).queued).toBe(0);
  });

  it('confirms a pending subscription once, not an expired one; a member is confirmed at once', async ({
    newStore,
  }) => {
    const store = await newStore();
    const record = makeRecord();
    const subscribe = subscribing(record.id, record.articleId);
    await store.submit(record, { hold: false, subscribe });
    const id = subscribe.subscription.id;
    const at = iso(Date.now() + 1000);
    expect(await store.confirmSubscription(id, at)).toMatchObject({
      status: 'confirmed',
      confirmedAt: at,
      expiresAt: null,
    });
    // A second click answers the confirmed subscription as it is.
    expect(await store.confirmSubscription(id, iso(Date.now() + 5000))).toMatchObject({ confirmedAt: at });
    expect(await store.confirmSubscription('sub_unknown', at)).toBeNull();

    const late = makeRecord();
    const lateSubscribe = subscribing(late.id, late.articleId);
    await store.submit(late, { hold: false, subscribe: lateSubscribe });
    expect(await store.confirmSubscription(lateSubscribe.subscription.id, FAR)).toBeNull();
    expect(await store.getSubscription(lateSubscribe.subscription.id)).toMatchObject({ status: 'pending' });

    const member = makeRecord({ memberSub: 'm-1' });
    const memberSubscribe = subscribing(member.id, member.articleId, {
      status: 'confirmed',
      expiresAt: null,
      memberSub: 'm-1',
    });
    await store.submit(member, { hold: false, subscribe: memberSubscribe });
    expect(await store.getSubscription(memberSubscribe.subscription.id)).toMatchObject({
      status: 'confirmed',
      confirmedAt: memberSubscribe.subscription.createdAt,
    });
    expect(memberSubscribe.confirmation).toBeNull();
  });

  it('unsubscribe erases the address and the e-mails queued for it', async ({ newStore }) => {
    const store = await newStore();
    const record = makeRecord();
    const subscribe = subscribing(record.id, record.articleId);
    await store.submit(record, { hold: false, subscribe });
    const id = subscribe.subscription.id;
    expect((await store.outboxStats()).queued).toBe(1);
    expect(await store.unsubscribe(id)).toMatchObject({ id, email: 'ada@example.org' });
    expect(await store.getSubscription(id)).toBeNull();
    expect((await store.outboxStats()).queued).toBe(0);
    expect(await store.unsubscribe(id)).toBeNull();
  });

  it('prunes expired pending subscriptions (their addresses) and old daily counts', async ({ newStore }) => {
    const store = await newStore();
    const pending = makeRecord();
    const pendingSubscribe = subscribing(pending.id, pending.articleId);
    await store.submit(pending, { hold: false, subscribe: pendingSubscribe });
    const confirmed = makeRecord();
    const confirmedSubscribe = subscribing(confirmed.id, confirmed.articleId);
    await store.submit(confirmed, { hold: false, subscribe: confirmedSubscribe });
    await store.confirmSubscription(confirmedSubscribe.subscription.id, iso(Date.now()));

    expect(await store.pruneSubscriptions(iso(Date.now()))).toBe(0);
    expect(await store.pruneSubscriptions(FAR)).toBe(1);
    expect(await store.getSubscription(pendingSubscribe.subscription.id)).toBeNull();
    expect(await store.getSubscription(confirmedSubscribe.subscription.id)).not.toBeNull();

    expect(await store.countMail('addr', '2026-01-01', 1)).toBe(true);
    expect(await store.countMail('addr', '2026-01-01', 1)).toBe(false);
    await store.pruneSubscriptions('2026-01-02T00:00:00.000Z');
    // The old day's count went: the same day counts afresh.
    expect(await store.countMail('addr', '2026-01-01', 1)).toBe(true);
  });

  it('a reply to a confirmed subscription queues one e-mail, merged until it is claimed; never for the subscriber’s own', async ({
    newStore,
  }) => {
    const store = await newStore();
    const replyMail = { batchMs: 600_000 };
    const record = makeRecord({ authorKey: 'k'.repeat(32) });
    const subscribe = subscribing(record.id, record.articleId);
    await store.submit(record, { hold: false, subscribe });
    const id = subscribe.subscription.id;
    const [confirmation] = await store.claimOutbox(FAR, 10, 60_000);
    await store.settleOutbox(confirmation!.id, confirmation!.claim, {
      outcome: 'sent',
      at: iso(Date.now()),
      status: null,
    });
    const reply = (name: string, authorKey: string) =>
      makeRecord({ articleId: record.articleId, parentId: record.id, authorName: name, authorKey });
    // Before confirmation: nothing.
    await store.submit(reply('Early', 'e'.repeat(32)), { hold: false, replyMail });
    expect((await store.outboxStats()).queued).toBe(0);
    await store.confirmSubscription(id, iso(Date.now()));

    await store.submit(reply('Own', 'k'.repeat(32)), { hold: false, replyMail });
    expect((await store.outboxStats()).queued).toBe(0);
    const bob = reply('Bob', 'b'.repeat(32));
    await store.submit(bob, { hold: false, replyMail });
    await store.submit(reply('Cy', 'c'.repeat(32)), { hold: false, replyMail });
    expect((await store.outboxStats()).queued).toBe(1);
    const held = reply('Dee', 'd'.repeat(32));
    await store.submit(held, { hold: true, replyMail });
    await store.approve(held.id, undefined, replyMail);
    expect((await store.outboxStats()).queued).toBe(1);

    const [mail] = await store.claimOutbox(FAR, 10, 60_000);
    expect(mail).toMatchObject({ kind: 'mail', type: 'reply.email', target: id });
    expect(JSON.parse(mail!.payload)).toEqual({ subscriptionId: id });
    const replies = await store.newReplies({ articleId: record.articleId, commentId: record.id }, 0, 10);
    expect(replies.map((r) => r.authorName)).toEqual(['Early', 'Own', 'Bob', 'Cy', 'Dee']);
    const subscription = await store.getSubscription(id);
    const fresh = await store.newReplies(subscription!, subscription!.mailedSeq, 10);
    expect(fresh.map((r) => r.authorName)).toEqual(['Own', 'Bob', 'Cy', 'Dee']);
    // While that e-mail is being sent, a new reply waits for the next window.
    await store.submit(reply('Eve', 'f'.repeat(32)), { hold: false, replyMail });
    expect(await store.claimOutbox(iso(Date.now() + 60_000), 10, 60_000)).toEqual([]);
    expect(await store.claimOutbox(iso(Date.now() + 601_000), 10, 60_000)).toHaveLength(1);
    await store.markMailed(id, fresh.at(-1)!.createdSeq, iso(Date.now()));
    expect((await store.getSubscription(id))?.mailedSeq).toBe(fresh.at(-1)!.createdSeq);
    expect((await store.newReplies(subscription!, fresh.at(-1)!.createdSeq, 10)).map((r) => r.authorName)).toEqual([
      'Eve',
    ]);
  });

  it('counts e-mails per address and day up to the cap', async ({ newStore }) => {
    const store = await newStore();
    const results: boolean[] = [];
    for (let i = 0; i < 4; i++) results.push(await store.countMail('addr-a', '2026-12-06', 3));
    expect(results).toEqual([true, true, true, false]);
    expect(await store.countMail('addr-b', '2026-12-06', 3)).toBe(true);
    expect(await store.countMail('addr-a', '2026-12-07', 3)).toBe(true);
  });
});

describe.each(sharedStoreFactories)('reply subscriptions across instances: %s', (_name, open) => {
  test('the daily cap holds when instances count at once', async () => {
    const shared = await open(3);
    try {
      const counted = await Promise.all(
        Array.from({ length: 12 }, (_, i) => shared.stores[i % 3]!.countMail('addr-shared', '2026-12-06', 5)),
      );
      expect(counted.filter(Boolean)).toHaveLength(5);
    } finally {
      await shared.close();
    }
  });
});

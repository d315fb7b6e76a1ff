import { nanoid } from 'nanoid';
import { describe, expect, it } from 'vitest';
import { WebhookPayloadSchema } from '../../shared/notifications.ts';
import { ReportedCommentSchema, type ReportReason } from '../../shared/reports.ts';
import type { CommentStore } from '../../server/storage/port.ts';
import type { NotifyTargets } from '../../server/storage/outbox.ts';
import type { ReportRecord } from '../../server/storage/reports.ts';
import { storeTest } from '../helpers/fixtures.ts';
import { makeArticleId, makeRecord, sharedStoreFactories, storeFactories } from '../helpers/store-factories.ts';

const THRESHOLD = 3;
const FAR = '2999-01-01T00:00:00.000Z';

function reportBy(commentId: string, reason: ReportReason = 'abuse', note: string | null = null): ReportRecord {
  return { commentId, readerId: `reader-${nanoid(10)}`, reason, note, createdAt: new Date().toISOString() };
}

describe.each(storeFactories)('reader reports storage: %s', (_name, makeStore) => {
  const it = storeTest(makeStore);

  async function stored(store: CommentStore, articleId = makeArticleId()): Promise<{ id: string; seq: number }> {
    const { comment } = await store.create(makeRecord({ articleId, body: 'reported words' }));
    return { id: comment.id, seq: comment.seq };
  }

  it('records one report per reader, takes no seq below the threshold, and queues the comment as open', async ({
    newStore,
  }) => {
    const store = await newStore();
    const { id, seq } = await stored(store);
    const first = reportBy(id, 'spam', 'buy now links');
    expect(await store.report(first, THRESHOLD)).toMatchObject({ created: true, hidden: false });
    expect(await store.report({ ...first, reason: 'abuse' }, THRESHOLD)).toMatchObject({ created: false });
    expect((await store.get(id))?.seq).toBe(seq);
    const entry = ReportedCommentSchema.parse(await store.reportedComment(id));
    expect(entry).toMatchObject({
      state: 'open',
      reports: 1,
      reasons: { spam: 1, abuse: 0, off_topic: 0, other: 0 },
      notes: ['buy now links'],
      kept: false,
    });
    expect((await store.reportedComments(100)).map((e) => e.comment.id)).toContain(id);
    expect(await store.report(reportBy('no-such-comment'), THRESHOLD)).toBeNull();
  });

  it('takes the comment out of view at the threshold with the next seq, body kept for restore', async ({
    newStore,
  }) => {
    const store = await newStore();
    const articleId = makeArticleId();
    const { id } = await stored(store, articleId);
    const before = await store.lastSeq(articleId);
    await store.report(reportBy(id, 'abuse'), THRESHOLD);
    await store.report(reportBy(id, 'off_topic', 'not about the article'), THRESHOLD);
    const third = await store.report(reportBy(id, 'abuse'), THRESHOLD);
    expect(third).toMatchObject({ created: true, hidden: true });
    expect(third?.comment).toMatchObject({ status: 'removed', body: '', originalBody: 'reported words' });
    expect(await store.lastSeq(articleId)).toBe(before + 1);
    const changes = await store.changesSince(articleId, before, 10);
    expect(changes.comments.map((c) => [c.id, c.status, c.body])).toEqual([[id, 'removed', '']]);
    expect(await store.counts([articleId])).toEqual({ [articleId]: 0 });
    const entry = await store.reportedComment(id);
    expect(entry).toMatchObject({ state: 'hidden', reports: 3, reasons: { abuse: 2, off_topic: 1 } });
    // Out of view, it cannot be reported again.
    expect(await store.report(reportBy(id), THRESHOLD)).toMatchObject({ created: false, hidden: false });
  });

  it('a restore keeps the comment: the review closes, and later reports queue it again without hiding it', async ({
    newStore,
  }) => {
    const store = await newStore();
    const articleId = makeArticleId();
    const { id } = await stored(store, articleId);
    for (let i = 0; i < THRESHOLD; i++) await store.report(reportBy(id), THRESHOLD);
    const restored = await store.restore(id);
    expect(restored).toMatchObject({ changed: true, comment: { status: 'visible', body: 'reported words' } });
    expect(await store.reportedComment(id)).toMatchObject({ state: 'closed', kept: true });
    expect((await store.reportedComments(100)).map((e) => e.comment.id)).not.toContain(id);

    const seq = await store.lastSeq(articleId);
    for (let i = 0; i < THRESHOLD + 1; i++)
      expect(await store.report(reportBy(id, 'spam'), THRESHOLD)).toMatchObject({ created: true, hidden: false });
    expect(await store.lastSeq(articleId)).toBe(seq);
    // A new round: only this round's reports are counted.
    expect(await store.reportedComment(id)).toMatchObject({
      state: 'open',
      reports: THRESHOLD + 1,
      reasons: { spam: THRESHOLD + 1, abuse: 0 },
      kept: true,
    });
  });

  it('a removal settles the review: a hidden one removed by a moderator takes no seq; an open one is closed', async ({
    newStore,
  }) => {
    const store = await newStore();
    const articleId = makeArticleId();
    const hidden = await stored(store, articleId);
    for (let i = 0; i < THRESHOLD; i++) await store.report(reportBy(hidden.id), THRESHOLD);
    const seq = await store.lastSeq(articleId);
    expect(await store.remove(hidden.id, 'moderator')).toMatchObject({ changed: false });
    expect(await store.lastSeq(articleId)).toBe(seq);
    expect(await store.reportedComment(hidden.id)).toMatchObject({ state: 'closed', kept: false });

    const open = await stored(store, articleId);
    await store.report(reportBy(open.id), THRESHOLD);
    expect(await store.remove(open.id, 'author')).toMatchObject({ changed: true });
    expect(await store.reportedComment(open.id)).toMatchObject({ state: 'closed' });

    const kept = await stored(store, articleId);
    await store.report(reportBy(kept.id), THRESHOLD);
    expect(await store.closeReports(kept.id, true)).toBe(true);
    expect(await store.closeReports(kept.id, true)).toBe(false);
    expect(await store.reportedComment(kept.id)).toMatchObject({ state: 'closed', kept: true });
    expect((await store.get(kept.id))?.status).toBe('visible');
  });

  it('never hides with threshold 0, and refuses reports of a removed comment', async ({ newStore }) => {
    const store = await newStore();
    const { id } = await stored(store);
    for (let i = 0; i < 5; i++) expect(await store.report(reportBy(id), 0)).toMatchObject({ hidden: false });
    expect(await store.reportedComment(id)).toMatchObject({ state: 'open', reports: 5 });
    await store.remove(id, 'author');
    expect(await store.report(reportBy(id), 0)).toMatchObject({ created: false });
  });

  it('writes comment.reported for every report and comment.removed when reports hide the comment', async ({
    newStore,
  }) => {
    const store = await newStore();
    const webhook = { id: `wh-${nanoid(8)}`, url: 'http://127.0.0.1:9/hook', secret: 's'.repeat(32) };
    await store.addWebhook({
      ...webhook,
      events: ['comment.reported', 'comment.removed'],
      createdAt: new Date().toISOString(),
    });
    const notify: NotifyTargets = [
      { kind: 'webhook', id: webhook.id, events: ['comment.reported', 'comment.removed'] },
    ];
    const { id } = await stored(store);
    for (let i = 0; i < THRESHOLD; i++) await store.report(reportBy(id, 'spam'), THRESHOLD, notify);
    const items = await store.claimOutbox(FAR, 100, 60_000);
    const payloads = items
      .filter((item) => item.target === webhook.id)
      .map((item) => WebhookPayloadSchema.parse(JSON.parse(item.payload)));
    const seen = payloads.map((p) => `${p.type} ${p.data.report?.reports ?? '-'} ${p.data.report?.state ?? '-'}`);
    expect(seen.sort()).toEqual([
      'comment.removed - -',
      'comment.reported 1 open',
      'comment.reported 2 open',
      'comment.reported 3 hidden',
    ]);
  });
});

describe.each(sharedStoreFactories)('reader reports from several instances at once: %s', (_name, open) => {
  it('hides the comment exactly once when reports race past the threshold', async () => {
    const { stores, close } = await open(3);
    try {
      const articleId = makeArticleId();
      const [first] = stores;
      if (!first) throw new Error('no store');
      const { comment } = await first.create(makeRecord({ articleId }));
      const before = await first.lastSeq(articleId);
      const outcomes = await Promise.all(
        Array.from({ length: 12 }, (_, i) => stores[i % stores.length]!.report(reportBy(comment.id), THRESHOLD)),
      );
      expect(outcomes.filter((o) => o?.hidden)).toHaveLength(1);
      // Reports after the hide find the comment out of view and write nothing.
      expect(outcomes.filter((o) => o?.created).length).toBe(THRESHOLD);
      expect(await first.lastSeq(articleId)).toBe(before + 1);
      expect(await first.reportedComment(comment.id)).toMatchObject({ state: 'hidden', reports: THRESHOLD });
    } finally {
      await close();
    }
  });
});

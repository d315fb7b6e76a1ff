import { describe, expect } from 'vitest';
import { ModeratedHeldSchema } from '../../shared/moderation.ts';
import { storeTest } from '../helpers/fixtures.ts';
import { makeArticleId, makeRecord, storeFactories } from '../helpers/store-factories.ts';

describe.each(storeFactories)('moderation pipeline storage: %s', (_name, makeStore) => {
  const it = storeTest(makeStore);

  it('keeps why a held comment waits, for the queue and the one comment', async ({ newStore }) => {
    const store = await newStore();
    const record = makeRecord({ authorKey: 'key-1', holdReason: 'suspect word “casino”' });
    const result = await store.submit(record, { hold: true });
    expect(result).toMatchObject({ kind: 'held', held: { holdReason: 'suspect word “casino”' } });
    const listed = (await store.heldList(100)).find((h) => h.id === record.id);
    expect(ModeratedHeldSchema.parse(listed).holdReason).toBe('suspect word “casino”');
    expect((await store.getHeld(record.id))?.holdReason).toBe('suspect word “casino”');
  });

  it('holds with no reason for pre-moderation, and a reason given to a post that is stored is dropped', async ({
    newStore,
  }) => {
    const store = await newStore();
    const articleId = makeArticleId();
    await store.setArticleSettings(articleId, { premoderated: true });
    const held = makeRecord({ articleId });
    expect(await store.submit(held, { hold: false })).toMatchObject({ kind: 'held', held: { holdReason: null } });
    const stored = makeRecord({ holdReason: 'ignored' });
    expect(await store.submit(stored, { hold: false })).toMatchObject({ kind: 'stored' });
  });

  it('counts an author key’s visible comments, no further than asked', async ({ newStore }) => {
    const store = await newStore();
    const authorKey = `key-${makeArticleId()}`;
    expect(await store.visibleCommentsBy(authorKey, 2)).toBe(0);
    const first = makeRecord({ authorKey });
    await store.submit(first, { hold: false });
    await store.submit(makeRecord({ authorKey }), { hold: true });
    expect(await store.visibleCommentsBy(authorKey, 2)).toBe(1);
    await store.submit(makeRecord({ authorKey }), { hold: false });
    await store.submit(makeRecord({ authorKey }), { hold: false });
    expect(await store.visibleCommentsBy(authorKey, 2)).toBe(2);
    expect(await store.visibleCommentsBy(authorKey, 5)).toBe(3);
    await store.remove(first.id, 'moderator');
    expect(await store.visibleCommentsBy(authorKey, 5)).toBe(2);
    expect(await store.visibleCommentsBy('someone-else', 5)).toBe(0);
  });
});

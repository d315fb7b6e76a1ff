import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { nanoid } from 'nanoid';
import type { ChangeResult, CommentStore, SubmitResult } from '../../server/storage/port.ts';
import { makeArticleId, makeRecord, sharedStoreFactories, type SharedStores } from '../helpers/store-factories.ts';

/** Stores opened on one database, like instances of a cluster. */
const INSTANCES = 3;

/**
 * Writes racing moderators, on both stores with several stores over one database (as instances of a
 * cluster): every decision is taken inside the write, so no answer mixes two moments.
 */
describe.each(sharedStoreFactories)('writes racing moderators: %s', (_name, openShared) => {
  let shared: SharedStores;
  const store = (i: number): CommentStore => shared.stores[i % shared.stores.length]!;
  beforeAll(async () => {
    shared = await openShared(INSTANCES);
  });
  afterAll(async () => {
    await shared?.close();
  });

  it('never lands a like on a removed comment, whatever the interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 30 }),
        fc.integer({ min: 0, max: 30 }),
        fc.constantFrom('author', 'moderator' as const),
        async (readers, removeAfter, by) => {
          const articleId = makeArticleId('like-race');
          const { comment } = await store(0).create(makeRecord({ articleId }));
          const likes: Array<Promise<ChangeResult | null>> = [];
          let removal: Promise<ChangeResult | null> | null = null;
          for (let r = 0; r < readers; r++) {
            if (r === removeAfter) removal = store(r).remove(comment.id, by);
            likes.push(store(r + 1).setLike(comment.id, `reader-${nanoid(12)}`, true));
          }
          removal ??= store(0).remove(comment.id, by);
          const [removed, ...liked] = await Promise.all([removal, ...likes]);
          expect(removed?.changed).toBe(true);
          const removedAt = removed!.comment.seq;
          const landed = liked.filter((result) => result?.changed === true);
          // Every like that took a seq took it before the removal; none came after.
          for (const like of landed) expect(like!.comment.seq).toBeLessThan(removedAt);
          for (const like of liked) if (!like!.changed) expect(like!.comment.status).toBe('removed');
          const final = await store(1).getRecord(comment.id);
          expect(final?.comment.likes).toBe(landed.length);
          expect(await store(2).lastSeq(articleId)).toBe(1 + landed.length + 1);
          // A later like changes nothing and takes no seq; an unlike still works.
          const late = await store(0).setLike(comment.id, 'reader-late-0001', true);
          expect(late).toMatchObject({ changed: false, comment: { status: 'removed' } });
          expect(await store(0).lastSeq(articleId)).toBe(removedAt);
        },
      ),
      { numRuns: 15 },
    );
  }, 60_000);

  it('decides posts racing lock, pre-moderation and ban changes on one side of each change', async () => {
    const articleId = makeArticleId('gate-race');
    const authorKey = `key-${nanoid(8)}`;
    const parent = (await store(0).create(makeRecord({ articleId }))).comment;
    let stop = false;
    const ban = () =>
      store(0).addBan({
        authorKey,
        authorName: 'x',
        reason: null,
        createdAt: new Date().toISOString(),
        expiresAt: null,
      });
    // Through every gate state and back to open between each: a post blocked by one state is decided
    // while the next may already be in force.
    const cycle: Array<() => Promise<unknown>> = [
      () => store(1).setArticleSettings(articleId, { locked: true }),
      () => store(2).setArticleSettings(articleId, { locked: false }),
      ban,
      () => store(0).removeBan(authorKey),
      () => store(1).setArticleSettings(articleId, { premoderated: true }),
      () => store(2).setArticleSettings(articleId, { premoderated: false }),
    ];
    const toggles = (async () => {
      for (let step = 0; !stop; step++) {
        await cycle[step % cycle.length]!();
        // A turn of the event loop between toggles: SQLite's settings writes resolve in a microtask,
        // and a loop of them alone would starve the group commit of posts, which waits for setImmediate.
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const outcomes: SubmitResult[] = [];
    const failures: unknown[] = [];
    await Promise.all(
      Array.from({ length: 6 }, async (_, poster) => {
        for (let i = 0; i < 80; i++) {
          const record = makeRecord({
            articleId,
            parentId: i % 2 === 0 ? parent.id : null,
            authorKey,
            clientId: i % 5 === 0 ? `retry-${poster}-${i % 10}` : null,
          });
          try {
            outcomes.push(await store(poster).submit(record, { hold: i % 3 === 0 }));
          } catch (error) {
            failures.push(error);
          }
        }
      }),
    );
    stop = true;
    await toggles;
    // No post failed (a 500) and no reply was told its existing parent is missing.
    expect(failures).toEqual([]);
    const kinds = new Set(outcomes.map((outcome) => (outcome.kind === 'refused' ? outcome.reason : outcome.kind)));
    // The race really ran through every state.
    expect(kinds.size).toBeGreaterThanOrEqual(3);
    // Stored comments still form a gapless seq.
    const changes = await store(0).changesSince(articleId, 0, 10_000);
    expect(changes.comments.map((c) => c.seq)).toEqual(changes.comments.map((_, i) => i + 1));
  }, 60_000);
});

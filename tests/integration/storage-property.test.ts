import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { nanoid } from 'nanoid';
import type { Comment } from '../../shared/schemas.ts';
import type { CommentStore, CreateResult } from '../../server/storage/port.ts';
import { makeArticleId, makeRecord, sharedStoreFactories, type SharedStores } from '../helpers/store-factories.ts';

/** Stores opened on one database, like instances of a cluster; posters and readers are spread over them. */
const INSTANCES = 3;
/** Bigger than any scenario's post count, so a reader is never told to reset. */
const READ_LIMIT = 1000;

interface Op {
  /** Posts reuse one of a few clientIds per run (shared by all posters), or none. */
  clientSlot: number | null;
  /** Reply to one of this poster's earlier comments (index modulo how many it has), or top-level. */
  reply: number | null;
}

const opArb: fc.Arbitrary<Op> = fc.record({
  clientSlot: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null, freq: 3 }),
  reply: fc.option(fc.nat(), { nil: null }),
});
const scenarioArb = fc.record({
  posters: fc.array(fc.array(opArb, { minLength: 1, maxLength: 8 }), { minLength: 2, maxLength: 8 }),
  readers: fc.integer({ min: 1, max: 4 }),
});

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A reader polling `changesSince(lastSeen)` until `target()` is known and reached. Checks every
 * answer as it comes: the comments continue the reader's view with no gap (seq lastSeen+1, +2, …),
 * and the head it reports is the last of them (one snapshot: nothing committed later with a lower seq).
 */
async function read(store: CommentStore, articleId: string, target: () => number | null): Promise<Comment[]> {
  const view: Comment[] = [];
  let lastSeen = 0;
  for (;;) {
    const goal = target();
    if (goal !== null && lastSeen >= goal) return view;
    const page = await store.changesSince(articleId, lastSeen, READ_LIMIT);
    expect(page.reset).toBe(false);
    page.comments.forEach((comment, i) => expect(comment.seq).toBe(lastSeen + 1 + i));
    expect(page.lastSeq).toBe(page.comments.at(-1)?.seq ?? lastSeen);
    view.push(...page.comments);
    lastSeen = page.lastSeq;
    await yieldToLoop();
  }
}

describe.each(sharedStoreFactories)('seq under concurrent posts and reads (property): %s', (_name, openShared) => {
  let shared: SharedStores;
  beforeAll(async () => {
    shared = await openShared(INSTANCES);
  });
  afterAll(async () => {
    await shared?.close();
  });

  it('gives every reader a gapless, complete view in seq order, and one comment per clientId', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ posters, readers }) => {
        const { stores } = shared;
        const store = (i: number): CommentStore => stores[i % stores.length]!;
        const articleId = makeArticleId('prop');
        const run = nanoid(6);
        let finalSeq: number | null = null;

        const readerViews = Promise.all(
          Array.from({ length: readers }, (_, r) => read(store(r + 1), articleId, () => finalSeq)),
        );
        const results = await Promise.all(
          posters.map(async (ops, p) => {
            const mine: Comment[] = [];
            const outcomes: Array<{ clientId: string | null; result: CreateResult }> = [];
            for (const op of ops) {
              const parent = op.reply === null || mine.length === 0 ? null : mine[op.reply % mine.length]!;
              const clientId = op.clientSlot === null ? null : `${run}-${op.clientSlot}`;
              const result = await store(p).create(
                makeRecord({ articleId, clientId, parentId: parent?.id ?? null, body: `p${p}` }),
              );
              if (result.created) mine.push(result.comment);
              outcomes.push({ clientId, result });
            }
            return outcomes;
          }),
        );
        finalSeq = await store(0).lastSeq(articleId);
        const views = await readerViews;

        const outcomes = results.flat();
        const created = outcomes.filter((o) => o.result.created).map((o) => o.result.comment);
        const expectedSeqs = Array.from({ length: created.length }, (_, i) => i + 1);
        expect(finalSeq).toBe(created.length);
        expect(created.map((c) => c.seq).sort((a, b) => a - b)).toEqual(expectedSeqs);
        for (const view of views) {
          expect(view.map((c) => c.seq)).toEqual(expectedSeqs);
          expect(new Set(view.map((c) => c.id))).toEqual(new Set(created.map((c) => c.id)));
        }
        // One comment per clientId, whoever posted it and however often.
        const byClientId = new Map<string, Set<string>>();
        for (const { clientId, result } of outcomes) {
          if (clientId === null) continue;
          const ids = byClientId.get(clientId) ?? new Set<string>();
          ids.add(result.comment.id);
          byClientId.set(clientId, ids);
        }
        for (const ids of byClientId.values()) expect(ids.size).toBe(1);
        expect(
          created.filter((c) => outcomes.some((o) => o.clientId !== null && o.result.comment.id === c.id)),
        ).toHaveLength(byClientId.size);
      }),
      { numRuns: 25 },
    );
  }, 60_000);
});

import { describe, expect, it } from 'vitest';
import {
  FallbackRepeatLedger,
  MemoryRepeatLedger,
  repeatsPhase,
  type RepeatLedger,
} from '../../../server/moderation/pipeline/repeats.ts';
import { phaseInput } from './helpers.ts';

const LONG = 'Check out my amazing new product page today';
const settings = { windowMinutes: 10, articles: 3 };

interface Step {
  body: string;
  articleId?: string;
  authorKey?: string | null;
  clientId?: string | null;
  kind?: 'post' | 'edit';
  atMinute?: number;
  expect: 'accept' | 'hold' | 'reject';
}

/** Runs the steps in order against one fresh memory ledger. */
async function run(steps: Step[], windowMinutes = settings.windowMinutes): Promise<string[]> {
  const ledger = new MemoryRepeatLedger();
  const actions: string[] = [];
  for (const step of steps) {
    const decision = await repeatsPhase(
      ledger,
      { ...settings, windowMinutes },
      phaseInput(step.body, {
        articleId: step.articleId ?? 'a1',
        authorKey: step.authorKey === undefined ? 'ann' : step.authorKey,
        clientId: step.clientId ?? null,
        kind: step.kind ?? 'post',
      }),
      (step.atMinute ?? 0) * 60_000,
    );
    actions.push(decision.action);
  }
  return actions;
}

describe('repeats phase', () => {
  it.each<[string, Step[]]>([
    [
      'the same text twice from one author is refused',
      [
        { body: 'Hello there', expect: 'accept' },
        { body: 'hello,   THERE!', expect: 'reject' },
      ],
    ],
    [
      'two authors may say the same',
      [
        { body: 'Hello there', expect: 'accept' },
        { body: 'Hello there', authorKey: 'bob', expect: 'accept' },
      ],
    ],
    [
      'after the window it is new again',
      [
        { body: 'Hello there', expect: 'accept' },
        { body: 'Hello there', atMinute: 11, expect: 'accept' },
      ],
    ],
    [
      'a retry with the same clientId is no repeat, another clientId is',
      [
        { body: 'Hello there', clientId: 'c1', expect: 'accept' },
        { body: 'Hello there', clientId: 'c1', expect: 'accept' },
        { body: 'Hello there', clientId: 'c2', expect: 'reject' },
      ],
    ],
    [
      'the same long text on three articles is held, by anyone',
      [
        { body: LONG, articleId: 'a1', authorKey: 'x1', expect: 'accept' },
        { body: LONG, articleId: 'a2', authorKey: 'x2', expect: 'accept' },
        { body: LONG, articleId: 'a3', authorKey: 'x3', expect: 'hold' },
      ],
    ],
    [
      'a short text on many articles is not held',
      [
        { body: 'Thanks!', articleId: 'a1', authorKey: 'x1', expect: 'accept' },
        { body: 'Thanks!', articleId: 'a2', authorKey: 'x2', expect: 'accept' },
        { body: 'Thanks!', articleId: 'a3', authorKey: 'x3', expect: 'accept' },
      ],
    ],
    [
      'articles spread out in time are not a campaign',
      [
        { body: LONG, articleId: 'a1', authorKey: 'x1', expect: 'accept' },
        { body: LONG, articleId: 'a2', authorKey: 'x2', atMinute: 6, expect: 'accept' },
        { body: LONG, articleId: 'a3', authorKey: 'x3', atMinute: 12, expect: 'accept' },
      ],
    ],
    [
      'posts without an author key are only checked across articles',
      [
        { body: 'Hello there', authorKey: null, expect: 'accept' },
        { body: 'Hello there', authorKey: null, expect: 'accept' },
      ],
    ],
    [
      'edits are not repeats',
      [
        { body: 'Hello there', expect: 'accept' },
        { body: 'Hello there', kind: 'edit', expect: 'accept' },
      ],
    ],
  ])('%s', async (_name, steps) => {
    expect(await run(steps)).toEqual(steps.map((s) => s.expect));
  });

  it('is off with a window of 0', async () => {
    expect(
      await run(
        [
          { body: 'Hello there', expect: 'accept' },
          { body: 'Hello there', expect: 'accept' },
        ],
        0,
      ),
    ).toEqual(['accept', 'accept']);
  });

  it('tells the author what to do', async () => {
    const ledger = new MemoryRepeatLedger();
    await repeatsPhase(ledger, settings, phaseInput('Hello there'), 0);
    const decision = await repeatsPhase(ledger, settings, phaseInput('Hello there'), 1000);
    expect(decision.action === 'reject' && decision.message).toMatch(/same comment.*something new/);
  });

  it('falls back to memory when the shared ledger fails', async () => {
    const failing: RepeatLedger = { note: () => Promise.reject(new Error('down')) };
    const errors: unknown[] = [];
    const ledger = new FallbackRepeatLedger(failing, new MemoryRepeatLedger(), (e) => errors.push(e));
    expect((await repeatsPhase(ledger, settings, phaseInput('Hello there'), 0)).action).toBe('accept');
    expect((await repeatsPhase(ledger, settings, phaseInput('Hello there'), 0)).action).toBe('reject');
    expect(errors).toHaveLength(2);
  });
});

import { describe, expect, it } from 'vitest';
import { ModerationSettingsSchema, type ModerationSettings } from '../../../shared/moderation-settings.ts';
import { ModerationPipeline, type PipelineInput } from '../../../server/moderation/pipeline/pipeline.ts';
import { MemoryRepeatLedger } from '../../../server/moderation/pipeline/repeats.ts';

function pipeline(settings: Partial<ModerationSettings>, visible = 0) {
  const counted: string[] = [];
  const p = new ModerationPipeline(
    {
      ledger: new MemoryRepeatLedger(),
      visibleCount: async (_key, atLeast) => Math.min(visible, atLeast),
      metrics: { moderationDecision: (phase, action) => counted.push(`${phase}:${action}`) },
      now: () => 0,
    },
    ModerationSettingsSchema.parse(settings),
  );
  return { p, counted };
}

const post = (body: string, over: Partial<PipelineInput> = {}): PipelineInput => ({
  body,
  articleId: 'a1',
  authorKey: 'ann',
  clientId: null,
  kind: 'post',
  trusted: false,
  ...over,
});

const links = 'https://a.example https://b.example https://c.example';

describe('moderation pipeline', () => {
  it('accepts everything with the defaults but link stuffing', async () => {
    const { p } = pipeline({});
    expect(await p.check(post('Anything at all, ALL CAPS INCLUDED IN THIS ONE TEXT'))).toEqual({ action: 'accept' });
    expect(await p.check(post(links))).toEqual({ action: 'hold', reason: '3 links (more than 2)' });
  });

  it('collects every hold reason, and a later refusal still refuses', async () => {
    const { p } = pipeline({ suspectWords: ['casino'], repeatWindowMinutes: 10, holdShouting: true });
    const first = await p.check(post(`casino ${links}`));
    expect(first).toEqual({ action: 'hold', reason: 'suspect word “casino”; 3 links (more than 2)' });
    const again = await p.check(post(`casino ${links}`));
    expect(again).toMatchObject({ action: 'reject', phase: 'repeats' });
  });

  it('counts each phase decision', async () => {
    const { p, counted } = pipeline({ bannedWords: ['merde'], holdFirstComments: 1, holdShouting: true });
    await p.check(post('hello'));
    expect(counted).toEqual([
      'words:accept',
      'links:accept',
      'repeats:accept',
      'new_commenter:hold',
      'shouting:accept',
    ]);
    counted.length = 0;
    await p.check(post('merde'));
    expect(counted).toEqual(['words:reject']);
  });

  it('never holds a moderator, but refuses their banned words', async () => {
    const { p } = pipeline({ bannedWords: ['merde'], suspectWords: ['casino'], holdFirstComments: 1 });
    expect(await p.check(post(`casino ${links}`, { trusted: true }))).toEqual({ action: 'accept' });
    expect(await p.check(post('merde', { trusted: true }))).toMatchObject({ action: 'reject', phase: 'words' });
  });

  it('applies new settings at once, compiled on configure', async () => {
    const { p } = pipeline({});
    expect(await p.check(post('merde'))).toEqual({ action: 'accept' });
    p.configure(ModerationSettingsSchema.parse({ bannedWords: ['merde'] }));
    expect(p.settings.bannedWords).toEqual(['merde']);
    expect(await p.check(post('merde'))).toMatchObject({ action: 'reject' });
  });

  it('lets a regular author through the new-commenter hold', async () => {
    const { p } = pipeline({ holdFirstComments: 1 }, 1);
    expect(await p.check(post('hello'))).toEqual({ action: 'accept' });
  });
});

describe('moderation settings schema', () => {
  it('has empty defaults and the link limit of 2', () => {
    expect(ModerationSettingsSchema.parse({})).toEqual({
      bannedWords: [],
      suspectWords: [],
      blockedDomains: [],
      maxLinks: 2,
      repeatWindowMinutes: 0,
      repeatArticles: 3,
      holdFirstComments: 0,
      holdShouting: false,
    });
  });

  it.each([
    { maxLinks: -1 },
    { maxLinks: 1.5 },
    { bannedWords: ['x'.repeat(65)] },
    { bannedWords: ['   '] },
    { repeatArticles: 1 },
    { unknown: true },
  ])('refuses %j', (input) => {
    expect(ModerationSettingsSchema.safeParse(input).success).toBe(false);
  });

  it('trims entries and counts their length in UTF-16 units', () => {
    expect(ModerationSettingsSchema.parse({ bannedWords: ['  bad  '] }).bannedWords).toEqual(['bad']);
    expect(ModerationSettingsSchema.safeParse({ bannedWords: ['😀'.repeat(33)] }).success).toBe(false);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BanInputSchema } from '../../shared/moderation.ts';
import { ClientSecretSchema, CommentSchema, LIMITS, NewCommentSchema } from '../../shared/schemas.ts';
import { normalizeBody, normalizeLine, normalizeName, wellFormed } from '../../shared/text.ts';

const LONE = ['\ud800', '\udbff', '\udc00', '\udfff'] as const;

/** Text as a store returns it after a UTF-8 round trip: what SQLite and PostgreSQL both keep of it. */
const throughUtf8 = (text: string): string => Buffer.from(text, 'utf8').toString('utf8');

describe('well-formed text (shared/text.ts)', () => {
  it('replaces every lone surrogate with U+FFFD and keeps pairs', () => {
    expect(wellFormed('a\ud800b')).toBe('a\ufffdb');
    expect(wellFormed('\udc00\ud800')).toBe('\ufffd\ufffd');
    expect(wellFormed('😀\ud83d')).toBe('😀\ufffd');
    expect(wellFormed('ok 😀')).toBe('ok 😀');
  });

  it('makes every free text well-formed before it is counted, so it reads back as counted', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (raw) => {
        for (const normalise of [normalizeName, normalizeBody, normalizeLine]) {
          const text = normalise(raw);
          // A UTF-8 store gives back exactly what was counted.
          expect(throughUtf8(text)).toBe(text);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('counts a name or body with lone surrogates at its real length: the limit holds after storage', () => {
    for (const lone of LONE) {
      const name = `${'n'.repeat(LIMITS.nameMax - 1)}${lone}`;
      const body = `${'b'.repeat(LIMITS.bodyMax - 1)}${lone}`;
      const parsed = NewCommentSchema.parse({ author: { name }, body });
      expect(parsed.author?.name).toBe(`${'n'.repeat(LIMITS.nameMax - 1)}\ufffd`);
      expect(parsed.body).toBe(`${'b'.repeat(LIMITS.bodyMax - 1)}\ufffd`);
      expect(throughUtf8(parsed.author?.name ?? '')).toHaveLength(LIMITS.nameMax);
      expect(throughUtf8(parsed.body)).toHaveLength(LIMITS.bodyMax);
      // One more unit is one too many, surrogate or not.
      expect(NewCommentSchema.safeParse({ author: { name: `${name}${lone}` }, body: 'x' }).success).toBe(false);
      expect(NewCommentSchema.safeParse({ author: { name: 'A' }, body: `${body}${lone}` }).success).toBe(false);
    }
    // The name of 24 lone surrogates the audit used: 24 characters, well-formed, within every limit.
    const audit = NewCommentSchema.parse({ author: { name: '\ud800'.repeat(24) }, body: 'x' });
    expect(throughUtf8(audit.author?.name ?? '')).toBe('\ufffd'.repeat(24));
  });

  it('keeps NUL and other controls out of every free text (PostgreSQL text cannot hold NUL)', () => {
    expect(NewCommentSchema.safeParse({ author: { name: 'A\u0000nn' }, body: 'x' }).success).toBe(false);
    expect(NewCommentSchema.parse({ author: { name: 'Ann' }, body: 'a\u0000b' }).body).toBe('ab');
    const ban = BanInputSchema.parse({ commentId: 'a'.repeat(21), reason: ' spam\u0000\u0007 links\n\u202e ' });
    expect(ban.reason).toBe('spam links');
    expect(BanInputSchema.parse({ commentId: 'a'.repeat(21), reason: '\ud800' }).reason).toBe('\ufffd');
    expect(BanInputSchema.safeParse({ commentId: 'a'.repeat(21), reason: 'r'.repeat(501) }).success).toBe(false);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (raw) => {
        for (const text of [normalizeBody(raw), normalizeLine(raw)]) expect(text).not.toMatch(/\u0000/);
      }),
    );
  });
});

describe('a removed comment as readers see it', () => {
  const comment = {
    id: 'a'.repeat(21),
    articleId: 'x',
    parentId: null,
    author: { name: 'A' },
    body: 'b',
    createdAt: '2024-05-17T20:41:00.000Z',
    editedAt: null,
    status: 'visible',
    seq: 1,
    likes: 0,
  };
  it('has no author name; only a removed comment may lack one', () => {
    expect(CommentSchema.safeParse({ ...comment, status: 'removed', body: '', author: { name: '' } }).success).toBe(
      true,
    );
    expect(CommentSchema.safeParse({ ...comment, author: { name: '' } }).success).toBe(false);
  });
});

describe('clientSecret', () => {
  it('is 16 to 64 characters of the nanoid alphabet', () => {
    expect(ClientSecretSchema.safeParse('s'.repeat(16)).success).toBe(true);
    expect(ClientSecretSchema.safeParse('s'.repeat(15)).success).toBe(false);
    expect(ClientSecretSchema.safeParse('s'.repeat(65)).success).toBe(false);
    expect(ClientSecretSchema.safeParse('secret with spaces!').success).toBe(false);
  });
});

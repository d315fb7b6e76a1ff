import { describe, expect, it } from 'vitest';
import { BanInputSchema } from '../../shared/moderation.ts';
import {
  ArticleIdSchema,
  ClientIdSchema,
  ClientSecretSchema,
  CommentIdSchema,
  CommentSchema,
  LIMITS,
  NewCommentSchema,
  ReaderIdSchema,
} from '../../shared/schemas.ts';

/**
 * Every limit is in UTF-16 units (docs/protocol.md). zod 4.6 counts code points, so these failed
 * with zod's own length checks: two-unit characters (emoji, astral CJK) counted once.
 */
describe('length limits count UTF-16 units, whatever zod counts', () => {
  const emoji = '😀'; // one code point, two units

  it('refuses a body or name over the limit in units even when it is under it in code points', () => {
    const body = `${emoji.repeat(LIMITS.bodyMax / 2)}\ud800`; // 5001 units, 2501 code points
    expect(NewCommentSchema.safeParse({ author: { name: 'a' }, body }).success).toBe(false);
    expect(NewCommentSchema.safeParse({ author: { name: 'a' }, body: emoji.repeat(LIMITS.bodyMax / 2) }).success).toBe(
      true,
    );
    const name = emoji.repeat(LIMITS.nameMax / 2 + 1);
    expect(NewCommentSchema.safeParse({ author: { name }, body: 'b' }).success).toBe(false);
    expect(BanInputSchema.safeParse({ reason: emoji.repeat(251) }).success).toBe(false);
  });

  it('refuses ids of the right length in code points but not in units, so no pattern check is skipped', () => {
    expect(CommentIdSchema.safeParse(`${emoji}${'a'.repeat(20)}`).success).toBe(false);
    expect(CommentIdSchema.safeParse('a'.repeat(21)).success).toBe(true);
    expect(ClientIdSchema.safeParse(emoji.repeat(40)).success).toBe(false);
    expect(ClientSecretSchema.safeParse(emoji.repeat(40)).success).toBe(false);
    expect(ReaderIdSchema.safeParse(emoji.repeat(40)).success).toBe(false);
    expect(ArticleIdSchema.safeParse(`a${emoji.repeat(LIMITS.articleIdMax - 1)}`).success).toBe(false);
  });

  it('refuses a served comment longer than the limit in units', () => {
    const comment = CommentSchema.safeParse({
      id: 'a'.repeat(21),
      articleId: 'a',
      parentId: null,
      author: { name: 'n' },
      body: emoji.repeat(LIMITS.bodyMax / 2 + 1),
      createdAt: '2026-12-02T00:00:00.000Z',
      editedAt: null,
      status: 'visible',
      seq: 1,
      likes: 0,
    });
    expect(comment.success).toBe(false);
  });
});

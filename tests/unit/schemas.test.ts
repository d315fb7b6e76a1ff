import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { AppError } from '../../shared/errors.ts';
import {
  ArticleIdSchema,
  CommentSchema,
  CountsQuerySchema,
  LIMITS,
  NewCommentSchema,
  PageQuerySchema,
  PostCommentPayloadSchema,
  SubscribePayloadSchema,
  TimestampSchema,
} from '../../shared/schemas.ts';
import { parseInput } from '../../shared/validate.ts';

const ok = (schema: { safeParse(v: unknown): { success: boolean } }, value: unknown) => schema.safeParse(value).success;

describe('ArticleIdSchema', () => {
  it('accepts slugs of [A-Za-z0-9._:-] up to 128 chars starting with a letter or digit', () => {
    for (const id of ['putin-china-visit', 'a', '9', 'news:2024.05_x-y', 'x'.repeat(128)])
      expect(ok(ArticleIdSchema, id)).toBe(true);
  });
  it('refuses empty, too long, bad first char, spaces, slashes, unicode, non-strings', () => {
    for (const id of ['', 'x'.repeat(129), '-a', '.a', 'a b', 'a/b', 'ä', '<script>', 12, null, ['a']])
      expect(ok(ArticleIdSchema, id)).toBe(false);
  });
});

describe('NewCommentSchema', () => {
  const valid = { author: { name: 'Ann' }, body: 'Hello' };

  it('trims and NFC-normalises names and bodies, keeps inner newlines, normalises CRLF', () => {
    const parsed = NewCommentSchema.parse({ author: { name: '  Cafe\u0301  ' }, body: '\n  line one\r\nline two  \n' });
    expect(parsed.author?.name).toBe('Caf\u00e9');
    expect(parsed.body).toBe('line one\nline two');
  });

  it('refuses unknown fields at every level', () => {
    expect(ok(NewCommentSchema, { ...valid, extra: 1 })).toBe(false);
    expect(ok(NewCommentSchema, { ...valid, author: { name: 'Ann', email: 'a@b' } })).toBe(false);
    expect(ok(NewCommentSchema, JSON.parse('{"author":{"name":"Ann"},"body":"x","__proto__":{"admin":true}}'))).toBe(
      false,
    );
  });

  it('enforces lengths after trimming', () => {
    expect(ok(NewCommentSchema, { ...valid, body: '   ' })).toBe(false);
    expect(ok(NewCommentSchema, { ...valid, body: 'x'.repeat(LIMITS.bodyMax) })).toBe(true);
    expect(ok(NewCommentSchema, { ...valid, body: 'x'.repeat(LIMITS.bodyMax + 1) })).toBe(false);
    expect(ok(NewCommentSchema, { ...valid, author: { name: 'n'.repeat(60) } })).toBe(true);
    expect(ok(NewCommentSchema, { ...valid, author: { name: 'n'.repeat(61) } })).toBe(false);
    expect(ok(NewCommentSchema, { ...valid, body: ' '.repeat(100_000) })).toBe(false);
  });

  it('refuses names with bidi controls, zero-width characters or control characters', () => {
    for (const name of ['Ann\u202Eevil', 'A\u200Bnn', 'A\u2066nn', 'A\uFEFFnn', 'Ann\nBob', 'A\u0000nn']) {
      expect(ok(NewCommentSchema, { ...valid, author: { name } }), JSON.stringify(name)).toBe(false);
    }
  });

  it('drops bidi overrides and control characters from bodies but keeps emoji and newlines', () => {
    const parsed = NewCommentSchema.parse({ ...valid, body: 'abc\u202Edef\u0007 😮\nnext' });
    expect(parsed.body).toBe('abcdef 😮\nnext');
  });

  it('validates parentId and clientId shapes', () => {
    expect(ok(NewCommentSchema, { ...valid, parentId: 'a'.repeat(21) })).toBe(true);
    expect(ok(NewCommentSchema, { ...valid, parentId: null })).toBe(true);
    expect(ok(NewCommentSchema, { ...valid, parentId: 'short' })).toBe(false);
    expect(ok(NewCommentSchema, { ...valid, clientId: 'abcDEF_123-xyz' })).toBe(true);
    expect(ok(NewCommentSchema, { ...valid, clientId: 'bad id with spaces' })).toBe(false);
    expect(ok(NewCommentSchema, { ...valid, clientId: 'x'.repeat(65) })).toBe(false);
  });

  it('refuses wrong types', () => {
    for (const bad of [
      null,
      [],
      'text',
      { author: 'Ann', body: 'x' },
      { author: { name: 1 }, body: 'x' },
      { author: { name: 'A' }, body: ['x'] },
    ]) {
      expect(ok(NewCommentSchema, bad)).toBe(false);
    }
  });
});

describe('socket payload schemas', () => {
  it('post payload is the REST body plus articleId, strict', () => {
    expect(ok(PostCommentPayloadSchema, { articleId: 'a', author: { name: 'A' }, body: 'b' })).toBe(true);
    expect(ok(PostCommentPayloadSchema, { author: { name: 'A' }, body: 'b' })).toBe(false);
    expect(ok(PostCommentPayloadSchema, { articleId: 'a', author: { name: 'A' }, body: 'b', x: 1 })).toBe(false);
  });
  it('subscribe takes a non-negative integer since', () => {
    expect(ok(SubscribePayloadSchema, { articleId: 'a' })).toBe(true);
    expect(ok(SubscribePayloadSchema, { articleId: 'a', since: 0 })).toBe(true);
    for (const since of [-1, 1.5, '3', null, Number.NaN])
      expect(ok(SubscribePayloadSchema, { articleId: 'a', since })).toBe(false);
  });
});

describe('query schemas', () => {
  it('parses limit, cursor and order from strings', () => {
    expect(PageQuerySchema.parse({ limit: '10', before: '42', order: 'oldest' })).toEqual({
      limit: 10,
      before: '42',
      order: 'oldest',
    });
    expect(PageQuerySchema.parse({ order: 'top', before: '30' })).toEqual({ order: 'top', before: '30' });
    for (const q of [
      { limit: '0' },
      { limit: '101' },
      { limit: '-1' },
      { limit: ['1', '2'] },
      { before: 'abc' },
      { order: 'best' },
      { other: '1' },
    ]) {
      expect(ok(PageQuerySchema, q), JSON.stringify(q)).toBe(false);
    }
  });
  it('splits counts article lists', () => {
    expect(CountsQuerySchema.parse({ articles: 'a,b,,c' })).toEqual({ articles: ['a', 'b', 'c'] });
  });
});

describe('CommentSchema', () => {
  it('accepts a stored comment and refuses one without seq', () => {
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
    expect(ok(CommentSchema, comment)).toBe(true);
    expect(ok(CommentSchema, { ...comment, likes: -1 })).toBe(false);
    expect(ok(CommentSchema, { ...comment, seq: 0 })).toBe(false);
    expect(ok(CommentSchema, { ...comment, status: 'hidden' })).toBe(false);
  });
});

describe('parseInput', () => {
  it('throws invalid_input with dotted field paths', () => {
    try {
      parseInput(NewCommentSchema, { author: { name: '' }, body: '' }, 'comment');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      const appError = error as AppError;
      expect(appError.code).toBe('invalid_input');
      expect(appError.issues?.map((i) => i.path).sort()).toEqual(['author.name', 'body']);
    }
  });
});

describe('TimestampSchema', () => {
  it('accepts exactly what z.iso.datetime() accepts, for times and near-times', () => {
    const iso = z.iso.datetime();
    const time = fc.date({ noInvalidDate: true }).map((date) => date.toISOString());
    const mutated = fc
      .tuple(time, fc.nat(30), fc.constantFrom('', ' ', '9', 'Z', '+01:00', 'T', '.', '-', '24', '60', '13', '00'))
      .map(([text, at, piece]) => `${text.slice(0, at)}${piece}${text.slice(at + 1)}`);
    fc.assert(
      fc.property(fc.oneof(time, mutated, fc.string({ maxLength: 30 })), (text) => {
        expect(TimestampSchema.safeParse(text).success).toBe(iso.safeParse(text).success);
      }),
      { numRuns: 3000 },
    );
  });
});

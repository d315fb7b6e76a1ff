import { describe, expect, it } from 'vitest';
import { readClaims } from '../../client/member/token.ts';
import { Poster, type PostInput } from '../../client/posting.ts';
import { WidgetError } from '../../client/protocol.ts';
import { EMAIL_MAX, EMAIL_PATTERN } from '../../shared/email-address.ts';
import { EmailAddressSchema } from '../../shared/reply-emails.ts';
import type { PostResult } from '../../shared/schemas.ts';

const stored = (id: string): PostResult => ({
  comment: {
    id,
    articleId: 'a',
    parentId: null,
    author: { name: 'Ada' },
    body: 'Hello',
    createdAt: new Date(0).toISOString(),
    editedAt: null,
    likes: 0,
    seq: 1,
    status: 'visible',
  },
  notify: 'confirm',
});

describe('reply e-mails in the widget (client/notify/, client/posting.ts)', () => {
  it('a post sends the notify it asked for with every attempt, and none when it asked for none', async () => {
    const sent: PostInput[] = [];
    let fail = true;
    const outcomes: string[] = [];
    const poster = new Poster(
      (input) => {
        sent.push(input);
        if (fail) return Promise.reject(new WidgetError('network', 'Could not reach the comment server.'));
        return Promise.resolve(stored(`c${sent.length}`));
      },
      {
        changed: () => undefined,
        confirmed: (_post, result) => outcomes.push(`confirmed ${'comment' in result ? result.notify : ''}`),
        refused: () => outcomes.push('refused'),
        failed: () => outcomes.push('failed'),
      },
    );
    const notify = { email: 'ada@example.test', pageUrl: 'https://blog.example.test/post' };
    const post = poster.submit({ name: 'Ada', body: 'Hello', parentId: null, notify });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(outcomes).toEqual(['failed']);
    fail = false;
    poster.retry(post.clientId);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(outcomes).toEqual(['failed', 'confirmed confirm']);
    expect(sent.map((input) => input.notify)).toEqual([notify, notify]);
    // The retry is the same post: same clientId.
    expect(sent[1]!.clientId).toBe(sent[0]!.clientId);

    poster.submit({ name: 'Ada', body: 'No e-mails', parentId: null });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(sent[2]!.notify).toBeUndefined();
    // Sent as JSON (REST body, socket packet), an undefined notify is no key at all.
    expect(JSON.parse(JSON.stringify(sent[2]))).not.toHaveProperty('notify');
  });

  it('reads a member token’s email claim, which spares the member the field', () => {
    const jwt = (payload: unknown) =>
      `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2lnbmF0dXJl`;
    expect(readClaims(jwt({ name: 'Ada', exp: 1_900_000_000, email: 'ada@example.test' }))).toEqual({
      name: 'Ada',
      exp: 1_900_000_000,
      email: 'ada@example.test',
    });
    expect(readClaims(jwt({ name: 'Ada', exp: 1_900_000_000, email: 42 }))).toEqual({
      name: 'Ada',
      exp: 1_900_000_000,
    });
  });

  it('the opt-in’s check of an address (pattern, and the field’s maxlength) is the server’s', () => {
    const samples = [
      'ada@example.test',
      'a.b+c@sub.example.co.uk',
      'ada@localhost',
      'ada at example.test',
      '@example.test',
      'ada@@example.test',
      'ada@example.',
      'ada@.example.test',
      '',
      `${'e'.repeat(EMAIL_MAX - 13)}@example.test`,
      `${'e'.repeat(EMAIL_MAX - 12)}@example.test`,
    ];
    for (const sample of samples)
      expect(EMAIL_PATTERN.test(sample) && sample.length <= EMAIL_MAX, sample).toBe(
        EmailAddressSchema.safeParse(sample).success,
      );
  });
});

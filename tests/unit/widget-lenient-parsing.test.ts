import { describe, expect, it } from 'vitest';
import { BatchSchema, PageAnswerSchema, readAck, SubscribeAckSchema, WidgetError } from '../../client/protocol.ts';
import { checkAnswer } from '../../client/api-client.ts';
import { CountsSchema } from '../../shared/schemas.ts';
import type { Comment } from '../../shared/schemas.ts';

const comment = (n: number, extra: Partial<Comment> = {}): Comment => ({
  id: `c${String(n).padStart(20, '0')}`,
  articleId: 'a',
  parentId: null,
  author: { name: `Author ${n}` },
  body: `Body ${n}`,
  createdAt: '2024-05-17T12:00:00.000Z',
  editedAt: null,
  status: 'visible',
  seq: n,
  likes: 0,
  ...extra,
});

/** What an older server stored for a name with lone surrogates: three U+FFFD each, past the limit. */
const poisoned = comment(2, { author: { name: '\ufffd'.repeat(72) }, body: `${'x'.repeat(4999)}\ufffd\ufffd\ufffd` });

/** One comment the widget cannot show must not take the page, the catch-up or a batch down with it. */
describe('widget answers, item by item', () => {
  it('drops only the invalid comment of a page', () => {
    const page = PageAnswerSchema.parse({
      articleId: 'a',
      lastSeq: 3,
      comments: [comment(1), poisoned, comment(3)],
      next: null,
      locked: false,
      premoderated: false,
    });
    expect(page.comments.map((c) => c.seq)).toEqual([1, 3]);
  });

  it('drops only the invalid comment of a catch-up and of a batch', () => {
    const ack = readAck(
      { ok: true, lastSeq: 3, comments: [comment(1), poisoned, comment(3)] },
      () => SubscribeAckSchema,
    );
    expect(ack.comments.map((c) => c.seq)).toEqual([1, 3]);
    const batch = BatchSchema.parse({
      articleId: 'a',
      changes: [
        { event: 'comment:created', comment: comment(1) },
        { event: 'comment:updated', comment: poisoned },
        { event: 'comment:bogus', comment: comment(3) },
        { event: 'comment:removed', comment: comment(4, { status: 'removed', body: '', author: { name: '' } }) },
      ],
    });
    expect(batch.changes.map((c) => c.comment.seq)).toEqual([1, 4]);
  });

  it('still refuses an answer whose envelope is wrong', () => {
    expect(PageAnswerSchema.safeParse({ articleId: 'a', comments: [] }).success).toBe(false);
    expect(() => readAck({ ok: true, comments: 'x' }, () => SubscribeAckSchema)).toThrow(WidgetError);
    expect(() => readAck({ ok: false, error: { code: 'forbidden', message: 'no' } }, () => SubscribeAckSchema)).toThrow(
      'no',
    );
  });
});

/** A server newer than the widget may answer with an error code the widget was built without. */
describe('widget errors with codes it does not know', () => {
  it('an ack keeps the code and shows the server message', () => {
    const failed = { ok: false, error: { code: 'some_future_code', message: 'Sign in to comment' } };
    let thrown: unknown;
    try {
      readAck(failed, () => SubscribeAckSchema);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(WidgetError);
    expect((thrown as WidgetError).code).toBe('some_future_code');
    expect((thrown as WidgetError).message).toBe('Sign in to comment');
  });

  it('a REST error answer keeps the code and message', () => {
    let thrown: unknown;
    try {
      checkAnswer(401, { error: { code: 'unauthenticated', message: 'The sign-in token has expired' } }, CountsSchema);
    } catch (error) {
      thrown = error;
    }
    expect((thrown as WidgetError).code).toBe('unauthenticated');
    expect((thrown as WidgetError).message).toBe('The sign-in token has expired');
  });
});

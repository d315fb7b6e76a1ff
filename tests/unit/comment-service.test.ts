import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { AppError } from '../../shared/errors.ts';
import { NewCommentSchema, type Comment } from '../../shared/schemas.ts';
import { CommentService, type PostOutcome, type StoredOutcome } from '../../server/comments/service.ts';
import { authorTokenMatches, hashAuthorToken } from '../../server/comments/author-token.ts';
import { MemoryFanOut } from '../../server/fanout/memory.ts';
import type { FanOut, FanOutMessage } from '../../server/fanout/port.ts';
import { StoreUnavailableError, type CommentStore } from '../../server/storage/port.ts';
import { SqliteCommentStore } from '../../server/storage/sqlite.ts';

const logger = pino({ level: 'silent' });
const input = (body: string, extra: object = {}) => NewCommentSchema.parse({ author: { name: 'Ann' }, body, ...extra });

/** The outcome of a post that must have been stored (no pre-moderation in these tests). */
function stored(outcome: PostOutcome): StoredOutcome {
  if (!('comment' in outcome)) throw new Error('post was held');
  return outcome;
}

function setup(overrides: { store?: CommentStore; fanout?: FanOut } = {}) {
  const store = overrides.store ?? new SqliteCommentStore(':memory:');
  const fanout = overrides.fanout ?? new MemoryFanOut();
  const published: FanOutMessage[] = [];
  fanout.onMessage((m) => published.push(m));
  const service = new CommentService({ store, fanout, logger, now: () => new Date('2026-01-02T03:04:05.000Z') });
  return { store, fanout, service, published };
}

describe('CommentService.post', () => {
  it('persists, then publishes the stored comment once', async () => {
    const { service, store, published } = setup();
    const { comment, authorToken, created } = stored(await service.post('art', input('hello')));
    expect(created).toBe(true);
    expect(comment).toMatchObject({ articleId: 'art', body: 'hello', createdAt: '2026-01-02T03:04:05.000Z', seq: 1 });
    expect(await store.get(comment.id)).toEqual(comment);
    expect(published).toEqual([{ event: 'comment:created', comment }]);
    expect(authorTokenMatches(authorToken, hashAuthorToken(authorToken))).toBe(true);
    expect(authorTokenMatches('other', hashAuthorToken(authorToken))).toBe(false);
  });

  it('returns the first comment for a repeated clientId and publishes it again, unchanged', async () => {
    const { service, published } = setup();
    const first = stored(await service.post('art', input('once', { clientId: 'client-id-000001' })));
    const again = stored(await service.post('art', input('once', { clientId: 'client-id-000001' })));
    expect(again.created).toBe(false);
    expect(again.comment).toEqual(first.comment);
    expect(again.authorToken).not.toBe(first.authorToken);
    // Re-published (the first attempt's instance may have died before publishing), with the same seq.
    expect(published.map((m) => [m.comment.id, m.comment.seq])).toEqual([
      [first.comment.id, 1],
      [first.comment.id, 1],
    ]);
  });

  it('refuses a parent from another article with invalid_input on parentId, publishing nothing', async () => {
    const { service, published } = setup();
    const parent = stored(await service.post('one', input('parent')));
    const error = await service.post('two', input('reply', { parentId: parent.comment.id })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('invalid_input');
    expect((error as AppError).issues?.[0]?.path).toBe('parentId');
    expect(published).toHaveLength(1);
  });

  it('answers unavailable with Retry-After when the store is down, and publishes nothing', async () => {
    const store = new SqliteCommentStore(':memory:');
    const { service, published } = setup({ store });
    await store.close();
    const error = await service.post('art', input('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('unavailable');
    expect((error as AppError).retryAfter).toBeGreaterThan(0);
    expect(published).toHaveLength(0);
    expect(new StoreUnavailableError('x')).toBeInstanceOf(Error);
  });

  it('keeps a stored post successful when publishing fails', async () => {
    const failing: FanOut = Object.assign(new MemoryFanOut(), {
      publish: async (): Promise<void> => {
        throw new Error('bus down');
      },
    });
    const { service, store } = setup({ fanout: failing });
    const { comment } = stored(await service.post('art', input('stored anyway')));
    expect((await store.get(comment.id))?.body).toBe('stored anyway');
  });

  it('propagates unknown store errors untouched (shown to clients only as internal)', async () => {
    const broken = new SqliteCommentStore(':memory:');
    broken.submit = async (): Promise<{ kind: 'stored'; comment: Comment; created: boolean }> => {
      throw new TypeError('bug');
    };
    const { service } = setup({ store: broken });
    await expect(service.post('art', input('x'))).rejects.toBeInstanceOf(TypeError);
  });
});

describe('CommentService reads', () => {
  it('answers changes with reset when more changed than one answer may carry', async () => {
    const { service } = setup();
    for (let i = 0; i < 501; i++) await service.post('busy', input(`c${i}`));
    const changes = await service.changesSince('busy', 0);
    expect(changes).toEqual({ articleId: 'busy', lastSeq: 501, comments: [], reset: true });
    const recent = await service.changesSince('busy', 1);
    expect(recent.comments).toHaveLength(500);
    expect(recent.reset).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { AppError } from '../../shared/errors.ts';
import { NewCommentSchema } from '../../shared/schemas.ts';
import { CommentService, type PostOutcome, type StoredOutcome } from '../../server/comments/service.ts';
import { authorTokenMatches, hashAuthorToken } from '../../server/comments/author-token.ts';
import { MemoryFanOut } from '../../server/fanout/memory.ts';
import type { FanOut, FanOutMessage } from '../../server/fanout/port.ts';
import {
  ParentNotFoundError,
  StoreUnavailableError,
  type CommentStore,
  type SubmitResult,
} from '../../server/storage/port.ts';
import { SqliteCommentStore } from '../../server/storage/sqlite.ts';
import { Keyring } from '../../server/keys/keyring.ts';

const logger = pino({ level: 'silent' });
const keys = new Keyring('a-test-secret-of-at-least-32-bytes');
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
  const service = new CommentService({ store, fanout, logger, keys, now: () => new Date('2026-01-02T03:04:05.000Z') });
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
    expect(authorToken).toBeDefined();
    expect(authorTokenMatches(authorToken!, hashAuthorToken(authorToken!))).toBe(true);
    expect(authorTokenMatches('other', hashAuthorToken(authorToken!))).toBe(false);
  });

  it('returns the first comment for a repeated clientId and publishes it again, unchanged', async () => {
    const { service, published } = setup();
    const first = stored(await service.post('art', input('once', { clientId: 'client-id-000001' })));
    const again = stored(await service.post('art', input('once', { clientId: 'client-id-000001' })));
    expect(again.created).toBe(false);
    expect(again.comment).toEqual(first.comment);
    // Without the first post's clientSecret a repeat proves nothing: no token for it.
    expect(again.authorToken).toBeUndefined();
    // Re-published (the first attempt's instance may have died before publishing), with the same seq.
    expect(published.map((m) => [m.comment.id, m.comment.seq])).toEqual([
      [first.comment.id, 1],
      [first.comment.id, 1],
    ]);
  });

  it("refuses a parent from another article with the store's ParentNotFoundError, publishing nothing", async () => {
    const { service, published } = setup();
    const parent = stored(await service.post('one', input('parent')));
    const error = await service.post('two', input('reply', { parentId: parent.comment.id })).catch((e: unknown) => e);
    // Translated to `invalid_input` on parentId at the edges (tests/unit/public-error.test.ts), not here.
    expect(error).toBeInstanceOf(ParentNotFoundError);
    expect(published).toHaveLength(1);
  });

  it("lets the store's StoreUnavailableError through when the store is down, and publishes nothing", async () => {
    const store = new SqliteCommentStore(':memory:');
    const { service, published } = setup({ store });
    await store.close();
    await expect(service.post('art', input('x'))).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(service.page('art', {})).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(published).toHaveLength(0);
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
    broken.submit = async (): Promise<SubmitResult> => {
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

describe('CommentService edits, removals and moderation', () => {
  const ADMIN = 'admin-token-for-tests-0123456789';

  /** A service whose clock the test moves, with the moderator token configured and a 15-minute window. */
  function clocked(options: { editWindowMinutes?: number; premoderation?: 'all' | 'none' } = {}) {
    const store = new SqliteCommentStore(':memory:');
    const fanout = new MemoryFanOut();
    const published: FanOutMessage[] = [];
    fanout.onMessage((m) => published.push(m));
    let now = new Date('2026-01-02T03:00:00.000Z').getTime();
    const service = new CommentService({
      store,
      fanout,
      logger,
      keys,
      now: () => new Date(now),
      adminToken: ADMIN,
      ...options,
    });
    return { store, service, published, advance: (ms: number) => (now += ms) };
  }

  const code = async (promise: Promise<unknown>): Promise<string> => {
    const error = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
    return error.code;
  };

  it('lets the author edit with their own token within the window, and publishes the edit', async () => {
    const { service, published, advance } = clocked();
    const { comment, authorToken } = stored(await service.post('art', input('first draft')));
    advance(14 * 60_000);
    const edited = await service.edit(comment.id, 'second draft', authorToken);
    expect(edited).toMatchObject({
      id: comment.id,
      body: 'second draft',
      seq: 2,
      editedAt: '2026-01-02T03:14:00.000Z',
    });
    expect(published.map((m) => [m.event, m.comment.seq])).toEqual([
      ['comment:created', 1],
      ['comment:updated', 2],
    ]);
  });

  it("refuses another comment's token, no token, and a token after the window, with forbidden", async () => {
    const { service, advance, published } = clocked();
    const mine = stored(await service.post('art', input('mine')));
    const theirs = stored(await service.post('art', input('theirs')));
    expect(await code(service.edit(mine.comment.id, 'hijack', theirs.authorToken))).toBe('forbidden');
    expect(await code(service.edit(mine.comment.id, 'hijack', undefined))).toBe('forbidden');
    expect(await code(service.remove(mine.comment.id, theirs.authorToken))).toBe('forbidden');
    expect(await code(service.edit(mine.comment.id, 'x', 'not-a-token-at-all'))).toBe('forbidden');
    advance(15 * 60_000 + 1);
    expect(await code(service.edit(mine.comment.id, 'too late', mine.authorToken))).toBe('forbidden');
    // Deleting has no window.
    expect(await service.remove(mine.comment.id, mine.authorToken)).toMatchObject({ status: 'removed', body: '' });
    expect(published.map((m) => m.event)).toEqual(['comment:created', 'comment:created', 'comment:removed']);
  });

  it('lets the moderator token edit after the window and remove any comment, keeping the body for restore', async () => {
    const { service, store, advance } = clocked();
    const { comment } = stored(await service.post('art', input('anything')));
    advance(24 * 3_600_000);
    expect(await service.edit(comment.id, 'moderated text', ADMIN)).toMatchObject({ body: 'moderated text' });
    expect(await service.remove(comment.id, ADMIN)).toMatchObject({ status: 'removed', body: '' });
    expect((await store.getRecord(comment.id))?.comment.originalBody).toBe('moderated text');
    expect(await service.restore(comment.id)).toMatchObject({ status: 'visible', body: 'moderated text' });
  });

  it("answers not_found for an unknown id, and forbidden for editing a removed comment or restoring an author's deletion", async () => {
    const { service } = clocked();
    const { comment, authorToken } = stored(await service.post('art', input('gone soon')));
    expect(await code(service.edit('x'.repeat(21), 'x', authorToken))).toBe('not_found');
    expect(await code(service.remove('x'.repeat(21), ADMIN))).toBe('not_found');
    await service.remove(comment.id, authorToken);
    expect(await code(service.edit(comment.id, 'back', authorToken))).toBe('forbidden');
    expect(await code(service.edit(comment.id, 'back', ADMIN))).toBe('forbidden');
    expect(await code(service.restore(comment.id))).toBe('forbidden');
  });

  it('with a zero window, authors can never edit, moderators still can', async () => {
    const { service } = clocked({ editWindowMinutes: 0 });
    const { comment, authorToken } = stored(await service.post('art', input('fixed')));
    expect(await code(service.edit(comment.id, 'changed', authorToken))).toBe('forbidden');
    expect(await service.edit(comment.id, 'changed', ADMIN)).toMatchObject({ body: 'changed' });
  });

  it('recognises the moderator token only when configured, in constant time', () => {
    const { service } = clocked();
    expect(service.isModerator(ADMIN)).toBe(true);
    expect(service.isModerator(`${ADMIN}x`)).toBe(false);
    expect(service.isModerator(undefined)).toBe(false);
    const unconfigured = new CommentService({
      store: new SqliteCommentStore(':memory:'),
      fanout: new MemoryFanOut(),
      logger,
      keys,
    });
    expect(unconfigured.isModerator(ADMIN)).toBe(false);
    expect(unconfigured.isModerator('')).toBe(false);
  });

  it('refuses posts from a banned author key until the ban expires, and posts to a locked article', async () => {
    const { service, advance } = clocked();
    const { comment } = stored(await service.post('art', input('spam'), { clientIp: '203.0.113.7' }));
    const ban = await service.ban({ commentId: comment.id, expiresInMinutes: 10, reason: 'spam' });
    expect(ban).toMatchObject({ authorName: 'Ann', reason: 'spam', expiresAt: '2026-01-02T03:10:00.000Z' });
    expect(await code(service.post('art', input('more spam'), { clientIp: '203.0.113.7' }))).toBe('forbidden');
    // Another address is another author key.
    expect(stored(await service.post('art', input('hello'), { clientIp: '198.51.100.1' })).created).toBe(true);
    advance(10 * 60_000);
    expect(stored(await service.post('art', input('reformed'), { clientIp: '203.0.113.7' })).created).toBe(true);
    await service.setArticleState('art', { locked: true });
    expect(await code(service.post('art', input('closed?'), { clientIp: '198.51.100.1' }))).toBe('forbidden');
    expect(await service.page('art', {})).toMatchObject({ locked: true, premoderated: false });
  });

  it('holds posts under pre-moderation, publishing nothing to readers, and approves them with the next seq', async () => {
    const { service, published } = clocked({ premoderation: 'all' });
    const outcome = await service.post('art', input('please approve'));
    if (!('held' in outcome)) throw new Error('expected a held post');
    expect(published).toEqual([]);
    expect(await service.heldList(10)).toEqual([expect.objectContaining({ id: outcome.held.id })]);
    const approved = await service.approve(outcome.held.id);
    expect(approved).toMatchObject({ id: outcome.held.id, seq: 1, createdAt: outcome.held.createdAt });
    expect(published).toEqual([
      { event: 'comment:created', comment: expect.objectContaining({ id: outcome.held.id, seq: 1 }) },
    ]);
    expect(published[0]?.comment).not.toHaveProperty('authorKey');
    expect(await code(service.approve(outcome.held.id))).toBe('not_found');
    expect(await service.page('art', {})).toMatchObject({ premoderated: true });
  });

  it('counts one like per reader and publishes only changes', async () => {
    const { service, published } = clocked();
    const { comment } = stored(await service.post('art', input('like me')));
    expect(await service.like(comment.id, 'reader-0000000001', true)).toMatchObject({
      liked: true,
      comment: { likes: 1, seq: 2 },
    });
    expect(await service.like(comment.id, 'reader-0000000001', true)).toMatchObject({
      liked: true,
      comment: { likes: 1, seq: 2 },
    });
    expect(await service.like(comment.id, 'reader-0000000001', false)).toMatchObject({
      liked: false,
      comment: { likes: 0, seq: 3 },
    });
    expect(published.map((m) => m.event)).toEqual(['comment:created', 'comment:updated', 'comment:updated']);
    expect(await code(service.like('y'.repeat(21), 'reader-0000000001', true))).toBe('not_found');
  });
});

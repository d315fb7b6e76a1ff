import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { AppError } from '../../shared/errors.ts';
import { NewCommentSchema } from '../../shared/schemas.ts';
import { ActorPolicy, guest, type Actor } from '../../server/actors/actor.ts';
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
const anon = guest();
const keys = new Keyring('a-test-secret-of-at-least-32-bytes');
const input = (body: string, extra: object = {}) => NewCommentSchema.parse({ author: { name: 'Ann' }, body, ...extra });

/** The outcome of a post that must have been stored (no pre-moderation in these tests). */
function stored(outcome: PostOutcome): StoredOutcome {
  if (!('comment' in outcome)) throw new Error('post was held');
  return outcome;
}

function setup(overrides: { store?: CommentStore; fanout?: FanOut } = {}) {
  const store = overrides.store ?? new SqliteCommentStore(':memory:');
  const fanout = overrides.fanout ?? new MemoryFanOut(logger);
  const published: FanOutMessage[] = [];
  fanout.onMessage((m) => published.push(m));
  const service = new CommentService({ store, fanout, logger, keys, now: () => new Date('2026-01-02T03:04:05.000Z') });
  return { store, fanout, service, published };
}

describe('CommentService.post', () => {
  it('persists, then publishes the stored comment once', async () => {
    const { service, store, published } = setup();
    const { comment, authorToken, created } = stored(await service.post(anon, 'art', input('hello')));
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
    const first = stored(await service.post(anon, 'art', input('once', { clientId: 'client-id-000001' })));
    const again = stored(await service.post(anon, 'art', input('once', { clientId: 'client-id-000001' })));
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
    const parent = stored(await service.post(anon, 'one', input('parent')));
    const error = await service
      .post(anon, 'two', input('reply', { parentId: parent.comment.id }))
      .catch((e: unknown) => e);
    // Translated to `invalid_input` on parentId at the edges (tests/unit/public-error.test.ts), not here.
    expect(error).toBeInstanceOf(ParentNotFoundError);
    expect(published).toHaveLength(1);
  });

  it("lets the store's StoreUnavailableError through when the store is down, and publishes nothing", async () => {
    const store = new SqliteCommentStore(':memory:');
    const { service, published } = setup({ store });
    await store.close();
    await expect(service.post(anon, 'art', input('x'))).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(service.page('art', {})).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(published).toHaveLength(0);
  });

  it('keeps a stored post successful when publishing fails', async () => {
    const failing: FanOut = Object.assign(new MemoryFanOut(logger), {
      publish: async (): Promise<void> => {
        throw new Error('bus down');
      },
    });
    const { service, store } = setup({ fanout: failing });
    const { comment } = stored(await service.post(anon, 'art', input('stored anyway')));
    expect((await store.get(comment.id))?.body).toBe('stored anyway');
  });

  it('propagates unknown store errors untouched (shown to clients only as internal)', async () => {
    const broken = new SqliteCommentStore(':memory:');
    broken.submit = async (): Promise<SubmitResult> => {
      throw new TypeError('bug');
    };
    const { service } = setup({ store: broken });
    await expect(service.post(anon, 'art', input('x'))).rejects.toBeInstanceOf(TypeError);
  });
});

describe('CommentService reads', () => {
  it('answers changes with reset when more changed than one answer may carry', async () => {
    const { service } = setup();
    for (let i = 0; i < 501; i++) await service.post(anon, 'busy', input(`c${i}`));
    const changes = await service.changesSince('busy', 0);
    expect(changes).toEqual({ articleId: 'busy', lastSeq: 501, comments: [], reset: true });
    const recent = await service.changesSince('busy', 1);
    expect(recent.comments).toHaveLength(500);
    expect(recent.reset).toBeUndefined();
  });
});

describe('CommentService edits, removals and moderation', () => {
  const ADMIN = 'admin-token-for-tests-0123456789';
  const policy = new ActorPolicy({ adminToken: ADMIN });
  /** The actor a request with this bearer token (and address) is. */
  const by = (token?: string, clientIp?: string): Actor => policy.resolve({ bearer: token, clientIp });
  const moderator = by(ADMIN);

  /** A service whose clock the test moves, with the moderator token configured and a 15-minute window. */
  function clocked(options: { editWindowMinutes?: number; premoderation?: 'all' | 'none' } = {}) {
    const store = new SqliteCommentStore(':memory:');
    const fanout = new MemoryFanOut(logger);
    const published: FanOutMessage[] = [];
    fanout.onMessage((m) => published.push(m));
    let now = new Date('2026-01-02T03:00:00.000Z').getTime();
    const service = new CommentService({
      store,
      fanout,
      logger,
      keys,
      now: () => new Date(now),
      policy,
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
    const { comment, authorToken } = stored(await service.post(anon, 'art', input('first draft')));
    advance(14 * 60_000);
    const edited = await service.edit(by(authorToken), comment.id, 'second draft');
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
    const mine = stored(await service.post(anon, 'art', input('mine')));
    const theirs = stored(await service.post(anon, 'art', input('theirs')));
    expect(await code(service.edit(by(theirs.authorToken), mine.comment.id, 'hijack'))).toBe('forbidden');
    expect(await code(service.edit(by(undefined), mine.comment.id, 'hijack'))).toBe('forbidden');
    expect(await code(service.remove(by(theirs.authorToken), mine.comment.id))).toBe('forbidden');
    expect(await code(service.edit(by('not-a-token-at-all'), mine.comment.id, 'x'))).toBe('forbidden');
    advance(15 * 60_000 + 1);
    expect(await code(service.edit(by(mine.authorToken), mine.comment.id, 'too late'))).toBe('forbidden');
    // Deleting has no window.
    expect(await service.remove(by(mine.authorToken), mine.comment.id)).toMatchObject({ status: 'removed', body: '' });
    expect(published.map((m) => m.event)).toEqual(['comment:created', 'comment:created', 'comment:removed']);
  });

  it('lets the moderator token edit after the window and remove any comment, keeping the body for restore', async () => {
    const { service, store, advance } = clocked();
    const { comment } = stored(await service.post(anon, 'art', input('anything')));
    advance(24 * 3_600_000);
    expect(await service.edit(by(ADMIN), comment.id, 'moderated text')).toMatchObject({ body: 'moderated text' });
    expect(await service.remove(by(ADMIN), comment.id)).toMatchObject({ status: 'removed', body: '' });
    expect((await store.getRecord(comment.id))?.comment.originalBody).toBe('moderated text');
    expect(await service.restore(moderator, comment.id)).toMatchObject({ status: 'visible', body: 'moderated text' });
  });

  it("answers not_found for an unknown id, and forbidden for editing a removed comment or restoring an author's deletion", async () => {
    const { service } = clocked();
    const { comment, authorToken } = stored(await service.post(anon, 'art', input('gone soon')));
    expect(await code(service.edit(by(authorToken), 'x'.repeat(21), 'x'))).toBe('not_found');
    expect(await code(service.remove(by(ADMIN), 'x'.repeat(21)))).toBe('not_found');
    await service.remove(by(authorToken), comment.id);
    expect(await code(service.edit(by(authorToken), comment.id, 'back'))).toBe('forbidden');
    expect(await code(service.edit(by(ADMIN), comment.id, 'back'))).toBe('forbidden');
    expect(await code(service.restore(moderator, comment.id))).toBe('forbidden');
  });

  it('with a zero window, authors can never edit, moderators still can', async () => {
    const { service } = clocked({ editWindowMinutes: 0 });
    const { comment, authorToken } = stored(await service.post(anon, 'art', input('fixed')));
    expect(await code(service.edit(by(authorToken), comment.id, 'changed'))).toBe('forbidden');
    expect(await service.edit(by(ADMIN), comment.id, 'changed')).toMatchObject({ body: 'changed' });
  });

  it('refuses every moderator action to a guest with forbidden, even called directly, changing nothing', async () => {
    const { service, store, published } = clocked();
    const { comment, authorToken } = stored(await service.post(anon, 'art', input('target')));
    const held = await clocked({ premoderation: 'all' }).service.post(anon, 'art', input('held'));
    if (!('held' in held)) throw new Error('expected a held post');
    // The comment's own author is still a guest: its token proves authorship, not moderation.
    for (const actor of [anon, by(authorToken, '203.0.113.7'), by(`${ADMIN}x`)]) {
      expect(actor.kind).toBe('guest');
      const refusals = await Promise.all([
        code(service.moderatorRemove(actor, comment.id)),
        code(service.restore(actor, comment.id)),
        code(service.approve(actor, held.held.id)),
        code(service.reject(actor, held.held.id)),
        code(service.heldList(actor, 10)),
        code(service.feed(actor, { limit: 10 })),
        code(service.ban(actor, { commentId: comment.id })),
        code(service.bans(actor)),
        code(service.unban(actor, 'k'.repeat(43))),
        code(service.articleState(actor, 'art')),
        code(service.setArticleState(actor, 'art', { locked: true })),
      ]);
      expect(refusals).toEqual(Array(refusals.length).fill('forbidden'));
    }
    expect((await store.getRecord(comment.id))?.comment.status).toBe('visible');
    expect(await store.bans('2026-01-02T03:00:00.000Z')).toEqual([]);
    expect((await store.articleSettings('art')).locked).toBe(false);
    expect(published.map((m) => m.event)).toEqual(['comment:created']);
  });

  it('without ADMIN_TOKEN nobody is a moderator, whatever token is presented', async () => {
    const unconfigured = new ActorPolicy();
    const service = new CommentService({
      store: new SqliteCommentStore(':memory:'),
      fanout: new MemoryFanOut(logger),
      logger,
      keys,
      policy: unconfigured,
    });
    const actor = unconfigured.resolve({ bearer: ADMIN });
    expect(actor.kind).toBe('guest');
    const error = await service.bans(actor).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('not configured') });
  });

  it('refuses posts from a banned author key until the ban expires, and posts to a locked article', async () => {
    const { service, advance } = clocked();
    const { comment } = stored(await service.post(by(undefined, '203.0.113.7'), 'art', input('spam')));
    const ban = await service.ban(moderator, { commentId: comment.id, expiresInMinutes: 10, reason: 'spam' });
    expect(ban).toMatchObject({ authorName: 'Ann', reason: 'spam', expiresAt: '2026-01-02T03:10:00.000Z' });
    expect(await code(service.post(by(undefined, '203.0.113.7'), 'art', input('more spam')))).toBe('forbidden');
    // Another address is another author key.
    expect(stored(await service.post(by(undefined, '198.51.100.1'), 'art', input('hello'))).created).toBe(true);
    advance(10 * 60_000);
    expect(stored(await service.post(by(undefined, '203.0.113.7'), 'art', input('reformed'))).created).toBe(true);
    await service.setArticleState(moderator, 'art', { locked: true });
    expect(await code(service.post(by(undefined, '198.51.100.1'), 'art', input('closed?')))).toBe('forbidden');
    expect(await service.page('art', {})).toMatchObject({ locked: true, premoderated: false });
  });

  it('holds posts under pre-moderation, publishing nothing to readers, and approves them with the next seq', async () => {
    const { service, published } = clocked({ premoderation: 'all' });
    const outcome = await service.post(anon, 'art', input('please approve'));
    if (!('held' in outcome)) throw new Error('expected a held post');
    expect(published).toEqual([]);
    expect(await service.heldList(moderator, 10)).toEqual([expect.objectContaining({ id: outcome.held.id })]);
    const approved = await service.approve(moderator, outcome.held.id);
    expect(approved).toMatchObject({ id: outcome.held.id, seq: 1, createdAt: outcome.held.createdAt });
    expect(published).toEqual([
      { event: 'comment:created', comment: expect.objectContaining({ id: outcome.held.id, seq: 1 }) },
    ]);
    expect(published[0]?.comment).not.toHaveProperty('authorKey');
    expect(await code(service.approve(moderator, outcome.held.id))).toBe('not_found');
    expect(await service.page('art', {})).toMatchObject({ premoderated: true });
  });

  it('counts one like per reader and publishes only changes', async () => {
    const { service, published } = clocked();
    const { comment } = stored(await service.post(anon, 'art', input('like me')));
    expect(await service.like(anon, comment.id, 'reader-0000000001', true)).toMatchObject({
      liked: true,
      comment: { likes: 1, seq: 2 },
    });
    expect(await service.like(anon, comment.id, 'reader-0000000001', true)).toMatchObject({
      liked: true,
      comment: { likes: 1, seq: 2 },
    });
    expect(await service.like(anon, comment.id, 'reader-0000000001', false)).toMatchObject({
      liked: false,
      comment: { likes: 0, seq: 3 },
    });
    expect(published.map((m) => m.event)).toEqual(['comment:created', 'comment:updated', 'comment:updated']);
    expect(await code(service.like(anon, 'y'.repeat(21), 'reader-0000000001', true))).toBe('not_found');
  });
});

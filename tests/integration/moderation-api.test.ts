import { afterAll, beforeAll, describe, expect } from 'vitest';
import { test as it } from '../helpers/fixtures.ts';
import { nanoid } from 'nanoid';
import { ErrorBodySchema } from '../../shared/errors.ts';
import {
  AdminFeedSchema,
  BanListSchema,
  BanResultSchema,
  HeldListSchema,
  ModeratedResultSchema,
  RejectResultSchema,
  UnbanResultSchema,
} from '../../shared/moderation.ts';
import {
  ArticleStateSchema,
  CommentPageSchema,
  CommentResultSchema,
  CountsSchema,
  LikeResultSchema,
  PostHeldSchema,
  PostStoredSchema,
  ReaderLikesSchema,
} from '../../shared/schemas.ts';
import { getJson, postJson, startTestApp, uniqueArticle, type TestApp } from '../helpers/test-app.ts';
import { TestClient } from '../helpers/test-client.ts';
import { checkedAck } from '../helpers/acks.ts';

const ADMIN_TOKEN = `admin-${nanoid(24)}`;

interface Reply {
  status: number;
  body: unknown;
}

async function call(url: string, method: string, options: { token?: string; body?: unknown } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
}

const expectError = (res: Reply, status: number, code: string): string => {
  expect(res.status).toBe(status);
  const { error } = ErrorBodySchema.parse(res.body);
  expect(error.code).toBe(code);
  return error.message;
};

describe('own edits, deletes, likes and the admin API (ADMIN_TOKEN set)', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startTestApp({ env: { ADMIN_TOKEN } });
  });
  afterAll(async () => {
    await server.close();
  });

  const api = (path: string) => `${server.url}/api${path}`;
  const admin = (path: string, method = 'GET', body?: unknown) =>
    call(api(`/admin${path}`), method, { token: ADMIN_TOKEN, ...(body === undefined ? {} : { body }) });
  /** A comment stored as new (201), with its author token. */
  const post = (articleId: string, name = 'Ann', body = 'hello') =>
    new TestClient(server.url).stored(articleId, { name, body });

  describe('PATCH and DELETE /api/comments/:id', () => {
    it('edits with the own token (200, editedAt set, next seq) and with the admin token', async () => {
      const articleId = uniqueArticle();
      const { comment, authorToken } = await post(articleId, 'Ann', 'typo hre');
      const res = await call(api(`/comments/${comment.id}`), 'PATCH', {
        token: authorToken,
        body: { body: '  typo here ' },
      });
      expect(res.status).toBe(200);
      const edited = CommentResultSchema.parse(res.body).comment;
      expect(edited).toMatchObject({ id: comment.id, body: 'typo here', seq: 2 });
      expect(edited.editedAt).not.toBeNull();
      const byAdmin = CommentResultSchema.parse(
        (await call(api(`/comments/${comment.id}`), 'PATCH', { token: ADMIN_TOKEN, body: { body: 'moderated' } })).body,
      );
      expect(byAdmin.comment).toMatchObject({ body: 'moderated', seq: 3 });
    });

    it("refuses another comment's token, no token and the wrong scheme with 403; unknown ids with 404; bad bodies with 400", async () => {
      const articleId = uniqueArticle();
      const mine = await post(articleId);
      const theirs = await post(articleId, 'Bo');
      expectError(
        await call(api(`/comments/${mine.comment.id}`), 'PATCH', { token: theirs.authorToken, body: { body: 'x' } }),
        403,
        'forbidden',
      );
      expectError(await call(api(`/comments/${mine.comment.id}`), 'PATCH', { body: { body: 'x' } }), 403, 'forbidden');
      expectError(
        await call(api(`/comments/${mine.comment.id}`), 'DELETE', { token: theirs.authorToken }),
        403,
        'forbidden',
      );
      const basic = await fetch(api(`/comments/${mine.comment.id}`), {
        method: 'DELETE',
        headers: { authorization: `Basic ${mine.authorToken}` },
      });
      expect(basic.status).toBe(403);
      expectError(
        await call(api(`/comments/${nanoid()}`), 'PATCH', { token: mine.authorToken, body: { body: 'x' } }),
        404,
        'not_found',
      );
      expectError(await call(api(`/comments/${nanoid()}`), 'DELETE', { token: ADMIN_TOKEN }), 404, 'not_found');
      expectError(await call(api('/comments/short'), 'DELETE', { token: ADMIN_TOKEN }), 400, 'invalid_input');
      expectError(
        await call(api(`/comments/${mine.comment.id}`), 'PATCH', {
          token: mine.authorToken,
          body: { body: 'x', author: 'me' },
        }),
        400,
        'invalid_input',
      );
      expectError(
        await call(api(`/comments/${mine.comment.id}`), 'PATCH', { token: mine.authorToken, body: { body: '   ' } }),
        400,
        'invalid_input',
      );
      // Nothing changed.
      expect(await getJson(api(`/articles/${articleId}/changes?since=0`))).toMatchObject({ body: { lastSeq: 2 } });
    });

    it('deletes with the own token, leaving a placeholder with no body; a removed comment cannot be edited', async () => {
      const articleId = uniqueArticle();
      const { comment, authorToken } = await post(articleId, 'Ann', 'regret');
      const reply = await postJson(api(`/articles/${articleId}/comments`), {
        author: { name: 'Bo' },
        body: 'reply',
        parentId: comment.id,
      });
      expect(reply.status).toBe(201);
      const res = await call(api(`/comments/${comment.id}`), 'DELETE', { token: authorToken });
      expect(res.status).toBe(200);
      expect(CommentResultSchema.parse(res.body).comment).toMatchObject({ status: 'removed', body: '', seq: 3 });
      const page = CommentPageSchema.parse((await getJson(api(`/articles/${articleId}/comments`))).body);
      expect(page.comments.map((c) => [c.status, c.body])).toEqual([
        ['removed', ''],
        ['visible', 'reply'],
      ]);
      expect(JSON.stringify(page)).not.toContain('regret');
      expect(CountsSchema.parse((await getJson(api(`/counts?articles=${articleId}`))).body).counts[articleId]).toBe(1);
      expectError(
        await call(api(`/comments/${comment.id}`), 'PATCH', { token: authorToken, body: { body: 'undo' } }),
        403,
        'forbidden',
      );
      // The author's deletion erased the body: a moderator has nothing to restore.
      expectError(await admin(`/comments/${comment.id}/restore`, 'POST', {}), 403, 'forbidden');
    });
  });

  describe('likes', () => {
    it('counts one like per reader, undoes, lists what a reader likes, and sorts threads by likes', async () => {
      const articleId = uniqueArticle();
      const [a, b] = [await post(articleId, 'A'), await post(articleId, 'B')];
      const like = (id: string, readerId: string, liked = true) =>
        call(api(`/comments/${id}/like`), 'POST', { body: { readerId, liked } });
      const first = LikeResultSchema.parse((await like(a.comment.id, 'reader-aaaa-0001')).body);
      expect(first).toMatchObject({ liked: true, comment: { likes: 1, seq: 3 } });
      expect(LikeResultSchema.parse((await like(a.comment.id, 'reader-aaaa-0001')).body).comment).toMatchObject({
        likes: 1,
        seq: 3,
      });
      expect(LikeResultSchema.parse((await like(a.comment.id, 'reader-bbbb-0002')).body).comment.likes).toBe(2);
      expect(LikeResultSchema.parse((await like(a.comment.id, 'reader-bbbb-0002', false)).body)).toMatchObject({
        liked: false,
        comment: { likes: 1 },
      });
      const likes = ReaderLikesSchema.parse(
        (await getJson(api(`/articles/${articleId}/likes?reader=reader-aaaa-0001`))).body,
      );
      expect(likes).toEqual({ articleId, commentIds: [a.comment.id] });
      const top = CommentPageSchema.parse((await getJson(api(`/articles/${articleId}/comments?order=top`))).body);
      expect(top.comments.map((c) => c.id)).toEqual([a.comment.id, b.comment.id]);
      expectError(await like(a.comment.id, 'short'), 400, 'invalid_input');
      expectError(
        await call(api(`/comments/${a.comment.id}/like`), 'POST', { body: { readerId: 'reader-aaaa-0001' } }),
        400,
        'invalid_input',
      );
      expectError(await like(nanoid(), 'reader-aaaa-0001'), 404, 'not_found');
      expectError(await call(api(`/articles/${articleId}/likes`), 'GET'), 400, 'invalid_input');
    });
  });

  describe('/api/admin', () => {
    it('refuses a missing or wrong moderator token with 403', async () => {
      expectError(await call(api('/admin/held'), 'GET'), 403, 'forbidden');
      expectError(await call(api('/admin/held'), 'GET', { token: `${ADMIN_TOKEN}x` }), 403, 'forbidden');
      const { comment, authorToken } = await post(uniqueArticle());
      // An author token is no moderator token.
      expectError(
        await call(api(`/admin/comments/${comment.id}/remove`), 'POST', { token: authorToken, body: {} }),
        403,
        'forbidden',
      );
    });

    it('removes keeping the body for moderators only, restores it, and feeds the moderator view', async () => {
      const articleId = uniqueArticle();
      const { comment } = await post(articleId, 'Ann', 'over the line');
      const removed = ModeratedResultSchema.parse(
        (await admin(`/comments/${comment.id}/remove`, 'POST', {})).body,
      ).comment;
      expect(removed).toMatchObject({
        status: 'removed',
        body: '',
        removedBy: 'moderator',
        originalBody: 'over the line',
        seq: 2,
      });
      expect(removed.authorKey).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(JSON.stringify((await getJson(api(`/articles/${articleId}/comments`))).body)).not.toContain(
        'over the line',
      );
      const feed = AdminFeedSchema.parse((await admin(`/feed?articleId=${articleId}`)).body);
      expect(feed.comments).toEqual([expect.objectContaining({ id: comment.id, originalBody: 'over the line' })]);
      const restored = ModeratedResultSchema.parse(
        (await admin(`/comments/${comment.id}/restore`, 'POST', {})).body,
      ).comment;
      expect(restored).toMatchObject({ status: 'visible', body: 'over the line', seq: 3, removedBy: null });
      expectError(await admin(`/comments/${comment.id}/remove`, 'POST', { extra: 1 }), 400, 'invalid_input');
      expectError(await admin('/feed?limit=0'), 400, 'invalid_input');
      expectError(await admin(`/comments/${nanoid()}/remove`, 'POST', {}), 404, 'not_found');
    });

    it('holds posts of a pre-moderated article (202, not in the thread), approves with the next seq, rejects for good', async () => {
      const articleId = uniqueArticle();
      await post(articleId);
      expect(
        ArticleStateSchema.parse((await admin(`/articles/${articleId}`, 'PUT', { premoderated: true })).body),
      ).toEqual({ articleId, locked: false, premoderated: true });
      const held = await postJson(api(`/articles/${articleId}/comments`), {
        author: { name: 'Cy' },
        body: 'waiting',
        clientId: 'held-client-0001',
      });
      expect(held.status).toBe(202);
      const { held: waiting, authorToken } = PostHeldSchema.parse(held.body);
      expect(authorToken?.length).toBeGreaterThan(20);
      // A retry of the same clientId is the same held comment.
      const again = await postJson(api(`/articles/${articleId}/comments`), {
        author: { name: 'Cy' },
        body: 'waiting',
        clientId: 'held-client-0001',
      });
      expect(again.status).toBe(202);
      const retried = PostHeldSchema.parse(again.body);
      expect(retried.held.id).toBe(waiting.id);
      const other = PostHeldSchema.parse(
        (await postJson(api(`/articles/${articleId}/comments`), { author: { name: 'Di' }, body: 'no' })).body,
      ).held;
      const page = CommentPageSchema.parse((await getJson(api(`/articles/${articleId}/comments`))).body);
      expect(page).toMatchObject({ lastSeq: 1, premoderated: true, locked: false });
      const queue = HeldListSchema.parse((await admin('/held?limit=200')).body).held.filter(
        (h) => h.articleId === articleId,
      );
      expect(queue.map((h) => h.id)).toEqual([waiting.id, other.id]);
      const approved = ModeratedResultSchema.parse(
        (await admin(`/held/${waiting.id}/approve`, 'POST', {})).body,
      ).comment;
      expect(approved).toMatchObject({ id: waiting.id, seq: 2, body: 'waiting', createdAt: waiting.createdAt });
      expect(RejectResultSchema.parse((await admin(`/held/${other.id}/reject`, 'POST', {})).body)).toEqual({
        rejected: other.id,
      });
      expectError(await admin(`/held/${other.id}/approve`, 'POST', {}), 404, 'not_found');
      expectError(await admin(`/held/${waiting.id}/reject`, 'POST', {}), 404, 'not_found');
      // Writes carry JSON: a POST without a JSON content type is refused before anything happens.
      expect((await call(api(`/admin/held/${waiting.id}/approve`), 'POST', { token: ADMIN_TOKEN })).status).toBe(415);
      // The approved post's token (the first answer's: a retry without its clientSecret gets none and
      // revokes nothing) works like any author's.
      expect(retried.authorToken).toBeUndefined();
      const edit = await call(api(`/comments/${waiting.id}`), 'PATCH', {
        token: authorToken,
        body: { body: 'waited' },
      });
      expect(CommentResultSchema.parse(edit.body).comment).toMatchObject({ body: 'waited', seq: 3 });
      expect(
        CommentPageSchema.parse((await getJson(api(`/articles/${articleId}/comments`))).body).comments.map(
          (c) => c.body,
        ),
      ).toEqual(['waited', 'hello']);
    });

    it('locks an article: REST and socket posts answer 403, the page says locked, unlocking reopens it', async ({
      connect,
    }) => {
      const articleId = uniqueArticle();
      await post(articleId);
      expect(ArticleStateSchema.parse((await admin(`/articles/${articleId}`, 'PUT', { locked: true })).body)).toEqual({
        articleId,
        locked: true,
        premoderated: false,
      });
      const message = expectError(
        await postJson(api(`/articles/${articleId}/comments`), { author: { name: 'Late' }, body: 'hello?' }),
        403,
        'forbidden',
      );
      expect(message).toMatch(/closed/);
      const socket = await connect(server.url);
      const ack = checkedAck(
        'comment:post',
        await socket.emitWithAck('comment:post', {
          articleId,
          author: { name: 'Late' },
          body: 'hello?',
        }),
      );
      expect(ack).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      expect(CommentPageSchema.parse((await getJson(api(`/articles/${articleId}/comments`))).body)).toMatchObject({
        locked: true,
        lastSeq: 1,
      });
      expect(ArticleStateSchema.parse((await admin(`/articles/${articleId}`)).body).locked).toBe(true);
      await admin(`/articles/${articleId}`, 'PUT', { locked: false });
      await post(articleId, 'Late');
      expectError(await admin(`/articles/${articleId}`, 'PUT', {}), 400, 'invalid_input');
      expectError(await admin(`/articles/${articleId}`, 'PUT', { locked: 'yes' }), 400, 'invalid_input');
    });

    it('bans the author of a comment (name and address) until lifted: their REST and socket posts answer 403', async ({
      connect,
    }) => {
      const articleId = uniqueArticle();
      const name = `Troll ${nanoid(6)}`;
      const { comment } = await post(articleId, name, 'bait');
      const ban = BanResultSchema.parse(
        (await admin('/bans', 'POST', { commentId: comment.id, reason: 'baiting' })).body,
      ).ban;
      expect(ban).toMatchObject({ authorName: name, reason: 'baiting', expiresAt: null });
      expectError(
        await postJson(api(`/articles/${articleId}/comments`), { author: { name }, body: 'more bait' }),
        403,
        'forbidden',
      );
      // Same address, name normalised the same way: still banned.
      expectError(
        await postJson(api(`/articles/${articleId}/comments`), {
          author: { name: ` ${name.toUpperCase()} ` },
          body: 'x',
        }),
        403,
        'forbidden',
      );
      const socket = await connect(server.url);
      expect(
        await socket.emitWithAck('comment:post', { articleId, author: { name }, body: 'via socket' }),
      ).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      // Another name from the same address is another author.
      await post(articleId, 'Bystander');
      expect(BanListSchema.parse((await admin('/bans')).body).bans.map((b) => b.authorKey)).toContain(ban.authorKey);
      expect(UnbanResultSchema.parse((await admin(`/bans/${ban.authorKey}`, 'DELETE')).body)).toEqual({
        unbanned: ban.authorKey,
      });
      await post(articleId, name, 'reformed');
      expectError(await admin(`/bans/${ban.authorKey}`, 'DELETE'), 404, 'not_found');
      expectError(await admin('/bans', 'POST', { commentId: nanoid() }), 404, 'not_found');
      expectError(await admin('/bans', 'POST', { commentId: comment.id, expiresInMinutes: 0 }), 400, 'invalid_input');
    });

    it('bans with an expiry', async () => {
      const articleId = uniqueArticle();
      const { comment } = await post(articleId, `Brief ${nanoid(6)}`);
      const ban = BanResultSchema.parse(
        (await admin('/bans', 'POST', { commentId: comment.id, expiresInMinutes: 5 })).body,
      ).ban;
      expect(ban.expiresAt).not.toBeNull();
      const minutes = (Date.parse(ban.expiresAt ?? '') - Date.parse(ban.createdAt)) / 60_000;
      expect(minutes).toBe(5);
      await admin(`/bans/${ban.authorKey}`, 'DELETE');
    });
  });
});

describe('without ADMIN_TOKEN', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startTestApp();
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers 403 forbidden on every admin route and refuses admin:subscribe, whatever the token', async ({
    connect,
  }) => {
    for (const [path, method] of [
      ['/held', 'GET'],
      ['/feed', 'GET'],
      ['/bans', 'GET'],
      [`/held/${nanoid()}/approve`, 'POST'],
      ['/articles/x', 'PUT'],
    ] as const) {
      expectError(
        await call(`${server.url}/api/admin${path}`, method, {
          token: 'anything-at-all-0123456789',
          ...(method === 'GET' ? {} : { body: {} }),
        }),
        403,
        'forbidden',
      );
    }
    const socket = await connect(server.url);
    expect(await socket.emitWithAck('admin:subscribe', { token: 'anything-at-all-0123456789' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    socket.disconnect();
  });

  it('lets authors edit only within EDIT_WINDOW_MINUTES (0 here: never), deleting still works', async () => {
    const strict = await startTestApp({ env: { EDIT_WINDOW_MINUTES: '0', ADMIN_TOKEN } });
    try {
      const res = await postJson(`${strict.url}/api/articles/${uniqueArticle()}/comments`, {
        author: { name: 'Ann' },
        body: 'final',
      });
      const { comment, authorToken } = PostStoredSchema.parse(res.body);
      expect(
        expectError(
          await call(`${strict.url}/api/comments/${comment.id}`, 'PATCH', {
            token: authorToken,
            body: { body: 'edit' },
          }),
          403,
          'forbidden',
        ),
      ).toMatch(/0 minutes/);
      expect(
        (
          await call(`${strict.url}/api/comments/${comment.id}`, 'PATCH', {
            token: ADMIN_TOKEN,
            body: { body: 'edit' },
          })
        ).status,
      ).toBe(200);
      expect((await call(`${strict.url}/api/comments/${comment.id}`, 'DELETE', { token: authorToken })).status).toBe(
        200,
      );
    } finally {
      await strict.close();
    }
  });

  it('holds every post with PREMODERATION=all', async () => {
    const held = await startTestApp({ env: { PREMODERATION: 'all' } });
    try {
      const articleId = uniqueArticle();
      const res = await postJson(`${held.url}/api/articles/${articleId}/comments`, {
        author: { name: 'Ann' },
        body: 'first',
      });
      expect(res.status).toBe(202);
      expect(
        CommentPageSchema.parse((await getJson(`${held.url}/api/articles/${articleId}/comments`)).body),
      ).toMatchObject({ premoderated: true, comments: [] });
    } finally {
      await held.close();
    }
  });
});

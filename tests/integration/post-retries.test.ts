import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nanoid } from 'nanoid';
import { AdminFeedSchema, ModeratedCommentSchema, type ModeratedComment } from '../../shared/moderation.ts';
import { CommentResultSchema, PostHeldSchema, PostStoredSchema } from '../../shared/schemas.ts';
import { connectSocket, getJson, postJson, startTestApp, uniqueArticle, type TestApp } from '../helpers/test-app.ts';
import { checkedAck } from '../helpers/acks.ts';

const ADMIN_TOKEN = `admin-${nanoid(24)}`;
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/**
 * A post's clientId makes retries safe; it must not make a comment anyone's who learns it. A retry
 * gets the author token only with the first post's clientSecret (and then the same token); the
 * original token keeps working whatever retries arrive.
 */
describe('retried posts (clientId and clientSecret)', () => {
  let app: TestApp;
  const api = (path: string) => `${app.url}/api${path}`;

  beforeAll(async () => {
    app = await startTestApp({ env: { ADMIN_TOKEN } });
  });
  afterAll(async () => {
    await app?.close();
  });

  const post = (articleId: string, body: object) => postJson(api(`/articles/${articleId}/comments`), body);
  const edit = (id: string, token: string, body: string) =>
    fetch(api(`/comments/${id}`), {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ body }),
    });

  it('gives a proven retry the same token and a retry without the secret none, never revoking the first', async () => {
    const articleId = uniqueArticle('retry');
    const clientId = nanoid();
    const clientSecret = nanoid(32);
    const first = await post(articleId, { author: { name: 'Ann' }, body: 'mine', clientId, clientSecret });
    expect(first.status).toBe(201);
    const original = PostStoredSchema.parse(first.body);
    expect(original.authorToken).toBeDefined();

    // Someone who learnt the clientId (a shared log, a screenshot) retries it: the comment, but no token.
    for (const attempt of [{}, { clientSecret: nanoid(32) }]) {
      const takeover = await post(articleId, { author: { name: 'Mallory' }, body: 'mine', clientId, ...attempt });
      expect(takeover.status).toBe(200);
      const answer = PostStoredSchema.parse(takeover.body);
      expect(answer.comment.id).toBe(original.comment.id);
      expect(answer.authorToken).toBeUndefined();
      expect(JSON.stringify(takeover.body)).not.toContain('authorToken');
    }
    // The poster's own retry (a lost answer) proves itself and gets the token it would have had.
    const retry = PostStoredSchema.parse(
      (await post(articleId, { author: { name: 'Ann' }, body: 'mine', clientId, clientSecret })).body,
    );
    expect(retry.authorToken).toBe(original.authorToken);

    const edited = await edit(original.comment.id, original.authorToken!, 'still mine');
    expect(edited.status).toBe(200);
    expect(CommentResultSchema.parse(await edited.json()).comment.body).toBe('still mine');
  });

  it('keeps the token of a post sent without a secret (older clients) through any retry', async () => {
    const articleId = uniqueArticle('retry-old');
    const clientId = nanoid();
    const first = PostStoredSchema.parse(
      (await post(articleId, { author: { name: 'Old' }, body: 'x', clientId })).body,
    );
    const again = PostStoredSchema.parse(
      (await post(articleId, { author: { name: 'Old' }, body: 'x', clientId })).body,
    );
    expect(again.authorToken).toBeUndefined();
    expect((await edit(first.comment.id, first.authorToken!, 'edited')).status).toBe(200);
  });

  it('applies the same rule on the socket and to held posts', async () => {
    const articleId = uniqueArticle('retry-socket');
    const socket = await connectSocket(app.url);
    try {
      const clientId = nanoid();
      const clientSecret = nanoid(24);
      const payload = { articleId, author: { name: 'Sock' }, body: 'over the socket', clientId };
      const first = checkedAck('comment:post', await socket.emitWithAck('comment:post', { ...payload, clientSecret }));
      const bare = checkedAck('comment:post', await socket.emitWithAck('comment:post', payload));
      const proven = checkedAck('comment:post', await socket.emitWithAck('comment:post', { ...payload, clientSecret }));
      if (!first.ok || !bare.ok || !proven.ok) throw new Error('post refused');
      expect(first.authorToken).toBeDefined();
      expect(bare.authorToken).toBeUndefined();
      expect(proven.authorToken).toBe(first.authorToken);
    } finally {
      socket.disconnect();
    }

    const heldArticle = uniqueArticle('retry-held');
    await fetch(api(`/admin/articles/${heldArticle}`), {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ premoderated: true }),
    });
    const clientId = nanoid();
    const clientSecret = nanoid(24);
    const body = { author: { name: 'Held' }, body: 'wait for it', clientId };
    const held = PostHeldSchema.parse((await post(heldArticle, { ...body, clientSecret })).body);
    expect(PostHeldSchema.parse((await post(heldArticle, body)).body).authorToken).toBeUndefined();
    expect(PostHeldSchema.parse((await post(heldArticle, { ...body, clientSecret })).body).authorToken).toBe(
      held.authorToken,
    );
    // Approved, the first token is the one that edits it.
    await postJson(api(`/admin/held/${held.held.id}/approve`), {}, admin);
    expect((await edit(held.held.id, held.authorToken!, 'approved and edited')).status).toBe(200);
  });

  it('publishes a retry to moderators as stored: removal, kept body and the first author key', async () => {
    const articleId = uniqueArticle('retry-feed');
    const clientId = nanoid();
    const first = PostStoredSchema.parse(
      (await post(articleId, { author: { name: 'Original Name' }, body: 'the original', clientId })).body,
    );
    await postJson(api(`/admin/comments/${first.comment.id}/remove`), {}, admin);
    const stored = AdminFeedSchema.parse((await getJson(api(`/admin/feed?articleId=${articleId}`), admin)).body)
      .comments[0]!;
    expect(stored.authorKey).not.toBeNull();

    const moderator = await connectSocket(app.url);
    try {
      await moderator.emitWithAck('admin:subscribe', { token: ADMIN_TOKEN });
      const seen = new Promise<ModeratedComment>((resolve) =>
        moderator.on('admin:comment', (payload: unknown) => resolve(ModeratedCommentSchema.parse(payload))),
      );
      // The retry comes under another name: its own author key must not replace the stored one.
      const retry = await post(articleId, { author: { name: 'Other Name' }, body: 'the original', clientId });
      expect(retry.status).toBe(200);
      const published = await seen;
      expect(published).toEqual(stored);
      expect(published).toMatchObject({ removedBy: 'moderator', originalBody: 'the original', status: 'removed' });
    } finally {
      moderator.disconnect();
    }
  });
});

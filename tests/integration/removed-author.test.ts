import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nanoid } from 'nanoid';
import { AdminFeedSchema, ModeratedCommentSchema, ModeratedResultSchema } from '../../shared/moderation.ts';
import {
  ChangesSchema,
  CommentPageSchema,
  CommentResultSchema,
  CommentSchema,
  type Comment,
} from '../../shared/schemas.ts';
import { connectSocket, getJson, postJson, startTestApp, uniqueArticle, type TestApp } from '../helpers/test-app.ts';
import { TestClient } from '../helpers/test-client.ts';
import { checkedAck } from '../helpers/acks.ts';

const ADMIN_TOKEN = `admin-${nanoid(24)}`;
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** A removed comment keeps its place for readers, but not its author's name; moderators still see it. */
describe('the author of a removed comment', () => {
  let app: TestApp;
  const api = (path: string) => `${app.url}/api${path}`;

  beforeAll(async () => {
    app = await startTestApp({ env: { ADMIN_TOKEN } });
  });
  afterAll(async () => {
    await app?.close();
  });

  /** A comment by `name` stored as new (201), with its author token. */
  const post = (articleId: string, name: string, parentId?: string) =>
    new TestClient(app.url).stored(articleId, {
      name,
      body: `a comment by ${name}`,
      ...(parentId ? { parentId } : {}),
    });

  it.each(['moderator', 'author'] as const)('is not shown to readers after a removal by its %s', async (by) => {
    const articleId = uniqueArticle('removed-name');
    const first = await post(articleId, 'Troll McTroll');
    await post(articleId, 'Replier', first.comment.id);

    const reader = await connectSocket(app.url);
    const moderator = await connectSocket(app.url);
    try {
      await reader.emitWithAck('article:subscribe', { articleId });
      await moderator.emitWithAck('admin:subscribe', { token: ADMIN_TOKEN });
      const pushed = new Promise<unknown>((resolve) => reader.once('comment:removed', resolve));
      const moderated = new Promise<unknown>((resolve) =>
        moderator.on('admin:comment', (c: { id: string; status: string }) => {
          if (c.id === first.comment.id && c.status === 'removed') resolve(c);
        }),
      );

      const answer =
        by === 'moderator'
          ? ModeratedResultSchema.parse(
              (await postJson(api(`/admin/comments/${first.comment.id}/remove`), {}, admin)).body,
            ).comment
          : CommentResultSchema.parse(
              await (
                await fetch(api(`/comments/${first.comment.id}`), {
                  method: 'DELETE',
                  headers: { authorization: `Bearer ${first.authorToken}` },
                })
              ).json(),
            ).comment;
      // Moderators acting through the admin API see who wrote it; an author's delete answers the reader view.
      expect(answer.author.name).toBe(by === 'moderator' ? 'Troll McTroll' : '');

      const readerViews: Comment[] = [CommentSchema.parse(await pushed)];
      const page = CommentPageSchema.parse((await getJson(api(`/articles/${articleId}/comments`))).body);
      readerViews.push(page.comments.find((c) => c.id === first.comment.id)!);
      const changes = ChangesSchema.parse((await getJson(api(`/articles/${articleId}/changes?since=0`))).body);
      readerViews.push(changes.comments.find((c) => c.id === first.comment.id)!);
      const ack = checkedAck(
        'article:subscribe',
        await reader.emitWithAck('article:subscribe', { articleId, since: 0 }),
      );
      if (!ack.ok) throw new Error('subscribe refused');
      readerViews.push(ack.comments.find((c) => c.id === first.comment.id)!);
      for (const view of readerViews) {
        expect(view).toMatchObject({ status: 'removed', body: '', author: { name: '' } });
        expect(CommentSchema.safeParse(view).success).toBe(true);
      }
      // Nothing a reader gets carries the name any more.
      expect(JSON.stringify([page, changes, ack])).not.toContain('Troll McTroll');

      // Moderators still see who wrote it: live and in the feed.
      expect(ModeratedCommentSchema.parse(await moderated).author.name).toBe('Troll McTroll');
      const feed = AdminFeedSchema.parse((await getJson(api(`/admin/feed?articleId=${articleId}`), admin)).body);
      expect(feed.comments.find((c) => c.id === first.comment.id)?.author.name).toBe('Troll McTroll');
    } finally {
      reader.disconnect();
      moderator.disconnect();
    }
  });

  it('comes back with the comment when a moderator restores it', async () => {
    const articleId = uniqueArticle('restored-name');
    const { comment } = await post(articleId, 'Second Chance');
    await postJson(api(`/admin/comments/${comment.id}/remove`), {}, admin);
    await postJson(api(`/admin/comments/${comment.id}/restore`), {}, admin);
    const page = CommentPageSchema.parse((await getJson(api(`/articles/${articleId}/comments`))).body);
    expect(page.comments[0]?.author.name).toBe('Second Chance');
  });
});

import { describe, expect } from 'vitest';
import { ErrorBodySchema } from '../../shared/errors.ts';
import { CommentLocationSchema } from '../../shared/schemas.ts';
import { test } from '../helpers/fixtures.ts';
import { getJson, uniqueArticle } from '../helpers/test-app.ts';

/** `GET /api/articles/:articleId/comments/:commentId`: what a permalink needs to find its comment. */
describe('comment location', () => {
  test('gives a comment at any depth with its thread, and not_found for another article, a held or an unknown one', async ({
    startApp,
  }) => {
    const app = await startApp({ env: { ADMIN_TOKEN: 'a'.repeat(32) } });
    const articleId = uniqueArticle('where');
    const top = (await app.api.stored(articleId, { body: 'top' })).comment;
    const other = (await app.api.stored(articleId, { body: 'other thread' })).comment;
    const reply = (await app.api.stored(articleId, { body: 'reply', parentId: top.id })).comment;
    const deep = (await app.api.stored(articleId, { body: 'deeper', parentId: reply.id })).comment;

    const locate = async (article: string, id: string) => {
      const res = await getJson(`${app.url}/api/articles/${article}/comments/${id}`);
      return { status: res.status, body: res.body };
    };
    for (const [comment, threadId] of [
      [top, top.id],
      [reply, top.id],
      [deep, top.id],
      [other, other.id],
    ] as const) {
      const { status, body } = await locate(articleId, comment.id);
      expect(status).toBe(200);
      expect(CommentLocationSchema.parse(body)).toEqual({ articleId, comment, threadId });
    }

    const elsewhere = await locate(uniqueArticle('elsewhere'), reply.id);
    expect(elsewhere.status).toBe(404);
    expect(ErrorBodySchema.parse(elsewhere.body).error.code).toBe('not_found');
    expect((await locate(articleId, 'x'.repeat(21))).status).toBe(404);
    const malformed = await locate(articleId, 'not-an-id');
    expect(malformed.status).toBe(400);
    expect(ErrorBodySchema.parse(malformed.body).error.code).toBe('invalid_input');

    const moderated = uniqueArticle('held');
    const settings = await fetch(`${app.url}/api/admin/articles/${moderated}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${'a'.repeat(32)}` },
      body: JSON.stringify({ premoderated: true }),
    });
    expect(settings.ok).toBe(true);
    const held = await app.api.held(moderated, { body: 'waiting' });
    expect((await locate(moderated, held.held.id)).status).toBe(404);
  });
});

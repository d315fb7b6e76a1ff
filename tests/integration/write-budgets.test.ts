import { describe, expect } from 'vitest';
import { nanoid } from 'nanoid';
import { ErrorBodySchema } from '../../shared/errors.ts';
import { test as it } from '../helpers/fixtures.ts';
import { postJson, startTwoTestApps, uniqueArticle, type TestApp } from '../helpers/test-app.ts';
import { TestClient } from '../helpers/test-client.ts';

const ADMIN_TOKEN = `admin-${nanoid(24)}`;
const OFF = {
  RATE_LIMIT_EDITS_PER_MINUTE_IP: '0',
  RATE_LIMIT_EDITS_PER_MINUTE_COMMENT: '0',
  RATE_LIMIT_DELETES_PER_MINUTE_IP: '0',
  RATE_LIMIT_LIKES_PER_MINUTE_IP: '0',
  RATE_LIMIT_LIKES_PER_MINUTE_COMMENT: '0',
};

/** A comment stored on `app` (201), with its author token. */
const post = (app: TestApp, articleId = uniqueArticle('budget')) =>
  new TestClient(app.url).stored(articleId, { body: 'x' });

const like = (app: TestApp, id: string, from = '127.0.0.1', liked = true) =>
  postJson(
    `${app.url}/api/comments/${id}/like`,
    { readerId: `reader-${nanoid(12)}`, liked },
    { 'x-forwarded-for': from },
  );

async function write(app: TestApp, method: 'PATCH' | 'DELETE', id: string, token: string, body?: object) {
  const res = await fetch(`${app.url}/api/comments/${id}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as unknown };
}

const limited = (res: { status: number; headers: Headers; body: unknown }) => {
  expect(res.status).toBe(429);
  expect(ErrorBodySchema.parse(res.body).error.code).toBe('rate_limited');
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
};

/** Edits, deletes and likes have budgets like posts: per client and per comment, 0 turning each off. */
describe('budgets of edits, deletes and likes', () => {
  const budgets = (env: Record<string, string>) => ({ env: { ...OFF, ADMIN_TOKEN, ...env } });

  it('counts likes and unlikes per client, and likes per comment across clients', async ({ startApp }) => {
    const app = await startApp(
      budgets({ RATE_LIMIT_LIKES_PER_MINUTE_IP: '3', RATE_LIMIT_LIKES_PER_MINUTE_COMMENT: '4' }),
    );
    const comments = await Promise.all([post(app), post(app), post(app), post(app)]);
    expect((await like(app, comments[0].comment.id)).status).toBe(200);
    expect((await like(app, comments[1].comment.id)).status).toBe(200);
    expect((await like(app, comments[1].comment.id, '127.0.0.1', false)).status).toBe(200);
    limited(await like(app, comments[2].comment.id));
    // Other clients (addresses behind the trusted loopback proxy) have budgets of their own, but one
    // comment takes at most four likes a minute whoever sends them.
    const target = comments[3].comment.id;
    for (const from of ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4'])
      expect((await like(app, target, from)).status).toBe(200);
    limited(await like(app, target, '203.0.113.5'));
  });

  it('counts edits per client and per comment, and deletes per client; moderators are not counted', async ({
    startApp,
  }) => {
    const app = await startApp(
      budgets({
        RATE_LIMIT_EDITS_PER_MINUTE_IP: '5',
        RATE_LIMIT_EDITS_PER_MINUTE_COMMENT: '2',
        RATE_LIMIT_DELETES_PER_MINUTE_IP: '1',
      }),
    );
    const mine = await post(app);
    expect((await write(app, 'PATCH', mine.comment.id, mine.authorToken, { body: 'one' })).status).toBe(200);
    expect((await write(app, 'PATCH', mine.comment.id, mine.authorToken, { body: 'two' })).status).toBe(200);
    limited(await write(app, 'PATCH', mine.comment.id, mine.authorToken, { body: 'three' }));
    expect((await write(app, 'PATCH', mine.comment.id, ADMIN_TOKEN, { body: 'moderator' })).status).toBe(200);

    const [a, b] = await Promise.all([post(app), post(app)]);
    expect((await write(app, 'DELETE', a.comment.id, a.authorToken)).status).toBe(200);
    limited(await write(app, 'DELETE', b.comment.id, b.authorToken));
    expect((await write(app, 'DELETE', b.comment.id, ADMIN_TOKEN)).status).toBe(200);
  });

  it('shares the budgets between instances through Redis', async ({ defer }) => {
    const pair = await startTwoTestApps({ ...OFF, RATE_LIMIT_LIKES_PER_MINUTE_IP: '2' });
    defer(() => pair.close());
    const articleId = uniqueArticle('shared-budget');
    const [one, two, three] = [
      await post(pair.a, articleId),
      await post(pair.a, articleId),
      await post(pair.a, articleId),
    ];
    expect((await like(pair.a, one.comment.id)).status).toBe(200);
    expect((await like(pair.b, two.comment.id)).status).toBe(200);
    limited(await like(pair.a, three.comment.id));
  });
});

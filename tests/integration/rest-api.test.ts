import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangesSchema, CommentPageSchema, PostStoredSchema, type Comment } from '../../shared/schemas.ts';
import { ErrorBodySchema } from '../../shared/errors.ts';
import { getJson, postJson, startTestApp, uniqueArticle, type TestApp } from '../helpers/test-app.ts';

let server: TestApp;
beforeAll(async () => {
  server = await startTestApp();
});
afterAll(async () => {
  await server.close();
});

const api = (path: string) => `${server.url}/api${path}`;
const post = async (articleId: string, body: unknown) => postJson(api(`/articles/${articleId}/comments`), body);
const expectError = (res: { status: number; body: unknown }, status: number, code: string) => {
  expect(res.status).toBe(status);
  const parsed = ErrorBodySchema.parse(res.body);
  expect(parsed.error.code).toBe(code);
  expect(parsed.error.message.length).toBeGreaterThan(0);
  return parsed.error;
};

describe('POST /api/articles/:id/comments', () => {
  it('stores a comment and answers 201 with the comment and an author token', async () => {
    const articleId = uniqueArticle();
    const res = await post(articleId, { author: { name: ' Ann ' }, body: 'First!\nSecond line 😮' });
    expect(res.status).toBe(201);
    const { comment, authorToken } = PostStoredSchema.parse(res.body);
    expect(comment).toMatchObject({
      articleId,
      parentId: null,
      author: { name: 'Ann' },
      body: 'First!\nSecond line 😮',
      status: 'visible',
      seq: 1,
      editedAt: null,
    });
    expect(authorToken?.length).toBeGreaterThanOrEqual(32);
    expect(Date.now() - Date.parse(comment.createdAt)).toBeLessThan(10_000);
  });

  it('stores a reply under its parent and refuses a parent from another article', async () => {
    const articleId = uniqueArticle();
    const parent = PostStoredSchema.parse(
      (await post(articleId, { author: { name: 'A' }, body: 'parent' })).body,
    ).comment;
    const reply = await post(articleId, { author: { name: 'B' }, body: 'reply', parentId: parent.id });
    expect(reply.status).toBe(201);
    expect(PostStoredSchema.parse(reply.body).comment.parentId).toBe(parent.id);
    const elsewhere = await post(uniqueArticle(), { author: { name: 'B' }, body: 'reply', parentId: parent.id });
    expect(expectError(elsewhere, 400, 'invalid_input').issues?.[0]?.path).toBe('parentId');
  });

  it('returns the first comment for a repeated clientId and stores nothing new', async () => {
    const articleId = uniqueArticle();
    const body = { author: { name: 'A' }, body: 'once', clientId: 'retry-key-0123456789' };
    const first = await post(articleId, body);
    const again = await post(articleId, body);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(PostStoredSchema.parse(again.body).comment).toEqual(PostStoredSchema.parse(first.body).comment);
    const page = CommentPageSchema.parse((await getJson(api(`/articles/${articleId}/comments`))).body);
    expect(page.comments).toHaveLength(1);
    expect(page.lastSeq).toBe(1);
  });

  it.each([
    ['missing body', { author: { name: 'A' } }, 'body'],
    ['empty body after trim', { author: { name: 'A' }, body: '  \n ' }, 'body'],
    ['too long body', { author: { name: 'A' }, body: 'x'.repeat(5001) }, 'body'],
    ['wrong type', { author: { name: 'A' }, body: 42 }, 'body'],
    ['unknown field', { author: { name: 'A' }, body: 'x', admin: true }, ''],
    ['unknown nested field', { author: { name: 'A', id: 1 }, body: 'x' }, 'author'],
    ['bidi name', { author: { name: 'evil\u202Egnp.exe' }, body: 'x' }, 'author.name'],
    ['zero-width name', { author: { name: 'A\u200Bdmin' }, body: 'x' }, 'author.name'],
    ['bad parent id', { author: { name: 'A' }, body: 'x', parentId: 'nope' }, 'parentId'],
    ['bad clientId', { author: { name: 'A' }, body: 'x', clientId: '../../' }, 'clientId'],
    ['array body', [1, 2], ''],
  ])('refuses %s with 400 invalid_input naming the field', async (_label, body, path) => {
    const error = expectError(await post(uniqueArticle(), body), 400, 'invalid_input');
    expect(error.issues?.map((i) => i.path)).toContain(path);
  });

  it('refuses a JSON null or scalar body with 400', async () => {
    for (const body of ['null', '42', '"text"'])
      expectError(await postJson(api(`/articles/${uniqueArticle()}/comments`), body), 400, 'invalid_input');
  });

  it('refuses a parent that does not exist', async () => {
    expectError(
      await post(uniqueArticle(), { author: { name: 'A' }, body: 'x', parentId: 'a'.repeat(21) }),
      400,
      'invalid_input',
    );
  });

  it('refuses broken JSON with 400, non-JSON with 415, too large with 413', async () => {
    expectError(await postJson(api(`/articles/${uniqueArticle()}/comments`), '{"author":'), 400, 'invalid_input');
    const form = await fetch(api(`/articles/${uniqueArticle()}/comments`), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'body=x',
    });
    expectError({ status: form.status, body: await form.json() }, 415, 'invalid_input');
    const noType = await fetch(api(`/articles/${uniqueArticle()}/comments`), { method: 'POST', body: '{}' });
    expect(noType.status).toBe(415);
    expectError(
      await post(uniqueArticle(), { author: { name: 'A' }, body: 'x'.repeat(70_000) }),
      413,
      'payload_too_large',
    );
  });

  it('refuses an invalid article id', async () => {
    expectError(await post('-bad', { author: { name: 'A' }, body: 'x' }), 400, 'invalid_input');
    expectError(await post('a'.repeat(129), { author: { name: 'A' }, body: 'x' }), 400, 'invalid_input');
  });
});

describe('GET /api/articles/:id/comments and /changes', () => {
  it('pages top-level threads newest first with their replies, and walks the cursor to the end', async () => {
    const articleId = uniqueArticle();
    const roots: Comment[] = [];
    for (let i = 0; i < 5; i++)
      roots.push(
        PostStoredSchema.parse((await post(articleId, { author: { name: 'A' }, body: `root ${i}` })).body).comment,
      );
    const reply = PostStoredSchema.parse(
      (await post(articleId, { author: { name: 'B' }, body: 'reply to 1', parentId: roots[1]!.id })).body,
    ).comment;

    const first = CommentPageSchema.parse((await getJson(api(`/articles/${articleId}/comments?limit=2`))).body);
    expect(first.comments.map((c) => c.body)).toEqual(['root 4', 'root 3']);
    expect(first.lastSeq).toBe(6);
    expect(first.next).not.toBeNull();
    const second = CommentPageSchema.parse(
      (await getJson(api(`/articles/${articleId}/comments?limit=2&before=${first.next}`))).body,
    );
    expect(second.comments.map((c) => c.body)).toEqual(['root 2', 'root 1', 'reply to 1']);
    expect(second.comments[2]?.id).toBe(reply.id);
    const third = CommentPageSchema.parse(
      (await getJson(api(`/articles/${articleId}/comments?limit=2&before=${second.next}`))).body,
    );
    expect(third.comments.map((c) => c.body)).toEqual(['root 0']);
    expect(third.next).toBeNull();

    const oldest = CommentPageSchema.parse(
      (await getJson(api(`/articles/${articleId}/comments?order=oldest&limit=2`))).body,
    );
    expect(oldest.comments.map((c) => c.body)).toEqual(['root 0', 'root 1', 'reply to 1']);
  });

  it('answers an unknown article with an empty page, not 404', async () => {
    const page = CommentPageSchema.parse((await getJson(api(`/articles/${uniqueArticle()}/comments`))).body);
    expect(page).toMatchObject({ lastSeq: 0, comments: [], next: null });
  });

  it('returns changes after since, exclusive and ascending', async () => {
    const articleId = uniqueArticle();
    for (let i = 1; i <= 4; i++) await post(articleId, { author: { name: 'A' }, body: `c${i}` });
    const changes = ChangesSchema.parse((await getJson(api(`/articles/${articleId}/changes?since=2`))).body);
    expect(changes.comments.map((c) => [c.seq, c.body])).toEqual([
      [3, 'c3'],
      [4, 'c4'],
    ]);
    expect(changes.lastSeq).toBe(4);
    expect(changes.reset).toBeUndefined();
  });

  it.each([
    ['/comments?limit=0'],
    ['/comments?limit=abc'],
    ['/comments?limit=1&limit=2'],
    ['/comments?before=xyz'],
    ['/comments?order=sideways'],
    ['/comments?unknown=1'],
    ['/changes'],
    ['/changes?since=-1'],
    ['/changes?since=1.5'],
  ])('refuses the query %s with 400', async (path) => {
    expectError(await getJson(api(`/articles/${uniqueArticle()}${path}`)), 400, 'invalid_input');
  });
});

describe('GET /api/counts', () => {
  it('counts visible comments per article, zero for unknown ones', async () => {
    const a = uniqueArticle();
    const b = uniqueArticle();
    await post(a, { author: { name: 'A' }, body: '1' });
    await post(a, { author: { name: 'A' }, body: '2' });
    const res = await getJson(api(`/counts?articles=${a},${b}`));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ counts: { [a]: 2, [b]: 0 } });
  });
  it('refuses missing, invalid and too many ids', async () => {
    expectError(await getJson(api('/counts')), 400, 'invalid_input');
    expectError(await getJson(api('/counts?articles=')), 400, 'invalid_input');
    expectError(await getJson(api('/counts?articles=ok,-bad')), 400, 'invalid_input');
    expectError(
      await getJson(api(`/counts?articles=${Array.from({ length: 101 }, (_, i) => `a${i}`).join(',')}`)),
      400,
      'invalid_input',
    );
  });
});

describe('the rest of the HTTP surface', () => {
  it('answers unknown routes with a typed 404', async () => {
    expectError(await getJson(api('/nope')), 404, 'not_found');
  });
  it('serves health and readiness', async () => {
    expect(await getJson(`${server.url}/healthz`)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await getJson(`${server.url}/readyz`)).toMatchObject({
      status: 200,
      body: { status: 'ready', storage: 'up', redis: 'not_configured' },
    });
  });
  it('allows cross-origin reads and writes by default (CORS preflight)', async () => {
    const preflight = await fetch(api(`/articles/${uniqueArticle()}/comments`), {
      method: 'OPTIONS',
      headers: {
        origin: 'https://news.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/content-type/i);
    const write = await postJson(
      api(`/articles/${uniqueArticle()}/comments`),
      { author: { name: 'A' }, body: 'x' },
      { origin: 'https://news.example' },
    );
    expect(write.status).toBe(201);
  });
});

describe('ALLOWED_ORIGINS', () => {
  let locked: TestApp;
  beforeAll(async () => {
    locked = await startTestApp({ env: { ALLOWED_ORIGINS: 'https://news.example' } });
  });
  afterAll(async () => {
    await locked.close();
  });
  it('echoes an allowed origin and refuses writes from another one with 403, readable by that page', async () => {
    const url = `${locked.url}/api/articles/${uniqueArticle()}/comments`;
    const allowed = await postJson(url, { author: { name: 'A' }, body: 'x' }, { origin: 'https://news.example' });
    expect(allowed.status).toBe(201);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://news.example');
    const refused = await postJson(url, { author: { name: 'A' }, body: 'x' }, { origin: 'https://evil.example' });
    expect(expectError(refused, 403, 'forbidden').message).toMatch(/ALLOWED_ORIGINS/);
    // The page may read why (the widget tells its site owner); it learns nothing else.
    expect(refused.headers.get('access-control-allow-origin')).toBe('https://evil.example');
  });
});

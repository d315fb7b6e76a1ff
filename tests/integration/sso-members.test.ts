import { SignJWT, type JWTPayload } from 'jose';
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema } from '../../shared/errors.ts';
import type { Ack } from '../../shared/events.ts';
import { AdminFeedSchema, BanResultSchema } from '../../shared/moderation.ts';
import {
  CommentPageSchema,
  CommentResultSchema,
  LikeResultSchema,
  PostStoredSchema,
  ReaderLikesSchema,
  type Comment,
} from '../../shared/schemas.ts';
import { ErasedSchema, MyCommentsSchema, SignedInMemberSchema } from '../../shared/sso.ts';
import { createTestSchema, type TestSchema } from '../helpers/store-factories.ts';
import { join } from 'node:path';
import { connectSocket, startTestApp, tempDir, uniqueArticle, type TestApp } from '../helpers/test-app.ts';

const SECRET = `sso-${nanoid(40)}`;
const LOGIN_URL = 'https://news.example.com/login';
const ADMIN_TOKEN = `admin-${nanoid(24)}`;
const nowS = (): number => Math.floor(Date.now() / 1000);

/** A member token as the host's backend signs it (docs/sign-in.md). */
async function memberToken(claims: JWTPayload & { sub: string; name: string }, secret = SECRET): Promise<string> {
  return new SignJWT({ aud: 'live-comments', iat: nowS() - 5, exp: nowS() + 600, ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(secret));
}

interface Reply {
  status: number;
  body: unknown;
}

async function call(
  url: string,
  method: string,
  options: { token?: string; body?: unknown; ip?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  // The app trusts X-Forwarded-For from the loopback (TRUST_PROXY's default), as behind a balancer.
  if (options.ip !== undefined) headers['x-forwarded-for'] = options.ip;
  const res = await fetch(url, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
}

const refusal = (res: Reply, status: number, code: string): string => {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  const { error } = ErrorBodySchema.parse(res.body);
  expect(error.code).toBe(code);
  return error.message;
};

const stored = (res: Reply): Comment => {
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return PostStoredSchema.parse(res.body).comment;
};

describe.each(['sqlite', 'postgres'] as const)('members signed in by the host site (%s)', (kind) => {
  let schema: TestSchema | null = null;
  const dir = tempDir();
  let app: TestApp;
  let required: TestApp;

  const start = (mode: 'optional' | 'required') =>
    startTestApp({
      // Both apps on one store: what the optional one stored, the required one serves.
      ...(kind === 'sqlite' ? { sqlitePath: join(dir.dir, 'comments.db') } : {}),
      env: {
        ADMIN_TOKEN,
        SSO_SECRETS: SECRET,
        SSO_MODE: mode,
        ...(mode === 'required' ? { SSO_LOGIN_URL: LOGIN_URL } : {}),
        EDIT_WINDOW_MINUTES: '15',
        ...(schema ? { DATABASE_URL: schema.url } : {}),
      },
    });

  beforeAll(async () => {
    schema = kind === 'postgres' ? await createTestSchema() : null;
    app = await start('optional');
    // The same store in required mode: what the optional app stored is there too.
    required = await start('required');
  });

  afterAll(async () => {
    await app?.close();
    await required?.close();
    await schema?.drop();
    dir.cleanup();
  });

  const commentsUrl = (base: string, articleId: string) => `${base}/api/articles/${articleId}/comments`;
  const post = (base: string, articleId: string, body: object, options: { token?: string; ip?: string } = {}) =>
    call(commentsUrl(base, articleId), 'POST', { body, ...options });

  it('a member posts under their token: verified, with badges and avatar, in the answer and the page', async () => {
    const articleId = uniqueArticle('sso');
    const sub = `user-${nanoid(8)}`;
    const token = await memberToken({
      sub,
      name: 'Mara Quill',
      badges: ['staff'],
      avatar: 'https://example.com/mara.png',
    });
    const comment = stored(await post(app.url, articleId, { body: 'Signed in' }, { token }));
    expect(comment.author).toEqual({
      name: 'Mara Quill',
      verified: true,
      badges: ['staff'],
      avatar: 'https://example.com/mara.png',
    });
    const guest = stored(await post(app.url, articleId, { author: { name: 'Guest Gus' }, body: 'Not signed in' }));
    expect(guest.author).toEqual({ name: 'Guest Gus' });
    const page = CommentPageSchema.parse((await call(commentsUrl(app.url, articleId), 'GET')).body);
    expect(page.comments.map((c) => c.author)).toEqual([{ name: 'Guest Gus' }, comment.author]);
  });

  it('a refused token is a 401 unauthenticated saying why, never a guest post', async () => {
    const articleId = uniqueArticle('sso');
    const expired = await memberToken({ sub: 'u1', name: 'Late', iat: nowS() - 7200, exp: nowS() - 3600 });
    expect(refusal(await post(app.url, articleId, { body: 'x' }, { token: expired }), 401, 'unauthenticated')).toMatch(
      /expired/,
    );
    const forged = await memberToken({ sub: 'u1', name: 'Forged' }, `other-${nanoid(40)}`);
    expect(refusal(await post(app.url, articleId, { body: 'x' }, { token: forged }), 401, 'unauthenticated')).toMatch(
      /bad signature/,
    );
  });

  it('the stored profile changes only for a newer iat', async () => {
    const articleId = uniqueArticle('sso');
    const sub = `user-${nanoid(8)}`;
    const base = nowS() - 100;
    const first = stored(
      await post(
        app.url,
        articleId,
        { body: 'one' },
        { token: await memberToken({ sub, name: 'Ann New', iat: base }) },
      ),
    );
    expect(first.author.name).toBe('Ann New');
    // A token issued before the stored profile's: its name and badges are not taken.
    const older = await memberToken({ sub, name: 'Ann Old', iat: base - 50, badges: ['old'] });
    const second = stored(await post(app.url, articleId, { body: 'two' }, { token: older }));
    expect(second.author).toEqual({ name: 'Ann New', verified: true });
    const newer = await memberToken({ sub, name: 'Ann Newer', iat: base + 10 });
    expect(stored(await post(app.url, articleId, { body: 'three' }, { token: newer })).author.name).toBe('Ann Newer');
  });

  it('a member edits and deletes from another device with their token; another member may not', async () => {
    const articleId = uniqueArticle('sso');
    const sub = `user-${nanoid(8)}`;
    // Posted on the first "device" over the socket, signed in by the handshake.
    const phone = await connectSocket(app.url, { auth: { ssoToken: await memberToken({ sub, name: 'Dev Ice' }) } });
    const ack = (await phone.emitWithAck('comment:post', { articleId, body: 'From my phone' })) as Ack<{
      comment: Comment;
    }>;
    phone.disconnect();
    expect(ack.ok).toBe(true);
    if (!ack.ok) return;
    expect(ack.comment.author.verified).toBe(true);
    const id = ack.comment.id;
    // The second "device": a fresh token of the same member, no author token.
    const laptop = await memberToken({ sub, name: 'Dev Ice' });
    const edited = await call(`${app.url}/api/comments/${id}`, 'PATCH', { token: laptop, body: { body: 'Edited' } });
    expect(edited.status).toBe(200);
    expect(CommentResultSchema.parse(edited.body).comment.body).toBe('Edited');
    const other = await memberToken({ sub: `user-${nanoid(8)}`, name: 'Someone Else' });
    refusal(
      await call(`${app.url}/api/comments/${id}`, 'PATCH', { token: other, body: { body: 'Mine' } }),
      403,
      'forbidden',
    );
    refusal(await call(`${app.url}/api/comments/${id}`, 'DELETE', { token: other }), 403, 'forbidden');
    refusal(await call(`${app.url}/api/comments/${id}`, 'DELETE'), 403, 'forbidden');
    const deleted = await call(`${app.url}/api/comments/${id}`, 'DELETE', { token: laptop });
    expect(deleted.status).toBe(200);
    expect(CommentResultSchema.parse(deleted.body).comment.status).toBe('removed');
  });

  it('a ban made from a member comment holds across a new name and another address', async () => {
    const articleId = uniqueArticle('sso');
    const sub = `user-${nanoid(8)}`;
    const comment = stored(
      await post(
        app.url,
        articleId,
        { body: 'Before the ban' },
        { token: await memberToken({ sub, name: 'Troll One' }), ip: '203.0.113.7' },
      ),
    );
    const ban = await call(`${app.url}/api/admin/bans`, 'POST', {
      token: ADMIN_TOKEN,
      body: { commentId: comment.id },
    });
    expect(ban.status, JSON.stringify(ban.body)).toBe(201);
    BanResultSchema.parse(ban.body);
    const renamed = await memberToken({ sub, name: 'Nice Person', iat: nowS() });
    refusal(
      await post(app.url, articleId, { body: 'After the ban' }, { token: renamed, ip: '198.51.100.99' }),
      403,
      'forbidden',
    );
    // Someone else from the first address is not concerned.
    stored(await post(app.url, articleId, { author: { name: 'Bystander' }, body: 'hi' }, { ip: '203.0.113.7' }));
  });

  it('in optional mode a guest may not post under a member name, whatever its case or width', async () => {
    const articleId = uniqueArticle('sso');
    const name = `Reserved ${nanoid(6).replace(/[^A-Za-z]/g, 'x')}`;
    stored(await post(app.url, articleId, { body: 'mine' }, { token: await memberToken({ sub: nanoid(), name }) }));
    const fullWidthUpper = [...name.toUpperCase()]
      .map((ch) => (ch >= 'A' && ch <= 'Z' ? String.fromCharCode(ch.charCodeAt(0) + 0xfee0) : ch))
      .join('');
    for (const guestName of [name, name.toLowerCase(), fullWidthUpper]) {
      const message = refusal(
        await post(app.url, articleId, { author: { name: guestName }, body: 'impostor' }),
        403,
        'forbidden',
      );
      expect(message).toMatch(/belongs to a signed-in member/);
    }
    stored(await post(app.url, articleId, { author: { name: `${name} Jr` }, body: 'another person' }));
  });

  it('likes count once per member, whatever browser id they like with', async () => {
    const articleId = uniqueArticle('sso');
    const comment = stored(await post(app.url, articleId, { author: { name: 'Liked' }, body: 'like me' }));
    const token = await memberToken({ sub: `user-${nanoid(8)}`, name: 'Liker' });
    const like = (readerId: string) =>
      call(`${app.url}/api/comments/${comment.id}/like`, 'POST', { token, body: { readerId, liked: true } });
    expect(LikeResultSchema.parse((await like(nanoid(21))).body).comment.likes).toBe(1);
    expect(LikeResultSchema.parse((await like(nanoid(21))).body).comment.likes).toBe(1);
    const mine = await call(`${app.url}/api/articles/${articleId}/likes?reader=${nanoid(21)}`, 'GET', { token });
    expect(ReaderLikesSchema.parse(mine.body).commentIds).toEqual([comment.id]);
  });

  it('tells the widget the sign-in mode and login page in every page answer (SSO_MODE, SSO_LOGIN_URL)', async () => {
    const articleId = uniqueArticle('sso');
    const page = async (base: string) =>
      CommentPageSchema.parse((await call(commentsUrl(base, articleId), 'GET')).body);
    expect((await page(required.url)).sso).toEqual({ mode: 'required', loginUrl: LOGIN_URL });
    expect((await page(app.url)).sso).toEqual({ mode: 'optional' });
  });

  it('required mode: reading stays open; guests may not post, edit, delete or like (401); members may', async () => {
    const articleId = uniqueArticle('sso');
    expect((await call(commentsUrl(required.url, articleId), 'GET')).status).toBe(200);
    const message = refusal(
      await post(required.url, articleId, { author: { name: 'Guest' }, body: 'x' }),
      401,
      'unauthenticated',
    );
    expect(message).toMatch(/sign/i);
    const token = await memberToken({ sub: `user-${nanoid(8)}`, name: 'Member M' });
    const comment = stored(await post(required.url, articleId, { body: 'members only' }, { token }));
    // A guest comment stored earlier (optional mode) cannot be changed with its author token any more.
    const guest = await post(app.url, articleId, { author: { name: 'Earlier Guest' }, body: 'old' });
    const authorToken = PostStoredSchema.parse(guest.body).authorToken ?? '';
    const guestId = PostStoredSchema.parse(guest.body).comment.id;
    refusal(
      await call(`${required.url}/api/comments/${guestId}`, 'PATCH', { token: authorToken, body: { body: 'y' } }),
      401,
      'unauthenticated',
    );
    refusal(
      await call(`${required.url}/api/comments/${comment.id}/like`, 'POST', {
        body: { readerId: nanoid(21), liked: true },
      }),
      401,
      'unauthenticated',
    );
    const liked = await call(`${required.url}/api/comments/${comment.id}/like`, 'POST', {
      token,
      body: { readerId: nanoid(21), liked: true },
    });
    expect(liked.status).toBe(200);
    // The moderator token still works.
    expect((await call(`${required.url}/api/comments/${guestId}`, 'DELETE', { token: ADMIN_TOKEN })).status).toBe(200);
  });

  it('lists a member’s comments of one article (what the widget asks on sign-in, for Edit and Delete on any device)', async () => {
    const articleId = uniqueArticle('sso');
    const token = await memberToken({
      sub: `user-${nanoid(8)}`,
      name: `Lister ${nanoid(4).replace(/[^A-Za-z]/g, 'x')}`,
    });
    const first = stored(await post(app.url, articleId, { body: 'First here' }, { token }));
    const elsewhere = stored(await post(app.url, uniqueArticle('sso'), { body: 'Elsewhere' }, { token }));
    await post(app.url, articleId, { author: { name: 'Someone' }, body: 'Not theirs' });
    const ofArticle = MyCommentsSchema.parse(
      (await call(`${app.url}/api/me/comments?articleId=${articleId}`, 'GET', { token })).body,
    );
    expect(ofArticle.comments.map((c) => c.id)).toEqual([first.id]);
    const all = MyCommentsSchema.parse((await call(`${app.url}/api/me/comments`, 'GET', { token })).body);
    expect(all.comments.map((c) => c.id)).toEqual([first.id, elsewhere.id]);
    expect((await call(`${app.url}/api/me/comments?articleId=a%20b`, 'GET', { token })).status).toBe(400);
  });

  it('a member exports their comments and erases them: placeholders keep replies, bodies, names and profile go', async () => {
    const articleId = uniqueArticle('sso');
    const sub = `user-${nanoid(8)}`;
    const name = `Eraser ${nanoid(6).replace(/[^A-Za-z]/g, 'x')}`;
    const token = await memberToken({ sub, name, email: 'eraser@example.com', badges: ['staff'] });
    const top = stored(await post(app.url, articleId, { body: 'My top comment' }, { token }));
    const second = stored(await post(app.url, articleId, { body: 'My second comment' }, { token }));
    const reply = stored(
      await post(app.url, articleId, { author: { name: 'Replier' }, body: 'A reply to it', parentId: top.id }),
    );
    refusal(await call(`${app.url}/api/me/comments`, 'GET'), 401, 'unauthenticated');
    const mine = await call(`${app.url}/api/me/comments`, 'GET', { token });
    expect(mine.status).toBe(200);
    const exported = MyCommentsSchema.parse(mine.body);
    expect(exported.profile).toMatchObject({ sub, name, email: 'eraser@example.com', badges: ['staff'] });
    expect(exported.comments.map((c) => [c.id, c.body])).toEqual([
      [top.id, 'My top comment'],
      [second.id, 'My second comment'],
    ]);

    refusal(await call(`${app.url}/api/me`, 'DELETE'), 401, 'unauthenticated');
    const erased = await call(`${app.url}/api/me`, 'DELETE', { token });
    expect(erased.status, JSON.stringify(erased.body)).toBe(200);
    expect(ErasedSchema.parse(erased.body).erased).toEqual({ comments: 2, held: 0 });

    const page = CommentPageSchema.parse((await call(commentsUrl(app.url, articleId), 'GET')).body);
    const byId = new Map(page.comments.map((c) => [c.id, c]));
    expect(byId.get(top.id)).toMatchObject({ status: 'removed', body: '', author: { name: '' } });
    expect(byId.get(second.id)).toMatchObject({ status: 'removed', body: '', author: { name: '' } });
    expect(byId.get(reply.id)).toMatchObject({ parentId: top.id, body: 'A reply to it' });
    const feed = AdminFeedSchema.parse(
      (await call(`${app.url}/api/admin/feed?articleId=${articleId}`, 'GET', { token: ADMIN_TOKEN })).body,
    );
    for (const comment of feed.comments.filter((c) => c.id !== reply.id)) {
      expect(comment.author).toEqual({ name: '[erased]' });
      expect(comment.memberSub).toBeUndefined();
      expect(comment.originalBody).toBeNull();
    }
    expect(JSON.stringify(feed)).not.toContain(name);
    const after = MyCommentsSchema.parse((await call(`${app.url}/api/me/comments`, 'GET', { token })).body);
    expect(after).toEqual({ profile: null, comments: [], held: [] });
    // The name is no longer reserved.
    stored(await post(app.url, articleId, { author: { name }, body: 'a guest now' }));
  });

  it('a socket signs in and out without reconnecting (auth:set, auth:clear); a bad token refuses its writes', async () => {
    const articleId = uniqueArticle('sso');
    const socket = await connectSocket(required.url);
    try {
      const postAs = async () =>
        (await socket.emitWithAck('comment:post', { articleId, author: { name: 'Sock' }, body: 'hi' })) as Ack<{
          comment: Comment;
        }>;
      const guest = await postAs();
      expect(guest.ok ? 'ok' : guest.error.code).toBe('unauthenticated');
      const sub = `user-${nanoid(8)}`;
      const set = (await socket.emitWithAck('auth:set', {
        token: await memberToken({ sub, name: 'Sock Member', badges: ['subscriber'] }),
      })) as Ack<{ member: unknown }>;
      expect(set.ok).toBe(true);
      if (set.ok) expect(SignedInMemberSchema.parse(set.member)).toMatchObject({ sub, name: 'Sock Member' });
      const signedIn = await postAs();
      expect(signedIn.ok && signedIn.comment.author).toEqual({
        name: 'Sock Member',
        verified: true,
        badges: ['subscriber'],
      });
      const bad = (await socket.emitWithAck('auth:set', {
        token: await memberToken({ sub, name: 'x', aud: 'elsewhere' }),
      })) as Ack;
      expect(bad.ok ? 'ok' : bad.error.message).toMatch(/audience/);
      const afterBad = await postAs();
      expect(afterBad.ok ? 'ok' : afterBad.error.message).toMatch(/audience/);
      expect(((await socket.emitWithAck('auth:clear', {})) as Ack).ok).toBe(true);
      const signedOut = await postAs();
      expect(signedOut.ok ? 'ok' : signedOut.error.code).toBe('unauthenticated');
    } finally {
      socket.disconnect();
    }
  });
});

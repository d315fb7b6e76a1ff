import { SignJWT } from 'jose';
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ack, PostAck } from '../../shared/events.ts';
import { ErrorBodySchema } from '../../shared/errors.ts';
import { ModerationSettingsSchema } from '../../shared/moderation-settings.ts';
import { HeldListSchema } from '../../shared/moderation.ts';
import { PostHeldSchema, PostStoredSchema } from '../../shared/schemas.ts';
import {
  connectSocket,
  getJson,
  postJson,
  startTestApp,
  startTwoTestApps,
  uniqueArticle,
  type TestApp,
  type TestAppPair,
  type TestSocket,
} from '../helpers/test-app.ts';

const ADMIN_TOKEN = `admin-${nanoid(24)}`;
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const LINKS = 'https://a.example https://b.example https://c.example';

type Answer = Ack<PostAck>;

function socketPost(socket: TestSocket, articleId: string, body: string): Promise<Answer> {
  return new Promise((resolve) =>
    socket.emit('comment:post', { articleId, author: { name: 'Sam' }, body }, (ack) => resolve(ack as Answer)),
  );
}

describe('moderation pipeline over REST and sockets', () => {
  let t: TestApp;
  let socket: TestSocket;
  beforeAll(async () => {
    t = await startTestApp({ env: { ADMIN_TOKEN } });
    t.app.moderation.configure(
      ModerationSettingsSchema.parse({
        bannedWords: ['merde'],
        suspectWords: ['casino'],
        blockedDomains: ['spam.example'],
        holdShouting: true,
      }),
    );
    socket = await connectSocket(t.url);
  });
  afterAll(async () => {
    socket.close();
    await t.close();
  });

  const post = (articleId: string, body: string, headers: Record<string, string> = {}) =>
    postJson(`${t.url}/api/articles/${articleId}/comments`, { author: { name: 'Ann' }, body }, headers);

  it('refuses a banned word with a 400 naming it, and stores nothing', async () => {
    const articleId = uniqueArticle();
    const res = await post(articleId, 'Oh M E R D E, again');
    expect(res.status).toBe(400);
    const { error } = ErrorBodySchema.parse(res.body);
    expect(error.code).toBe('invalid_input');
    expect(error.message).toContain('“merde”');
    expect(error.issues).toEqual([{ path: 'body', message: error.message }]);
    const page = await getJson(`${t.url}/api/articles/${articleId}/comments`);
    expect(page.body).toMatchObject({ comments: [], lastSeq: 0 });
  });

  it('refuses a blocked domain', async () => {
    const res = await post(uniqueArticle(), 'great deals at https://www.spam.example/x');
    expect(res.status).toBe(400);
    expect(ErrorBodySchema.parse(res.body).error.message).toContain('spam.example');
  });

  it('holds a suspect word and link stuffing, with the reasons shown to moderators', async () => {
    const articleId = uniqueArticle();
    const res = await post(articleId, `Try my c4sino ${LINKS}`);
    expect(res.status).toBe(202);
    const { held } = PostHeldSchema.parse(res.body);
    // The reason is for moderators: telling the poster which word tripped the filter teaches evasion.
    expect(JSON.stringify(res.body)).not.toContain('casino');
    expect(res.body).not.toHaveProperty('held.holdReason');
    const queue = HeldListSchema.parse((await getJson(`${t.url}/api/admin/held?limit=100`, admin)).body);
    expect(queue.held.find((h) => h.id === held.id)?.holdReason).toBe('suspect word “casino”; 3 links (more than 2)');
    const page = await getJson(`${t.url}/api/articles/${articleId}/comments`);
    expect(page.body).toMatchObject({ comments: [] });
  });

  it('lets an ordinary comment through', async () => {
    const res = await post(uniqueArticle(), 'A perfectly fine remark about https://a.example');
    expect(res.status).toBe(201);
    PostStoredSchema.parse(res.body);
  });

  it('does not hold a moderator’s own comment, but still refuses a banned word', async () => {
    const articleId = uniqueArticle();
    expect((await post(articleId, `casino ${LINKS}`, admin)).status).toBe(201);
    expect((await post(articleId, 'merde', admin)).status).toBe(400);
  });

  it('answers a socket post the same way', async () => {
    const articleId = uniqueArticle();
    const refused = await socketPost(socket, articleId, 'merde');
    expect(refused).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(!refused.ok && refused.error.message).toContain('“merde”');
    const held = await socketPost(socket, articleId, 'THIS IS ABSOLUTELY OUTRAGEOUS AND WRONG');
    expect(held.ok && 'held' in held).toBe(true);
    const stored = await socketPost(socket, articleId, 'Fine words');
    expect(stored.ok && 'comment' in stored).toBe(true);
  });

  it('refuses an edit that adds a banned word or would need review, and keeps the comment', async () => {
    const articleId = uniqueArticle();
    const { comment, authorToken } = PostStoredSchema.parse((await post(articleId, 'First version')).body);
    const edit = (body: string) =>
      fetch(`${t.url}/api/comments/${comment.id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${authorToken}` },
        body: JSON.stringify({ body }),
      });
    const banned = await edit('merde');
    expect(banned.status).toBe(400);
    expect(ErrorBodySchema.parse(await banned.json()).error.message).toContain('“merde”');
    const stuffed = await edit(`now with ${LINKS}`);
    expect(stuffed.status).toBe(400);
    expect(ErrorBodySchema.parse(await stuffed.json()).error.message).toMatch(/wait for a moderator.*not saved/);
    expect((await edit('Second version')).status).toBe(200);
  });

  it('counts each phase decision in /metrics', async () => {
    await post(uniqueArticle(), 'merde');
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const count = (phase: string, decision: string): number =>
      Number(
        new RegExp(
          `live_comments_moderation_decisions_total\\{[^}]*phase="${phase}"[^}]*decision="${decision}"[^}]*\\} (\\d+)`,
        ).exec(text)?.[1] ?? 0,
      );
    expect(count('words', 'reject')).toBeGreaterThanOrEqual(4);
    expect(count('words', 'hold')).toBeGreaterThanOrEqual(1);
    expect(count('links', 'hold')).toBeGreaterThanOrEqual(1);
    expect(count('links', 'reject')).toBeGreaterThanOrEqual(1);
    expect(count('shouting', 'hold')).toBeGreaterThanOrEqual(1);
    expect(count('words', 'accept')).toBeGreaterThanOrEqual(3);
  });
});

describe('moderation pipeline across two instances (Redis)', () => {
  let pair: TestAppPair;
  beforeAll(async () => {
    pair = await startTwoTestApps({ ADMIN_TOKEN });
    const settings = ModerationSettingsSchema.parse({ repeatWindowMinutes: 10, holdFirstComments: 1 });
    pair.a.app.moderation.configure(settings);
    pair.b.app.moderation.configure(settings);
  });
  afterAll(async () => {
    await pair.close();
  });

  it('refuses the same text from the same author on the other instance, and holds a campaign across articles', async () => {
    const text = `Buy my book, it is great ${nanoid(6)}`;
    const name = `Rex ${nanoid(4)}`;
    const send = (t: TestApp, articleId: string, author = name, clientId?: string) =>
      postJson(`${t.url}/api/articles/${articleId}/comments`, {
        author: { name: author },
        body: text,
        ...(clientId ? { clientId } : {}),
      });
    // First comment of a new commenter: held (and a retry of it, by clientId, is the same post).
    const clientId = `c-${nanoid(10)}`;
    const first = await send(pair.a, uniqueArticle(), name, clientId);
    expect(first.status).toBe(202);
    // The same text again from the same author (name and address) on the other instance: refused.
    const again = await send(pair.b, uniqueArticle());
    expect(again.status).toBe(400);
    expect(ErrorBodySchema.parse(again.body).error.message).toContain('same comment');
    // Other authors, a third article: the text has now reached three articles: held as a campaign.
    await send(pair.b, uniqueArticle(), `Other ${nanoid(4)}`);
    const third = await send(pair.a, uniqueArticle(), `Third ${nanoid(4)}`);
    expect(third.status).toBe(202);
    const queue = HeldListSchema.parse((await getJson(`${pair.a.url}/api/admin/held?limit=100`, admin)).body);
    expect(queue.held.map((h) => h.holdReason)).toContain(
      'the same text on 3 articles; first comment of a new commenter',
    );
  });

  it('lets an author through once one of their comments was approved', async () => {
    const name = `Newbie ${nanoid(4)}`;
    const send = (t: TestApp, body: string) =>
      postJson(`${t.url}/api/articles/${uniqueArticle()}/comments`, { author: { name }, body });
    const first = await send(pair.a, `My first words ${nanoid(6)}`);
    expect(first.status).toBe(202);
    const { held } = PostHeldSchema.parse(first.body);
    expect((await postJson(`${pair.b.url}/api/admin/held/${held.id}/approve`, {}, admin)).status).toBe(200);
    expect((await send(pair.b, `My second words ${nanoid(6)}`)).status).toBe(201);
  });
});

describe('staff members signed in by the host', () => {
  const secret = `sso-${nanoid(40)}`;
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SSO_SECRETS: secret } });
    t.app.moderation.configure(ModerationSettingsSchema.parse({ bannedWords: ['merde'], suspectWords: ['casino'] }));
  });
  afterAll(async () => {
    await t.close();
  });

  const token = (sub: string, badges: string[]) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub, name: `Member ${sub}`, badges, aud: 'live-comments', iat: now - 5, exp: now + 600 })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode(secret));
  };
  const post = async (body: string, badges: string[]) =>
    postJson(
      `${t.url}/api/articles/${uniqueArticle()}/comments`,
      { body },
      { authorization: `Bearer ${await token(`m-${nanoid(8)}`, badges)}` },
    );

  it('never holds a staff member’s comment, holds another member’s, and refuses a banned word from either', async () => {
    expect((await post(`casino ${LINKS}`, ['Staff'])).status).toBe(201);
    expect((await post(`casino ${LINKS}`, ['subscriber'])).status).toBe(202);
    expect((await post('merde', ['staff'])).status).toBe(400);
  });
});

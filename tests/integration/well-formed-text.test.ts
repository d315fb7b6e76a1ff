import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nanoid } from 'nanoid';
import { AdminFeedSchema, BanListSchema, BanResultSchema, HeldListSchema } from '../../shared/moderation.ts';
import {
  ChangesSchema,
  CommentPageSchema,
  CommentSchema,
  LIMITS,
  PostHeldSchema,
  PostStoredSchema,
  type Comment,
} from '../../shared/schemas.ts';
import { createTestSchema, type TestSchema } from '../helpers/store-factories.ts';
import {
  connectSocket,
  getJson,
  postJson,
  startTestApp,
  survivesUtf8,
  uniqueArticle,
  type TestApp,
} from '../helpers/test-app.ts';
import { checkedAck } from '../helpers/acks.ts';

const ADMIN_TOKEN = `admin-${nanoid(24)}`;
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/**
 * Ill-formed text (lone UTF-16 surrogates) and NUL, posted over the network, read back from each
 * store through every way a client reads: the answer, a page, the changes, a socket catch-up, the
 * moderators' feed and queue. Each must be exactly what the post answered, and valid by the shared
 * schemas the widget and the admin page check answers with.
 */
describe.each(['sqlite', 'postgres'] as const)('well-formed text round trip: %s', (kind) => {
  let app: TestApp;
  let schema: TestSchema | null = null;
  const api = (path: string) => `${app.url}/api${path}`;

  beforeAll(async () => {
    schema = kind === 'postgres' ? await createTestSchema() : null;
    app = await startTestApp({ env: { ADMIN_TOKEN, ...(schema ? { DATABASE_URL: schema.url } : {}) } });
  });
  afterAll(async () => {
    await app?.close();
    await schema?.drop();
  });

  const ILL_FORMED = [
    { name: '\ud800'.repeat(24), body: 'twenty-four lone high surrogates' },
    { name: `${'n'.repeat(LIMITS.nameMax - 1)}\udfff`, body: `${'b'.repeat(LIMITS.bodyMax - 1)}\ud800` },
    { name: 'Ann \udc00\ud800 Lee', body: 'reversed \udc00\ud800 pair, 😀 kept, \ud83d alone' },
  ];

  it('stores names and bodies with lone surrogates as U+FFFD, within the limits, on every read path', async () => {
    const articleId = uniqueArticle('surrogates');
    const posted: Comment[] = [];
    for (const { name, body } of ILL_FORMED) {
      const res = await postJson(api(`/articles/${articleId}/comments`), { author: { name }, body });
      expect(res.status).toBe(201);
      const { comment } = PostStoredSchema.parse(res.body);
      expect(survivesUtf8(comment.author.name) && survivesUtf8(comment.body)).toBe(true);
      expect(comment.author.name).toBe(name.replace(/\p{Cs}/gu, '\ufffd').trim());
      posted.push(comment);
    }
    const byId = (comments: Comment[]) => new Map(comments.map((comment) => [comment.id, comment]));

    const page = CommentPageSchema.parse((await getJson(api(`/articles/${articleId}/comments?limit=100`))).body);
    expect(byId(page.comments)).toEqual(byId(posted));
    const changes = ChangesSchema.parse((await getJson(api(`/articles/${articleId}/changes?since=0`))).body);
    expect(byId(changes.comments)).toEqual(byId(posted));

    const socket = await connectSocket(app.url);
    try {
      const ack = checkedAck(
        'article:subscribe',
        await socket.emitWithAck('article:subscribe', { articleId, since: 0 }),
      );
      expect(ack.ok).toBe(true);
      if (ack.ok) expect(byId(ack.comments.map((c) => CommentSchema.parse(c)))).toEqual(byId(posted));
    } finally {
      socket.disconnect();
    }

    const feed = AdminFeedSchema.parse((await getJson(api(`/admin/feed?articleId=${articleId}`), admin)).body);
    expect(feed.comments.map((c) => [c.author.name, c.body]).sort()).toEqual(
      posted.map((c) => [c.author.name, c.body]).sort(),
    );
  });

  it('holds a comment with lone surrogates as well-formed text (the moderators queue and sign-in stay readable)', async () => {
    const articleId = uniqueArticle('held-surrogates');
    await fetch(api(`/admin/articles/${articleId}`), {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ premoderated: true }),
    });
    const res = await postJson(api(`/articles/${articleId}/comments`), {
      author: { name: '\ud800'.repeat(30) },
      body: `${'x'.repeat(LIMITS.bodyMax - 1)}\udfff`,
    });
    expect(res.status).toBe(202);
    const { held } = PostHeldSchema.parse(res.body);
    const queue = HeldListSchema.parse((await getJson(api('/admin/held?limit=200'), admin)).body);
    expect(queue.held.find((item) => item.id === held.id)).toMatchObject({
      author: held.author,
      body: held.body,
    });
  });

  it('keeps NUL and lone surrogates out of a ban reason instead of failing the ban', async () => {
    const articleId = uniqueArticle('ban-reason');
    const { comment } = PostStoredSchema.parse(
      (await postJson(api(`/articles/${articleId}/comments`), { author: { name: 'Spammer' }, body: 'spam' })).body,
    );
    const res = await postJson(
      api('/admin/bans'),
      { commentId: comment.id, reason: 'spam\u0000 links \ud800', expiresInMinutes: 5 },
      admin,
    );
    expect(res.status).toBe(201);
    expect(BanResultSchema.parse(res.body).ban.reason).toBe('spam links \ufffd');
    const bans = BanListSchema.parse((await getJson(api('/admin/bans'), admin)).body);
    expect(bans.bans.find((ban) => ban.authorName === 'Spammer')?.reason).toBe('spam links \ufffd');
    // A reason of nothing but controls and spaces is no reason.
    const empty = await postJson(api('/admin/bans'), { commentId: comment.id, reason: ' \u0000\n ' }, admin);
    expect(BanResultSchema.parse(empty.body).ban.reason).toBeNull();
  });
});

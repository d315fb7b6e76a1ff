import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Ack, SubscribeAck } from '../../shared/events.ts';
import {
  HeldResolvedSchema,
  ModeratedCommentSchema,
  ModeratedHeldSchema,
  type HeldResolved,
  type ModeratedComment,
  type ModeratedHeld,
} from '../../shared/moderation.ts';
import {
  ArticleStateSchema,
  CommentSchema,
  CountChangedSchema,
  PostHeldSchema,
  PresenceSchema,
  type ArticleState,
  type Comment,
  type CountChanged,
  type Presence,
} from '../../shared/schemas.ts';
import {
  connectSocket,
  postJson,
  startTwoTestApps,
  uniqueArticle,
  type TestApp,
  type TestAppPair,
  type TestSocket,
} from '../helpers/test-app.ts';
import { TestClient } from '../helpers/test-client.ts';
import { checkedAck } from '../helpers/acks.ts';

const ADMIN_TOKEN = `admin-${nanoid(24)}`;

/** Everything one socket heard, validated with the shared schemas as it arrived. */
interface Ear {
  socket: TestSocket;
  created: Comment[];
  updated: Comment[];
  removed: Comment[];
  states: ArticleState[];
  counts: CountChanged[];
  presence: Presence[];
  feed: ModeratedComment[];
  held: ModeratedHeld[];
  resolved: HeldResolved[];
}

async function call(
  url: string,
  method: string,
  token: string | undefined,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method, headers, body: JSON.stringify(body ?? {}) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
}

/**
 * Two instances over one SQLite file and one Redis prefix: every change made through instance A
 * (edits, removals, likes, approvals, article state) must reach subscribers connected to instance B.
 */
describe('live moderation, likes, counts and presence across two instances', () => {
  let pair: TestAppPair | undefined;
  let a: TestApp;
  let b: TestApp;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    pair = await startTwoTestApps({ ADMIN_TOKEN });
    ({ a, b } = pair);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await pair?.close();
  });

  async function ear(server: TestApp): Promise<Ear> {
    const socket = await connectSocket(server.url);
    sockets.push(socket);
    const heard: Ear = {
      socket,
      created: [],
      updated: [],
      removed: [],
      states: [],
      counts: [],
      presence: [],
      feed: [],
      held: [],
      resolved: [],
    };
    socket.on('comment:created', (c) => heard.created.push(CommentSchema.parse(c)));
    socket.on('comment:updated', (c) => heard.updated.push(CommentSchema.parse(c)));
    socket.on('comment:removed', (c) => heard.removed.push(CommentSchema.parse(c)));
    socket.on('article:updated', (s) => heard.states.push(ArticleStateSchema.parse(s)));
    socket.on('count:changed', (c) => heard.counts.push(CountChangedSchema.parse(c)));
    socket.on('presence:changed', (p) => heard.presence.push(PresenceSchema.parse(p)));
    socket.on('admin:comment', (c) => heard.feed.push(ModeratedCommentSchema.parse(c)));
    socket.on('admin:held', (h) => heard.held.push(ModeratedHeldSchema.parse(h)));
    socket.on('admin:resolved', (r) => heard.resolved.push(HeldResolvedSchema.parse(r)));
    return heard;
  }

  async function subscribed(
    server: TestApp,
    articleId: string,
    since?: number,
  ): Promise<Ear & { ack: Ack<SubscribeAck> }> {
    const heard = await ear(server);
    const ack = checkedAck(
      'article:subscribe',
      await heard.socket.emitWithAck('article:subscribe', since === undefined ? { articleId } : { articleId, since }),
    );
    expect(ack.ok).toBe(true);
    return { ...heard, ack };
  }

  /** A comment stored as new on `server` (201), with its author token. */
  const post = (server: TestApp, articleId: string, name = 'Ann', body = 'hello') =>
    new TestClient(server.url).stored(articleId, { name, body });

  it('pushes an own edit, an own delete and a moderator removal and restore made on A to readers on B', async () => {
    const articleId = uniqueArticle();
    const reader = await subscribed(b, articleId);
    const mine = await post(a, articleId, 'Ann', 'first');
    const theirs = await post(a, articleId, 'Bo', 'second');
    await call(`${a.url}/api/comments/${mine.comment.id}`, 'PATCH', mine.authorToken, { body: 'first, edited' });
    await call(`${a.url}/api/comments/${mine.comment.id}`, 'DELETE', mine.authorToken);
    await call(`${a.url}/api/admin/comments/${theirs.comment.id}/remove`, 'POST', ADMIN_TOKEN);
    await call(`${a.url}/api/admin/comments/${theirs.comment.id}/restore`, 'POST', ADMIN_TOKEN);
    await vi.waitFor(() => expect(reader.updated).toHaveLength(2));
    await vi.waitFor(() => expect(reader.removed).toHaveLength(2));
    expect(reader.created.map((c) => c.seq)).toEqual([1, 2]);
    expect(reader.updated.map((c) => [c.id, c.body, c.seq])).toEqual([
      [mine.comment.id, 'first, edited', 3],
      [theirs.comment.id, 'second', 6],
    ]);
    expect(reader.updated[0]?.editedAt).not.toBeNull();
    expect(reader.removed.map((c) => [c.id, c.status, c.body, c.seq])).toEqual([
      [mine.comment.id, 'removed', '', 4],
      [theirs.comment.id, 'removed', '', 5],
    ]);
  });

  it('pushes like counts to readers on B, one per reader, and a reader that reconnects catches up on them by seq', async () => {
    const articleId = uniqueArticle();
    const live = await subscribed(b, articleId);
    const { comment } = await post(a, articleId);
    const offline = await subscribed(b, articleId);
    const lastSeen = offline.ack.ok ? offline.ack.lastSeq : -1;
    expect(lastSeen).toBe(1);
    offline.socket.disconnect();
    const like = (readerId: string, liked: boolean) =>
      call(`${a.url}/api/comments/${comment.id}/like`, 'POST', undefined, { readerId, liked });
    await like('reader-one-000001', true);
    await like('reader-one-000001', true);
    await like('reader-two-000002', true);
    await like('reader-one-000001', false);
    await vi.waitFor(() => expect(live.updated).toHaveLength(3));
    expect(live.updated.map((c) => [c.likes, c.seq])).toEqual([
      [1, 2],
      [2, 3],
      [1, 4],
    ]);
    // Back online on the other instance, from the seq it had: the catch-up carries the latest likes.
    const back = await subscribed(a, articleId, lastSeen);
    if (!back.ack.ok) throw new Error('subscribe failed');
    expect(back.ack.lastSeq).toBe(4);
    expect(back.ack.comments.map((c) => [c.id, c.likes, c.seq])).toEqual([[comment.id, 1, 4]]);
  });

  it('holds a post on A for moderators on B, then an approval on A appears live for readers on B with the next seq', async () => {
    const articleId = uniqueArticle();
    const reader = await subscribed(b, articleId);
    const moderator = await ear(b);
    expect(await moderator.socket.emitWithAck('admin:subscribe', { token: ADMIN_TOKEN })).toEqual({ ok: true });
    await post(a, articleId, 'Early');
    await call(`${a.url}/api/admin/articles/${articleId}`, 'PUT', ADMIN_TOKEN, { premoderated: true });
    await vi.waitFor(() => expect(reader.states).toEqual([{ articleId, locked: false, premoderated: true }]));
    const res = await postJson(`${a.url}/api/articles/${articleId}/comments`, {
      author: { name: 'Held' },
      body: 'wait for me',
    });
    expect(res.status).toBe(202);
    const { held } = PostHeldSchema.parse(res.body);
    await vi.waitFor(() => expect(moderator.held.map((h) => h.id)).toEqual([held.id]));
    expect(moderator.held[0]?.authorKey).toMatch(/^[A-Za-z0-9_-]+$/);
    await post(a, uniqueArticle(), 'Elsewhere');
    // The moderator sees the other article's comment through the feed; the reader of this article never saw the held one.
    await vi.waitFor(() => expect(moderator.feed.map((c) => c.author.name)).toEqual(['Early', 'Elsewhere']));
    expect(reader.created.map((c) => c.author.name)).toEqual(['Early']);
    const approved = await call(`${a.url}/api/admin/held/${held.id}/approve`, 'POST', ADMIN_TOKEN);
    expect(approved.status).toBe(200);
    await vi.waitFor(() =>
      expect(reader.created.map((c) => [c.id, c.seq])).toEqual([
        [expect.any(String), 1],
        [held.id, 2],
      ]),
    );
    await vi.waitFor(() => expect(moderator.resolved).toEqual([{ id: held.id, articleId, outcome: 'approved' }]));
    expect(moderator.feed.at(-1)).toMatchObject({ id: held.id, seq: 2 });
  });

  it('pushes a lock made on A to readers on B, and refuses posts on B', async () => {
    const articleId = uniqueArticle();
    const reader = await subscribed(b, articleId);
    await call(`${a.url}/api/admin/articles/${articleId}`, 'PUT', ADMIN_TOKEN, { locked: true });
    await vi.waitFor(() => expect(reader.states).toEqual([{ articleId, locked: true, premoderated: false }]));
    const res = await postJson(`${b.url}/api/articles/${articleId}/comments`, { author: { name: 'Late' }, body: 'x' });
    expect(res.status).toBe(403);
  });

  it('sends count:changed to a counts subscriber on B for posts, removals and restores on A, coalesced, and stops after unsubscribe', async () => {
    const [x, y] = [uniqueArticle(), uniqueArticle()];
    await post(a, x);
    const lists = await ear(b);
    const ack = checkedAck(
      'counts:subscribe',
      await lists.socket.emitWithAck('counts:subscribe', { articleIds: [x, y, x] }),
    );
    expect(ack).toEqual({ ok: true, counts: { [x]: 1, [y]: 0 } });
    const second = await post(a, x);
    await vi.waitFor(() => expect(lists.counts).toEqual([{ articleId: x, count: 2 }]));
    // Three changes at once: one count for the burst.
    await Promise.all([post(a, y), post(a, y), post(a, y)]);
    await vi.waitFor(() =>
      expect(lists.counts.filter((c) => c.articleId === y).at(-1)).toEqual({ articleId: y, count: 3 }),
    );
    expect(lists.counts.filter((c) => c.articleId === y).length).toBeLessThanOrEqual(2);
    // A like changes no count: nothing is sent.
    await call(`${a.url}/api/comments/${second.comment.id}/like`, 'POST', undefined, {
      readerId: 'reader-counts-01',
      liked: true,
    });
    await call(`${a.url}/api/admin/comments/${second.comment.id}/remove`, 'POST', ADMIN_TOKEN);
    await vi.waitFor(() => expect(lists.counts.at(-1)).toEqual({ articleId: x, count: 1 }));
    await call(`${a.url}/api/admin/comments/${second.comment.id}/restore`, 'POST', ADMIN_TOKEN);
    await vi.waitFor(() => expect(lists.counts.at(-1)).toEqual({ articleId: x, count: 2 }));
    expect(lists.counts.filter((c) => c.articleId === x).map((c) => c.count)).toEqual([2, 1, 2]);
    expect(await lists.socket.emitWithAck('counts:unsubscribe', { articleIds: [x] })).toEqual({ ok: true });
    await post(a, x);
    await post(a, y);
    await vi.waitFor(() => expect(lists.counts.at(-1)).toEqual({ articleId: y, count: 4 }));
    expect(lists.counts.filter((c) => c.articleId === x).map((c) => c.count)).toEqual([2, 1, 2]);
  });

  it('keeps receiving another instance’s changes for a counts subscriber after the last reader of the article left', async () => {
    const articleId = uniqueArticle();
    const lists = await ear(b);
    await lists.socket.emitWithAck('counts:subscribe', { articleIds: [articleId] });
    const reader = await subscribed(b, articleId);
    expect(await reader.socket.emitWithAck('article:unsubscribe', { articleId })).toEqual({ ok: true });
    await post(a, articleId);
    await vi.waitFor(() => expect(lists.counts).toEqual([{ articleId, count: 1 }]));
  });

  it('refuses bad counts and admin payloads with typed errors', async () => {
    const socket = (await ear(b)).socket;
    expect(await socket.emitWithAck('counts:subscribe', { articleIds: [] })).toMatchObject({
      ok: false,
      error: { code: 'invalid_input' },
    });
    expect(
      await socket.emitWithAck('counts:subscribe', { articleIds: Array.from({ length: 101 }, (_, i) => `a${i}`) }),
    ).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(await socket.emitWithAck('counts:subscribe', { articleIds: ['bad id!'] })).toMatchObject({
      ok: false,
      error: { code: 'invalid_input' },
    });
    expect(await socket.emitWithAck('admin:subscribe', { token: 'wrong-token-0123456789' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    const withExtra = { token: ADMIN_TOKEN, extra: 1 } as unknown as { token: string };
    expect(await socket.emitWithAck('admin:subscribe', withExtra)).toMatchObject({
      ok: false,
      error: { code: 'invalid_input' },
    });
  });

  it('counts readers of an article across both instances in presence:changed', async () => {
    const articleId = uniqueArticle();
    const onA = await subscribed(a, articleId);
    const onB = await subscribed(b, articleId);
    const latest = (heard: Ear) => heard.presence.at(-1)?.readers;
    await vi.waitFor(
      () => {
        expect(latest(onA)).toBe(2);
        expect(latest(onB)).toBe(2);
      },
      { timeout: 5000 },
    );
    onB.socket.disconnect();
    await vi.waitFor(() => expect(latest(onA)).toBe(1), { timeout: 5000 });
    expect(onA.presence.every((p) => p.articleId === articleId)).toBe(true);
  });
});

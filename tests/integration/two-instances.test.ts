import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CommentSchema, type Comment } from '../../shared/schemas.ts';
import {
  connectSocket,
  getJson,
  postJson,
  startTwoTestApps,
  uniqueArticle,
  type TestApp,
  type TestAppPair,
  type TestSocket,
} from '../helpers/test-app.ts';

/** Two instances over one SQLite file and one Redis, as two app objects in this process. */
describe('two instances sharing one SQLite file and one Redis', () => {
  let pair: TestAppPair | undefined;
  let a: TestApp;
  let b: TestApp;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    pair = await startTwoTestApps();
    ({ a, b } = pair);
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await pair?.close();
  });

  async function subscriber(server: TestApp, articleId: string): Promise<Comment[]> {
    const socket = await connectSocket(server.url);
    sockets.push(socket);
    const seen: Comment[] = [];
    socket.on('comment:created', (c) => seen.push(CommentSchema.parse(c)));
    const ack = await socket.emitWithAck('article:subscribe', { articleId });
    expect(ack.ok).toBe(true);
    return seen;
  }

  it('reports Redis up in readiness', async () => {
    expect((await getJson(`${a.url}/readyz`)).body).toMatchObject({ status: 'ready', storage: 'up', redis: 'up' });
  });

  it('delivers posts made on either instance to subscribers on both, exactly once, in seq order', async () => {
    const articleId = uniqueArticle();
    const watchers = [
      await subscriber(a, articleId),
      await subscriber(a, articleId),
      await subscriber(b, articleId),
      await subscriber(b, articleId),
    ];
    const poster = await connectSocket(b.url);
    sockets.push(poster);

    const total = 40;
    const posts: Array<Promise<unknown>> = [];
    for (let i = 0; i < total; i++) {
      posts.push(
        i % 2 === 0
          ? postJson(`${a.url}/api/articles/${articleId}/comments`, { author: { name: 'Ann' }, body: `via A ${i}` })
          : poster.emitWithAck('comment:post', { articleId, author: { name: 'Bob' }, body: `via B ${i}` }),
      );
    }
    await Promise.all(posts);

    const expected = Array.from({ length: total }, (_, i) => i + 1);
    for (const seen of watchers) {
      await vi.waitFor(() => expect(seen.length).toBeGreaterThanOrEqual(total));
    }
    for (const seen of watchers) {
      const seqs = seen.map((c) => c.seq);
      // Exactly once: no duplicates, nothing missing.
      expect([...seqs].sort((x, y) => x - y)).toEqual(expected);
      // In order per publishing instance; across instances the seqs form the same gapless set.
      const fromA = seen.filter((c) => c.body.startsWith('via A')).map((c) => c.seq);
      const fromB = seen.filter((c) => c.body.startsWith('via B')).map((c) => c.seq);
      expect(fromA).toEqual([...fromA].sort((x, y) => x - y));
      expect(fromB).toEqual([...fromB].sort((x, y) => x - y));
    }
  });

  it('gives sequential posts on alternating instances the next seq each, and every subscriber gets each once', async () => {
    const articleId = uniqueArticle();
    const watchers = [await subscriber(a, articleId), await subscriber(b, articleId)];
    for (let i = 0; i < 20; i++) {
      const target = i % 2 === 0 ? a : b;
      const res = await postJson(`${target.url}/api/articles/${articleId}/comments`, {
        author: { name: 'A' },
        body: `n${i}`,
      });
      expect(res.status).toBe(201);
      // Each post reaches both instances' subscribers before the next is sent. Without that wait a
      // subscriber may get post n+1 from its own instance before post n arrives through Redis: the
      // protocol allows it (a client seeing a seq jump catches up, docs/protocol.md), and it made this
      // test fail now and then when it asserted arrival order across instances.
      for (const seen of watchers) await vi.waitFor(() => expect(seen).toHaveLength(i + 1));
    }
    for (const seen of watchers) {
      expect(seen.map((c) => c.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(seen.map((c) => c.body)).toEqual(Array.from({ length: 20 }, (_, i) => `n${i}`));
    }
  });
});

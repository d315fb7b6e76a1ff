import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { nanoid } from 'nanoid';
import { io as connect } from 'socket.io-client';
import type { Ack, PostAck } from '../../shared/events.ts';
import { ChangesSchema, CommentSchema, PostStoredSchema, type Comment } from '../../shared/schemas.ts';
import { CLUSTER } from '../../scripts/cluster-topology.ts';
import { createTestSchema, type TestSchema } from '../helpers/store-factories.ts';
import { startLoggedProcess, stopProcess, type LoggedProcess } from '../helpers/logged-process.ts';
import { getJson, postJson, uniqueArticle, uniquePrefix, type TestSocket } from '../helpers/test-app.ts';

/** `npm run cluster`, driven for real: the script, its two instances, the machine's PostgreSQL (a fresh schema) and Redis. */
describe('the local cluster (npm run cluster)', () => {
  let schema: TestSchema;
  let cluster: LoggedProcess;
  let urls: string[] = [];
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    schema = await createTestSchema();
    cluster = startLoggedProcess('scripts/cluster.ts', {
      DATABASE_URL: schema.url,
      REDIS_PREFIX: uniquePrefix(),
      CLUSTER_PORTS: '0,0',
      LOG_LEVEL: 'info',
      SEED_DEMO: 'true',
      RATE_LIMIT_POSTS_PER_MINUTE_IP: '0',
      RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: '0',
      SOCKET_EVENTS_PER_10S: '0',
      MAX_CONNECTIONS_PER_IP: '0',
    });
    const ready = await cluster.waitForEntry((entry) => entry.msg === 'cluster ready', 45_000);
    urls = (ready.instances as Array<{ service: string; url: string }>).map((i) => i.url);
    expect((ready.instances as Array<{ service: string }>).map((i) => i.service)).toEqual(
      CLUSTER.instances.map((i) => i.service),
    );
  }, 60_000);

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    if (cluster) {
      const exit = await stopProcess(cluster);
      expect(exit.code).toBe(0);
    }
    await schema?.drop();
  }, 30_000);

  async function subscriber(url: string, articleId: string): Promise<Comment[]> {
    const socket: TestSocket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    const seen: Comment[] = [];
    socket.on('comment:created', (c) => seen.push(CommentSchema.parse(c)));
    const ack = await socket.timeout(5000).emitWithAck('article:subscribe', { articleId });
    expect(ack.ok).toBe(true);
    return seen;
  }

  it('runs both instances on PostgreSQL and Redis, ready, logging JSON lines', async () => {
    for (const url of urls) {
      expect((await getJson(`${url}/readyz`)).body).toEqual({ status: 'ready', storage: 'up', redis: 'up' });
    }
    expect(urls).toHaveLength(2);
    expect(new Set(urls).size).toBe(2);
    const appLines = cluster.lines.filter((line) => line.length > 0);
    expect(appLines.length).toBeGreaterThan(2);
    for (const line of appLines) expect(() => JSON.parse(line)).not.toThrow();
    const instances = new Set(
      appLines.map((line) => (JSON.parse(line) as { instance?: string }).instance).filter(Boolean),
    );
    expect(instances).toEqual(new Set(['app1', 'app2']));
  });

  it('generated one server secret although both instances started together on a fresh database', () => {
    const secrets = cluster.lines
      .map((line) => JSON.parse(line) as { msg?: string; instance?: string; keyId?: string; source?: string })
      .filter((entry) => entry.msg === 'server secret in use');
    expect(secrets.map((entry) => entry.instance).sort()).toEqual(['app1', 'app2']);
    expect(secrets.every((entry) => entry.source === 'store')).toBe(true);
    expect(new Set(secrets.map((entry) => entry.keyId)).size).toBe(1);
  });

  it('imported the sample article once although both instances started together', async () => {
    const changes = ChangesSchema.parse(
      (await getJson(`${urls[1]}/api/articles/putin-china-visit/changes?since=0`)).body,
    );
    expect(changes.comments.map((c) => c.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('takes 10 concurrent posters on one article: every comment gets a gapless seq and reaches subscribers on both instances once', async () => {
    const articleId = uniqueArticle('cluster');
    const watchers = [
      await subscriber(urls[0]!, articleId),
      await subscriber(urls[0]!, articleId),
      await subscriber(urls[1]!, articleId),
      await subscriber(urls[1]!, articleId),
    ];
    const posters = 10;
    const perPoster = 10;
    const socketPosters = await Promise.all(
      urls.map(async (url) => {
        const socket: TestSocket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true });
        sockets.push(socket);
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('connect_error', reject);
        });
        return socket;
      }),
    );

    const accepted = await Promise.all(
      Array.from({ length: posters }, async (_, p) => {
        const mine: Comment[] = [];
        for (let j = 0; j < perPoster; j++) {
          const target = (p + j) % 2;
          const body = { author: { name: `Poster ${p}` }, body: `p${p} #${j}`, clientId: nanoid() };
          if (p % 2 === 0) {
            const res = await postJson(`${urls[target]}/api/articles/${articleId}/comments`, body);
            expect(res.status).toBe(201);
            mine.push(PostStoredSchema.parse(res.body).comment);
          } else {
            const ack = (await socketPosters[target]!.timeout(5000).emitWithAck('comment:post', {
              articleId,
              ...body,
            })) as Ack<PostAck>;
            if (!ack.ok) throw new Error(`post refused: ${ack.error.code}`);
            if (!('comment' in ack)) throw new Error('post was held');
            mine.push(ack.comment);
          }
        }
        return mine;
      }),
    );

    const total = posters * perPoster;
    const expected = Array.from({ length: total }, (_, i) => i + 1);
    const comments = accepted.flat();
    expect(comments.map((c) => c.seq).sort((a, b) => a - b)).toEqual(expected);
    for (const seen of watchers)
      await vi.waitFor(() => expect(seen.length).toBeGreaterThanOrEqual(total), { timeout: 10_000 });
    for (const seen of watchers) {
      expect(seen).toHaveLength(total);
      expect(seen.map((c) => c.seq).sort((a, b) => a - b)).toEqual(expected);
      expect(new Set(seen.map((c) => c.id))).toEqual(new Set(comments.map((c) => c.id)));
    }
    for (const url of urls) {
      const changes = ChangesSchema.parse((await getJson(`${url}/api/articles/${articleId}/changes?since=0`)).body);
      expect(changes.comments.map((c) => c.seq)).toEqual(expected);
      expect(changes.lastSeq).toBe(total);
    }
  }, 60_000);
});

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nanoid } from 'nanoid';
import { io as connect } from 'socket.io-client';
import type { Ack, PostAck } from '../../shared/events.ts';
import { ChangesSchema, CommentSchema, PostStoredSchema, type Comment } from '../../shared/schemas.ts';
import { CLUSTER, SINGLE } from '../../scripts/cluster-topology.ts';
import { Keyring } from '../../server/keys/keyring.ts';
import { createTestSchema, type TestSchema } from '../helpers/store-factories.ts';
import { startLoggedProcess, stopProcess, type LoggedProcess } from '../helpers/logged-process.ts';
import { getJson, postJson, tempDir, uniqueArticle, uniquePrefix, type TestSocket } from '../helpers/test-app.ts';

const ADMIN_TOKEN = randomBytes(18).toString('base64url');
const ALLOWED_ORIGIN = 'https://news.example.com';

/** Writes an env file as an operator would write `.env`, and returns its path. */
function envFile(dir: string, settings: Record<string, string>): string {
  const path = join(dir, 'settings.env');
  writeFileSync(
    path,
    `# written by the test\n${Object.entries(settings)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  );
  return path;
}

/**
 * `npm run cluster`, driven for real: the script, its two instances, the machine's PostgreSQL (a fresh
 * schema) and Redis. The site's settings come from an env file, as docker-compose.yml gives them.
 */
describe('the local cluster (npm run cluster)', () => {
  let schema: TestSchema;
  let cluster: LoggedProcess;
  let urls: string[] = [];
  const sockets: TestSocket[] = [];
  const temp = tempDir();

  beforeAll(async () => {
    schema = await createTestSchema();
    const settings = envFile(temp.dir, {
      ADMIN_TOKEN,
      ALLOWED_ORIGINS: ALLOWED_ORIGIN,
      SECRET_KEY: '',
      SEED_DEMO: 'true',
      RATE_LIMIT_POSTS_PER_MINUTE_IP: '0',
      RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: '0',
      SOCKET_EVENTS_PER_10S: '0',
      MAX_CONNECTIONS_PER_IP: '0',
      // The script's own environment wins over the file, and the topology's names over both.
      LOG_LEVEL: 'warn',
      PORT: '1',
      INSTANCE_ID: 'from-the-file',
    });
    cluster = startLoggedProcess(
      'scripts/cluster.ts',
      { DATABASE_URL: schema.url, REDIS_PREFIX: uniquePrefix(), CLUSTER_PORTS: '0,0', LOG_LEVEL: 'info' },
      ['--env-file', settings],
    );
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
    temp.cleanup();
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

  it('gives both instances the settings of the env file: the moderator token and the allowed origins', async () => {
    for (const url of urls) {
      const bans = await fetch(`${url}/api/admin/bans`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(bans.status).toBe(200);
      const wrong = await fetch(`${url}/api/admin/bans`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } });
      expect(wrong.status).toBe(403);
      const articleId = uniqueArticle('origins');
      const comment = { author: { name: 'Ann' }, body: 'hello' };
      const refused = await postJson(`${url}/api/articles/${articleId}/comments`, comment, {
        origin: 'https://elsewhere.example',
      });
      expect(refused.status).toBe(403);
      const allowed = await postJson(`${url}/api/articles/${articleId}/comments`, comment, { origin: ALLOWED_ORIGIN });
      expect(allowed.status).toBe(201);
    }
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

/** `npm run cluster -- --profile single`: compose's `single` service from a local process, on a SQLite file. */
describe('the local single node (npm run cluster -- --profile single)', () => {
  let single: LoggedProcess;
  let url = '';
  const temp = tempDir();
  const secret = randomBytes(32).toString('base64url');
  const sqlitePath = join(temp.dir, 'single', 'comments.db');

  beforeAll(async () => {
    const settings = envFile(temp.dir, { SECRET_KEY: secret, ADMIN_TOKEN, SEED_DEMO: 'false', LOG_LEVEL: 'info' });
    single = startLoggedProcess('scripts/cluster.ts', { SQLITE_PATH: sqlitePath, CLUSTER_PORTS: '0' }, [
      '--profile',
      'single',
      '--env-file',
      settings,
    ]);
    const ready = await single.waitForEntry((entry) => entry.msg === 'cluster ready', 45_000);
    expect(ready.profile).toBe('single');
    const instances = ready.instances as Array<{ service: string; url: string }>;
    expect(instances.map((i) => i.service)).toEqual([SINGLE.instance.service]);
    url = instances[0]!.url;
  }, 60_000);

  afterAll(async () => {
    if (single) expect((await stopProcess(single)).code).toBe(0);
    temp.cleanup();
  }, 30_000);

  it('runs one instance on its SQLite file, with no Redis, and the secret of the env file', async () => {
    expect((await getJson(`${url}/readyz`)).body).toEqual({ status: 'ready', storage: 'up', redis: 'not_configured' });
    expect(existsSync(sqlitePath)).toBe(true);
    const secretLine = await single.waitForEntry((entry) => entry.msg === 'server secret in use');
    expect(secretLine).toMatchObject({ instance: 'single', source: 'environment', keyId: new Keyring(secret).id });
    const posted = await postJson(`${url}/api/articles/${uniqueArticle('single')}/comments`, {
      author: { name: 'Ann' },
      body: 'on one node',
    });
    expect(posted.status).toBe(201);
  });
});

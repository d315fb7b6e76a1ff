import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { nanoid } from 'nanoid';
import pg from 'pg';
import { io as connect } from 'socket.io-client';
import type { Ack, PostAck, SubscribeAck } from '../../shared/events.ts';
import { ChangesSchema, CommentSchema, PostStoredSchema, type Comment } from '../../shared/schemas.ts';
import { startLoggedProcess, stopProcess, type LoggedProcess } from '../helpers/logged-process.ts';
import { createTestSchema, withAdminClient, type TestSchema } from '../helpers/store-factories.ts';
import { getJson, postJson, REDIS_URL, uniqueArticle, uniquePrefix, type TestSocket } from '../helpers/test-app.ts';

/** One app instance as a real process (`node --import tsx server/main.ts`), as `npm start` runs it. */
interface Instance {
  id: string;
  process: LoggedProcess;
  url: string;
}

/** A subscriber: what it saw, and why its connection ended (null while connected). */
interface Watcher {
  socket: TestSocket;
  seen: Comment[];
  disconnects: string[];
}

const contiguousHead = (seqs: Iterable<number>): number => {
  const have = new Set(seqs);
  let head = 0;
  while (have.has(head + 1)) head += 1;
  return head;
};

describe('graceful shutdown of one instance of two (SIGTERM)', () => {
  let schema: TestSchema;
  let redisPrefix: string;
  const instances: Instance[] = [];
  const sockets: TestSocket[] = [];

  async function startInstance(id: string): Promise<Instance> {
    const process = startLoggedProcess('server/main.ts', {
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: schema.url,
      REDIS_URL,
      REDIS_PREFIX: redisPrefix,
      INSTANCE_ID: id,
      LOG_LEVEL: 'info',
      SEED_DEMO: 'false',
      RATE_LIMIT_POSTS_PER_MINUTE_IP: '0',
      RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: '0',
      SOCKET_EVENTS_PER_10S: '0',
      MAX_CONNECTIONS_PER_IP: '0',
    });
    const listening = await process.waitForEntry(
      (e) => typeof e.msg === 'string' && e.msg.startsWith('live comments listening'),
    );
    const instance = { id, process, url: `http://127.0.0.1:${String(listening.port)}` };
    instances.push(instance);
    return instance;
  }

  async function watch(url: string, articleId: string, since?: number): Promise<Watcher & { ackComments: Comment[] }> {
    const socket: TestSocket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    const watcher = { socket, seen: [] as Comment[], disconnects: [] as string[], ackComments: [] as Comment[] };
    socket.on('comment:created', (c) => watcher.seen.push(CommentSchema.parse(c)));
    socket.on('disconnect', (reason) => watcher.disconnects.push(reason));
    const ack = (await socket
      .timeout(5000)
      .emitWithAck(
        'article:subscribe',
        since === undefined ? { articleId } : { articleId, since },
      )) as Ack<SubscribeAck>;
    if (!ack.ok) throw new Error(`subscribe refused: ${ack.error.code}`);
    watcher.ackComments = ack.comments.map((c) => CommentSchema.parse(c));
    return watcher;
  }

  async function connected(url: string): Promise<TestSocket> {
    const socket: TestSocket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return socket;
  }

  beforeAll(async () => {
    schema = await createTestSchema();
    redisPrefix = uniquePrefix();
  });
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await Promise.all(instances.map((i) => stopProcess(i.process).catch(() => undefined)));
    await schema?.drop();
  }, 30_000);

  it('loses no accepted comment during steady posting, moves the clients and leaves the other instance’s subscribers alone', async () => {
    const a = await startInstance('drain-a');
    const b = await startInstance('drain-b');
    const articleId = uniqueArticle('drain');
    const onA = await Promise.all([watch(a.url, articleId), watch(a.url, articleId), watch(a.url, articleId)]);
    const onB = await Promise.all([watch(b.url, articleId), watch(b.url, articleId), watch(b.url, articleId)]);
    const socketPosters = [await connected(a.url), await connected(b.url)];

    /** Comments whose post got a 2xx (REST) or an ok ack (socket). */
    const accepted: Comment[] = [];
    let posting = true;
    const targets = [a, b];
    const posters = Array.from({ length: 6 }, async (_, p) => {
      for (let j = 0; posting; j++) {
        const target = (p + j) % 2;
        const body = { author: { name: `Poster ${p}` }, body: `p${p} #${j}`, clientId: nanoid() };
        try {
          if (p < 4) {
            const res = await postJson(`${targets[target]!.url}/api/articles/${articleId}/comments`, body);
            if (res.status >= 200 && res.status < 300) accepted.push(PostStoredSchema.parse(res.body).comment);
          } else {
            const socket = socketPosters[target]!;
            if (!socket.connected) {
              await new Promise((resolve) => setImmediate(resolve));
              continue;
            }
            const ack = (await socket
              .timeout(3000)
              .emitWithAck('comment:post', { articleId, ...body })) as Ack<PostAck>;
            if (ack.ok && 'comment' in ack) accepted.push(ack.comment);
          }
        } catch {
          // Refused connection, reset, timed-out ack: not accepted, so nothing is owed to anyone.
        }
      }
    });

    await vi.waitFor(() => expect(accepted.length).toBeGreaterThanOrEqual(40), { timeout: 10_000, interval: 5 });
    const signalled = performance.now();
    a.process.child.kill('SIGTERM');
    const exit = await a.process.exited;
    const drainMs = performance.now() - signalled;
    const acceptedAtExit = accepted.length;
    await vi.waitFor(() => expect(accepted.length).toBeGreaterThanOrEqual(acceptedAtExit + 20), {
      timeout: 10_000,
      interval: 5,
    });
    posting = false;
    await Promise.all(posters);

    // The terminated instance exited cleanly within 10 s, logging JSON lines to the end.
    expect(exit).toEqual({ code: 0, signal: null });
    expect(drainMs).toBeLessThan(10_000);
    for (const line of a.process.lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(a.process.lines.some((line) => line.includes('"shutdown complete"'))).toBe(true);

    // Everything accepted is stored, and the seqs stay gapless.
    const stored = ChangesSchema.parse((await getJson(`${b.url}/api/articles/${articleId}/changes?since=0`)).body);
    const all = stored.comments.map((c) => c.seq);
    expect(all).toEqual(Array.from({ length: stored.lastSeq }, (_, i) => i + 1));
    const storedIds = new Set(stored.comments.map((c) => c.id));
    for (const comment of accepted)
      expect(storedIds.has(comment.id), `accepted ${comment.id} (seq ${comment.seq}) is stored`).toBe(true);

    // The other instance's subscribers never noticed: still connected, and every stored comment reached them once.
    for (const watcher of onB) {
      await vi.waitFor(() => expect(watcher.seen.length).toBeGreaterThanOrEqual(stored.comments.length));
      expect(watcher.disconnects).toEqual([]);
      expect(watcher.socket.connected).toBe(true);
      expect(watcher.seen.map((c) => c.seq).sort((x, y) => x - y)).toEqual(all);
    }

    // The terminated instance's clients saw a transport close (they reconnect by themselves), and once
    // back on the surviving instance with their lastSeq they hold every comment exactly once.
    for (const watcher of onA) {
      expect(watcher.disconnects).toEqual(['transport close']);
      const resumed = await watch(b.url, articleId, contiguousHead(watcher.seen.map((c) => c.seq)));
      const bySeq = new Map<number, string>();
      for (const c of [...watcher.seen, ...resumed.ackComments]) {
        const known = bySeq.get(c.seq);
        if (known !== undefined) expect(known).toBe(c.id);
        bySeq.set(c.seq, c.id);
      }
      expect([...bySeq.keys()].sort((x, y) => x - y)).toEqual(all);
    }
  }, 60_000);

  it('lets a post that is in flight when SIGTERM arrives commit, answer 201 and reach the other instance before the sockets close', async () => {
    const b = instances.find((i) => i.process.child.exitCode === null) ?? (await startInstance('drain-b2'));
    const a = await startInstance('drain-a2');
    const articleId = uniqueArticle('inflight');
    expect(
      (await postJson(`${a.url}/api/articles/${articleId}/comments`, { author: { name: 'Ann' }, body: 'first' }))
        .status,
    ).toBe(201);
    const local = await watch(a.url, articleId);
    const remote = await watch(b.url, articleId);

    // Hold the article's row lock, so the next post on A waits inside the database.
    const locker = new pg.Client({ connectionString: schema.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT last_seq FROM articles WHERE article_id = $1 FOR UPDATE', [articleId]);
      const inFlight = postJson(`${a.url}/api/articles/${articleId}/comments`, {
        author: { name: 'Ann' },
        body: 'in flight',
      });
      await vi.waitFor(async () => {
        const waiting = await withAdminClient(
          async (client) =>
            (
              await client.query(
                "SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
                [`live-comments:${a.id}`],
              )
            ).rowCount,
        );
        expect(waiting).toBe(1);
      });

      a.process.child.kill('SIGTERM');
      // Stopped accepting: new connections are refused while the post is still in flight.
      await vi.waitFor(async () =>
        expect(
          await fetch(`${a.url}/healthz`).then(
            () => 'open',
            () => 'refused',
          ),
        ).toBe('refused'),
      );
      expect(local.disconnects).toEqual([]);
      await locker.query('ROLLBACK');

      const res = await inFlight;
      expect(res.status).toBe(201);
      const comment = PostStoredSchema.parse(res.body).comment;
      expect(comment.seq).toBe(2);
      await vi.waitFor(() => expect(remote.seen.map((c) => c.id)).toEqual([comment.id]));
      // The local subscriber got the push before its connection was closed at the transport.
      await vi.waitFor(() => expect(local.disconnects).toEqual(['transport close']));
      expect(local.seen.map((c) => c.id)).toEqual([comment.id]);
      expect(await a.process.exited).toEqual({ code: 0, signal: null });
      expect(remote.disconnects).toEqual([]);
    } finally {
      await locker.end();
    }
  }, 30_000);
});

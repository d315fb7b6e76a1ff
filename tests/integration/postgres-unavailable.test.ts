import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { nanoid } from 'nanoid';
import { ErrorBodySchema } from '../../shared/errors.ts';
import { PostStoredSchema } from '../../shared/schemas.ts';
import { createTestSchema, type TestSchema } from '../helpers/store-factories.ts';
import {
  connectSocket,
  getJson,
  postJson,
  startTestApp,
  uniqueArticle,
  type TestApp,
  type TestSocket,
} from '../helpers/test-app.ts';
import { checkedAck } from '../helpers/acks.ts';

/** A TCP relay to PostgreSQL that the test can cut (every connection dropped, nothing listening) and restore on the same port. */
class CuttableProxy {
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection(this.target);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** The database "goes away": open connections are reset and new ones refused. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const socket of this.#sockets) socket.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

describe('an app on PostgreSQL when the database goes away and comes back', () => {
  let schema: TestSchema;
  let proxy: CuttableProxy;
  let server: TestApp;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    schema = await createTestSchema();
    const url = new URL(schema.url);
    proxy = new CuttableProxy({ host: url.hostname, port: Number(url.port || 5432) });
    await proxy.start();
    url.port = String(proxy.port);
    server = await startTestApp({ env: { DATABASE_URL: url.toString() } });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await server?.close();
    await proxy?.cut();
    await schema?.drop();
  });

  const post = (articleId: string, body: object) => postJson(`${server.url}/api/articles/${articleId}/comments`, body);

  it('answers 503 unavailable with Retry-After quickly, reports storage down, and resumes by itself', async () => {
    const articleId = uniqueArticle('pgdown');
    expect((await post(articleId, { author: { name: 'Ann' }, body: 'before' })).status).toBe(201);
    expect((await getJson(`${server.url}/readyz`)).body).toMatchObject({ status: 'ready', storage: 'up' });
    const socket = await connectSocket(server.url);
    sockets.push(socket);

    await proxy.cut();
    const clientId = nanoid();
    const started = performance.now();
    const refused = await post(articleId, { author: { name: 'Ann' }, body: 'during', clientId });
    const elapsed = performance.now() - started;
    expect(refused.status).toBe(503);
    expect(ErrorBodySchema.parse(refused.body).error.code).toBe('unavailable');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(elapsed).toBeLessThan(2000);
    const ack = checkedAck(
      'comment:post',
      await socket.emitWithAck('comment:post', {
        articleId,
        author: { name: 'Bo' },
        body: 'socket during',
      }),
    );
    expect(ack).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    const ready = await getJson(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'unavailable', storage: 'down' });
    // The process keeps serving what does not need the database.
    expect((await getJson(`${server.url}/healthz`)).status).toBe(200);

    await proxy.start();
    await vi.waitFor(async () => expect((await getJson(`${server.url}/readyz`)).status).toBe(200));
    // The client's side of the protocol: retry the same clientId after Retry-After until it is taken
    // (the service may still fail fast for a moment after a slow failure). Stored once, whatever the tries.
    const statuses: number[] = [];
    await vi.waitFor(
      async () => {
        const retried = await post(articleId, { author: { name: 'Ann' }, body: 'during', clientId });
        statuses.push(retried.status);
        expect(retried.status).toBe(201);
        expect(PostStoredSchema.parse(retried.body).comment.seq).toBe(2);
      },
      { timeout: 10_000, interval: 250 },
    );
    expect(statuses.slice(0, -1).every((status) => status === 503)).toBe(true);
    const changes = await getJson(`${server.url}/api/articles/${articleId}/changes?since=0`);
    expect((changes.body as { comments: Array<{ body: string }> }).comments.map((c) => c.body)).toEqual([
      'before',
      'during',
    ]);
  });
});

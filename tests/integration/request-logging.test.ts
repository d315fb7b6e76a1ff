import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { pino } from 'pino';
import { createApp, type App } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { acceptRequestId, hashClientAddress, loggableUrl } from '../../server/http/request-logging.ts';
import { postJson, tempDir, uniqueArticle } from '../helpers/test-app.ts';

/** Every line the app logs, raw, as written to its stream. */
class LineSink extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.lines.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((line) => line !== ''),
    );
    done();
  }
}

describe('request logs', () => {
  const temp = tempDir();
  const sink = new LineSink();
  let app: App;
  let url: string;

  beforeAll(async () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      SQLITE_PATH: join(temp.dir, 'comments.db'),
      SEED_DEMO: 'false',
      RATE_LIMIT_POSTS_PER_MINUTE_IP: '0',
      RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: '0',
    });
    app = await createApp(config, { logger: pino({ level: 'info' }, sink) });
    url = `http://127.0.0.1:${await app.listen()}`;
  });
  afterAll(async () => {
    await app?.close();
    temp.cleanup();
  });

  /** Parsed log lines of HTTP requests with this id. */
  function requestLines(
    id: string,
  ): Array<Record<string, unknown> & { req: Record<string, unknown>; res: Record<string, unknown> }> {
    return sink.lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter(
        (entry): entry is Record<string, unknown> & { req: Record<string, unknown>; res: Record<string, unknown> } => {
          const req = entry.req as { id?: unknown } | undefined;
          return req?.id === id;
        },
      );
  }

  it('logs one JSON line per request with the sane request id it was given, and echoes it', async () => {
    const articleId = uniqueArticle('log');
    const res = await fetch(`${url}/api/articles/${articleId}/changes?since=0`, {
      headers: { 'x-request-id': 'edge-42.a:b_c' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('edge-42.a:b_c');
    await vi.waitFor(() => expect(requestLines('edge-42.a:b_c')).toHaveLength(1));
    const [line] = requestLines('edge-42.a:b_c');
    expect(line?.req).toMatchObject({ method: 'GET', url: `/api/articles/${articleId}/changes?since=0` });
    expect(line?.res).toEqual({ statusCode: 200 });
    expect(line?.msg).toBe('request completed');
    expect(typeof line?.responseTime).toBe('number');
  });

  it('replaces an unusable request id with a fresh UUID', async () => {
    const res = await fetch(`${url}/api/counts?articles=x`, { headers: { 'x-request-id': 'has spaces and "quotes"' } });
    const id = res.headers.get('x-request-id') ?? '';
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    await vi.waitFor(() => expect(requestLines(id)).toHaveLength(1));
    expect(acceptRequestId('x'.repeat(129))).not.toBe('x'.repeat(129));
    expect(acceptRequestId(['first-id', 'second'])).toBe('first-id');
  });

  it('never writes secrets, raw client addresses or user text, and user text cannot break a line', async () => {
    const articleId = uniqueArticle('log');
    const secret = 'Bearer s3cr3t-t0ken-value-0123456789';
    const hostile = 'line one\n{"level":60,"msg":"forged"}\r\n\u2028end';
    const res = await postJson(
      `${url}/api/articles/${articleId}/comments`,
      { author: { name: 'Mallory' }, body: hostile },
      {
        authorization: secret,
        cookie: 'session=cookie-secret-value',
        'x-request-id': 'hostile-post',
      },
    );
    expect(res.status).toBe(201);
    const token = (res.body as { authorToken: string }).authorToken;
    await fetch(`${url}/api/articles/${articleId}/changes?since=0&token=query-secret-value`, {
      headers: { 'x-request-id': 'query-secret' },
    });
    await vi.waitFor(() => expect(requestLines('query-secret')).toHaveLength(1));
    expect(requestLines('hostile-post')).toHaveLength(1);

    const all = sink.lines.join('\n');
    for (const forbidden of [
      's3cr3t-t0ken',
      'cookie-secret-value',
      'query-secret-value',
      token,
      '127.0.0.1',
      'forged',
      'Mallory',
    ]) {
      expect(all, forbidden).not.toContain(forbidden);
    }
    for (const line of sink.lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(requestLines('query-secret')[0]?.req.url).toBe(
      `/api/articles/${articleId}/changes?since=0&token=%5Bredacted%5D`,
    );
    const client = requestLines('hostile-post')[0]?.req.client;
    expect(client).toMatch(/^[0-9a-f]{16}$/);
    // Same client, same hash: requests can be correlated without the address.
    expect(requestLines('query-secret')[0]?.req.client).toBe(client);
  });

  it('does not log probes', async () => {
    const before = sink.lines.length;
    for (const path of ['/healthz', '/readyz', '/metrics'])
      expect(
        (await fetch(`${url}${path}`, { headers: { 'x-request-id': `probe${path.replace('/', '-')}` } })).status,
      ).toBe(200);
    await fetch(`${url}/api/counts?articles=x`, { headers: { 'x-request-id': 'after-probes' } });
    await vi.waitFor(() => expect(requestLines('after-probes')).toHaveLength(1));
    expect(sink.lines.slice(before).filter((line) => line.includes('probe-'))).toEqual([]);
  });
});

describe('request logging helpers', () => {
  it('hashes addresses with the salt: stable per salt, different across salts, never the address', () => {
    const salt = Buffer.from('salt-one');
    const hash = hashClientAddress('203.0.113.7', salt);
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(hashClientAddress('203.0.113.7', salt)).toBe(hash);
    expect(hashClientAddress('203.0.113.8', salt)).not.toBe(hash);
    expect(hashClientAddress('203.0.113.7', Buffer.from('salt-two'))).not.toBe(hash);
    expect(hashClientAddress(undefined, salt)).toBeNull();
  });

  it('redacts secret-looking query values and caps the length', () => {
    expect(loggableUrl('/a?since=3&access_token=abc&apiKey=k')).toBe(
      '/a?since=3&access_token=%5Bredacted%5D&apiKey=%5Bredacted%5D',
    );
    expect(loggableUrl('/plain')).toBe('/plain');
    expect(loggableUrl(`/${'x'.repeat(2000)}`).length).toBeLessThanOrEqual(513);
  });
});

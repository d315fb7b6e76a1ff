import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import WebSocket from 'ws';
import { ErrorBodySchema } from '../../shared/errors.ts';
import { createApp, type App } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { tempDir, uniqueArticle } from '../helpers/test-app.ts';
import { join } from 'node:path';

/** A status line and headers of a WebSocket upgrade the server refused, or 'open'. */
function upgrade(port: number, headers: Record<string, string>): Promise<number | 'open'> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, { headers });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve('open');
      ws.terminate();
    });
    ws.once('error', (error) => reject(error));
  });
}

/**
 * ALLOWED_ORIGINS guards everything a page of another origin does: reads, writes and the socket
 * handshake are refused (403), in a way its widget can read and its site owner can find in the log.
 */
describe('ALLOWED_ORIGINS refusals', () => {
  let app: App;
  let port: number;
  let url: string;
  const lines: Array<Record<string, unknown>> = [];
  const temp = tempDir();

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n'))
          if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    app = await createApp(
      loadConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        SQLITE_PATH: join(temp.dir, 'c.db'),
        SEED_DEMO: 'false',
        ALLOWED_ORIGINS: 'https://news.example',
        MAX_CONNECTIONS_PER_IP: '1',
      }),
      { logger: pino({ level: 'info' }, sink) },
    );
    port = await app.listen();
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await app?.close();
    temp.cleanup();
  });

  const refusals = () => lines.filter((line) => typeof line.msg === 'string' && line.msg.includes('ALLOWED_ORIGINS'));

  it('refuses reads as well as writes of another page origin, readably, and logs it once per origin per minute', async () => {
    const articleId = uniqueArticle('origins');
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${url}/api/articles/${articleId}/comments`, {
        headers: { origin: 'https://evil.example' },
      });
      expect(res.status).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBe('https://evil.example');
      const { error } = ErrorBodySchema.parse(await res.json());
      expect(error.code).toBe('forbidden');
      expect(error.message).toContain('https://evil.example');
      expect(error.message).toContain('ALLOWED_ORIGINS');
    }
    expect(refusals().map((line) => line.origin)).toEqual(['https://evil.example']);
    await fetch(`${url}/api/counts?articles=${articleId}`, { headers: { origin: 'https://other.example' } });
    expect(refusals().map((line) => line.origin)).toEqual(['https://evil.example', 'https://other.example']);
    // The allowed origin, the server's own pages and non-browser clients read as before.
    for (const headers of [{ origin: 'https://news.example' }, { origin: url }, {}] as Array<Record<string, string>>)
      expect((await fetch(`${url}/api/articles/${articleId}/comments`, { headers })).status).toBe(200);
  });

  it('answers a refused handshake 403 on every transport', async () => {
    const refused = await upgrade(port, { origin: 'https://socket.evil.example' });
    expect(refused).toBe(403);
    const polling = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, {
      headers: { origin: 'https://evil.example' },
    });
    expect(polling.status).toBe(403);
    expect(refusals().some((line) => line.transport === 'socket')).toBe(true);
    // Over the connection cap (one per client here) the refusal is 403 too.
    const first = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    await new Promise((resolve) => first.once('open', resolve));
    expect(await upgrade(port, {})).toBe(403);
    first.terminate();
  });
});

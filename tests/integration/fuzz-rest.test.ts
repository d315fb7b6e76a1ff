import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { nanoid } from 'nanoid';
import { ErrorBodySchema, HTTP_STATUS } from '../../shared/errors.ts';
import { ChangesSchema, PostStoredSchema } from '../../shared/schemas.ts';
import { AppProcess } from '../helpers/processes.ts';
import { survivesUtf8 } from '../helpers/test-app.ts';
import { hostileString, NAUGHTY_STRINGS, postBodyText } from './fuzz-arbitraries.ts';

/** Every UTF-8 byte as %XX (encodeURIComponent throws on lone surrogates; these become U+FFFD). */
function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
}

/** Statuses an error code may travel with besides its own (HTTP_STATUS): non-JSON writes, oversized headers, slow requests. */
const ALSO_ALLOWED: ReadonlyArray<readonly [number, string]> = [
  [415, 'invalid_input'],
  [431, 'payload_too_large'],
  [408, 'invalid_input'],
];

/**
 * Fuzzes the REST edge of a real server process (its real logger on stdout): every answer is 2xx or
 * a typed 4xx, never 5xx, the process never dies, and every log line stays one JSON object without
 * a client address or an author token in it, whatever was sent.
 */
describe('REST edge under hostile input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'live-comments-fuzz-rest-'));
  let app: AppProcess;
  /** Client addresses sent in X-Forwarded-For, and author tokens handed out: none may reach a log. */
  const addresses = new Set<string>();
  const tokens = new Set<string>();
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    app = await AppProcess.start({
      name: 'fuzz-rest',
      env: {
        SQLITE_PATH: join(dir, 'fuzz.db'),
        LOG_LEVEL: 'debug',
        RATE_LIMIT_POSTS_PER_MINUTE_IP: '0',
        RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: '0',
      },
    });
  });
  afterAll(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The rule for every answer: never 5xx; an error is the protocol's typed body with the status of its code. */
  async function expectTyped(res: Response, what: string): Promise<unknown> {
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const text = await res.text();
    expect(res.status, `${what} → ${res.status} ${text.slice(0, 300)}`).toBeLessThan(500);
    if (res.status === 204) return null;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`${what} → ${res.status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
    }
    if (res.status >= 400) {
      const { error } = ErrorBodySchema.parse(body);
      const allowed =
        res.status === HTTP_STATUS[error.code] ||
        ALSO_ALLOWED.some(([status, code]) => status === res.status && code === error.code);
      expect(allowed, `${what}: ${res.status} with ${error.code}`).toBe(true);
    }
    return body;
  }

  // Addresses distinctive enough that finding one in the log means it was logged (not 127.0.0.1, not "::").
  const ip = fc.oneof(
    fc.ipV4().filter((a) => !/^(0|127)\./.test(a) && a.length >= 9),
    fc.ipV6().filter((a) => a.length >= 15 && !a.includes('::')),
  );
  const articlePath = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('fuzz-article', 'fuzz.b:c-d_e') },
    { weight: 2, arbitrary: hostileString.map(percentEncode) },
    { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '..', '%2e%2e', '%00', 'a%2Fb', '%c0%ae', '%ed%a0%80') },
  );
  const contentType = fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=utf-16',
    'application/json; charset=latin1',
    'application/json; charset=bogus',
    'application/json-patch+json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
  );

  it('answers hostile posts with 2xx or a typed 4xx, normalising what it accepts', async () => {
    await fc.assert(
      fc.asyncProperty(articlePath, postBodyText, contentType, ip, async (article, bodyText, type, from) => {
        addresses.add(from);
        const res = await fetch(`${app.url}/api/articles/${article}/comments`, {
          method: 'POST',
          // Keep-alive is off: a request the parser refuses closes its connection.
          headers: { 'content-type': type, 'x-forwarded-for': from },
          body: bodyText,
        });
        const body = await expectTyped(res, `POST ${article.slice(0, 60)} ${type}`);
        if (res.status === 200 || res.status === 201) {
          const { comment, authorToken } = PostStoredSchema.parse(body);
          if (authorToken !== undefined) tokens.add(authorToken);
          // Accepted text obeys the text rules whatever was sent.
          expect(comment.author.name).not.toMatch(/[\u061C\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF\u0000-\u001F]/);
          expect(comment.body).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u0000-\u0008]/);
          expect(comment.body.length).toBeLessThanOrEqual(5000);
          // Well-formed, and read back from the store exactly as answered: what the widget checks.
          expect(survivesUtf8(comment.author.name) && survivesUtf8(comment.body)).toBe(true);
          const back = await fetch(
            `${app.url}/api/articles/${encodeURIComponent(comment.articleId)}/changes?since=${comment.seq - 1}`,
          );
          const stored = ChangesSchema.parse(await back.json()).comments.find((c) => c.id === comment.id);
          expect(stored).toEqual(comment);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('answers raw bytes, broken UTF-8 and deep nesting with a typed 4xx', async () => {
    const raw = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc
        .uint8Array({ minLength: 1, maxLength: 40 })
        .map((bytes) => Buffer.concat([Buffer.from('{"author":{"name":"'), bytes, Buffer.from('"},"body":"x"}')])),
      fc
        .constantFrom(
          '[',
          '{',
          '{"a":1,}',
          '\u0000',
          'null',
          '"x"',
          '1e999',
          '{"author":{"name":"A"},"body":"x"}garbage',
        )
        .map((s) => Buffer.from(s)),
      fc
        .integer({ min: 1000, max: 60_000 })
        .map((depth) => Buffer.from(`{"author":{"name":${'['.repeat(depth)}${']'.repeat(depth)}},"body":"x"}`)),
    );
    await fc.assert(
      fc.asyncProperty(raw, contentType, async (bytes, type) => {
        const res = await fetch(`${app.url}/api/articles/fuzz-raw/comments`, {
          method: 'POST',
          headers: { 'content-type': type },
          body: bytes,
        });
        const body = await expectTyped(res, `raw POST ${type}`);
        if (res.status === 201 || res.status === 200) {
          const { authorToken } = PostStoredSchema.parse(body);
          if (authorToken !== undefined) tokens.add(authorToken);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('answers hostile reads and other routes with 2xx or a typed 4xx', async () => {
    const query = fc.array(
      fc.tuple(
        fc.oneof(fc.constantFrom('limit', 'before', 'order', 'since', 'articles'), hostileString),
        hostileString,
      ),
      { maxLength: 4 },
    );
    const route = fc.constantFrom('comments', 'changes', 'article', 'counts', 'comment', 'other');
    const method = fc.constantFrom('GET', 'PATCH', 'DELETE', 'PUT', 'OPTIONS', 'HEAD');
    await fc.assert(
      fc.asyncProperty(route, method, articlePath, query, ip, async (which, verb, article, pairs, from) => {
        addresses.add(from);
        const params = new URLSearchParams(pairs.map(([k, v]) => [k, v]));
        const path = {
          comments: `/api/articles/${article}/comments`,
          changes: `/api/articles/${article}/changes`,
          article: `/api/articles/${article}`,
          counts: '/api/counts',
          comment: `/api/comments/${article}`,
          other: `/${article}`,
        }[which];
        const res = await fetch(`${app.url}${path}?${params}`, {
          method: which === 'comments' || which === 'changes' || which === 'counts' ? 'GET' : verb,
          headers: { 'x-forwarded-for': from, authorization: `Bearer ${nanoid(43)}` },
        });
        const sent = which === 'comments' || which === 'changes' || which === 'counts' ? 'GET' : verb;
        // HEAD answers carry no body by definition.
        if (sent !== 'HEAD' && (res.headers.get('content-type')?.startsWith('application/json') || res.status >= 400))
          await expectTyped(res, `${sent} ${path.slice(0, 80)}`);
        else expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects names with bidi controls or invisible characters, and neutralises bidi overrides in bodies', async () => {
    const trick = fc.constantFrom(
      '\u202E',
      '\u202D',
      '\u2066',
      '\u2067',
      '\u2068',
      '\u2069',
      '\u200E',
      '\u200F',
      '\u061C',
      '\u200B',
      '\u200C',
      '\u200D',
      '\u2060',
      '\uFEFF',
      '\u00AD',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 10 }),
        trick,
        fc.string({ minLength: 1, maxLength: 10 }),
        async (left, control, right) => {
          // Framed by letters: at an end, whitespace around a control (U+FEFF among it: JS trim() removes
          // it) is trimmed away with it, and the stored name is clean, which is not what this checks.
          const name = `A${left}${control}${right}Z`;
          const refused = await fetch(`${app.url}/api/articles/fuzz-unicode/comments`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ author: { name }, body: 'x' }),
          });
          expect(refused.status).toBe(400);
          expect(
            ErrorBodySchema.parse(await refused.json()).error.issues?.some((issue) => issue.path === 'author.name'),
          ).toBe(true);

          const accepted = await fetch(`${app.url}/api/articles/fuzz-unicode/comments`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ author: { name: 'Ann' }, body: `x${left}\u202E${right}\u2066y\u2069` }),
          });
          const body = await expectTyped(accepted, 'bidi body');
          if (accepted.status === 201) {
            const { comment, authorToken } = PostStoredSchema.parse(body);
            if (authorToken !== undefined) tokens.add(authorToken);
            expect(comment.body).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('answers what the HTTP parser refuses (oversized URL or headers, broken request lines) with a typed error', async () => {
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port: app.port }, () => socket.end(request));
        let answer = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (answer += chunk));
        socket.once('close', () => resolve(answer));
        socket.once('error', reject);
      });
    const cases: Array<[string, number, string]> = [
      [`GET /api/articles/${'a'.repeat(20_000)}/comments HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'payload_too_large'],
      [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 431, 'payload_too_large'],
      ['GARBAGE\r\n\r\n', 400, 'invalid_input'],
      ['GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', 400, 'invalid_input'],
      ['GET /\u0000 HTTP/1.1\r\n\r\n', 400, 'invalid_input'],
    ];
    for (const [request, status, code] of cases) {
      const answer = await raw(request);
      const [head = '', body = ''] = answer.split('\r\n\r\n');
      expect(head.split('\r\n')[0]).toBe(
        `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}`,
      );
      expect(head).toMatch(/content-type: application\/json/i);
      expect(ErrorBodySchema.parse(JSON.parse(body)).error.code).toBe(code);
    }
  });

  it('stayed up, and logged one JSON object per line with no client address and no author token', async () => {
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    expect(app.exitCode).toBeNull();
    // The suite did reach the interesting answers.
    expect(statuses.get(201) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
    expect(app.nonJsonLines()).toEqual([]);
    // Request logs were written (the check below would be empty otherwise).
    expect(app.lines.length).toBeGreaterThan(100);
    const everything = app.lines.join('\n');
    for (const address of addresses) expect(everything.includes(address), `log contains ${address}`).toBe(false);
    for (const token of tokens) expect(everything.includes(token), 'log contains an author token').toBe(false);
    expect(NAUGHTY_STRINGS.length).toBeGreaterThan(100);
  });
});

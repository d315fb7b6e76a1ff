/**
 * Baseline of the write path: a bare Express 5 app with `express.json()` and one better-sqlite3 file
 * (bench/baselines/sqlite-insert.ts). `POST /api/articles/:articleId/comments` with
 * `{ author: { name }, body }` takes the article's next seq and inserts the comment in one transaction,
 * then answers 201 with the comment and a random author token. No validation beyond types, no
 * logging, no security headers, no moderation, no fan-out: the floor the product's post route is
 * compared with (issue 16: the product should do at least half of it).
 */
import { randomBytes } from 'node:crypto';
import express from 'express';
import { nanoid } from 'nanoid';
import { startStatsResponder } from '../lib/stats-responder.ts';
import { openBaselineStore } from './sqlite-insert.ts';

const store = openBaselineStore('express-sqlite');

const app = express();
app.disable('x-powered-by');
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
app.post('/api/articles/:articleId/comments', express.json({ limit: '64kb' }), (req, res) => {
  const input = req.body as { author?: { name?: unknown }; body?: unknown } | undefined;
  const name = input?.author?.name;
  const text = input?.body;
  if (typeof name !== 'string' || typeof text !== 'string') {
    res.status(400).json({ error: { code: 'invalid_input', message: 'Invalid comment' } });
    return;
  }
  const id = nanoid();
  const articleId = req.params.articleId;
  const createdAt = new Date().toISOString();
  const seq = store.insert({ id, articleId, name, body: text, createdAt });
  res.status(201).json({
    comment: {
      id,
      articleId,
      parentId: null,
      author: { name },
      body: text,
      createdAt,
      editedAt: null,
      status: 'visible',
      seq,
    },
    authorToken: randomBytes(32).toString('base64url'),
  });
});

startStatsResponder();
const server = app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  store.close();
  process.exit(0);
});

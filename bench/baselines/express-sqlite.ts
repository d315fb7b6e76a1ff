/**
 * Baseline of the write path: a bare Express 5 app with `express.json()` and one better-sqlite3 file
 * (WAL, synchronous=NORMAL, like the product's store). `POST /api/articles/:articleId/comments` with
 * `{ author: { name }, body }` takes the article's next seq and inserts the comment in one transaction,
 * then answers 201 with the comment and a random author token. No validation beyond types, no
 * logging, no security headers, no moderation, no fan-out: the floor the product's post route is
 * compared with (issue 16: the product should do at least half of it).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import express from 'express';
import { nanoid } from 'nanoid';
import { startStatsResponder } from '../lib/stats-responder.ts';

const dir = mkdtempSync(join(tmpdir(), 'live-comments-bench-express-sqlite-'));
const db = new Database(join(dir, 'bare.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(`
  CREATE TABLE articles (article_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE comments (
    id TEXT PRIMARY KEY, article_id TEXT NOT NULL, author_name TEXT NOT NULL, body TEXT NOT NULL,
    created_at TEXT NOT NULL, seq INTEGER NOT NULL, author_token_hash TEXT NOT NULL,
    UNIQUE (article_id, seq)
  );
`);
const bumpSeq = db
  .prepare<[string], number>(
    `INSERT INTO articles (article_id, last_seq) VALUES (?, 1)
     ON CONFLICT (article_id) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq`,
  )
  .pluck();
const insert = db.prepare<[string, string, string, string, string, number, string]>(
  'INSERT INTO comments (id, article_id, author_name, body, created_at, seq, author_token_hash) VALUES (?, ?, ?, ?, ?, ?, ?)',
);
const store = db.transaction((id: string, articleId: string, name: string, body: string, createdAt: string) => {
  const seq = bumpSeq.get(articleId)!;
  insert.run(id, articleId, name, body, createdAt, seq, randomBytes(32).toString('base64url'));
  return seq;
});

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
  const seq = store.immediate(id, articleId, name, text, createdAt);
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
  db.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});

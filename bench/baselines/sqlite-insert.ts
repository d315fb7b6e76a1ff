import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** A comment as the write-path baselines store it. */
export interface BaselineRow {
  id: string;
  articleId: string;
  name: string;
  body: string;
  createdAt: string;
}

/**
 * The store of the write-path baselines: one better-sqlite3 file in a temporary directory (WAL,
 * synchronous=NORMAL, like the product's store); `insert` takes the article's next seq and inserts
 * the comment with a random author token's hash in one immediate transaction, and returns the seq.
 */
export function openBaselineStore(name: string): { insert(row: BaselineRow): number; close(): void } {
  const dir = mkdtempSync(join(tmpdir(), `live-comments-bench-${name}-`));
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
  const insertRow = db.prepare<[string, string, string, string, string, number, string]>(
    'INSERT INTO comments (id, article_id, author_name, body, created_at, seq, author_token_hash) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const store = db.transaction((row: BaselineRow) => {
    const seq = bumpSeq.get(row.articleId)!;
    insertRow.run(row.id, row.articleId, row.name, row.body, row.createdAt, seq, randomBytes(32).toString('base64url'));
    return seq;
  });
  return {
    insert: (row) => store.immediate(row),
    close: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { RemovedBy } from '../../shared/moderation.ts';

/** What the importer stages per record; `disposition` says what the source (and our rules) made of it. */
export interface StagedPost {
  id: string;
  sourceFormat: string | null;
  sourceId: string | null;
  threadKey: string | null;
  /** Native records name their article; other formats get it from their thread's mapping. */
  articleId: string | null;
  parentId: string | null;
  createdAt: string;
  editedAt: string | null;
  authorName: string;
  authorKey: string | null;
  body: string;
  originalBody: string | null;
  disposition: 'visible' | 'removed' | 'held' | 'deleted' | 'spam' | 'ping' | 'empty';
  removedBy: RemovedBy | null;
  likes: number;
  seq: number | null;
  createdSeq: number | null;
  label: string;
  /** Native: a member's comment, who and the profile snapshot's JSON (null: a guest's, or another format). */
  memberSub: string | null;
  memberProfile: string | null;
}

export interface StagedThread {
  key: string;
  articleId: string | null;
  via: string | null;
  label: string;
  closed: boolean;
  deleted: boolean;
  /** Native: the article's head and settings in the export. */
  lastSeq: number | null;
  locked: boolean;
  premoderated: boolean;
}

/** A staged post ready to be written: `keep` 1 as it is, 2 as a removed placeholder that keeps replies attached. */
export interface WritableRow extends StagedPost {
  keep: 1 | 2;
  ord: number;
  sortAt: string;
  depth: number;
}

export interface ResolveCounts {
  stored: number;
  held: number;
  placeholders: number;
  spam: number;
  deleted: number;
  pings: number;
  empty: number;
  orphans: number;
  articles: number;
  threadsRead: number;
  threadsMapped: number;
  threadsUnmapped: number;
  collisions: number;
}

const SCHEMA = `
  CREATE TABLE threads (
    key TEXT PRIMARY KEY, article_id TEXT, via TEXT, label TEXT NOT NULL, closed INTEGER NOT NULL,
    deleted INTEGER NOT NULL, last_seq INTEGER, locked INTEGER NOT NULL, premoderated INTEGER NOT NULL
  );
  CREATE TABLE posts (
    ord INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, source_format TEXT, source_id TEXT, thread_key TEXT,
    article_id TEXT, parent_id TEXT, created_at TEXT NOT NULL, edited_at TEXT, author_name TEXT NOT NULL,
    author_key TEXT, body TEXT NOT NULL, original_body TEXT, disposition TEXT NOT NULL, removed_by TEXT,
    likes INTEGER NOT NULL, seq INTEGER, created_seq INTEGER, label TEXT NOT NULL, member_sub TEXT, member_profile TEXT,
    orphan TEXT, keep INTEGER NOT NULL DEFAULT 0, sort_at TEXT, depth INTEGER
  );
  CREATE INDEX posts_parent_idx ON posts (parent_id);
  CREATE INDEX posts_thread_idx ON posts (thread_key);
  CREATE TABLE outside_parents (id TEXT PRIMARY KEY);
`;

/** Rows staged per transaction. */
const STAGE_BATCH = 2000;

/**
 * The staging area of one import: a private SQLite file in the temporary directory (TMPDIR), never the
 * configured store. Every record of the file is staged before anything is written, so a reply may
 * come before its parent, the tree is repaired with a few queries over the whole file (orphans,
 * placeholders, the order parents-first), and a malformed file is refused before any write, all
 * without holding the file in memory: memory stays flat, the disk holds about the file's size.
 */
export class Staging {
  readonly #dir: string;
  readonly #db: Database.Database;
  readonly #insertPost: Database.Statement;
  readonly #insertThread: Database.Statement;
  #pending: Array<() => void> = [];
  duplicates = 0;

  constructor() {
    this.#dir = mkdtempSync(join(tmpdir(), 'live-comments-import-'));
    this.#db = new Database(join(this.#dir, 'staging.db'));
    this.#db.pragma('journal_mode = OFF');
    this.#db.pragma('synchronous = OFF');
    this.#db.exec(SCHEMA);
    this.#insertPost = this.#db.prepare(
      `INSERT INTO posts (id, source_format, source_id, thread_key, article_id, parent_id, created_at, edited_at,
         author_name, author_key, body, original_body, disposition, removed_by, likes, seq, created_seq, label,
         member_sub, member_profile)
       VALUES (@id, @sourceFormat, @sourceId, @threadKey, @articleId, @parentId, @createdAt, @editedAt, @authorName,
         @authorKey, @body, @originalBody, @disposition, @removedBy, @likes, @seq, @createdSeq, @label,
         @memberSub, @memberProfile)
       ON CONFLICT (id) DO NOTHING`,
    );
    this.#insertThread = this.#db.prepare(
      `INSERT INTO threads (key, article_id, via, label, closed, deleted, last_seq, locked, premoderated)
       VALUES (@key, @articleId, @via, @label, @closed, @deleted, @lastSeq, @locked, @premoderated)
       ON CONFLICT (key) DO NOTHING`,
    );
  }

  addThread(thread: StagedThread): void {
    const row = {
      ...thread,
      closed: thread.closed ? 1 : 0,
      deleted: thread.deleted ? 1 : 0,
      locked: thread.locked ? 1 : 0,
      premoderated: thread.premoderated ? 1 : 0,
    };
    this.#queue(() => this.#insertThread.run(row));
  }

  addPost(post: StagedPost): void {
    this.#queue(() => {
      if (this.#insertPost.run(post).changes === 0) this.duplicates += 1;
    });
  }

  /** Writes what is queued; called by the queue itself and once reading is over. */
  flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    if (pending.length > 0) this.#db.transaction(() => pending.forEach((write) => write()))();
  }

  /**
   * Repairs the tree once every record is staged: posts take their thread's article; a post whose thread
   * is missing or unmapped, or whose parent is neither in the file (same article) nor already stored
   * (`storedIds`), is an orphan, and so are its replies; what the source deleted, marked as spam or as a
   * ping, or held, becomes a removed placeholder when kept replies hang below it; rows are ordered
   * parents first, by time (a reply dated before its parent is written after it).
   */
  async resolve(storedIds: (ids: string[]) => Promise<Set<string>>): Promise<ResolveCounts> {
    this.flush();
    const db = this.#db;
    db.exec(`
      UPDATE posts SET article_id = (SELECT article_id FROM threads t WHERE t.key = posts.thread_key)
        WHERE article_id IS NULL AND thread_key IS NOT NULL;
      UPDATE posts SET disposition = 'deleted'
        WHERE disposition IN ('visible', 'held') AND thread_key IN (SELECT key FROM threads WHERE deleted = 1);
      UPDATE posts SET orphan = 'thread' WHERE article_id IS NULL;
    `);
    const missing = db
      .prepare<[], string>(
        'SELECT DISTINCT parent_id FROM posts WHERE parent_id IS NOT NULL AND parent_id NOT IN (SELECT id FROM posts)',
      )
      .pluck()
      .all();
    const insertOutside = db.prepare('INSERT INTO outside_parents (id) VALUES (?) ON CONFLICT DO NOTHING');
    for (let i = 0; i < missing.length; i += 500) {
      const batch = missing.slice(i, i + 500);
      const stored = await storedIds(batch);
      db.transaction(() => batch.forEach((id) => stored.has(id) && insertOutside.run(id)))();
    }
    db.exec(`
      UPDATE posts SET orphan = 'parent' WHERE orphan IS NULL AND parent_id IS NOT NULL
        AND parent_id NOT IN (SELECT id FROM outside_parents)
        AND (parent_id NOT IN (SELECT id FROM posts)
             OR (SELECT p.article_id FROM posts p WHERE p.id = posts.parent_id) IS NOT posts.article_id);
      WITH RECURSIVE below(id) AS (
        SELECT id FROM posts WHERE orphan IS NOT NULL
        UNION SELECT p.id FROM posts p JOIN below ON p.parent_id = below.id
      )
      UPDATE posts SET orphan = COALESCE(orphan, 'parent') WHERE id IN (SELECT id FROM below);
      UPDATE posts SET keep = 1 WHERE orphan IS NULL AND disposition IN ('visible', 'held', 'removed');
      WITH RECURSIVE above(id) AS (
        SELECT parent_id FROM posts WHERE keep = 1 AND parent_id IS NOT NULL
        UNION SELECT p.parent_id FROM posts p JOIN above ON p.id = above.id WHERE p.parent_id IS NOT NULL
      )
      UPDATE posts SET keep = 2 WHERE id IN (SELECT id FROM above) AND orphan IS NULL AND (keep = 0 OR disposition = 'held');
      CREATE TEMP TABLE ordering AS
        WITH RECURSIVE t(id, sort_at, depth) AS (
          SELECT id, created_at, 0 FROM posts
            WHERE keep > 0 AND (parent_id IS NULL OR parent_id IN (SELECT id FROM outside_parents))
          UNION ALL
          SELECT p.id, MAX(p.created_at, t.sort_at), t.depth + 1 FROM posts p JOIN t ON p.parent_id = t.id WHERE p.keep > 0
        )
        SELECT id, sort_at, depth FROM t;
      UPDATE posts SET sort_at = o.sort_at, depth = o.depth FROM ordering o WHERE posts.id = o.id;
      UPDATE posts SET keep = 0, orphan = 'parent' WHERE keep > 0 AND sort_at IS NULL;
      CREATE INDEX posts_write_idx ON posts (article_id, sort_at, depth, ord) WHERE keep > 0;
    `);
    const count = (where: string): number =>
      db.prepare<[], number>(`SELECT COUNT(*) FROM posts WHERE ${where}`).pluck().get() ?? 0;
    const threadCount = (where: string): number =>
      db
        .prepare<[], number>(`SELECT COUNT(*) FROM threads WHERE key IN (SELECT thread_key FROM posts) AND (${where})`)
        .pluck()
        .get() ?? 0;
    return {
      stored: count("keep = 1 AND disposition IN ('visible', 'removed')"),
      held: count("keep = 1 AND disposition = 'held'"),
      placeholders: count('keep = 2'),
      spam: count("keep = 0 AND disposition = 'spam'"),
      deleted: count("keep = 0 AND disposition = 'deleted'"),
      pings: count("keep = 0 AND disposition = 'ping'"),
      empty: count("keep = 0 AND disposition = 'empty'"),
      orphans: count("keep = 0 AND disposition IN ('visible', 'held', 'removed')"),
      articles:
        db.prepare<[], number>('SELECT COUNT(DISTINCT article_id) FROM posts WHERE keep > 0').pluck().get() ?? 0,
      threadsRead: threadCount('1 = 1'),
      threadsMapped: threadCount('article_id IS NOT NULL'),
      threadsUnmapped: threadCount('article_id IS NULL'),
      collisions: this.collisions().reduce((sum, collision) => sum + collision.threads.length - 1, 0),
    };
  }

  /** Article ids that more than one source thread (with comments) maps to: their comments share the article. */
  collisions(): Array<{ articleId: string; threads: string[] }> {
    return this.#db
      .prepare<[], { article_id: string; labels: string }>(
        `SELECT article_id, json_group_array(label) AS labels FROM threads
         WHERE article_id IS NOT NULL AND key IN (SELECT thread_key FROM posts)
         GROUP BY article_id HAVING COUNT(*) > 1 ORDER BY article_id`,
      )
      .all()
      .map((row) => ({ articleId: row.article_id, threads: JSON.parse(row.labels) as string[] }));
  }

  /** The mapping of every source thread with comments, in file order. */
  *mapping(): Generator<{ label: string; articleId: string | null; via: string | null; comments: number }> {
    const rows = this.#db
      .prepare<[], { label: string; article_id: string | null; via: string | null; n: number }>(
        `SELECT t.label, t.article_id, t.via, COUNT(p.ord) AS n FROM threads t JOIN posts p ON p.thread_key = t.key
         GROUP BY t.key ORDER BY MIN(p.ord)`,
      )
      .iterate();
    for (const row of rows) yield { label: row.label, articleId: row.article_id, via: row.via, comments: row.n };
  }

  /** Records that would have been kept but have no thread or no parent, in file order. */
  *orphans(): Generator<{ label: string; reason: string }> {
    const rows = this.#db
      .prepare<[], { label: string; orphan: string }>(
        `SELECT label, orphan FROM posts WHERE keep = 0 AND orphan IS NOT NULL
         AND disposition IN ('visible', 'held', 'removed') ORDER BY ord`,
      )
      .iterate();
    for (const row of rows) yield { label: row.label, reason: row.orphan };
  }

  /** Articles that receive comments, in id order. */
  articles(): string[] {
    return this.#db
      .prepare<[], string>('SELECT DISTINCT article_id FROM posts WHERE keep > 0 ORDER BY article_id')
      .pluck()
      .all();
  }

  /** The threads behind an article: whether any is closed, and (native) the export's head and settings. */
  articleThreads(articleId: string): {
    closed: boolean;
    lastSeq: number | null;
    locked: boolean;
    premoderated: boolean;
  } {
    const row = this.#db
      .prepare<
        [string],
        { closed: number | null; last_seq: number | null; locked: number | null; premoderated: number | null }
      >(
        'SELECT MAX(closed) AS closed, MAX(last_seq) AS last_seq, MAX(locked) AS locked, MAX(premoderated) AS premoderated FROM threads WHERE article_id = ?',
      )
      .get(articleId);
    return {
      closed: row?.closed === 1,
      lastSeq: row?.last_seq ?? null,
      locked: row?.locked === 1,
      premoderated: row?.premoderated === 1,
    };
  }

  /** Closed (or, native, locked) articles among the threads, whether or not comments were imported into them. */
  lockedArticles(): string[] {
    return this.#db
      .prepare<[], string>(
        'SELECT DISTINCT article_id FROM threads WHERE article_id IS NOT NULL AND (closed = 1 OR locked = 1) ORDER BY article_id',
      )
      .pluck()
      .all();
  }

  /** Native: articles whose export says pre-moderated. */
  premoderatedArticles(): string[] {
    return this.#db
      .prepare<[], string>('SELECT DISTINCT article_id FROM threads WHERE premoderated = 1 ORDER BY article_id')
      .pluck()
      .all();
  }

  /** The kept rows of an article, parents first, after the given position, at most `limit`. */
  rows(articleId: string, after: { sortAt: string; depth: number; ord: number } | null, limit: number): WritableRow[] {
    return this.#db
      .prepare<[string, string, number, number, number], WritableRow>(
        `SELECT ord, id, source_format AS sourceFormat, source_id AS sourceId, thread_key AS threadKey,
           article_id AS articleId, parent_id AS parentId, created_at AS createdAt, edited_at AS editedAt,
           author_name AS authorName, author_key AS authorKey, body, original_body AS originalBody, disposition,
           removed_by AS removedBy, likes, seq, created_seq AS createdSeq, label, member_sub AS memberSub,
           member_profile AS memberProfile, keep, sort_at AS sortAt, depth
         FROM posts WHERE article_id = ? AND keep > 0 AND (sort_at, depth, ord) > (?, ?, ?)
         ORDER BY sort_at, depth, ord LIMIT ?`,
      )
      .all(articleId, after?.sortAt ?? '', after?.depth ?? -1, after?.ord ?? -1, limit);
  }

  /** Every kept row's id and what writing it would count as, in batches (a dry run asks the store which are there already). */
  *keptRows(batch: number): Generator<Array<{ id: string; counts: 'imported' | 'held' | 'placeholders' }>> {
    let rows: Array<{ id: string; counts: 'imported' | 'held' | 'placeholders' }> = [];
    const kept = this.#db
      .prepare<[], { id: string; keep: number; disposition: string }>(
        'SELECT id, keep, disposition FROM posts WHERE keep > 0 ORDER BY ord',
      )
      .iterate();
    for (const row of kept) {
      rows.push({
        id: row.id,
        counts: row.keep === 2 ? 'placeholders' : row.disposition === 'held' ? 'held' : 'imported',
      });
      if (rows.length === batch) {
        yield rows;
        rows = [];
      }
    }
    if (rows.length > 0) yield rows;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #queue(write: () => void): void {
    this.#pending.push(write);
    if (this.#pending.length >= STAGE_BATCH) this.flush();
  }
}

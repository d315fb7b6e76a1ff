/**
 * The schema of both stores, as one versioned list: migration `i` has version `i + 1`, and each store
 * records the versions it applied in its own `schema_migrations (version, applied_at)` table, so a
 * SQLite file and a PostgreSQL schema at the same version have the same tables.
 *
 * Never edit an applied entry: append a new one, with the SQL for each dialect (they may share text
 * when both accept it). Each entry runs inside the store's migration transaction.
 *
 * - `articles.last_seq` is the article's latest seq; it only ever grows by 1 per change.
 * - `comments.seq` is the seq of the comment's latest change; `created_seq` is its seq at creation and never
 *   changes (it orders pages and is the cursor).
 * - `root_id` is the id of the top-level comment of the thread; NULL for top-level comments.
 * - `UNIQUE (article_id, client_id)` makes a repeated clientId detectable (NULLs never collide);
 *   `UNIQUE (article_id, seq)` is a last line of defence against a repeated seq.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sqlite: string;
  readonly postgres: string;
}

/** Plain SQL that SQLite and PostgreSQL both accept. */
const V1_COMMENTS = `
  CREATE TABLE articles (
    article_id TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
  );
  CREATE TABLE comments (
    id TEXT PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles (article_id),
    parent_id TEXT NULL REFERENCES comments (id),
    root_id TEXT NULL REFERENCES comments (id),
    author_name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    edited_at TEXT NULL,
    status TEXT NOT NULL CHECK (status IN ('visible', 'removed')),
    seq INTEGER NOT NULL,
    created_seq INTEGER NOT NULL,
    client_id TEXT NULL,
    author_token_hash TEXT NOT NULL,
    UNIQUE (article_id, client_id),
    UNIQUE (article_id, seq)
  );
  CREATE INDEX comments_article_parent_created_idx ON comments (article_id, parent_id, created_seq);
  CREATE INDEX comments_article_root_idx ON comments (article_id, root_id);
`;

export const MIGRATIONS: readonly Migration[] = [{ version: 1, name: 'comments and per-article seq', sqlite: V1_COMMENTS, postgres: V1_COMMENTS }];

/** The schema version a fully migrated store is at. */
export const SCHEMA_VERSION = MIGRATIONS.length;

// Versions must be 1, 2, 3, … in list order: a store applies exactly the entries above its recorded maximum.
MIGRATIONS.forEach((migration, index) => {
  if (migration.version !== index + 1) throw new Error(`Migration at position ${index} has version ${migration.version}`);
});

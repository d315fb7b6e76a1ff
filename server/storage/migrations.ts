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
 *
 * Version 2 (moderation, reactions):
 * - `comments.likes` is the number of rows of `reactions` for the comment (kept in step by the store);
 *   `removed_by` is 'author' | 'moderator' for removed comments, NULL otherwise; `original_body` is the
 *   body a moderator's removal keeps for restore (never set by an author's removal); `author_key` is the
 *   poster's ban key, NULL for comments stored before version 2 or imported.
 * - `held_comments` are posts waiting for a moderator: no seq; `UNIQUE (article_id, client_id)` there
 *   and in `comments`, checked together by the store, keeps a clientId to one post per article.
 * - `reactions` holds one row per (comment, reader) like.
 * - `bans` are keyed by author key; `expires_at` NULL means until lifted. ISO 8601 UTC text compares
 *   in time order in both dialects.
 * - `article_settings` rows exist only for articles a moderator changed; 0/1 integers in both dialects.
 *
 * Version 3 drops the three comment indexes version 2 added for `order=top` and the moderator feed:
 * measured on SQLite they cost about a third of a post's CPU (every insert and like updates them),
 * while the reads they served are rare and sort one article's top-level comments, or, for the feed
 * across articles, take the newest N in one pass.
 *
 * Version 4 (import and export, docs/import-export.md):
 * - `import_sources` records where an imported comment came from: one row per (format, id in that
 *   format), pointing at the comment (stored or held; the id survives approval). Imports give each
 *   source record a deterministic id, so a re-run finds it by id and adds nothing twice.
 * - `import_jobs` holds the admin API's import jobs (a JSON document per job, with a heartbeat), so
 *   any instance behind the balancer can report a job that another instance runs.
 *
 * Version 5 makes author keys keyed HMACs (server/keys/keyring.ts): `secrets` holds the server secret
 * generated when SECRET_KEY is not set (one row, `secret_key`). The old keys were plain SHA-256 of a
 * name and an address (or, for imported authors, of a username or e-mail), reversible by trying every
 * IPv4 address (or likely names); they cannot be turned into the new
 * ones (that would need the address they hide), so they are erased: comments and held comments keep
 * no author key (a moderator cannot ban from them, as with imported comments), and the bans made on
 * them are lifted, since they could never match a new post again. Rate-limit keys in Redis expire by
 * themselves within a minute.
 *
 * Version 7 (notifications, docs/notifications.md):
 * - `webhooks`: receivers moderators added (`events` a JSON array of event names; `secret` signs deliveries).
 * - `outbox`: one row per notification and receiver, written in the same transaction as the change that
 *   causes it. `status` pending | sent | failed; a pending row is due when `next_at` (ISO 8601 UTC) has
 *   passed. Claiming sets `claim` (a random token) and moves `next_at` a lease ahead, so a second
 *   instance skips it until the lease expires (a crashed claimer's rows come back by themselves); only
 *   the holder of the current claim can settle it. `kind` is 'webhook' and `target` the webhook id.
 * - `outbox_attempts`: one row per delivery attempt (outcome sent | retry | failed, the HTTP status,
 *   the error), listed to moderators per webhook and pruned with the outbox.
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

/** Plain SQL that SQLite and PostgreSQL both accept. */
const V2_MODERATION = `
  ALTER TABLE comments ADD COLUMN likes INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE comments ADD COLUMN removed_by TEXT NULL CHECK (removed_by IN ('author', 'moderator'));
  ALTER TABLE comments ADD COLUMN original_body TEXT NULL;
  ALTER TABLE comments ADD COLUMN author_key TEXT NULL;
  CREATE INDEX comments_article_top_idx ON comments (article_id, parent_id, likes, created_seq);
  CREATE INDEX comments_created_at_idx ON comments (created_at);
  CREATE INDEX comments_article_created_at_idx ON comments (article_id, created_at);
  CREATE TABLE held_comments (
    id TEXT PRIMARY KEY,
    article_id TEXT NOT NULL,
    parent_id TEXT NULL REFERENCES comments (id),
    author_name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    client_id TEXT NULL,
    author_token_hash TEXT NOT NULL,
    author_key TEXT NULL,
    UNIQUE (article_id, client_id)
  );
  CREATE INDEX held_comments_created_at_idx ON held_comments (created_at);
  CREATE TABLE reactions (
    comment_id TEXT NOT NULL REFERENCES comments (id),
    reader_id TEXT NOT NULL,
    PRIMARY KEY (comment_id, reader_id)
  );
  CREATE INDEX reactions_reader_idx ON reactions (reader_id);
  CREATE TABLE bans (
    author_key TEXT PRIMARY KEY,
    author_name TEXT NOT NULL,
    reason TEXT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NULL
  );
  CREATE TABLE article_settings (
    article_id TEXT PRIMARY KEY,
    locked INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    premoderated INTEGER NOT NULL DEFAULT 0 CHECK (premoderated IN (0, 1))
  );
`;

/** Plain SQL that SQLite and PostgreSQL both accept. */
const V3_LEANER_WRITES = `
  DROP INDEX comments_article_top_idx;
  DROP INDEX comments_created_at_idx;
  DROP INDEX comments_article_created_at_idx;
`;

/** Plain SQL that SQLite and PostgreSQL both accept. */
const V4_IMPORT_EXPORT = `
  CREATE TABLE import_sources (
    source_format TEXT NOT NULL,
    source_id TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    PRIMARY KEY (source_format, source_id)
  );
  CREATE INDEX import_sources_comment_idx ON import_sources (comment_id);
  CREATE TABLE import_jobs (
    id TEXT PRIMARY KEY,
    updated_at TEXT NOT NULL,
    data TEXT NOT NULL
  );
`;

/** Plain SQL that SQLite and PostgreSQL both accept. */
const V5_KEYED_AUTHOR_KEYS = `
  CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  UPDATE comments SET author_key = NULL WHERE author_key IS NOT NULL;
  UPDATE held_comments SET author_key = NULL WHERE author_key IS NOT NULL;
  DELETE FROM bans;
`;

/**
 * Plain SQL that SQLite and PostgreSQL both accept (SQLite 3.33+ for UPDATE … FROM).
 *
 * - `comments.depth`: 0 for a top-level comment, its parent's + 1 for a reply; computed here for the
 *   comments already stored (walking each thread from its top by the old (article_id, parent_id) index,
 *   before that index goes). New replies deeper than LIMITS.depthMax attach to an ancestor above.
 * - Pages read tops and the replies of each thread from partial indexes: top-level comments by
 *   created_seq (newest, oldest) and by likes (top, so a top page no longer sorts every top-level
 *   comment), replies by thread and created_seq (the first replies of a thread, and the rest by cursor).
 *   They replace the two v1 indexes over every comment: a top-level post updates two indexes and a reply
 *   one, where both updated two before; a like of a top-level comment updates the likes index too.
 */
const V6_BOUNDED_PAGES = `
  ALTER TABLE comments ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;
  WITH RECURSIVE tree (id, article_id, depth) AS (
    SELECT id, article_id, 0 FROM comments WHERE parent_id IS NULL
    UNION ALL
    SELECT c.id, c.article_id, tree.depth + 1 FROM comments c
    JOIN tree ON c.article_id = tree.article_id AND c.parent_id = tree.id
  )
  UPDATE comments SET depth = tree.depth FROM tree WHERE comments.id = tree.id AND tree.depth > 0;
  DROP INDEX comments_article_parent_created_idx;
  DROP INDEX comments_article_root_idx;
  CREATE INDEX comments_tops_created_idx ON comments (article_id, created_seq) WHERE parent_id IS NULL;
  CREATE INDEX comments_tops_liked_idx ON comments (article_id, likes, created_seq) WHERE parent_id IS NULL;
  CREATE INDEX comments_replies_idx ON comments (article_id, root_id, created_seq) WHERE root_id IS NOT NULL;
`;

/** Plain SQL that SQLite and PostgreSQL both accept. */
const V7_OUTBOX = `
  CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT NOT NULL,
    claim TEXT NULL,
    settled_at TEXT NULL
  );
  CREATE INDEX outbox_due_idx ON outbox (next_at) WHERE status = 'pending';
  CREATE INDEX outbox_settled_idx ON outbox (settled_at) WHERE status <> 'pending';
  CREATE TABLE outbox_attempts (
    outbox_id TEXT NOT NULL,
    target TEXT NOT NULL,
    type TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'retry', 'failed')),
    status INTEGER NULL,
    error TEXT NULL,
    PRIMARY KEY (outbox_id, attempt)
  );
  CREATE INDEX outbox_attempts_target_idx ON outbox_attempts (target, at);
`;

/**
 * Version 8, the moderation pipeline: why a held comment waits (`hold_reason`, shown to moderators),
 * and an index of visible comments by author key for the new-commenter hold (partial: imported and
 * removed comments are not in it).
 */
const V8_MODERATION_PIPELINE = `
  ALTER TABLE held_comments ADD COLUMN hold_reason TEXT NULL;
  CREATE INDEX comments_author_visible_idx ON comments (author_key) WHERE author_key IS NOT NULL AND status = 'visible';
`;

/**
 * Plain SQL that SQLite and PostgreSQL both accept. Members: readers signed in by the host site
 * (README "Sign-in from your site").
 *
 * - `members` holds one profile per `sub` (the host's user id), changed only by a token with a newer
 *   `iat` (`last_iat`); `name_key` is the name as reservation compares it (NFKC, lower case, spaces
 *   collapsed), indexed so a guest's post checks it in one lookup. `badges` is a JSON array.
 * - `comments.member_sub` / `held_comments.member_sub` say which member posted (NULL: a guest), and
 *   `member_profile` is the badges and avatar shown with that comment (JSON, a snapshot at posting, as
 *   the name is), so pages read no other table. A partial index finds a member's comments.
 */
const V9_MEMBERS = `
  CREATE TABLE members (
    sub TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    email TEXT NULL,
    avatar TEXT NULL,
    badges TEXT NOT NULL,
    url TEXT NULL,
    last_iat BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX members_name_key_idx ON members (name_key);
  ALTER TABLE comments ADD COLUMN member_sub TEXT NULL;
  ALTER TABLE comments ADD COLUMN member_profile TEXT NULL;
  ALTER TABLE held_comments ADD COLUMN member_sub TEXT NULL;
  ALTER TABLE held_comments ADD COLUMN member_profile TEXT NULL;
  CREATE INDEX comments_member_idx ON comments (member_sub, created_at) WHERE member_sub IS NOT NULL;
`;

/** Version 10: the moderation pipeline's settings, one row (`id` 1) whose `version` grows with every change. */
const V10_MODERATION_SETTINGS = `
  CREATE TABLE moderation_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    settings TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
`;

/**
 * Version 11: reader reports. One row per (comment, reader), ever (a reader reports a comment once);
 * `round` is the review round it belongs to. `report_reviews` is a reported comment's place in the
 * moderators' queue: `state` open (reported, public), hidden (reports reached the threshold: removed
 * with its body kept, as by a moderator) or closed (reviewed, or its author deleted it); `reports` counts
 * the current round's reports; `kept` remembers that a moderator kept it (reports then queue it again
 * but no longer hide it). A report after a review opens the next round.
 */
const V11_REPORTS = `
  CREATE TABLE report_reviews (
    comment_id TEXT PRIMARY KEY REFERENCES comments (id),
    article_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'hidden', 'closed')),
    kept INTEGER NOT NULL DEFAULT 0,
    round INTEGER NOT NULL,
    reports INTEGER NOT NULL,
    opened_at TEXT NOT NULL,
    last_at TEXT NOT NULL
  );
  CREATE INDEX report_reviews_queue_idx ON report_reviews (opened_at, comment_id) WHERE state <> 'closed';
  CREATE TABLE reports (
    comment_id TEXT NOT NULL REFERENCES comments (id),
    reader_id TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('spam', 'abuse', 'off_topic', 'other')),
    note TEXT NULL,
    round INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (comment_id, reader_id)
  );
  CREATE INDEX reports_round_idx ON reports (comment_id, round);
`;

/**
 * Version 12: reply e-mails (server/storage/subscriptions.ts, docs/notifications.md "Reply e-mails").
 * `reply_subscriptions` is one poster's subscription to the replies to one comment: `pending` until its
 * confirmation link is followed (the address is kept only until then or `expires_at`), `confirmed` until
 * unsubscribe deletes the row. `mailed_seq` is the created_seq of the last reply e-mailed and
 * `last_mail_at` when, for batching. `mail_counts` counts e-mails per keyed HMAC of an address and UTC
 * day, for the daily cap.
 */
const V12_REPLY_EMAILS = `
  CREATE TABLE reply_subscriptions (
    id TEXT PRIMARY KEY,
    comment_id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    page_url TEXT NOT NULL,
    email TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed')),
    author_key TEXT NULL,
    member_sub TEXT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NULL,
    confirmed_at TEXT NULL,
    last_mail_at TEXT NULL,
    mailed_seq BIGINT NOT NULL DEFAULT 0
  );
  CREATE INDEX reply_subscriptions_comment_idx ON reply_subscriptions (comment_id);
  CREATE INDEX reply_subscriptions_pending_idx ON reply_subscriptions (expires_at) WHERE status = 'pending';
  CREATE TABLE mail_counts (
    address_key TEXT NOT NULL,
    day TEXT NOT NULL,
    sent INTEGER NOT NULL,
    PRIMARY KEY (address_key, day)
  );
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'comments and per-article seq', sqlite: V1_COMMENTS, postgres: V1_COMMENTS },
  { version: 2, name: 'moderation, edits and reactions', sqlite: V2_MODERATION, postgres: V2_MODERATION },
  {
    version: 3,
    name: 'no write-path indexes for top order and the feed',
    sqlite: V3_LEANER_WRITES,
    postgres: V3_LEANER_WRITES,
  },
  { version: 4, name: 'import sources and jobs', sqlite: V4_IMPORT_EXPORT, postgres: V4_IMPORT_EXPORT },
  {
    version: 5,
    name: 'keyed author keys: a server secret, old keys erased',
    sqlite: V5_KEYED_AUTHOR_KEYS,
    postgres: V5_KEYED_AUTHOR_KEYS,
  },
  {
    version: 6,
    name: 'reply depth, indexed top order and bounded reply pages',
    sqlite: V6_BOUNDED_PAGES,
    postgres: V6_BOUNDED_PAGES,
  },
  { version: 7, name: 'webhooks and the notification outbox', sqlite: V7_OUTBOX, postgres: V7_OUTBOX },
  {
    version: 8,
    name: 'moderation pipeline: hold reasons, visible comments by author',
    sqlite: V8_MODERATION_PIPELINE,
    postgres: V8_MODERATION_PIPELINE,
  },
  { version: 9, name: 'members signed in by the host site', sqlite: V9_MEMBERS, postgres: V9_MEMBERS },
  { version: 10, name: 'moderation settings', sqlite: V10_MODERATION_SETTINGS, postgres: V10_MODERATION_SETTINGS },
  { version: 11, name: 'reader reports and their review', sqlite: V11_REPORTS, postgres: V11_REPORTS },
  { version: 12, name: 'reply e-mail subscriptions', sqlite: V12_REPLY_EMAILS, postgres: V12_REPLY_EMAILS },
];

// Versions must be 1, 2, 3, … in list order: a store applies exactly the entries above its recorded maximum.
MIGRATIONS.forEach((migration, index) => {
  if (migration.version !== index + 1)
    throw new Error(`Migration at position ${index} has version ${migration.version}`);
});

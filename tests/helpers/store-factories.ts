import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customAlphabet, nanoid } from 'nanoid';
import pg from 'pg';
import type { CommentStore, NewCommentRecord } from '../../server/storage/port.ts';
import {
  openPostgresStore,
  type PostgresCommentStore,
  type PostgresStoreOptions,
} from '../../server/storage/postgres.ts';
import { SqliteCommentStore } from '../../server/storage/sqlite.ts';

/** A fresh temporary directory; the caller removes it. */
export function makeTempDir(prefix = 'live-comments-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A SQLite store on a file of its own, in a directory that `close()` removes. */
class TempSqliteStore extends SqliteCommentStore {
  readonly #dir: string;

  constructor(dir: string) {
    super(join(dir, 'comments.db'));
    this.#dir = dir;
  }

  override async close(): Promise<void> {
    await super.close();
    await rm(this.#dir, { recursive: true, force: true });
  }
}

/** Every CommentStore implementation, each made empty and isolated; the contract suite runs against all. */
export const storeFactories: Array<[name: string, make: () => Promise<CommentStore>]> = [
  ['sqlite', async () => new TempSqliteStore(makeTempDir())],
  ['postgres', () => makePostgresStore()],
];

/** An article id no other test uses. */
export function makeArticleId(prefix = 'a'): string {
  return `${prefix}-${nanoid(12)}`;
}

/** A valid NewCommentRecord: a new nanoid id, no parent, no clientId, unless overridden. */
export function makeRecord(overrides: Partial<NewCommentRecord> = {}): NewCommentRecord {
  return {
    id: nanoid(),
    articleId: makeArticleId(),
    parentId: null,
    authorName: 'Ada',
    body: 'Hello there',
    createdAt: new Date().toISOString(),
    clientId: null,
    authorTokenHash: 'a'.repeat(64),
    ...overrides,
  };
}

/** The machine's PostgreSQL; every test works in a fresh schema of its own (see createTestSchema). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  /** The schema's name: `lc_test_` and random lowercase letters and digits. */
  schema: string;
  /** TEST_DATABASE_URL with `options=-c search_path=<schema>`: what an app's DATABASE_URL should be. */
  url: string;
  /** Drops the schema and everything in it. Idempotent. */
  drop: () => Promise<void>;
}

/** Creates an empty schema on TEST_DATABASE_URL; stores and apps opened on its `url` see only it. */
export async function createTestSchema(): Promise<TestSchema> {
  const schema = `lc_test_${customAlphabet('abcdefghijklmnopqrstuvwxyz0123456789', 12)()}`;
  await withAdminClient((client) => client.query(`CREATE SCHEMA ${schema}`));
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  let dropped: Promise<void> | null = null;
  return {
    schema,
    url: url.toString(),
    drop: () =>
      (dropped ??= withAdminClient(
        async (client) => void (await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)),
      )),
  };
}

/** Runs `fn` on a short-lived connection to TEST_DATABASE_URL. */
export async function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Returns `store` whose `close()` also runs `after` (once); every other member is the store's own. */
function closingAlso<T extends CommentStore>(store: T, after: () => Promise<void>): T {
  let closing: Promise<void> | null = null;
  return new Proxy(store, {
    get(target, property) {
      if (property === 'close') return () => (closing ??= target.close().then(after));
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A PostgreSQL store in a fresh schema of its own, dropped when the store closes. */
export async function makePostgresStore(options: Partial<PostgresStoreOptions> = {}): Promise<PostgresCommentStore> {
  const schema = await createTestSchema();
  try {
    const store = await openPostgresStore({ connectionString: TEST_DATABASE_URL, schema: schema.schema, ...options });
    return closingAlso(store, schema.drop);
  } catch (error) {
    await schema.drop();
    throw error;
  }
}

/** Several stores over one fresh database, as several instances would open it; `close` closes them all and removes the database. */
export interface SharedStores {
  stores: CommentStore[];
  close: () => Promise<void>;
}

/** Per implementation: opens `count` stores on one fresh database (one SQLite file, or one PostgreSQL schema). */
export const sharedStoreFactories: Array<[name: string, open: (count: number) => Promise<SharedStores>]> = [
  [
    'sqlite',
    async (count) => {
      const dir = makeTempDir();
      const stores = Array.from({ length: count }, () => new SqliteCommentStore(join(dir, 'comments.db')));
      return {
        stores,
        close: async () => {
          await Promise.all(stores.map((s) => s.close()));
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  ],
  [
    'postgres',
    async (count) => {
      const schema = await createTestSchema();
      const stores = await Promise.all(
        Array.from({ length: count }, () =>
          openPostgresStore({ connectionString: TEST_DATABASE_URL, schema: schema.schema, poolMax: 5 }),
        ),
      );
      return {
        stores,
        close: async () => {
          await Promise.all(stores.map((s) => s.close()));
          await schema.drop();
        },
      };
    },
  ],
];

/** SQL both stores accept that winds a store at version 12 back to version 11: no reply e-mails. */
export const WIND_BACK_V12_SQL = `
  DROP TABLE mail_counts; DROP TABLE reply_subscriptions;
  DELETE FROM schema_migrations WHERE version > 11;
`;

/** SQL both stores accept that winds a store at version 11 back to version 10: no reader reports. */
export const WIND_BACK_V11_SQL = `${WIND_BACK_V12_SQL}
  DROP TABLE reports; DROP TABLE report_reviews;
  DELETE FROM schema_migrations WHERE version > 10;
`;

/** SQL both stores accept that winds a store at version 10 back to version 9: no moderation settings. */
export const WIND_BACK_V10_SQL = `${WIND_BACK_V11_SQL}
  DROP TABLE moderation_settings;
  DELETE FROM schema_migrations WHERE version > 9;
`;

/** SQL both stores accept that winds a store at version 9 back to version 8: no members. */
export const WIND_BACK_V9_SQL = `${WIND_BACK_V10_SQL}
  DROP INDEX comments_member_idx; DROP TABLE members;
  ALTER TABLE comments DROP COLUMN member_sub; ALTER TABLE comments DROP COLUMN member_profile;
  ALTER TABLE held_comments DROP COLUMN member_sub; ALTER TABLE held_comments DROP COLUMN member_profile;
  DELETE FROM schema_migrations WHERE version > 8;
`;

/** SQL both stores accept that winds a store at version 8 back to version 7: no hold reasons, no author index. */
export const WIND_BACK_V8_SQL = `${WIND_BACK_V9_SQL}
  DROP INDEX comments_author_visible_idx; ALTER TABLE held_comments DROP COLUMN hold_reason;
  DELETE FROM schema_migrations WHERE version > 7;
`;

/** SQL both stores accept that winds a store at version 7 back to version 6: no webhooks, no outbox. */
export const WIND_BACK_V7_SQL = `${WIND_BACK_V8_SQL}
  DROP TABLE outbox_attempts; DROP TABLE outbox; DROP TABLE webhooks;
  DELETE FROM schema_migrations WHERE version > 6;
`;

/**
 * SQL both stores accept that winds a store at the latest version back to what version 5 left: no
 * `depth`, the two v1 indexes instead of the partial ones (and what later versions add, undone first).
 * Tests of older upgrades run it before their own wind-back.
 */
export const WIND_BACK_V6_SQL = `${WIND_BACK_V7_SQL}
  DROP INDEX comments_tops_created_idx; DROP INDEX comments_tops_liked_idx; DROP INDEX comments_replies_idx;
  ALTER TABLE comments DROP COLUMN depth;
  CREATE INDEX comments_article_parent_created_idx ON comments (article_id, parent_id, created_seq);
  CREATE INDEX comments_article_root_idx ON comments (article_id, root_id);
  DELETE FROM schema_migrations WHERE version > 5;
`;

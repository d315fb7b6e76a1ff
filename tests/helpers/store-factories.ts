import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nanoid } from 'nanoid';
import type { CommentStore, NewCommentRecord } from '../../server/storage/port.ts';
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

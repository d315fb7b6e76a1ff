import type { Readable } from 'node:stream';
import type {
  ImportFormat,
  ImportProgress,
  ImportSummary,
  NativeComment,
  NativeHeader,
} from '../../shared/import-export.ts';
import { AuthorNameInputSchema, BodyInputSchema, LIMITS, type ArticleState } from '../../shared/schemas.ts';
import { nameProblem } from '../../shared/text.ts';
import type { Keyring } from '../keys/keyring.ts';
import { StoreUnavailableError, type CommentStore, type ImportedCommentRecord } from '../storage/port.ts';
import { importedMember } from '../storage/rows.ts';
import { normaliseAuthorName } from '../abuse/keys.ts';
import { readDisqus } from './disqus.ts';
import { ImportFileError } from './errors.ts';
import { htmlToText } from './html-text.ts';
import { authorIdentity, importAuthorKey, importedCommentId } from './ids.ts';
import { openImportInput } from './input.ts';
import { mapThread } from './mapping.ts';
import { readNative } from './native.ts';
import type { SourcePost, SourceRecord, SourceThread } from './records.ts';
import { Staging, type StagedPost, type WritableRow } from './staging.ts';
import { readWxr } from './wxr.ts';

/** How running instances hear about an import: `article:head` and `count:changed` per touched article, lock changes. */
export interface ImportAnnouncer {
  head(articleId: string, lastSeq: number): Promise<void>;
  state(state: ArticleState): Promise<void>;
}

export interface ImportOptions {
  format: ImportFormat;
  /** A file path (`-`: standard input), or the bytes (an upload). Gzip is recognised and decompressed. */
  input: string | Readable;
  store: CommentStore;
  /** Derives imported authors' ban keys (the deployment's keyring). */
  keys: Keyring;
  /** `--map`: source thread (id, link, WordPress post id or name) → article id. */
  map?: ReadonlyMap<string, string>;
  /** Read, map and check everything, write nothing. */
  dryRun?: boolean;
  /** Lock articles whose source thread is closed. */
  keepClosed?: boolean;
  announcer?: ImportAnnouncer;
  onProgress?: (progress: ImportProgress) => void;
  /** Dry run: the mapping, collisions and orphans, one line each. */
  onReport?: (line: string) => void;
  limits?: { maxBytes?: number; maxInflatedBytes?: number };
  signal?: AbortSignal;
}

/** Comments written per store transaction: short enough that a running instance's posts wait milliseconds, not seconds. */
export const WRITE_BATCH = 500;
/** Attempts of one batch while the store is busy or away (SQLite's lock held by a running instance, a PostgreSQL failover). */
const WRITE_ATTEMPTS = 8;
const ANONYMOUS = 'Anonymous';

/** A name our rules accept: characters they refuse (controls, invisibles, bidi controls) are dropped, the rest cut to 60. */
export function importAuthorName(raw: string | null): string {
  const parsed = AuthorNameInputSchema.safeParse(raw ?? '');
  if (parsed.success) return parsed.data;
  const cleaned = Array.from((raw ?? '').replace(/\s+/g, ' '))
    .filter((char) => nameProblem(char) === null)
    .slice(0, LIMITS.nameMax)
    .join('');
  const again = AuthorNameInputSchema.safeParse(cleaned);
  return again.success ? again.data : ANONYMOUS;
}

/** A body our rules accept, cut to the limit (with an ellipsis) when longer; null when nothing is left. */
export function importBody(text: string): { body: string; truncated: boolean } | null {
  let candidate = text;
  let truncated = false;
  for (let limit = LIMITS.bodyMax - 1; ; limit -= 16) {
    const parsed = BodyInputSchema.safeParse(candidate);
    if (parsed.success) return { body: parsed.data, truncated };
    if (candidate.trim() === '' || limit <= 0) return null;
    // Too long: cut on a code point boundary, leave room for the ellipsis.
    let cut = candidate.slice(0, limit);
    if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
    candidate = `${cut.trimEnd()}…`;
    truncated = true;
  }
}

function emptyCounts(format: ImportFormat, dryRun: boolean): ImportSummary {
  return {
    format,
    dryRun,
    threads: { read: 0, mapped: 0, unmapped: 0, collisions: 0 },
    articles: 0,
    records: 0,
    imported: 0,
    held: 0,
    placeholders: 0,
    alreadyPresent: 0,
    truncated: 0,
    locked: 0,
    bans: 0,
    skipped: { spam: 0, deleted: 0, pings: 0, duplicates: 0, orphans: 0, empty: 0 },
    notes: [],
  };
}

/**
 * One import, from file to store: read and stage every record (nothing written yet; a malformed file
 * stops here and nothing at all is imported), repair the tree, then write article by article in short
 * transactions (parents first, seq following createdAt), and announce each touched article. Idempotent
 * and additive: records keep deterministic ids, so a re-run finds them and adds nothing twice, and no
 * existing comment is ever changed or deleted.
 */
export async function runImport(options: ImportOptions): Promise<ImportSummary> {
  const { format, store } = options;
  const dryRun = options.dryRun ?? false;
  const summary = emptyCounts(format, dryRun);
  const progress: ImportProgress = { phase: 'reading', bytes: 0, records: 0, written: 0, toWrite: 0 };
  const report = (): void => options.onProgress?.({ ...progress });
  const staging = new Staging();
  let header: NativeHeader | null = null;
  try {
    const input = await openImportInput(options.input, options.limits ?? {});
    const stage = new RecordStager(format, staging, options.map ?? new Map(), summary, options.keys);
    let lastReport = 0;
    const records =
      format === 'native' ? readNative(input.stream) : (format === 'disqus' ? readDisqus : readWxr)(input.stream);
    for await (const record of records) {
      options.signal?.throwIfAborted();
      if ('kind' in record && record.kind === 'header') {
        header = record.header;
        stage.nativeHeader(record.header);
      } else if (record.kind === 'comment') {
        stage.native(record.comment, record.label);
      } else {
        stage.source(record);
      }
      progress.records += 1;
      progress.bytes = input.bytesRead();
      if (progress.records - lastReport >= 1000) {
        lastReport = progress.records;
        report();
      }
    }
    progress.bytes = input.bytesRead();
    progress.phase = 'resolving';
    report();
    const resolved = await staging.resolve((ids) => store.existingIds(ids));
    summary.skipped.duplicates = staging.duplicates;
    summary.threads = {
      read: format === 'native' ? resolved.articles : resolved.threadsRead,
      mapped: format === 'native' ? resolved.articles : resolved.threadsMapped,
      unmapped: resolved.threadsUnmapped,
      collisions: resolved.collisions,
    };
    summary.articles = resolved.articles;
    summary.skipped.spam = resolved.spam;
    summary.skipped.deleted = resolved.deleted;
    summary.skipped.pings = resolved.pings;
    summary.skipped.empty = resolved.empty;
    summary.skipped.orphans = resolved.orphans;
    progress.toWrite = resolved.stored + resolved.held + resolved.placeholders;
    if (dryRun) {
      writeReport(staging, options.onReport);
      summary.imported = resolved.stored;
      summary.held = resolved.held;
      summary.placeholders = resolved.placeholders;
      // Counted as the real run would: what is stored already is not imported again.
      for (const rows of staging.keptRows(1000)) {
        const present = await store.existingIds(rows.map((row) => row.id));
        for (const row of rows.filter((kept) => present.has(kept.id))) {
          summary[row.counts] -= 1;
          summary.alreadyPresent += 1;
        }
      }
    } else {
      progress.phase = 'writing';
      report();
      const touched = await writeArticles(options, staging, header, summary, progress, report);
      progress.phase = 'announcing';
      report();
      await announce(options, touched);
    }
    explain(summary);
    progress.phase = 'done';
    report();
    return summary;
  } finally {
    staging.close();
  }
}

/** Turns parsed records into staged rows: ids, authors, bodies, thread mappings. */
class RecordStager {
  readonly #format: ImportFormat;
  readonly #staging: Staging;
  readonly #map: ReadonlyMap<string, string>;
  readonly #summary: ImportSummary;
  readonly #keys: Keyring;

  constructor(
    format: ImportFormat,
    staging: Staging,
    map: ReadonlyMap<string, string>,
    summary: ImportSummary,
    keys: Keyring,
  ) {
    this.#format = format;
    this.#staging = staging;
    this.#map = map;
    this.#summary = summary;
    this.#keys = keys;
  }

  source(record: SourceRecord): void {
    if (record.kind === 'thread') this.#thread(record);
    else this.#post(record);
  }

  nativeHeader(header: NativeHeader): void {
    for (const article of header.articles) {
      const mapped = this.#map.get(article.id) ?? article.id;
      this.#staging.addThread({
        key: article.id,
        articleId: mapped,
        via: mapped === article.id ? 'id' : 'map',
        label: `article ${article.id}`,
        closed: false,
        deleted: false,
        lastSeq: article.lastSeq,
        locked: article.locked,
        premoderated: article.premoderated,
      });
    }
    this.#summary.bans = header.bans.length;
  }

  native(comment: NativeComment, label: string): void {
    this.#summary.records += 1;
    const name = AuthorNameInputSchema.safeParse(comment.author.name);
    if (!name.success)
      throw new ImportFileError(`${label}: author.name: ${name.error.issues[0]?.message ?? 'invalid'}`);
    let body = comment.body;
    if (body !== '') {
      const parsed = BodyInputSchema.safeParse(body);
      if (!parsed.success) throw new ImportFileError(`${label}: body: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      body = parsed.data;
    }
    const member = importedMember(comment.author);
    this.#staging.addPost({
      id: comment.id,
      sourceFormat: comment.source?.format ?? null,
      sourceId: comment.source?.id ?? null,
      threadKey: comment.articleId,
      articleId: null,
      parentId: comment.parentId,
      createdAt: comment.createdAt,
      editedAt: comment.editedAt,
      authorName: name.data,
      authorKey: comment.author.key,
      body,
      originalBody: comment.originalBody,
      disposition: comment.status,
      removedBy: comment.removedBy,
      likes: comment.likes,
      seq: comment.seq,
      createdSeq: comment.createdSeq,
      label,
      memberSub: member?.memberSub ?? null,
      memberProfile: member?.memberProfile ?? null,
    });
  }

  #thread(thread: SourceThread): void {
    const mapping = mapThread(thread.identity, this.#map);
    const shown = thread.identity.link ?? thread.identity.ident ?? thread.key;
    this.#staging.addThread({
      key: thread.key,
      articleId: mapping?.articleId ?? null,
      via: mapping?.via ?? null,
      label: `${this.#format === 'disqus' ? 'thread' : 'post'} ${thread.identity.otherKeys[0] ?? thread.key} (${shown})`,
      closed: thread.closed,
      deleted: thread.deleted,
      lastSeq: null,
      locked: false,
      premoderated: false,
    });
  }

  #post(post: SourcePost): void {
    this.#summary.records += 1;
    const format = this.#format === 'disqus' ? 'disqus' : 'wxr';
    const identity = authorIdentity(post.author);
    const converted = importBody(htmlToText(post.html, { newlines: format === 'disqus' ? 'collapse' : 'keep' }));
    if (converted?.truncated && (post.disposition === 'visible' || post.disposition === 'held'))
      this.#summary.truncated += 1;
    const staged: StagedPost = {
      id: importedCommentId(format, post.sourceId),
      sourceFormat: format,
      sourceId: post.sourceId,
      threadKey: post.threadKey,
      articleId: null,
      parentId: post.parentSourceId === null ? null : importedCommentId(format, post.parentSourceId),
      createdAt: post.createdAt,
      editedAt: null,
      authorName: importAuthorName(post.author.name),
      authorKey: identity === null ? null : importAuthorKey(this.#keys, format, identity),
      body: converted?.body ?? '',
      originalBody: null,
      disposition:
        converted === null &&
        post.disposition !== 'spam' &&
        post.disposition !== 'ping' &&
        post.disposition !== 'deleted'
          ? 'empty'
          : post.disposition,
      removedBy: null,
      likes: 0,
      memberSub: null,
      memberProfile: null,
      seq: null,
      createdSeq: null,
      label: post.label,
    };
    this.#staging.addPost(staged);
  }
}

/** The record the store writes for a staged row: as it is, or as a removed placeholder (a pending one keeps its body for restore). */
function toRecord(row: WritableRow): ImportedCommentRecord {
  const source =
    row.sourceFormat !== null && row.sourceId !== null ? { format: row.sourceFormat, id: row.sourceId } : null;
  const base = {
    id: row.id,
    parentId: row.parentId,
    authorName: row.authorName,
    authorKey: row.authorKey,
    memberSub: row.memberSub,
    memberProfile: row.memberProfile,
    createdAt: row.createdAt,
    editedAt: row.editedAt,
    source,
  };
  if (row.keep === 2) {
    return {
      ...base,
      body: '',
      originalBody:
        row.disposition === 'held' || (row.disposition === 'removed' && row.originalBody)
          ? (row.originalBody ?? row.body)
          : null,
      status: 'removed',
      removedBy: row.disposition === 'removed' && row.removedBy ? row.removedBy : 'moderator',
      likes: row.likes,
      seq: null,
      createdSeq: null,
    };
  }
  return {
    ...base,
    body: row.body,
    originalBody: row.originalBody,
    status: row.disposition === 'held' ? 'held' : row.disposition === 'removed' ? 'removed' : 'visible',
    removedBy: row.removedBy,
    likes: row.likes,
    seq: row.seq,
    createdSeq: row.createdSeq,
  };
}

/** Retries a store call while the store is busy or away (bounded); other failures are thrown at once. */
async function withRetries<T>(call: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || attempt >= WRITE_ATTEMPTS) throw error;
      signal?.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 3000)));
    }
  }
}

interface Touched {
  heads: Map<string, number>;
  locked: string[];
}

/** Writes every article's rows in batches; returns the articles whose head moved and those locked. */
async function writeArticles(
  options: ImportOptions,
  staging: Staging,
  header: NativeHeader | null,
  summary: ImportSummary,
  progress: ImportProgress,
  report: () => void,
): Promise<Touched> {
  const { store, signal } = options;
  const touched: Touched = { heads: new Map(), locked: [] };
  for (const articleId of staging.articles()) {
    const before = await withRetries(() => store.lastSeq(articleId), signal);
    const threads = staging.articleThreads(articleId);
    // A native restore keeps the export's seqs when the article is empty here, or is this same restore resumed.
    const keepSeq =
      header !== null && threads.lastSeq !== null && (before === 0 || before === threads.lastSeq)
        ? { lastSeq: threads.lastSeq }
        : undefined;
    let after: { sortAt: string; depth: number; ord: number } | null = null;
    let inserted = 0;
    let lastSeq = before;
    for (;;) {
      signal?.throwIfAborted();
      const rows = staging.rows(articleId, after, WRITE_BATCH);
      const last = rows.at(-1);
      if (!last) break;
      after = { sortAt: last.sortAt, depth: last.depth, ord: last.ord };
      const result = await withRetries(
        () => store.importComments(articleId, rows.map(toRecord), keepSeq ? { keepSeq } : {}),
        signal,
      );
      const skipped = new Set([...result.existing, ...result.orphaned]);
      for (const row of rows) {
        if (skipped.has(row.id)) continue;
        if (row.keep === 2) summary.placeholders += 1;
        else if (row.disposition === 'held') summary.held += 1;
        else summary.imported += 1;
      }
      summary.alreadyPresent += result.existing.length;
      summary.skipped.orphans += result.orphaned.length;
      inserted += result.inserted;
      lastSeq = result.lastSeq;
      progress.written += rows.length;
      report();
    }
    // Older comments added to an article that had comments: its pages must still list threads by time.
    if (inserted > 0 && before > 0 && !keepSeq) await withRetries(() => store.reorderByTime(articleId), signal);
    if (lastSeq !== before) touched.heads.set(articleId, lastSeq);
  }
  if (header !== null) {
    for (const ban of header.bans) await withRetries(() => store.addBan(ban), signal);
    // Members' profiles, so their names stay reserved and /api/me answers as before; one already stored
    // from a later token (newer iat) is kept.
    const now = new Date().toISOString();
    for (const member of header.members ?? [])
      await withRetries(() => store.saveMember(member, normaliseAuthorName(member.name), now), signal);
    for (const articleId of staging.premoderatedArticles())
      await withRetries(() => store.setArticleSettings(articleId, { premoderated: true }), signal);
  }
  if (options.keepClosed || header !== null) {
    for (const articleId of staging.lockedArticles()) {
      const current = await withRetries(() => store.articleSettings(articleId), signal);
      if (current.locked) continue;
      await withRetries(() => store.setArticleSettings(articleId, { locked: true }), signal);
      touched.locked.push(articleId);
      summary.locked += 1;
    }
  }
  return touched;
}

/** Tells running instances: every article whose head moved, and every lock. */
async function announce(options: ImportOptions, touched: Touched): Promise<void> {
  const announcer = options.announcer;
  if (!announcer) return;
  for (const [articleId, lastSeq] of touched.heads) await announcer.head(articleId, lastSeq);
  for (const articleId of touched.locked) {
    const settings = await options.store.articleSettings(articleId);
    await announcer.state({ articleId, locked: settings.locked, premoderated: settings.premoderated });
  }
}

/** The dry run's report: every thread's article id, then collisions, then orphans. */
function writeReport(staging: Staging, onReport: ((line: string) => void) | undefined): void {
  if (!onReport) return;
  for (const entry of staging.mapping()) {
    const target =
      entry.articleId === null ? 'NO ARTICLE ID (add it to the map)' : `${entry.articleId} (by ${entry.via})`;
    onReport(`map       ${entry.label} -> ${target}, ${entry.comments} comment(s)`);
  }
  for (const collision of staging.collisions())
    onReport(`collision ${collision.articleId} <- ${collision.threads.join(', ')}: their comments share the article`);
  for (const orphan of staging.orphans())
    onReport(
      `orphan    ${orphan.label}: ${orphan.reason === 'thread' ? 'its thread is not in the file or has no article id' : 'its parent is not in the file, nor stored'}`,
    );
}

/** One line per kind of skip or adjustment, saying why. */
function explain(summary: ImportSummary): void {
  const notes = summary.notes;
  const s = summary.skipped;
  if (s.spam > 0) notes.push(`${s.spam} marked as spam in the source: not imported`);
  if (s.deleted > 0) notes.push(`${s.deleted} deleted or trashed in the source (or in a deleted thread): not imported`);
  if (s.pings > 0) notes.push(`${s.pings} pingbacks, trackbacks or other non-comments: not imported`);
  if (s.duplicates > 0) notes.push(`${s.duplicates} records repeated an id already read in the file: read once`);
  if (s.orphans > 0)
    notes.push(
      `${s.orphans} have no thread with an article id, or reply to a comment missing from the file: not imported`,
    );
  if (s.empty > 0) notes.push(`${s.empty} have no text left once the HTML is converted: not imported`);
  if (summary.placeholders > 0)
    notes.push(
      `${summary.placeholders} deleted, spam or pending comments with replies kept as removed placeholders, so the replies stay attached`,
    );
  if (summary.truncated > 0)
    notes.push(`${summary.truncated} bodies were longer than ${LIMITS.bodyMax} characters: cut, ending with …`);
  if (summary.alreadyPresent > 0) notes.push(`${summary.alreadyPresent} were imported before: left as they are`);
  if (summary.threads.collisions > 0)
    notes.push(
      `${summary.threads.collisions} source threads map to an article id another thread has: their comments share it`,
    );
}

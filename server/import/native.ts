import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import split2 from 'split2';
import {
  NATIVE_FORMAT,
  NATIVE_VERSION,
  NativeCommentSchema,
  NativeHeaderSchema,
  type NativeComment,
  type NativeHeader,
} from '../../shared/import-export.ts';
import { toFieldIssues } from '../../shared/errors.ts';
import type { CommentStore } from '../storage/port.ts';
import { ImportFileError } from './errors.ts';

/** Longest line of a native file: the header lists every article (about 80 bytes each); a comment line is far shorter. */
const MAX_LINE_BYTES = 64 * 1024 * 1024;
/** Comments read from the store per query while exporting. */
const EXPORT_PAGE = 1000;

export type NativeRecord =
  { kind: 'header'; header: NativeHeader } | { kind: 'comment'; comment: NativeComment; label: string };

function describe(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  const first = toFieldIssues(issues)[0];
  return first ? `${first.path ? `${first.path}: ` : ''}${first.message}` : 'invalid';
}

/**
 * The records of a native export (decompressed), streamed line by line: the header first, then each
 * comment, checked against the shared schema (shared/import-export.ts). A line that is not JSON or not
 * a record of version 1 makes the file malformed; the message names the line and the comment's id.
 */
export async function* readNative(input: Readable): AsyncGenerator<NativeRecord> {
  let line = 0;
  let header: NativeHeader | null = null;
  const heads = new Map<string, number>();
  const lines = input.pipe(split2({ maxLength: MAX_LINE_BYTES }));
  input.on('error', (error) => lines.destroy(error));
  try {
    for await (const text of lines as AsyncIterable<string>) {
      line += 1;
      if (text.trim() === '') continue;
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch {
        throw new ImportFileError(`line ${line}: not JSON`);
      }
      if (header === null) {
        const parsed = NativeHeaderSchema.safeParse(data);
        if (!parsed.success)
          throw new ImportFileError(
            `line 1: not a ${NATIVE_FORMAT} export of version ${NATIVE_VERSION} (${describe(parsed.error.issues)})`,
          );
        header = parsed.data;
        for (const article of header.articles) heads.set(article.id, article.lastSeq);
        yield { kind: 'header', header };
        continue;
      }
      const id = typeof (data as { id?: unknown }).id === 'string' ? (data as { id: string }).id : null;
      const label = `comment on line ${line}${id ? ` (id ${id})` : ''}`;
      const parsed = NativeCommentSchema.safeParse(data);
      if (!parsed.success) throw new ImportFileError(`${label}: ${describe(parsed.error.issues)}`);
      const comment = parsed.data;
      const head = heads.get(comment.articleId);
      if (comment.seq !== null && (head === undefined || comment.seq > head))
        throw new ImportFileError(`${label}: seq ${comment.seq} is above its article's lastSeq in the header`);
      yield { kind: 'comment', comment, label };
    }
  } catch (error) {
    if (error instanceof ImportFileError) throw error;
    throw new ImportFileError(`line ${line + 1}: ${(error as Error).message}`, { cause: error });
  }
  if (header === null) throw new ImportFileError('The file is empty: no header line');
}

/** The lines of a native export of the whole store: the header, each article's comments in order, then held comments. */
export async function* nativeExportLines(store: CommentStore, now: Date = new Date()): AsyncGenerator<string> {
  const articles = await store.exportArticles();
  const header: NativeHeader = {
    format: NATIVE_FORMAT,
    version: NATIVE_VERSION,
    exportedAt: now.toISOString(),
    articles,
    bans: await store.bans(new Date(0).toISOString()),
    members: await store.exportMembers(),
  };
  yield `${JSON.stringify(header)}\n`;
  for (const article of articles) {
    let after = 0;
    for (;;) {
      const page = await store.exportComments(article.id, after, EXPORT_PAGE);
      if (page.length > 0) yield `${page.map((comment) => JSON.stringify(comment)).join('\n')}\n`;
      const last = page.at(-1);
      if (page.length < EXPORT_PAGE || !last?.createdSeq) break;
      after = last.createdSeq;
    }
  }
  let heldAfter: { createdAt: string; id: string } | null = null;
  for (;;) {
    const page = await store.exportHeld(heldAfter, EXPORT_PAGE);
    if (page.length > 0) yield `${page.map((comment) => JSON.stringify(comment)).join('\n')}\n`;
    const last = page.at(-1);
    if (page.length < EXPORT_PAGE || !last) break;
    heldAfter = { createdAt: last.createdAt, id: last.id };
  }
}

/** Writes a gzipped native export of the store to `output`; resolves with the number of comments written. */
export async function writeNativeExport(
  store: CommentStore,
  output: Writable,
  onComments?: (count: number) => void,
): Promise<number> {
  let comments = -1;
  async function* counted(): AsyncGenerator<string> {
    for await (const chunk of nativeExportLines(store)) {
      const lines = chunk.split('\n').length - 1;
      comments += lines;
      onComments?.(Math.max(0, comments));
      yield chunk;
    }
  }
  await pipeline(Readable.from(counted()), createGzip(), output);
  return Math.max(0, comments);
}

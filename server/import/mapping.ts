import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { ArticleIdSchema, LIMITS } from '../../shared/schemas.ts';
import { ImportFileError } from './errors.ts';

/** A source thread as far as mapping goes. */
export interface ThreadIdentity {
  /** Disqus: the thread's `<id>` (disqus_identifier). WordPress: `wp:post_name`. */
  ident: string | null;
  /** Other keys the map may use: Disqus `dsq:id`, WordPress `wp:post_id`. */
  otherKeys: string[];
  link: string | null;
}

export type MappedVia = 'map' | 'id' | 'link';

export interface Mapping {
  articleId: string;
  via: MappedVia;
}

const isArticleId = (value: string): boolean => ArticleIdSchema.safeParse(value).success;

/**
 * Reduces text to the article-id alphabet: runs of other characters (percent signs of an encoded
 * path, spaces, slashes) become one `-`, leading punctuation is dropped, the result is cut to 128.
 */
export function toArticleIdAlphabet(text: string): string | null {
  const reduced = text
    .replace(/[^A-Za-z0-9._:-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, LIMITS.articleIdMax)
    .replace(/-+$/, '');
  return reduced !== '' && isArticleId(reduced) ? reduced : null;
}

/** The last non-empty path segment of a link (`https://x.org/2020/05/hello-world/` → `hello-world`). */
export function lastPathSegment(link: string): string | null {
  let path: string;
  try {
    path = new URL(link, 'http://placeholder.invalid').pathname;
  } catch {
    return null;
  }
  const segments = path.split('/').filter((segment) => segment !== '');
  return segments.at(-1) ?? null;
}

/**
 * The article id of a source thread: the map (any of its keys or its link), else its identifier
 * (Disqus `<id>`, WordPress `wp:post_name`) when it is a valid article id, else the last path segment
 * of its link reduced to the article-id alphabet; null when none of these gives one.
 */
export function mapThread(thread: ThreadIdentity, map: ReadonlyMap<string, string>): Mapping | null {
  for (const key of [thread.ident, ...thread.otherKeys, thread.link]) {
    const mapped = key === null || key === '' ? undefined : map.get(key);
    if (mapped !== undefined) return { articleId: mapped, via: 'map' };
  }
  if (thread.ident !== null && isArticleId(thread.ident)) return { articleId: thread.ident, via: 'id' };
  const segment = thread.link === null ? null : lastPathSegment(thread.link);
  const fromLink = segment === null ? null : toArticleIdAlphabet(segment);
  return fromLink === null ? null : { articleId: fromLink, via: 'link' };
}

/**
 * Reads a mapping CSV: `source,articleId` per line (a first line `source,articleId` is a header),
 * quoted fields allowed. Every article id must be valid; errors name the line.
 */
export async function loadMapFile(path: string): Promise<Map<string, string>> {
  const text = await readFile(path, 'utf8');
  let rows: string[][];
  try {
    rows = parse(text, { relax_column_count: false, skip_empty_lines: true, trim: true, bom: true });
  } catch (error) {
    throw new ImportFileError(`${path}: not a CSV of source,articleId lines (${(error as Error).message})`);
  }
  const map = new Map<string, string>();
  rows.forEach((row, index) => {
    const [source = '', articleId = ''] = row;
    if (index === 0 && source.toLowerCase() === 'source' && articleId.toLowerCase() === 'articleid') return;
    if (row.length !== 2 || source === '')
      throw new ImportFileError(`${path}, line ${index + 1}: expected two fields, source,articleId`);
    const parsed = ArticleIdSchema.safeParse(articleId);
    if (!parsed.success)
      throw new ImportFileError(
        `${path}, line ${index + 1}: "${articleId}" is not an article id (${parsed.error.issues[0]?.message ?? 'invalid'})`,
      );
    map.set(source, articleId);
  });
  return map;
}

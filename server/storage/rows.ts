import type { Ban, ModeratedComment, ModeratedHeld, RemovedBy } from '../../shared/moderation.ts';
import {
  LIMITS,
  readerAuthor,
  type Author,
  type Comment,
  type CommentStatus,
  type MoreReplies,
} from '../../shared/schemas.ts';
import type { NativeArticle, NativeComment } from '../../shared/import-export.ts';

/**
 * The row shapes both SQL stores read (the same migrated schema, server/storage/migrations.ts) and
 * their mapping to the protocol's shapes. Drivers differ only in how they fetch rows.
 */
export interface CommentRow {
  id: string;
  article_id: string;
  parent_id: string | null;
  root_id: string | null;
  author_name: string;
  body: string;
  created_at: string;
  edited_at: string | null;
  /** Guaranteed by the CHECK constraint. */
  status: CommentStatus;
  seq: number;
  created_seq: number;
  likes: number;
  /** Guaranteed by the CHECK constraint. */
  removed_by: RemovedBy | null;
  original_body: string | null;
  author_key: string | null;
  /** The member who posted it (server/sso), NULL for a guest. */
  member_sub: string | null;
  /** JSON `{ badges?, avatar? }` shown with a member's comment; NULL for a guest. */
  member_profile: string | null;
}

export interface HeldRow {
  id: string;
  article_id: string;
  parent_id: string | null;
  author_name: string;
  body: string;
  created_at: string;
  author_key: string | null;
  /** Selected by the held-queue reads only (migration 8). */
  hold_reason?: string | null;
  member_sub: string | null;
  member_profile: string | null;
}

export interface BanRow {
  author_key: string;
  author_name: string;
  reason: string | null;
  created_at: string;
  expires_at: string | null;
}

/** A row as readers see it: a removed comment has an empty body and no author name. */
export function toComment(row: CommentRow): Comment {
  return {
    id: row.id,
    articleId: row.article_id,
    parentId: row.parent_id,
    author: readerAuthor(rowAuthor(row), row.status),
    body: row.body,
    createdAt: row.created_at,
    editedAt: row.edited_at,
    status: row.status,
    seq: row.seq,
    likes: row.likes,
  };
}

/** A row as moderators see it: with the author's name even when removed, who removed it, the kept body and the ban key. */
export function toModerated(row: CommentRow): ModeratedComment {
  return {
    ...toComment(row),
    author: rowAuthor(row),
    removedBy: row.removed_by,
    originalBody: row.original_body,
    authorKey: row.author_key,
    ...(row.member_sub === null ? {} : { memberSub: row.member_sub }),
  };
}

/** The badges and avatar of a member's comment, as stored in `member_profile`. */
export interface MemberProfileSnapshot {
  badges?: string[];
  avatar?: string;
}

/** `member_profile` as stored: JSON of the snapshot; null for a guest's comment. */
export function memberProfileText(profile: MemberProfileSnapshot | null): string | null {
  return profile === null ? null : JSON.stringify(profile);
}

/** The author as moderators see it: the name, and for a member's comment `verified` with its badges and avatar. */
export function rowAuthor(row: {
  author_name: string;
  member_sub: string | null;
  member_profile: string | null;
}): Author {
  if (row.member_sub === null) return { name: row.author_name };
  let profile: MemberProfileSnapshot = {};
  try {
    const parsed: unknown = row.member_profile === null ? {} : JSON.parse(row.member_profile);
    if (typeof parsed === 'object' && parsed !== null) profile = parsed as MemberProfileSnapshot;
  } catch {
    // A snapshot that does not read shows the member without badges or avatar.
  }
  return {
    name: row.author_name,
    verified: true,
    ...(Array.isArray(profile.badges) && profile.badges.length > 0 ? { badges: profile.badges.map(String) } : {}),
    ...(typeof profile.avatar === 'string' ? { avatar: profile.avatar } : {}),
  };
}

export function toHeld(row: HeldRow): ModeratedHeld {
  return {
    id: row.id,
    articleId: row.article_id,
    parentId: row.parent_id,
    author: rowAuthor(row),
    body: row.body,
    createdAt: row.created_at,
    authorKey: row.author_key,
    holdReason: row.hold_reason ?? null,
    ...(row.member_sub === null ? {} : { memberSub: row.member_sub }),
  };
}

export function toBan(row: BanRow): Ban {
  return {
    authorKey: row.author_key,
    authorName: row.author_name,
    reason: row.reason,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/**
 * A page from its top-level comments (in page order) and the replies of each thread, bounded the same
 * way on every store: each top is followed by its first replies in created_seq order, at most
 * LIMITS.repliesPerThread per thread and LIMITS.repliesPerPage in all, and every thread that has more
 * is listed with how many more and the cursor to read them by (the created_seq of its last reply here).
 *
 * `repliesOf(topId, limit)` gives a thread's first `limit` replies in created_seq order; `repliesIn(topId)`
 * how many it has in all. Both read the same snapshot as the tops; `repliesIn` is asked only of a thread
 * that filled its `limit` (a thread that did not has no more).
 */
export function assemblePage(
  tops: readonly CommentRow[],
  repliesOf: (topId: string, limit: number) => readonly CommentRow[],
  repliesIn: (topId: string) => number,
): { comments: Comment[]; moreReplies: Record<string, MoreReplies> } {
  const comments: Comment[] = [];
  const moreReplies: Record<string, MoreReplies> = {};
  let budget = LIMITS.repliesPerPage;
  for (const top of tops) {
    comments.push(toComment(top));
    const limit = Math.min(LIMITS.repliesPerThread, budget);
    const replies = limit > 0 ? repliesOf(top.id, limit).slice(0, limit) : [];
    budget -= replies.length;
    for (const reply of replies) comments.push(toComment(reply));
    if (replies.length < limit) continue;
    const count = repliesIn(top.id) - replies.length;
    if (count > 0) moreReplies[top.id] = { count, next: String(replies.at(-1)?.created_seq ?? 0) };
  }
  return { comments, moreReplies };
}

/** The `more` of a replies answer: `count` replies after `last` (the last one answered), if any. */
export function moreAfter(last: CommentRow | undefined, count: number, after: number): MoreReplies | null {
  return count > 0 ? { count, next: String(last?.created_seq ?? after) } : null;
}

/** A stored comment as the export reads it: with its source, when imported. */
export interface ExportRow extends CommentRow {
  source_format: string | null;
  source_id: string | null;
}

/** A held comment as the export reads it. */
export interface ExportHeldRow extends HeldRow {
  source_format: string | null;
  source_id: string | null;
}

export interface ExportArticleRow {
  article_id: string;
  last_seq: number;
  locked: number;
  premoderated: number;
}

/** The source columns of the export queries (import_sources joined as `s`). */
export const EXPORT_SOURCE_COLUMNS = 's.source_format, s.source_id';

/** Every article with comments, held comments or settings (both dialects accept it). */
export const EXPORT_ARTICLES_SQL = `
  SELECT ids.article_id, COALESCE(a.last_seq, 0) AS last_seq, COALESCE(st.locked, 0) AS locked,
    COALESCE(st.premoderated, 0) AS premoderated
  FROM (SELECT article_id FROM articles UNION SELECT article_id FROM article_settings
        UNION SELECT article_id FROM held_comments) ids
  LEFT JOIN articles a ON a.article_id = ids.article_id
  LEFT JOIN article_settings st ON st.article_id = ids.article_id
  ORDER BY ids.article_id`;

function sourceOf(row: { source_format: string | null; source_id: string | null }): NativeComment['source'] {
  return row.source_format === null || row.source_id === null ? null : { format: row.source_format, id: row.source_id };
}

export function toNativeArticle(row: ExportArticleRow): NativeArticle {
  return {
    id: row.article_id,
    lastSeq: Number(row.last_seq),
    locked: row.locked === 1,
    premoderated: row.premoderated === 1,
  };
}

export function toNative(row: ExportRow): NativeComment {
  return {
    id: row.id,
    articleId: row.article_id,
    parentId: row.parent_id,
    author: { name: row.author_name, key: row.author_key },
    body: row.body,
    originalBody: row.original_body,
    createdAt: row.created_at,
    editedAt: row.edited_at,
    status: row.status,
    removedBy: row.removed_by,
    likes: row.likes,
    seq: Number(row.seq),
    createdSeq: Number(row.created_seq),
    source: sourceOf(row),
  };
}

export function toNativeHeld(row: ExportHeldRow): NativeComment {
  return {
    id: row.id,
    articleId: row.article_id,
    parentId: row.parent_id,
    author: { name: row.author_name, key: row.author_key },
    body: row.body,
    originalBody: null,
    createdAt: row.created_at,
    editedAt: null,
    status: 'held',
    removedBy: null,
    likes: 0,
    seq: null,
    createdSeq: null,
    source: sourceOf(row),
  };
}

/** What a held comment imported from another system stores as its token hash: it matches no token. */
export const NO_TOKEN_HASH = '';

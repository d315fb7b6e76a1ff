import type { Ban, ModeratedComment, ModeratedHeld, RemovedBy } from '../../shared/moderation.ts';
import { readerAuthor, type Author, type Comment, type CommentStatus } from '../../shared/schemas.ts';
import type { NativeArticle, NativeComment } from '../../shared/import-export.ts';
import type {
  ArticleSettings,
  ImportedCommentRecord,
  NewCommentRecord,
  StoredModerationSettings,
  SubmitResult,
} from './port.ts';

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
    if (typeof parsed === 'object' && parsed !== null) profile = parsed;
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

/** What a post just stored or held shows moderators, whichever table took it: built from what the INSERT wrote. */
function postedFields(input: NewCommentRecord, parentId: string | null) {
  const memberSub = input.memberSub ?? null;
  return {
    id: input.id,
    articleId: input.articleId,
    parentId,
    author: rowAuthor({
      author_name: input.authorName,
      member_sub: memberSub,
      member_profile: input.memberProfile ?? null,
    }),
    body: input.body,
    createdAt: input.createdAt,
    authorKey: input.authorKey ?? null,
    ...(memberSub === null ? {} : { memberSub }),
  };
}

/**
 * A post just stored, as moderators see it (neither store reads it back): `parentId` is the comment it
 * was attached to (the nesting cap may move it up), `seq` the one it took.
 */
export function storedComment(input: NewCommentRecord, parentId: string | null, seq: number): ModeratedComment {
  return {
    ...postedFields(input, parentId),
    editedAt: null,
    status: 'visible',
    seq,
    likes: 0,
    removedBy: null,
    originalBody: null,
  };
}

/** A post just held for a moderator, as moderators see it (see storedComment). */
export function storedHeld(input: NewCommentRecord, parentId: string | null): ModeratedHeld {
  return { ...postedFields(input, parentId), holdReason: input.holdReason ?? null };
}

/** A row read with the token hash of the post that wrote it. */
type WithTokenHash = { author_token_hash: string };

/**
 * The answer to a post whose clientId the article already has: the comment stored then, else the one
 * held then, with its token hash (the service hands out the token only to the first post's secret); null
 * when neither table has it.
 */
export function repeatedPost(
  stored: (CommentRow & WithTokenHash) | undefined,
  held: (HeldRow & WithTokenHash) | undefined,
): SubmitResult | null {
  if (stored)
    return { kind: 'stored', comment: toModerated(stored), created: false, authorTokenHash: stored.author_token_hash };
  if (held) return { kind: 'held', held: toHeld(held), created: false, authorTokenHash: held.author_token_hash };
  return null;
}

/** An `article_settings` row (both stores keep the flags as 0/1 integers); no row: the defaults. */
export function toArticleSettings(row: { locked: number; premoderated: number } | undefined): ArticleSettings {
  return { locked: row?.locked === 1, premoderated: row?.premoderated === 1 };
}

/** A setting as the upsert takes it; undefined (not to be changed) becomes NULL, which its COALESCE keeps. */
export function toFlag(value: boolean | undefined): number | null {
  return value === undefined ? null : value ? 1 : 0;
}

export function toModerationSettings(row: {
  version: number;
  settings: string;
  updated_at: string;
}): StoredModerationSettings {
  return { version: row.version, settings: row.settings, updatedAt: row.updated_at };
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

/** A native record's author: name and key, and for a member's comment who they are and the badges and avatar it showed. */
function nativeAuthor(row: ExportRow | ExportHeldRow): NativeComment['author'] {
  const author = { name: row.author_name, key: row.author_key };
  if (row.member_sub === null) return author;
  const { badges, avatar } = rowAuthor(row);
  return {
    ...author,
    member: { sub: row.member_sub, ...(badges ? { badges } : {}), ...(avatar === undefined ? {} : { avatar }) },
  };
}

/** A native record's member, as the stores write it: `sub` and the profile snapshot's JSON. */
export function importedMember(author: NativeComment['author']): { memberSub: string; memberProfile: string } | null {
  const member = author.member;
  if (!member) return null;
  const snapshot: MemberProfileSnapshot = {
    ...(member.badges ? { badges: member.badges } : {}),
    ...(member.avatar === undefined ? {} : { avatar: member.avatar }),
  };
  return { memberSub: member.sub, memberProfile: JSON.stringify(snapshot) };
}

export function toNative(row: ExportRow): NativeComment {
  return {
    id: row.id,
    articleId: row.article_id,
    parentId: row.parent_id,
    author: nativeAuthor(row),
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
    author: nativeAuthor(row),
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

/**
 * The seq and created_seq an imported record keeps: a native restore (`keepSeq`) keeps a record's own
 * when the article does not have that seq yet (`taken`); null: it takes the article's next seq.
 */
export function keptSeqs(
  record: ImportedCommentRecord,
  keepSeq: { lastSeq: number } | undefined,
  taken: (seq: number) => boolean,
): { seq: number; createdSeq: number } | null {
  if (keepSeq === undefined || record.seq === null || record.createdSeq === null || taken(record.seq)) return null;
  return { seq: record.seq, createdSeq: record.createdSeq };
}

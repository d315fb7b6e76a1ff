import type { Ban, ModeratedComment, ModeratedHeld, RemovedBy } from '../../shared/moderation.ts';
import type { Comment, CommentStatus } from '../../shared/schemas.ts';

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
}

export interface HeldRow {
  id: string;
  article_id: string;
  parent_id: string | null;
  author_name: string;
  body: string;
  created_at: string;
  author_key: string | null;
}

export interface BanRow {
  author_key: string;
  author_name: string;
  reason: string | null;
  created_at: string;
  expires_at: string | null;
}

export function toComment(row: CommentRow): Comment {
  return {
    id: row.id,
    articleId: row.article_id,
    parentId: row.parent_id,
    author: { name: row.author_name },
    body: row.body,
    createdAt: row.created_at,
    editedAt: row.edited_at,
    status: row.status,
    seq: row.seq,
    likes: row.likes,
  };
}

export function toModerated(row: CommentRow): ModeratedComment {
  return { ...toComment(row), removedBy: row.removed_by, originalBody: row.original_body, authorKey: row.author_key };
}

export function toHeld(row: HeldRow): ModeratedHeld {
  return {
    id: row.id,
    articleId: row.article_id,
    parentId: row.parent_id,
    author: { name: row.author_name },
    body: row.body,
    createdAt: row.created_at,
    authorKey: row.author_key,
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

/** Each top followed by the replies of its thread (replies given in created_seq order). */
export function withReplies(tops: readonly CommentRow[], replies: readonly CommentRow[]): Comment[] {
  const repliesByRoot = new Map<string, Comment[]>();
  for (const row of replies) {
    if (row.root_id === null) continue;
    const thread = repliesByRoot.get(row.root_id);
    if (thread) thread.push(toComment(row));
    else repliesByRoot.set(row.root_id, [toComment(row)]);
  }
  const comments: Comment[] = [];
  for (const top of tops) comments.push(toComment(top), ...(repliesByRoot.get(top.id) ?? []));
  return comments;
}

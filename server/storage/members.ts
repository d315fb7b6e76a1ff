/**
 * Members (readers signed in by the host site, server/sso): one profile per `sub`, kept in the
 * `members` table of migration 8. A profile changes only for a token issued later than the one that
 * wrote it (`iat` greater than `last_iat`), so a stale token replayed after a rename cannot undo it.
 */

/** A member's profile as the store keeps it. */
export interface MemberRecord {
  sub: string;
  name: string;
  email: string | null;
  avatar: string | null;
  badges: string[];
  url: string | null;
  /** Issue time (s) of the token that wrote it. */
  iat: number;
}

export interface MemberRow {
  sub: string;
  name: string;
  email: string | null;
  avatar: string | null;
  badges: string;
  url: string | null;
  last_iat: number | string;
}

export function toMemberRecord(row: MemberRow): MemberRecord {
  let badges: string[] = [];
  try {
    const parsed: unknown = JSON.parse(row.badges);
    if (Array.isArray(parsed)) badges = parsed.map(String);
  } catch {
    // A profile whose badges do not read shows none.
  }
  return {
    sub: row.sub,
    name: row.name,
    email: row.email,
    avatar: row.avatar,
    badges,
    url: row.url,
    // PostgreSQL's BIGINT arrives as a string.
    iat: Number(row.last_iat),
  };
}

/** The values of an upsert, in the order of both dialects' placeholders. */
export function memberValues(member: MemberRecord, nameKey: string, now: string): unknown[] {
  return [
    member.sub,
    member.name,
    nameKey,
    member.email,
    member.avatar,
    JSON.stringify(member.badges),
    member.url,
    member.iat,
    now,
    now,
  ];
}

const upsert = (p: (n: number) => string): string => `
  INSERT INTO members (sub, name, name_key, email, avatar, badges, url, last_iat, created_at, updated_at)
  VALUES (${[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(p).join(', ')})
  ON CONFLICT (sub) DO UPDATE SET name = excluded.name, name_key = excluded.name_key, email = excluded.email,
    avatar = excluded.avatar, badges = excluded.badges, url = excluded.url, last_iat = excluded.last_iat,
    updated_at = excluded.updated_at
  WHERE members.last_iat < excluded.last_iat`;

const MEMBER_COLUMNS = 'sub, name, email, avatar, badges, url, last_iat';

/** What erasing a member leaves of their comments (moderators see it; readers see a removed comment's empty name). */
export const ERASED_NAME = '[erased]';

const erase = (p: (n: number) => string): string[] => [
  `UPDATE comments SET author_name = ${p(2)}, body = '', original_body = NULL, member_sub = NULL, member_profile = NULL
   WHERE member_sub = ${p(1)} AND status = 'removed'`,
  `DELETE FROM held_comments WHERE member_sub = ${p(1)}`,
  `DELETE FROM members WHERE sub = ${p(1)}`,
];

export const MEMBER_SQL = {
  sqlite: {
    upsert: upsert(() => '?'),
    get: `SELECT ${MEMBER_COLUMNS} FROM members WHERE sub = ?`,
    all: `SELECT ${MEMBER_COLUMNS} FROM members ORDER BY sub`,
    nameTaken: 'SELECT 1 FROM members WHERE name_key = ? LIMIT 1',
    erase: erase((n) => (n === 1 ? '@sub' : '@name')),
  },
  postgres: {
    upsert: upsert((n) => `$${n}`),
    get: `SELECT ${MEMBER_COLUMNS} FROM members WHERE sub = $1`,
    all: `SELECT ${MEMBER_COLUMNS} FROM members ORDER BY sub`,
    nameTaken: 'SELECT 1 FROM members WHERE name_key = $1 LIMIT 1',
    erase: erase((n) => `$${n}`),
  },
} as const;

import * as z from 'zod/mini';
import { maxItems, maxUnits, minUnits } from './lengths.ts';
import { AuthorKeySchema, BanSchema, RemovedBySchema } from './moderation.ts';
import { ArticleIdSchema, CommentIdSchema, LIMITS } from './schemas.ts';
import { MemberSubSchema, SSO_LIMITS } from './sso.ts';

/**
 * Moving comments in and out (docs/import-export.md): the native export format, version 1, and the
 * admin API's import jobs. Moderator-only: nothing here is ever sent to a reader.
 *
 * A native export is gzipped JSON lines: one NativeHeader line, then one NativeComment per line, each
 * article's comments in creation order. It never holds author-token hashes, reader ids, client ids
 * or addresses: likes travel as counts only.
 */

export const NATIVE_FORMAT = 'live-comments';
export const NATIVE_VERSION = 1;

/** The formats an import reads: Disqus XML, WordPress WXR, and our own export. */
export const ImportFormatSchema = z.enum(['disqus', 'wxr', 'native']);
export type ImportFormat = z.infer<typeof ImportFormatSchema>;

/** Where an imported comment came from: its format and its id there (unique per format). */
export const CommentSourceSchema = z.strictObject({
  format: z.string().check(z.regex(/^[a-z0-9-]{1,16}$/, 'Not a source format')),
  id: z.string().check(minUnits(1), maxUnits(300)),
});
export type CommentSource = z.infer<typeof CommentSourceSchema>;

/** One article's state in the header: its latest seq and its moderation settings. */
export const NativeArticleSchema = z.strictObject({
  id: ArticleIdSchema,
  /** The article's latest seq (0 when it has none); a restore into an empty store keeps it. */
  lastSeq: z.int().check(z.minimum(0)),
  locked: z.boolean(),
  premoderated: z.boolean(),
});
export type NativeArticle = z.infer<typeof NativeArticleSchema>;

/**
 * A member (a reader signed in by the host site, docs/sign-in.md) as the store keeps their profile:
 * `iat` is the issue time of the token that wrote it (a later token with an older one changes nothing).
 */
export const NativeMemberSchema = z.strictObject({
  sub: MemberSubSchema,
  name: z.string().check(minUnits(1), maxUnits(LIMITS.nameMax)),
  email: z.nullable(z.string().check(maxUnits(SSO_LIMITS.emailMax))),
  avatar: z.nullable(z.string().check(maxUnits(SSO_LIMITS.urlMax))),
  badges: z.array(z.string().check(maxUnits(SSO_LIMITS.badgeMax))).check(maxItems(SSO_LIMITS.badgesMax)),
  url: z.nullable(z.string().check(maxUnits(SSO_LIMITS.urlMax))),
  iat: z.int().check(z.minimum(0)),
});
export type NativeMember = z.infer<typeof NativeMemberSchema>;

/** The first line of a native export. */
export const NativeHeaderSchema = z.strictObject({
  format: z.literal(NATIVE_FORMAT),
  version: z.literal(NATIVE_VERSION),
  exportedAt: z.iso.datetime(),
  /** Every article with comments or settings. */
  articles: z.array(NativeArticleSchema),
  /** Every ban, lifted by expiry or not (a restore keeps them as they were). */
  bans: z.array(BanSchema),
  /** Every member's stored profile (absent in exports made before members existed). */
  members: z.optional(z.array(NativeMemberSchema)),
});
export type NativeHeader = z.infer<typeof NativeHeaderSchema>;

const TextSchema = z.string().check(maxUnits(LIMITS.bodyMax));

/**
 * One comment of a native export. `status: 'held'` is a comment waiting for a moderator: it has no
 * seq. `seq` is the seq of the comment's latest change, `createdSeq` its place in the thread's order.
 * A removed comment has an empty body; `originalBody` is what a moderator's removal kept for restore.
 */
export const NativeCommentSchema = z
  .strictObject({
    id: CommentIdSchema,
    articleId: ArticleIdSchema,
    parentId: z.nullable(CommentIdSchema),
    author: z.strictObject({
      name: z.string().check(minUnits(1), maxUnits(LIMITS.nameMax)),
      key: z.nullable(AuthorKeySchema),
      /** A member's comment: who (`sub`), and the badges and avatar it was posted with. */
      member: z.optional(
        z.strictObject({
          sub: MemberSubSchema,
          badges: z.optional(
            z.array(z.string().check(maxUnits(SSO_LIMITS.badgeMax))).check(maxItems(SSO_LIMITS.badgesMax)),
          ),
          avatar: z.optional(z.string().check(maxUnits(SSO_LIMITS.urlMax))),
        }),
      ),
    }),
    body: TextSchema,
    originalBody: z.nullable(TextSchema),
    createdAt: z.iso.datetime(),
    editedAt: z.nullable(z.iso.datetime()),
    status: z.enum(['visible', 'removed', 'held']),
    removedBy: z.nullable(RemovedBySchema),
    likes: z.int().check(z.minimum(0)),
    seq: z.nullable(z.int().check(z.minimum(1))),
    createdSeq: z.nullable(z.int().check(z.minimum(1))),
    source: z.nullable(CommentSourceSchema),
  })
  .check(
    z.refine((c) => (c.status === 'held') === (c.seq === null && c.createdSeq === null), {
      message: 'A held comment has no seq; every other comment has seq and createdSeq',
      path: ['seq'],
    }),
    z.refine((c) => (c.status === 'removed') === (c.body === ''), {
      message: 'A removed comment has an empty body, any other a non-empty one',
      path: ['body'],
    }),
    z.refine((c) => (c.status === 'removed') === (c.removedBy !== null), {
      message: 'removedBy is set exactly on removed comments',
      path: ['removedBy'],
    }),
  );
export type NativeComment = z.infer<typeof NativeCommentSchema>;

const CountSchema = z.int().check(z.minimum(0));

/** What an import did, or (dry run) would do. Every record read is counted once. */
export const ImportSummarySchema = z.object({
  format: ImportFormatSchema,
  dryRun: z.boolean(),
  /** Source threads read; mapped to an article id; without one (their comments are orphans); sharing an article id with another. */
  threads: z.object({ read: CountSchema, mapped: CountSchema, unmapped: CountSchema, collisions: CountSchema }),
  /** Articles that received comments (or, with keep-closed, a lock). */
  articles: CountSchema,
  /** Records read (comments, posts) in the file. */
  records: CountSchema,
  /** Stored in their threads; held for a moderator; kept as removed placeholders so replies stay attached; already there (a re-run). */
  imported: CountSchema,
  held: CountSchema,
  placeholders: CountSchema,
  alreadyPresent: CountSchema,
  /** Bodies cut to the 5,000-character limit. */
  truncated: CountSchema,
  /** Articles locked (--keep-closed), bans restored (native). */
  locked: CountSchema,
  bans: CountSchema,
  skipped: z.object({
    spam: CountSchema,
    deleted: CountSchema,
    pings: CountSchema,
    duplicates: CountSchema,
    orphans: CountSchema,
    empty: CountSchema,
  }),
  /** One line per kind of skip or adjustment, saying why. */
  notes: z.array(z.string()),
});
export type ImportSummary = z.infer<typeof ImportSummarySchema>;

export const ImportPhaseSchema = z.enum(['reading', 'resolving', 'writing', 'announcing', 'done']);
export type ImportPhase = z.infer<typeof ImportPhaseSchema>;

export const ImportProgressSchema = z.object({
  phase: ImportPhaseSchema,
  /** Bytes of the file read so far (as sent: compressed when gzipped). */
  bytes: CountSchema,
  /** Records (comments, posts, threads) read so far. */
  records: CountSchema,
  /** Comments written to the store so far, out of `toWrite` (known once reading is over). */
  written: CountSchema,
  toWrite: CountSchema,
});
export type ImportProgress = z.infer<typeof ImportProgressSchema>;

/**
 * An import job of the admin API. `interrupted`: the instance running it stopped (its heartbeat is
 * older than a minute); run the import again, it adds only what is missing.
 */
export const ImportJobSchema = z.object({
  id: z.string().check(z.regex(/^[A-Za-z0-9_-]{8,32}$/)),
  format: ImportFormatSchema,
  state: z.enum(['running', 'done', 'failed', 'interrupted']),
  dryRun: z.boolean(),
  instanceId: z.string(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  progress: ImportProgressSchema,
  summary: z.nullable(ImportSummarySchema),
  /** Dry runs: the mapping of source threads to article ids, collisions and orphans, one line each (at most 2,000). */
  report: z.array(z.string()),
  error: z.nullable(z.object({ message: z.string() })),
});
export type ImportJob = z.infer<typeof ImportJobSchema>;

/** Answer of `POST /api/admin/import` (202) and `GET /api/admin/import/:job`. */
export const ImportJobResultSchema = z.object({ job: ImportJobSchema });
export type ImportJobResult = z.infer<typeof ImportJobResultSchema>;

/** Query of `POST /api/admin/import`. */
export const ImportQuerySchema = z.strictObject({
  format: ImportFormatSchema,
  dryRun: z.optional(z.enum(['true', 'false'])),
  keepClosed: z.optional(z.enum(['true', 'false'])),
});
export type ImportQuery = z.infer<typeof ImportQuerySchema>;

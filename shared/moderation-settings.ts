import * as z from 'zod/mini';
import { maxItems, maxUnits, minUnits } from './lengths.ts';

/**
 * The moderation pipeline's settings (docs/moderation.md): word lists, links, repeats, new commenters
 * and shouting. Moderator-only (`GET`/`PUT /api/admin/settings/moderation`). Everything is off by default
 * (empty lists, no repeat window, no new-commenter or shouting holds) except the link limit of 2.
 */

/** Longest entry of a word list or the domain list, in UTF-16 units. */
export const WORD_ENTRY_MAX = 64;
/** Most entries one list may hold. */
export const WORD_LIST_MAX = 10_000;

const entry = z
  .string()
  .check(
    z.trim(),
    minUnits(1, 'An entry cannot be empty'),
    maxUnits(WORD_ENTRY_MAX, `An entry is at most ${WORD_ENTRY_MAX} characters`),
  );
const list = z.array(entry).check(maxItems(WORD_LIST_MAX, `At most ${WORD_LIST_MAX} entries`));

export const ModerationSettingsSchema = z.strictObject({
  /** Words and phrases that refuse a comment (400 with the word named, so its author can rephrase). */
  bannedWords: z._default(list, []),
  /** Words and phrases that hold a comment for a moderator. */
  suspectWords: z._default(list, []),
  /** Domains (and their subdomains) a comment may not link to or name: refused. */
  blockedDomains: z._default(list, []),
  /** More links than this holds a comment (0: any link holds). */
  maxLinks: z._default(z.int().check(z.minimum(0), z.maximum(1000)), 2),
  /** Minutes in which the same text from the same author is refused, and the same text on several articles held (0: off). */
  repeatWindowMinutes: z._default(z.int().check(z.minimum(0), z.maximum(10_080)), 0),
  /** How many articles the same text may reach within the window before it is held (at least 2). */
  repeatArticles: z._default(z.int().check(z.minimum(2), z.maximum(1000)), 3),
  /** Hold an author's comments until this many of theirs are visible (0: off; 1: the first comment waits). */
  holdFirstComments: z._default(z.int().check(z.minimum(0), z.maximum(100)), 0),
  /** Hold a body of at least 20 letters that is mostly capitals, or of 20 characters that are mostly not letters. */
  holdShouting: z._default(z.boolean(), false),
});
export type ModerationSettings = z.infer<typeof ModerationSettingsSchema>;

/** The settings a store without any starts from. */
export const DEFAULT_MODERATION_SETTINGS: ModerationSettings = Object.freeze(ModerationSettingsSchema.parse({}));

/** Answer of `GET`/`PUT /api/admin/settings/moderation`: the settings in force on the answering instance, and their version. */
export const ModerationSettingsAnswerSchema = z.object({
  settings: ModerationSettingsSchema,
  /** Grows by one with every save, on any instance; 0 while only the defaults were ever in force. */
  version: z.int().check(z.minimum(0)),
});
export type ModerationSettingsAnswer = z.infer<typeof ModerationSettingsAnswerSchema>;

/** The message instances send each other (Redis `{REDIS_PREFIX}moderation-settings`) after a save: reload from the store. */
export const ModerationSettingsChangedSchema = z.object({ version: z.int().check(z.minimum(1)) });
export type ModerationSettingsChanged = z.infer<typeof ModerationSettingsChangedSchema>;

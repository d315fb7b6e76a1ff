import * as z from 'zod/mini';

/**
 * The widget's languages (issue 15). English is built into widget.js; every other one is a string
 * table the server sends as `GET /i18n/<lang>.json` (client/i18n/<lang>.json), fetched on demand.
 * A language is its primary subtag: `pt-BR` reads `pt`, `zh-CN` and `zh-Hans` read `zh`.
 */
export const LANGUAGES = [
  'en',
  'ar',
  'de',
  'es',
  'fr',
  'he',
  'it',
  'ja',
  'nl',
  'pl',
  'pt',
  'ru',
  'tr',
  'uk',
  'zh',
] as const;
export type Language = (typeof LANGUAGES)[number];

/** Languages written right to left: the widget lays itself out mirrored (`dir="rtl"`). */
export const RTL_LANGUAGES: readonly string[] = ['ar', 'he'];

/** The language of a BCP 47 tag (`pt-BR` → `pt`) when the widget has it; null otherwise. */
export function languageOf(tag: string | null | undefined): Language | null {
  const primary = tag?.trim().toLowerCase().split(/[-_]/)[0];
  return LANGUAGES.find((language) => language === primary) ?? null;
}

/** A message: text with `{name}` placeholders. */
export const MessageSchema = z.string();

/**
 * A message that depends on a number (`{n}`), one text per plural category of the language
 * (Intl.PluralRules: English needs one and other, Arabic zero, one, two, few, many and other).
 */
export const PluralMessageSchema = z.object({
  zero: z.optional(z.string()),
  one: z.optional(z.string()),
  two: z.optional(z.string()),
  few: z.optional(z.string()),
  many: z.optional(z.string()),
  other: z.string(),
});
export type PluralMessage = z.infer<typeof PluralMessageSchema>;

/**
 * A string table as it arrives (a language file, or a site's `strings` override): an object of
 * messages by key. Each value is checked when it is used, against the shape of the English one:
 * a key English lacks is never read, a value of the wrong shape gives the English text.
 */
export const StringTableSchema = z.record(z.string(), z.unknown());
export type StringTable = z.infer<typeof StringTableSchema>;

import { languageOf, LANGUAGES, StringTableSchema, type Language, type StringTable } from '../../shared/i18n.ts';
import { EN_ADMIN } from '../i18n/en-admin.ts';
import { Strings, type CountKey, type TextKey, type Vars } from '../i18n/strings.ts';

type AdminEnglish = typeof EN_ADMIN;
type AdminText = { [K in keyof AdminEnglish]: AdminEnglish[K] extends string ? K : never }[keyof AdminEnglish];
/** A key of a message the page shows: its own (client/i18n/en-admin.ts) or one it shares with the widget. */
export type AdminTextKey = TextKey | AdminText;
export type AdminCountKey = CountKey | Exclude<keyof AdminEnglish, AdminText>;

/** The moderator's choice of language, in this browser (none: the browser's languages). */
const LANG_KEY = 'live-comments:admin-lang';

/** The choice made on this page, kept here too: without localStorage it still holds until a reload. */
let chosenHere: Language | null | undefined;

/**
 * The page's words: the widget's `Strings` lookup (the language's tables, then English), with the
 * page's own keys beside the widget's. Its English is added to the English it falls back to.
 */
export class AdminStrings extends Strings {
  constructor(lang: Language, locale: string, ...own: StringTable[]) {
    super(lang, locale, ...own);
    this.add(EN_ADMIN);
  }

  // The widget's Strings types its keys by the widget's English; the page's are added above.
  override text(key: AdminTextKey, vars?: Vars): string {
    return super.text(key as TextKey, vars);
  }

  override count(key: AdminCountKey, n: number, vars?: Vars): string {
    return super.count(key as CountKey, n, vars);
  }

  override nodes(key: AdminTextKey, vars: Readonly<Record<string, Node>>): Array<string | Node> {
    return super.nodes(key as TextKey, vars);
  }

  /** A number of a unit ("1 hour", "30 Tage") as the language writes it. */
  unit(n: number, unit: 'second' | 'hour' | 'day' | 'week'): string {
    return new Intl.NumberFormat(this.locale, { style: 'unit', unit, unitDisplay: 'long' }).format(n);
  }

  /** Items as a list in the language ("a, b and c"). */
  list(items: readonly string[]): string {
    return new Intl.ListFormat(this.locale, { style: 'short', type: 'unit' }).format(items);
  }
}

/** The language the moderator chose on this page (the language menu), or null for the browser's. */
export function chosenLanguage(): Language | null {
  if (chosenHere !== undefined) return chosenHere;
  try {
    return languageOf(localStorage.getItem(LANG_KEY));
  } catch {
    return null;
  }
}

/** Remembers the menu's choice in this browser (null: follow the browser's languages again). */
export function rememberLanguage(lang: Language | null): void {
  chosenHere = lang;
  try {
    if (lang === null) localStorage.removeItem(LANG_KEY);
    else localStorage.setItem(LANG_KEY, lang);
  } catch {
    // Without localStorage the choice lasts until the page is reloaded.
  }
}

/**
 * The page's language: the moderator's choice, else the browser's languages in order (the page's own
 * `<html lang>` says nothing about the moderator); the first the page has, else English. With the tag
 * it was chosen by, for Intl (`de-AT` dates).
 */
export function adminLanguage(): { lang: Language; locale: string } {
  const chosen = chosenLanguage();
  if (chosen) return { lang: chosen, locale: navigator.languages.find((tag) => languageOf(tag) === chosen) ?? chosen };
  for (const tag of navigator.languages) {
    const lang = languageOf(tag);
    if (!lang) continue;
    try {
      return { lang, locale: Intl.getCanonicalLocales(tag)[0] ?? lang };
    } catch {
      return { lang, locale: lang };
    }
  }
  return { lang: 'en', locale: 'en' };
}

/** A table of the server (`i18n/<lang>.json` or `i18n/admin/<lang>.json` beside admin.js); empty when it cannot be had. */
async function table(base: URL, path: string): Promise<StringTable> {
  try {
    const response = await fetch(new URL(path, base));
    const parsed = StringTableSchema.safeParse(response.ok ? await response.json() : null);
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

/**
 * The page's words in `lang`: its own table and the widget's, fetched together (English needs
 * neither). A table that cannot be had leaves its words in English; the page works on.
 */
export async function loadAdminStrings(base: URL, lang: Language, locale: string): Promise<AdminStrings> {
  if (lang === 'en') return new AdminStrings(lang, locale);
  const [admin, widget] = await Promise.all([table(base, `i18n/admin/${lang}.json`), table(base, `i18n/${lang}.json`)]);
  return new AdminStrings(lang, locale, admin, widget);
}

/** The languages the menu offers, each named in itself ("Deutsch", "العربية"). */
export function languageNames(): Array<{ lang: Language; name: string }> {
  return LANGUAGES.map((lang) => ({
    lang,
    name: new Intl.DisplayNames([lang], { type: 'language' }).of(lang) ?? lang,
  }));
}

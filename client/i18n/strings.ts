import {
  languageOf,
  MessageSchema,
  PluralMessageSchema,
  RTL_LANGUAGES,
  StringTableSchema,
  type Language,
  type PluralMessage,
  type StringTable,
} from '../../shared/i18n.ts';
import { formatAbsolute, formatRelative } from '../time-format.ts';
import type { EN_MEMBER, EN_NOTIFY, EN_OWN, EN_PERMALINK, EN_REPORT, EN_TYPING } from './en-parts.ts';
import { EN } from './en.ts';

type English = typeof EN &
  typeof EN_OWN &
  typeof EN_REPORT &
  typeof EN_MEMBER &
  typeof EN_NOTIFY &
  typeof EN_TYPING &
  typeof EN_PERMALINK;
/** Keys of plain messages, and of messages with forms by count (error words, en-errors.ts, are read by `Strings.error`). */
export type TextKey = { [K in keyof English]: English[K] extends string ? K : never }[keyof English];
export type CountKey = Exclude<keyof English, TextKey>;
export type Vars = Readonly<Record<string, string | number>>;

/** English as the widget knows it: its own table, and the parts' once they are loaded (`Strings.add`). */
const english: Record<string, string | PluralMessage> = { ...EN };

/**
 * One widget's words in its language: `text(key, vars)` and `count(key, n, vars)` look a key up in
 * the site's `strings`, then the language's table, then English. A value is checked
 * against the English one's shape when used (a plain message, or forms by count with `other`), so
 * a broken table gives English, never a broken widget. Numbers, plurals and times go through Intl in
 * the language.
 */
export class Strings {
  readonly dir: 'ltr' | 'rtl';
  readonly #own: readonly StringTable[];
  readonly #plural: Intl.PluralRules;
  readonly #number: Intl.NumberFormat;

  /**
   * `locale`: the tag the language was chosen by (`pt-BR`: Brazilian numbers and dates);
   * `own`: where to look before English, in order (the site's strings, the language's table).
   */
  constructor(
    readonly lang: Language,
    readonly locale: string = lang,
    ...own: StringTable[]
  ) {
    this.#own = own;
    this.dir = RTL_LANGUAGES.includes(lang) ? 'rtl' : 'ltr';
    this.#plural = new Intl.PluralRules(locale);
    this.#number = new Intl.NumberFormat(locale);
  }

  /** Adds a part's English strings: a part is its own script, so it hands them to widget.js through here. */
  add(table: Readonly<Record<string, string | PluralMessage>>): void {
    Object.assign(english, table);
  }

  text(key: TextKey, vars?: Vars): string {
    return this.#fill(this.#find(key, MessageSchema) ?? (english[key] as string), vars);
  }

  count(key: CountKey, n: number, vars?: Vars): string {
    const forms = this.#find(key, PluralMessageSchema) ?? (english[key] as PluralMessage);
    return this.#fill(forms[this.#plural.select(n)] ?? forms.other, { ...vars, n });
  }

  /** A number as the language writes it. */
  number(n: number): string {
    return this.#number.format(n);
  }

  /** A message with elements in it (a name as its own element): its text around them, in order. */
  nodes(key: TextKey, vars: Readonly<Record<string, Node>>): Array<string | Node> {
    return this.text(key)
      .split(/(\{\w+\})/)
      .map((piece) => vars[piece.slice(1, -1)] ?? piece)
      .filter((piece) => piece !== '');
  }

  /**
   * The reader's words for a failure: in English the widget's or the server's own message; in another
   * language (or with a site's override) the words of its code, the message when there are none.
   */
  error(error: { code: string; message: string }): string {
    return this.#find(`error.${error.code}`, MessageSchema) ?? error.message;
  }

  /** "5 minutes ago" for `iso` as seen at `now`. */
  ago(iso: string, now: number): string {
    return formatRelative(iso, now, this.locale, this.text('justNow'));
  }

  /** The exact time, e.g. "May 17, 2024 at 8:41 PM UTC". */
  date(iso: string): string {
    return formatAbsolute(iso, this.locale);
  }

  /** The first value for `key` of the right shape where the widget looks before English. */
  #find<T>(
    key: string,
    schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } },
  ): T | undefined {
    for (const table of this.#own) {
      const parsed = schema.safeParse(table[key]);
      if (parsed.success) return parsed.data;
    }
    return undefined;
  }

  #fill(text: string, vars: Vars = {}): string {
    return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
      const value = vars[name];
      return value === undefined ? whole : typeof value === 'number' ? this.#number.format(value) : value;
    });
  }
}

/**
 * The language a widget speaks: its `lang` attribute, else the page's `<html lang>`, else the
 * reader's browser languages in order; the first of these the widget has, else English. With the
 * tag it was chosen by, as Intl reads it.
 */
export function chooseLanguage(host: HTMLElement): { lang: Language; locale: string } {
  for (const tag of [host.getAttribute('lang'), document.documentElement.lang, ...navigator.languages]) {
    const lang = languageOf(tag);
    if (lang) {
      try {
        return { lang, locale: Intl.getCanonicalLocales(tag!)[0] ?? lang };
      } catch {
        return { lang, locale: lang };
      }
    }
  }
  return { lang: 'en', locale: 'en' };
}

const tables = new Map<string, Promise<StringTable>>();

/**
 * A language's table from the comment server (`i18n/<lang>.json` beside widget.js), fetched once per
 * page; empty for English, and when it cannot be had (the widget then speaks English; a later widget
 * tries again).
 */
export function loadTable(base: URL, lang: Language): Promise<StringTable> {
  if (lang === 'en') return Promise.resolve({});
  const url = new URL(`i18n/${lang}.json`, base).href;
  let table = tables.get(url);
  if (!table) {
    table = fetch(url)
      .then((response) => (response.ok ? (response.json() as Promise<unknown>) : null))
      .then((json) => {
        const parsed = StringTableSchema.safeParse(json);
        if (!parsed.success) throw parsed.error;
        return parsed.data;
      })
      .catch(() => {
        tables.delete(url);
        return {};
      });
    tables.set(url, table);
  }
  return table;
}

/** A site's `strings` (the property's object, or the attribute's JSON): its messages, or none. */
export function readOverrides(value: unknown): StringTable {
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return {};
    }
  }
  const parsed = StringTableSchema.safeParse(value);
  return parsed.success ? parsed.data : {};
}

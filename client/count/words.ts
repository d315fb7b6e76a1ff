import { languageOf, type Language } from '../../shared/i18n.ts';

/**
 * count.js's words (`data-live-comments-words`): the widget's `titleCount` message ("3 comments",
 * "3 Kommentare", "3 تعليقات") in the element's language, from the same tables as the widget
 * (client/i18n/<lang>.json, fetched once per language). Only this key is read; it has no zod (count.js
 * stays within 3 KB): the forms are checked by hand, and anything else gives English.
 */

/** Forms by plural category, `other` always there. */
export type CountForms = Readonly<Partial<Record<Intl.LDMLPluralRule, string>>> & { readonly other: string };

/** English, as client/i18n/en.ts's `titleCount` (a unit test keeps them equal): the rest of English stays out of count.js. */
export const ENGLISH_COUNT: CountForms = { one: '{n} comment', other: '{n} comments' };

/** The first tag of a language the widget has (the element's nearest `lang`, then the reader's), else English; with the tag Intl reads. */
export function countLanguage(tags: ReadonlyArray<string | null | undefined>): { lang: Language; locale: string } {
  for (const tag of tags) {
    const lang = languageOf(tag);
    if (!lang) continue;
    try {
      return { lang, locale: Intl.getCanonicalLocales(tag!)[0] ?? lang };
    } catch {
      return { lang, locale: lang };
    }
  }
  return { lang: 'en', locale: 'en' };
}

/** The `titleCount` forms of a language table as it arrived; null unless every form is a text and `other` is there. */
export function readCountForms(table: unknown): CountForms | null {
  const forms = (table as { titleCount?: unknown } | null)?.titleCount;
  if (typeof forms !== 'object' || forms === null) return null;
  const values = Object.values(forms);
  return typeof (forms as { other?: unknown }).other === 'string' && values.every((form) => typeof form === 'string')
    ? (forms as CountForms)
    : null;
}

/** "3 comments" in `locale`: its plural form, its digits. */
export function countWords(count: number, locale: string, forms: CountForms): string {
  const form = forms[new Intl.PluralRules(locale).select(count)] ?? forms.other;
  return form.replace('{n}', new Intl.NumberFormat(locale).format(count));
}

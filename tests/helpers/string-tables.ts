import { EN_ERRORS } from '../../client/i18n/en-errors.ts';
import { EN_MEMBER, EN_NOTIFY, EN_OWN, EN_PERMALINK, EN_REPORT, EN_TYPING } from '../../client/i18n/en-parts.ts';
import { EN } from '../../client/i18n/en.ts';

/** An English table: plain messages, and messages with forms by count. */
export type EnglishTable = Readonly<Record<string, string | Readonly<Record<string, string>>>>;

/** Every English string of the widget, its parts and its error words: what each widget table translates. */
export const WIDGET_ENGLISH: EnglishTable = {
  ...EN,
  ...EN_OWN,
  ...EN_REPORT,
  ...EN_MEMBER,
  ...EN_NOTIFY,
  ...EN_TYPING,
  ...EN_PERMALINK,
  ...EN_ERRORS,
};

const placeholders = (text: string) => new Set(text.match(/\{\w+\}/g) ?? []);

/**
 * What is wrong with a language's table against its English one, one line a problem: a plain message
 * missing, empty, lacking a placeholder English has or adding one it has not; forms by count missing a
 * plural category the language needs (Intl.PluralRules), having one it does not, or a form lacking a
 * placeholder (the count `{n}` may be a word in every form but `other`).
 */
export function tableProblems(english: EnglishTable, table: Record<string, unknown>, lang: string): string[] {
  const needed = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
  const problems: string[] = [];
  for (const [key, source] of Object.entries(english)) {
    const value = table[key];
    if (typeof source === 'string') {
      if (typeof value !== 'string' || value.trim() === '') {
        problems.push(`${key}: not a text`);
        continue;
      }
      for (const name of placeholders(source)) if (!value.includes(name)) problems.push(`${key}: lacks ${name}`);
      for (const name of placeholders(value)) if (!source.includes(name)) problems.push(`${key}: adds ${name}`);
      continue;
    }
    if (typeof value !== 'object' || value === null) {
      problems.push(`${key}: not forms by count`);
      continue;
    }
    const forms = value as Record<string, unknown>;
    for (const category of needed)
      if (typeof forms[category] !== 'string') problems.push(`${key}: no ${category} form`);
    for (const category of Object.keys(forms))
      if (!needed.includes(category as Intl.LDMLPluralRule))
        problems.push(`${key}: ${category} is not a form of ${lang}`);
    const names = new Set(Object.values(source).flatMap((text) => [...placeholders(text)]));
    for (const [category, text] of Object.entries(forms)) {
      if (typeof text !== 'string') continue;
      for (const name of names)
        if (!text.includes(name) && (name !== '{n}' || category === 'other'))
          problems.push(`${key}.${category}: lacks ${name}`);
    }
  }
  return problems;
}

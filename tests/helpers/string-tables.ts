import { readdirSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { EN_ERRORS } from '../../client/i18n/en-errors.ts';
import { EN_MEMBER, EN_NOTIFY, EN_OWN, EN_PERMALINK, EN_REPORT, EN_TYPING } from '../../client/i18n/en-parts.ts';
import { EN } from '../../client/i18n/en.ts';
import { LANGUAGES } from '../../shared/i18n.ts';

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

/**
 * The tests of one folder of language tables (`<lang>.json`), inside the caller's describe: a table
 * for every language but English and no other, each with every key of `english` and no other, its
 * placeholders and the plural forms its language needs (tableProblems).
 */
export function testLanguageTables(folder: URL, english: EnglishTable): void {
  const files = readdirSync(folder).filter((name) => name.endsWith('.json'));

  it('exist for every language but English, and only for those', () => {
    expect(files.map((name) => name.slice(0, -'.json'.length)).sort()).toEqual(
      LANGUAGES.filter((lang) => lang !== 'en').sort(),
    );
  });

  for (const file of files) {
    const lang = file.slice(0, -'.json'.length);
    const table = JSON.parse(readFileSync(new URL(file, folder), 'utf8')) as Record<string, unknown>;
    const needed = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;

    it(`${lang}: has every key of English and no other`, () => {
      expect(Object.keys(table).sort()).toEqual(Object.keys(english).sort());
    });

    it(`${lang}: keeps each English placeholder, and has every plural form ${lang} needs (${needed.join(', ')})`, () => {
      expect(tableProblems(english, table, lang)).toEqual([]);
    });
  }
}

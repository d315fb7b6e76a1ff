import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EN_ADMIN } from '../../client/i18n/en-admin.ts';
import { EN } from '../../client/i18n/en.ts';
import { EN_ERRORS } from '../../client/i18n/en-errors.ts';
import { EN_MEMBER, EN_NOTIFY, EN_OWN, EN_PERMALINK, EN_REPORT, EN_TYPING } from '../../client/i18n/en-parts.ts';
import { LANGUAGES } from '../../shared/i18n.ts';

/** The /admin page's own English strings: what each admin table translates. */
const ENGLISH: Record<string, string | Record<string, string>> = EN_ADMIN;
const WIDGET_KEYS = Object.keys({
  ...EN,
  ...EN_OWN,
  ...EN_REPORT,
  ...EN_MEMBER,
  ...EN_NOTIFY,
  ...EN_TYPING,
  ...EN_PERMALINK,
  ...EN_ERRORS,
});
const FOLDER = new URL('../../client/i18n/admin/', import.meta.url);
const placeholders = (text: string) => new Set(text.match(/\{\w+\}/g) ?? []);

describe('the /admin page’s language tables (client/i18n/admin/<lang>.json)', () => {
  const files = readdirSync(FOLDER).filter((name) => name.endsWith('.json'));

  it('exist for every language but English, and only for those', () => {
    expect(files.map((name) => name.slice(0, -'.json'.length)).sort()).toEqual(
      LANGUAGES.filter((lang) => lang !== 'en').sort(),
    );
  });

  it('use keys of their own (admin.*), so none shadows one of the widget’s', () => {
    expect(Object.keys(ENGLISH).filter((key) => !key.startsWith('admin.') || WIDGET_KEYS.includes(key))).toEqual([]);
  });

  for (const file of files) {
    const lang = file.slice(0, -'.json'.length);
    const table = JSON.parse(readFileSync(new URL(file, FOLDER), 'utf8')) as Record<string, unknown>;
    const needed = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;

    it(`${lang}: has every key of English and no other`, () => {
      expect(Object.keys(table).sort()).toEqual(Object.keys(ENGLISH).sort());
    });

    it(`${lang}: keeps each English placeholder, and has every plural form ${lang} needs (${needed.join(', ')})`, () => {
      const problems: string[] = [];
      for (const [key, english] of Object.entries(ENGLISH)) {
        const value = table[key];
        if (typeof english === 'string') {
          if (typeof value !== 'string' || value.trim() === '') {
            problems.push(`${key}: not a text`);
            continue;
          }
          for (const name of placeholders(english)) if (!value.includes(name)) problems.push(`${key}: lacks ${name}`);
          for (const name of placeholders(value)) if (!english.includes(name)) problems.push(`${key}: adds ${name}`);
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
        // Each form keeps the English placeholders; the count itself ({n}) may be a word (one, two), not in `other`.
        const names = new Set(Object.values(english).flatMap((text) => [...placeholders(text)]));
        for (const [category, text] of Object.entries(forms)) {
          if (typeof text !== 'string') continue;
          for (const name of names)
            if (!text.includes(name) && (name !== '{n}' || category === 'other'))
              problems.push(`${key}.${category}: lacks ${name}`);
        }
      }
      expect(problems).toEqual([]);
    });
  }
});

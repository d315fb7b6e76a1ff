import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EN_ADMIN } from '../../client/i18n/en-admin.ts';
import { LANGUAGES } from '../../shared/i18n.ts';
import { tableProblems, WIDGET_ENGLISH } from '../helpers/string-tables.ts';

/** The /admin page's own English strings: what each admin table translates. */
const ENGLISH: Record<string, string | Record<string, string>> = EN_ADMIN;
const WIDGET_KEYS = Object.keys(WIDGET_ENGLISH);
const FOLDER = new URL('../../client/i18n/admin/', import.meta.url);

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
      expect(tableProblems(ENGLISH, table, lang)).toEqual([]);
    });
  }
});

import { describe, expect, it } from 'vitest';
import { countLanguage, countWords, ENGLISH_COUNT, readCountForms } from '../../client/count/words.ts';
import { EN } from '../../client/i18n/en.ts';

describe('count.js words (data-live-comments-words)', () => {
  it('carries English as the widget words it', () => {
    expect(ENGLISH_COUNT).toEqual(EN.titleCount);
    expect(countWords(1, 'en', ENGLISH_COUNT)).toBe('1 comment');
    expect(countWords(1234, 'en', ENGLISH_COUNT)).toBe('1,234 comments');
  });

  it('takes the first tag of a language the widget has, else English', () => {
    expect(countLanguage(['de-CH', 'fr'])).toEqual({ lang: 'de', locale: 'de-CH' });
    expect(countLanguage([null, 'ko-KR', 'pt-BR'])).toEqual({ lang: 'pt', locale: 'pt-BR' });
    expect(countLanguage(['ko', undefined])).toEqual({ lang: 'en', locale: 'en' });
  });

  it('reads only well-formed forms of a table, in the language’s plural form', () => {
    const arabic = readCountForms({ titleCount: { two: 'تعليقان', few: '{n} تعليقات', other: '{n} تعليق' }, x: 1 });
    expect(arabic).not.toBeNull();
    expect(countWords(2, 'ar', arabic!)).toBe('تعليقان');
    expect(countWords(3, 'ar', arabic!)).toBe(`${new Intl.NumberFormat('ar').format(3)} تعليقات`);
    expect(readCountForms({ titleCount: { one: '{n} Kommentar' } })).toBeNull();
    expect(readCountForms({ titleCount: { other: 5 } })).toBeNull();
    expect(readCountForms({ titleCount: '{n}' })).toBeNull();
    expect(readCountForms(null)).toBeNull();
  });
});

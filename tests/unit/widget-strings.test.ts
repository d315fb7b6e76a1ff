import { describe, expect, it } from 'vitest';
import { Strings } from '../../client/i18n/strings.ts';

describe('Strings: the widget’s words in its language', () => {
  it('is English without a table, with the count in the language’s plural form and number format', () => {
    const strings = new Strings('en');
    expect(strings.text('title')).toBe('Comments');
    expect(strings.count('titleCount', 1)).toBe('1 comment');
    expect(strings.count('titleCount', 1234)).toBe('1,234 comments');
    expect(strings.text('replyTo', { name: 'Ann' })).toBe('Reply to Ann');
    expect(strings.dir).toBe('ltr');
  });

  it('takes the table’s words, Arabic plural forms and right-to-left', () => {
    const strings = new Strings('ar', 'ar', {
      titleCount: {
        zero: 'لا تعليقات',
        one: 'تعليق واحد',
        two: 'تعليقان',
        few: '{n} تعليقات',
        many: '{n} تعليقًا',
        other: '{n} تعليق',
      },
    });
    expect(strings.dir).toBe('rtl');
    expect(strings.count('titleCount', 2)).toBe('تعليقان');
    expect(strings.count('titleCount', 3)).toBe(`${new Intl.NumberFormat('ar').format(3)} تعليقات`);
    expect(strings.count('titleCount', 11)).toBe(`${new Intl.NumberFormat('ar').format(11)} تعليقًا`);
  });

  it('falls back to English for a value of the wrong shape, and for a missing plural form to `other`', () => {
    const strings = new Strings(
      'de',
      'de-AT',
      { newest: 7 },
      {
        title: 42,
        closed: { other: 'not a text' },
        titleCount: { other: '{n} Kommentare' },
        newest: 'Neueste',
      },
    );
    expect(strings.text('title')).toBe('Comments');
    expect(strings.text('closed')).toBe('Comments are closed.');
    expect(strings.count('titleCount', 1)).toBe('1 Kommentare');
    expect(strings.count('titleCount', 1234)).toBe('1 234 Kommentare'.replace(' ', '\u00a0'));
    // The site's word of the wrong shape gives the table's.
    expect(strings.text('newest')).toBe('Neueste');
  });

  it('words error codes from the table in other languages, and keeps the message in English', () => {
    const failure = { code: 'rate_limited', message: 'Too many likes; try again in 20 s' };
    expect(new Strings('en').error(failure)).toBe('Too many likes; try again in 20 s');
    expect(new Strings('de', 'de', { 'error.rate_limited': 'Zu viele Anfragen.' }).error(failure)).toBe(
      'Zu viele Anfragen.',
    );
    expect(new Strings('de', 'de', {}).error(failure)).toBe('Too many likes; try again in 20 s');
  });

  it('puts elements where a message names them', () => {
    const strings = new Strings('de', 'de', { replyingTo: 'Antwort auf {name}' });
    const name = { nodeType: 1 } as unknown as Node;
    expect(strings.nodes('replyingTo', { name })).toEqual(['Antwort auf ', name]);
  });
});

import { describe, expect, it } from 'vitest';
import { EN_ADMIN } from '../../client/i18n/en-admin.ts';
import { testLanguageTables, WIDGET_ENGLISH } from '../helpers/string-tables.ts';

describe('the /admin page’s language tables (client/i18n/admin/<lang>.json)', () => {
  testLanguageTables(new URL('../../client/i18n/admin/', import.meta.url), EN_ADMIN);

  it('use keys of their own (admin.*), so none shadows one of the widget’s', () => {
    const widgetKeys = Object.keys(WIDGET_ENGLISH);
    expect(Object.keys(EN_ADMIN).filter((key) => !key.startsWith('admin.') || widgetKeys.includes(key))).toEqual([]);
  });
});

import { describe } from 'vitest';
import { testLanguageTables, WIDGET_ENGLISH } from '../helpers/string-tables.ts';

describe('the widget’s language tables (client/i18n/<lang>.json)', () => {
  testLanguageTables(new URL('../../client/i18n/', import.meta.url), WIDGET_ENGLISH);
});

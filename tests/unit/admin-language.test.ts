import { afterEach, describe, expect, it, vi } from 'vitest';
import { adminLanguage, chosenLanguage, rememberLanguage } from '../../client/admin/admin-strings.ts';

/** A browser with these languages and this localStorage (one that throws, as some privacy modes do, when `broken`). */
function browser(languages: string[], broken = false): Map<string, string> {
  const stored = new Map<string, string>();
  const fail = () => {
    throw new Error('SecurityError');
  };
  vi.stubGlobal('navigator', { languages });
  vi.stubGlobal('localStorage', {
    getItem: broken ? fail : (key: string) => stored.get(key) ?? null,
    setItem: broken ? fail : (key: string, value: string) => void stored.set(key, value),
    removeItem: broken ? fail : (key: string) => void stored.delete(key),
  });
  return stored;
}

describe('the language of /admin (client/admin/admin-strings.ts)', () => {
  afterEach(() => {
    rememberLanguage(null);
    vi.unstubAllGlobals();
  });

  it('is the first of the browser’s languages the page has, with the tag it was chosen by; else English', () => {
    browser(['xx', 'de-AT', 'fr']);
    expect(adminLanguage()).toEqual({ lang: 'de', locale: 'de-AT' });
    browser(['xx-YY']);
    expect(adminLanguage()).toEqual({ lang: 'en', locale: 'en' });
  });

  it('follows the menu’s choice, remembered in localStorage, until it is forgotten', () => {
    const stored = browser(['de-AT', 'ar-EG']);
    rememberLanguage('ar');
    expect(stored.get('live-comments:admin-lang')).toBe('ar');
    expect(adminLanguage()).toEqual({ lang: 'ar', locale: 'ar-EG' });
    rememberLanguage('ja');
    expect(adminLanguage()).toEqual({ lang: 'ja', locale: 'ja' });
    rememberLanguage(null);
    expect(stored.size).toBe(0);
    expect(adminLanguage()).toEqual({ lang: 'de', locale: 'de-AT' });
  });

  it('keeps the choice for the page when localStorage refuses it', () => {
    browser(['en-US'], true);
    expect(chosenLanguage()).toBeNull();
    rememberLanguage('he');
    expect(adminLanguage()).toEqual({ lang: 'he', locale: 'he' });
  });
});

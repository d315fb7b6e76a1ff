import { describe, expect, it } from 'vitest';
import { safeHttpUrl, splitLinks } from '../../client/linkify.ts';

const links = (text: string) => splitLinks(text).filter((part) => part.kind === 'link');

describe('widget link detection', () => {
  it('turns http and https URLs into links and keeps every character of the text', () => {
    const text = 'See https://example.com/a?b=1#c and http://news.example.org/path, then more.';
    const parts = splitLinks(text);
    expect(parts.map((part) => part.text).join('')).toBe(text);
    expect(links(text)).toEqual([
      { kind: 'link', text: 'https://example.com/a?b=1#c', href: 'https://example.com/a?b=1#c' },
      { kind: 'link', text: 'http://news.example.org/path', href: 'http://news.example.org/path' },
    ]);
  });

  it('leaves trailing punctuation and unbalanced brackets out of the link, balanced ones in', () => {
    expect(links('(see https://example.com/x).')[0]?.text).toBe('https://example.com/x');
    expect(links('Wiki: https://en.wikipedia.org/wiki/Pipeline_(disambiguation)!')[0]?.text).toBe(
      'https://en.wikipedia.org/wiki/Pipeline_(disambiguation)',
    );
    expect(links('“https://example.com/quoted”')[0]?.text).toBe('https://example.com/quoted');
    expect(links('https://example.com/end...')[0]?.text).toBe('https://example.com/end');
  });

  it('never links other schemes, look-alike hosts with credentials, or scheme-less text', () => {
    for (const text of [
      'javascript:alert(1)',
      'JAVASCRIPT:alert(1)//http://x',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox',
      'ftp://example.com/file',
      'www.example.com',
      'mailto:a@example.com',
      'https://bank.example@evil.example/login',
    ]) {
      const found = links(text);
      for (const link of found) expect(['http:', 'https:']).toContain(new URL(link.href).protocol);
      if (!text.includes('//http://')) expect(found).toEqual([]);
    }
    // Text before an embedded http URL stays text; only the http part links.
    expect(links('javascript:http://example.com')).toEqual([
      { kind: 'link', text: 'http://example.com', href: 'http://example.com/' },
    ]);
    expect(splitLinks('javascript:http://example.com')[0]).toEqual({ kind: 'text', text: 'javascript:' });
  });

  it('does not link a scheme glued to a preceding word', () => {
    expect(links('xhttps://example.com')).toEqual([]);
  });

  it('keeps markup-looking text as text, with quotes and angle brackets ending a link', () => {
    const text = '<a href="https://evil.example/x">click</a>';
    const parts = splitLinks(text);
    expect(parts.map((part) => part.text).join('')).toBe(text);
    expect(links(text)).toEqual([{ kind: 'link', text: 'https://evil.example/x', href: 'https://evil.example/x' }]);
  });

  it('safeHttpUrl accepts only http(s) with a host and no credentials', () => {
    expect(safeHttpUrl('https://example.com')?.href).toBe('https://example.com/');
    expect(safeHttpUrl('https://user:pw@example.com')).toBeNull();
    expect(safeHttpUrl('javascript:alert(1)')).toBeNull();
    expect(safeHttpUrl('not a url')).toBeNull();
  });

  it('handles text without links and empty text', () => {
    expect(splitLinks('plain\ntext')).toEqual([{ kind: 'text', text: 'plain\ntext' }]);
    expect(splitLinks('')).toEqual([]);
  });
});

import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
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

/** The link detection the widget had before issue 10 (correct but quadratic): the reference for what to link. */
function referenceLinks(text: string): string[] {
  const trailing = '.,;:!?\'"*_~\u2018\u2019\u201C\u201D\u00BB\u2026';
  const closers: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const count = (s: string, ch: string) => s.split(ch).length - 1;
  const found: string[] = [];
  for (const match of text.matchAll(/\bhttps?:\/\/[^\s<>"'`\u00A0\u2028\u2029]+/gi)) {
    const candidate = match[0];
    let end = candidate.length;
    while (end > 0) {
      const last = candidate[end - 1]!;
      const opener = closers[last];
      if (trailing.includes(last)) end--;
      else if (opener !== undefined && count(candidate.slice(0, end), opener) < count(candidate.slice(0, end), last))
        end--;
      else break;
    }
    if (safeHttpUrl(candidate.slice(0, end)) !== null) found.push(candidate.slice(0, end));
  }
  return found;
}

/**
 * Characters the string methods linkify calls look at, over one call of splitLinks: each call of a
 * String.prototype method is charged the length of the string it runs on. Quadratic work shows as
 * a total that grows with the square of the input.
 */
function workOf(text: string): number {
  let work = 0;
  const methods = [
    'slice',
    'split',
    'includes',
    'indexOf',
    'lastIndexOf',
    'substring',
    'at',
    'charAt',
    'match',
  ] as const;
  const spies = methods.map((name) => {
    // Called below with the spied string as `this`.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const original = String.prototype[name] as (...args: unknown[]) => unknown;
    return vi.spyOn(String.prototype, name).mockImplementation(function (this: string, ...args: unknown[]) {
      work += this.length;
      return original.apply(this, args);
    } as never);
  });
  try {
    splitLinks(text);
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return work;
}

describe('widget link detection, hostile input', () => {
  it('links exactly what the earlier algorithm linked', () => {
    const piece = fc.constantFrom(
      'https://a.b/',
      'http://x.org/p',
      '(',
      ')',
      '[',
      ']',
      '{',
      '}',
      '.',
      ',',
      '!',
      '"',
      ' ',
      'a',
      '…',
      '“',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
        const text = pieces.join('');
        expect(links(text).map((part) => part.text)).toEqual(referenceLinks(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('does work linear in the input: a link followed by thousands of closing brackets', () => {
    const hostile = (n: number) => `https://a.b/${')'.repeat(n)}`;
    const small = workOf(hostile(2500));
    const large = workOf(hostile(10_000));
    // Four times the input: about four times the work when linear, sixteen when quadratic.
    expect(large / small).toBeLessThan(6);
    expect(large).toBeLessThan(100 * 10_000);
    expect(links(hostile(10_000)).map((part) => part.text)).toEqual(['https://a.b/']);
  });
});

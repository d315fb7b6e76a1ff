import { describe, expect, it } from 'vitest';
import { DomainList, linksPhase, normaliseDomain, scanLinks } from '../../../server/moderation/pipeline/links.ts';
import { phaseInput } from './helpers.ts';

const blocked = new DomainList(['spam.example', 'https://Pills.Test/', '*.casino.test']);
const none = new DomainList([]);

describe('links phase', () => {
  it.each([
    // [body, maxLinks, action, reason contains]
    ['no links at all', 2, 'accept', ''],
    ['see https://a.example and http://b.example', 2, 'accept', ''],
    ['https://a.example https://b.example https://c.example', 2, 'hold', '3 links (more than 2)'],
    ['www.a.example, www.b.example and https://c.example/x?y=1.', 2, 'hold', '3 links'],
    ['one https://a.example', 0, 'hold', '1 links (more than 0)'],
    ['visit https://spam.example/buy now', 5, 'reject', 'spam.example'],
    ['visit HTTPS://WWW.SPAM.EXAMPLE', 5, 'reject', 'spam.example'], // subdomain, case
    ['just type spam.example/buy in your browser', 5, 'reject', 'spam.example'], // bare domain
    ['(pills.test)', 5, 'reject', 'pills.test'],
    ['https://eu.casino.test', 5, 'reject', 'casino.test'],
    ['https://casino.test', 5, 'reject', 'casino.test'],
  ])('%j (max %i) → %s', (body, maxLinks, action, reason) => {
    const decision = linksPhase(blocked, maxLinks, phaseInput(body));
    expect(decision.action).toBe(action);
    if (reason) expect('reason' in decision ? decision.reason : '').toContain(reason);
  });

  it.each([
    'notspam.example is a different site',
    'https://spam.example.org is another domain',
    'spam.examples',
    'e.g. this, i.e. that',
    'an email to user@host.example',
  ])('does not block %j', (body) => {
    expect(linksPhase(blocked, 5, phaseInput(body))).toEqual({ action: 'accept' });
  });

  it('says which domain to remove in the refusal', () => {
    const decision = linksPhase(blocked, 2, phaseInput('https://spam.example'));
    expect(decision.action === 'reject' && decision.message).toMatch(/spam\.example.*remove/);
  });

  it('counts scheme and www. links only, and collects hosts', () => {
    expect(scanLinks('a https://x.example/p b www.y.example c z.example')).toEqual({
      links: 2,
      hosts: ['x.example', 'www.y.example', 'z.example'],
    });
  });

  it('normalises list entries and drops what is no domain', () => {
    expect(normaliseDomain(' HTTPS://Spam.Example/path ')).toBe('spam.example');
    expect(normaliseDomain('*.spam.example')).toBe('spam.example');
    expect(normaliseDomain('bücher.example')).toBe('xn--bcher-kva.example');
    expect(normaliseDomain('not a domain')).toBeNull();
    expect(new DomainList(['', 'localhost', 'spam.example']).size).toBe(1);
  });

  it('matches internationalised hosts in their punycode form', () => {
    const idn = new DomainList(['bücher.example']);
    expect(linksPhase(idn, 5, phaseInput('https://BÜCHER.example/x')).action).toBe('reject');
    expect(linksPhase(none, 5, phaseInput('https://bücher.example'))).toEqual({ action: 'accept' });
  });
});

describe('links phase, punycode', () => {
  it('blocks a host written in punycode as its Unicode form', () => {
    expect(linksPhase(new DomainList(['bücher.example']), 5, phaseInput('https://xn--bcher-kva.example')).action).toBe(
      'reject',
    );
  });
});

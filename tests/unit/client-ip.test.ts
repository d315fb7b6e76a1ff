import { describe, expect, it } from 'vitest';
import express from 'express';
import { forwardedClientIp, ipBucket, type TrustProxyFn } from '../../server/abuse/client-ip.ts';
import { authorKey, ipKey, logId, normaliseAuthorName } from '../../server/abuse/keys.ts';
import { Keyring } from '../../server/keys/keyring.ts';

const keys = new Keyring('a-test-secret-of-at-least-32-bytes');

/** Express's own compiled trust function for a `trust proxy` value. */
function trust(setting: boolean | number | string): TrustProxyFn {
  const app = express();
  app.set('trust proxy', setting);
  return app.get('trust proxy fn') as TrustProxyFn;
}

describe('forwardedClientIp', () => {
  const local = trust('loopback, linklocal, uniquelocal');

  it('believes X-Forwarded-For only while the hop it came from is trusted', () => {
    expect(forwardedClientIp('127.0.0.1', '203.0.113.5', local)).toBe('203.0.113.5');
    expect(forwardedClientIp('198.51.100.7', '203.0.113.5', local)).toBe('198.51.100.7');
    // A client-supplied entry left of a real one is not believed: 10.0.0.2 is trusted, 192.0.2.9 is the client.
    expect(forwardedClientIp('127.0.0.1', '1.1.1.1, 192.0.2.9, 10.0.0.2', local)).toBe('192.0.2.9');
    expect(forwardedClientIp('127.0.0.1', undefined, local)).toBe('127.0.0.1');
    expect(forwardedClientIp(undefined, undefined, local)).toBe('unknown');
  });

  it('matches Express req.ip for hop counts and "false"', () => {
    expect(forwardedClientIp('127.0.0.1', '1.1.1.1, 2.2.2.2', trust(1))).toBe('2.2.2.2');
    expect(forwardedClientIp('127.0.0.1', '1.1.1.1, 2.2.2.2', trust(2))).toBe('1.1.1.1');
    expect(forwardedClientIp('127.0.0.1', '1.1.1.1', trust(false))).toBe('127.0.0.1');
  });

  it('takes only valid addresses from the header: the client is the proxy that forwarded anything else', () => {
    expect(forwardedClientIp('127.0.0.1', '1.1.1.1, <script>, 10.0.0.1', local)).toBe('10.0.0.1');
    for (const forged of [
      'not-an-address',
      '1.2.3.4:80',
      '[2001:db8::1]',
      '999.1.1.1',
      'unknown',
      '"1.2.3.4"',
      '1.2.3.4 5',
    ])
      expect(forwardedClientIp('127.0.0.1', forged, local), forged).toBe('127.0.0.1');
    expect(forwardedClientIp('127.0.0.1', 'garbage, 203.0.113.5', local)).toBe('203.0.113.5');
    expect(forwardedClientIp('::1', '2001:db8::7', local)).toBe('2001:db8::7');
  });

  it('reads a bounded part of a huge header', () => {
    // Only the last 2 KB and at most 32 hops are read: trusting every hop ends at the 32nd from the right.
    const huge = `${Array.from({ length: 100_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`).join(', ')}`;
    expect(forwardedClientIp('127.0.0.1', huge, trust(true))).toBe('10.1.134.128');
  });
});

describe('ipBucket and keys', () => {
  it('keeps IPv4, unwraps IPv4-mapped IPv6 and groups IPv6 by /64', () => {
    expect(ipBucket('203.0.113.1')).toBe('203.0.113.1');
    expect(ipBucket('::ffff:203.0.113.1')).toBe('203.0.113.1');
    expect(ipBucket('2001:db8:1:2::1')).toBe(ipBucket('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'));
    expect(ipBucket('2001:db8:1:2::1')).not.toBe(ipBucket('2001:db8:1:3::1'));
    expect(ipBucket('::1')).toBe('0:0:0:0::/64');
    expect(ipBucket('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(ipBucket('x'.repeat(1000))).toHaveLength(64);
  });

  it('derives keys and log ids that never contain the address', () => {
    expect(normaliseAuthorName('  ＡＮＮ   Lee ')).toBe('ann lee');
    expect(authorKey(keys, 'Ann Lee', '203.0.113.1')).toBe(authorKey(keys, ' ann  lee', '203.0.113.1'));
    expect(authorKey(keys, 'Ann', '203.0.113.1')).not.toBe(authorKey(keys, 'Ann', '203.0.113.2'));
    expect(ipKey(keys, '203.0.113.1')).not.toContain('203');
    expect(logId('203.0.113.1')).toBe(logId('203.0.113.1'));
    expect(logId('203.0.113.1')).not.toContain('203.0.113');
  });
});

import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authorKey, ipKey, normaliseAuthorName } from '../../server/abuse/keys.ts';
import { Keyring, MIN_SECRET_BYTES } from '../../server/keys/keyring.ts';
import { openKeyring, STORED_SECRET_NAME } from '../../server/keys/server-secret.ts';

const secret = (): string => randomBytes(32).toString('base64url');

/**
 * Every address of 10.20.0.0/18: a range an attacker who knows roughly where a poster is would try (all
 * of IPv4 is 2^18 times more, minutes of work for a plain hash; kept small so the test runs in a second).
 */
const candidates = Array.from({ length: 16_384 }, (_, i) => `10.20.${i >> 8}.${i & 255}`);

/** The address among the candidates whose key, computed by `keyOf`, is `key`; null when none is. */
function search(key: string, keyOf: (ip: string) => string): string | null {
  return candidates.find((ip) => keyOf(ip) === key) ?? null;
}

describe('keyed pseudonyms cannot be recomputed without the secret', () => {
  const keys = new Keyring(secret());
  const ip = '10.20.43.33';
  const name = 'Ann Lee';
  const key = authorKey(keys, name, ip);

  it('the holder of the secret finds the address by search: the search itself works', () => {
    expect(search(key, (candidate) => authorKey(keys, name, candidate))).toBe(ip);
    expect(search(ipKey(keys, ip), (candidate) => ipKey(keys, candidate))).toBe(ip);
  });

  it('anyone else, knowing the name, the format and the range, finds nothing', () => {
    const other = new Keyring(secret());
    const value = (candidate: string) => `guest:${normaliseAuthorName(name)}\0${candidate}`;
    const attempts: Array<[string, (candidate: string) => string]> = [
      // The keys before this change: plain SHA-256 of the name and the address.
      [
        'plain SHA-256 (the old keys)',
        (c) =>
          createHash('sha256')
            .update(`author\0${normaliseAuthorName(name)}\0${c}`)
            .digest('base64url')
            .slice(0, 32),
      ],
      [
        'plain SHA-256 of the new format',
        (c) => createHash('sha256').update(value(c)).digest('base64url').slice(0, 32),
      ],
      ['HMAC with an empty key', (c) => createHmac('sha256', '').update(value(c)).digest('base64url').slice(0, 32)],
      ['HMAC keyed with the public key id', (c) => createHmac('sha256', keys.id).update(value(c)).digest('base64url')],
      ['another secret', (c) => authorKey(other, name, c)],
    ];
    for (const [label, keyOf] of attempts) expect(search(key, keyOf), label).toBeNull();
  });

  it('with the old plain hash, the same search did recover the address', () => {
    const oldKey = (c: string) =>
      createHash('sha256')
        .update(`author\0${normaliseAuthorName(name)}\0${c}`)
        .digest('base64url')
        .slice(0, 32);
    expect(search(oldKey(ip), oldKey)).toBe(ip);
  });
});

describe('Keyring.deriveKey', () => {
  it('is stable for one secret, and differs by secret, purpose and value', () => {
    const s = secret();
    const a = new Keyring(s);
    expect(a.deriveKey('author', 'sso:user-1')).toBe(new Keyring(s).deriveKey('author', 'sso:user-1'));
    expect(a.deriveKey('author', 'sso:user-1')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(a.deriveKey('author', 'sso:user-1')).not.toBe(new Keyring(secret()).deriveKey('author', 'sso:user-1'));
    expect(a.deriveKey('author', 'sso:user-1')).not.toBe(a.deriveKey('ip', 'sso:user-1'));
    expect(a.deriveKey('author', 'sso:user-1')).not.toBe(a.deriveKey('author', 'sso:user-2'));
    expect(a.id).toBe(new Keyring(s).id);
    expect(a.id).not.toBe(new Keyring(secret()).id);
  });

  it('keeps guest, signed-in and imported authors apart', () => {
    const keys = new Keyring(secret());
    const guest = authorKey(keys, 'sub-1', '10.0.0.1');
    expect(
      new Set([guest, keys.deriveKey('author', 'sso:sub-1'), keys.deriveKey('author', 'import:disqus:sub-1')]).size,
    ).toBe(3);
    expect(authorKey(keys, ' ＡＮＮ ', '10.0.0.1')).toBe(authorKey(keys, 'ann', '10.0.0.1'));
    // IPv6 posters share a key per /64.
    expect(authorKey(keys, 'Ann', '2001:db8:1:2::1')).toBe(authorKey(keys, 'Ann', '2001:db8:1:2:ffff::9'));
    expect(authorKey(keys, 'Ann', '2001:db8:1:2::1')).not.toBe(authorKey(keys, 'Ann', '2001:db8:1:3::1'));
  });

  it('refuses a secret shorter than 32 bytes', () => {
    expect(() => new Keyring('x'.repeat(MIN_SECRET_BYTES - 1))).toThrow(/at least 32 bytes/);
    expect(() => new Keyring('x'.repeat(MIN_SECRET_BYTES))).not.toThrow();
  });
});

describe('Keyring.sign and verify', () => {
  const keys = new Keyring(secret());
  const now = new Date('2030-01-01T00:00:00.000Z');

  it('round-trips a payload, unicode included, as a URL-safe token', () => {
    const token = keys.sign('unsubscribe', 'comment:abc ✓ ann@example.com');
    expect(token).toMatch(/^[A-Za-z0-9_.-]+$/);
    expect(keys.verify('unsubscribe', token)).toBe('comment:abc ✓ ann@example.com');
  });

  it('refuses a token changed anywhere, signed by another secret, or malformed', () => {
    const token = keys.sign('unsubscribe', 'comment:abc');
    const [payload, expiry, signature] = token.split('.') as [string, string, string];
    const forged = `${Buffer.from('comment:xyz').toString('base64url')}.${expiry}.${signature}`;
    expect(keys.verify('unsubscribe', forged)).toBeNull();
    // Change the signature's first character: it carries six whole bits (the last one carries only four,
    // so swapping it for 'A' left the bytes unchanged for one signature in sixteen: a flaky test).
    const otherFirst = signature.startsWith('A') ? 'B' : 'A';
    expect(keys.verify('unsubscribe', `${payload}.${expiry}.${otherFirst}${signature.slice(1)}`)).toBeNull();
    expect(keys.verify('unsubscribe', `${payload}.zzzzzz.${signature}`)).toBeNull();
    expect(new Keyring(secret()).verify('unsubscribe', token)).toBeNull();
    for (const bad of ['', '.', '..', 'a.b', 'a.b.c.d', `${payload}.${expiry}.`]) {
      expect(keys.verify('unsubscribe', bad)).toBeNull();
    }
  });

  it('honours an expiry', () => {
    const token = keys.sign('unsubscribe', 'p', new Date(now.getTime() + 60_000));
    expect(keys.verify('unsubscribe', token, now)).toBe('p');
    expect(keys.verify('unsubscribe', token, new Date(now.getTime() + 60_000))).toBeNull();
  });
});

describe('openKeyring', () => {
  /** A store stand-in that keeps the first secret proposed, as the real stores do. */
  function memoryStore() {
    const kept = new Map<string, string>();
    const proposed: string[] = [];
    return {
      proposed,
      keepSecret: async (name: string, candidate: string) => {
        proposed.push(candidate);
        if (!kept.has(name)) kept.set(name, candidate);
        return kept.get(name)!;
      },
    };
  }

  it('uses SECRET_KEY when set and never touches the store', async () => {
    const store = memoryStore();
    const s = secret();
    const opened = await openKeyring(s, store);
    expect(opened.source).toBe('environment');
    expect(opened.keys.id).toBe(new Keyring(s).id);
    expect(store.proposed).toEqual([]);
  });

  it('otherwise proposes a fresh random secret and uses the one the store keeps', async () => {
    const store = memoryStore();
    const first = await openKeyring(undefined, store);
    const second = await openKeyring(undefined, store);
    expect(first.source).toBe('store');
    expect(store.proposed).toHaveLength(2);
    expect(store.proposed[0]).not.toBe(store.proposed[1]);
    expect(store.proposed[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(second.keys.id).toBe(first.keys.id);
    expect(first.keys.id).toBe(new Keyring(store.proposed[0]!).id);
    expect(STORED_SECRET_NAME).toBe('secret_key');
  });
});

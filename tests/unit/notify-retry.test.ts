import { describe, expect, it } from 'vitest';
import { isPublicAddress } from '../../server/notify/addresses.ts';
import { nextAttemptAt, retryDelayMs, RETRY_FIRST_MS, RETRY_MAX_MS } from '../../server/notify/retry.ts';

describe('retry backoff', () => {
  it('doubles from 10 s to at most 1 h, spread by ±20 %', () => {
    const middle = () => 0.5;
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, middle))).toEqual([10_000, 20_000, 40_000, 80_000]);
    expect(retryDelayMs(9, middle)).toBe(2_560_000);
    expect(retryDelayMs(10, middle)).toBe(RETRY_MAX_MS);
    expect(retryDelayMs(500, middle)).toBe(RETRY_MAX_MS);
    expect(retryDelayMs(1, () => 0)).toBe(RETRY_FIRST_MS * 0.8);
    expect(retryDelayMs(1, () => 0.999999)).toBeLessThanOrEqual(RETRY_FIRST_MS * 1.2);
    expect(retryDelayMs(40, () => 0.999999)).toBeLessThanOrEqual(RETRY_MAX_MS * 1.2);
  });

  it('gives up when the next attempt would fall past the horizon', () => {
    const day = 24 * 3_600_000;
    expect(nextAttemptAt(0, 1000, 1, day, () => 0.5)).toBe(11_000);
    expect(nextAttemptAt(0, day - 20_000, 1, day, () => 0.5)).toBe(day - 10_000);
    expect(nextAttemptAt(0, day - 5_000, 1, day, () => 0.5)).toBeNull();
    expect(nextAttemptAt(0, day - 3_600_000, 12, day, () => 0.5)).toBe(day);
    expect(nextAttemptAt(0, day - 1_800_000, 12, day, () => 0.5)).toBeNull();
  });
});

describe('webhook destinations (SSRF)', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.1',
    '10.0.0.1',
    '172.16.5.4',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '64:ff9b::a9fe:a9fe',
    'not-an-ip',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows %s',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );
});

import { describe, expect, it } from 'vitest';
import { WriteBreaker } from '../../server/comments/write-breaker.ts';
import { StoreUnavailableError } from '../../server/storage/port.ts';

describe('WriteBreaker', () => {
  /** A clock the fake store advances, as a blocking busy wait would. */
  function setup() {
    const clock = { now: 0 };
    const breaker = new WriteBreaker(1000, 250, () => clock.now);
    let calls = 0;
    const failAfter = (ms: number) => () => {
      calls += 1;
      clock.now += ms;
      return Promise.reject(new StoreUnavailableError('down'));
    };
    return { clock, breaker, failAfter, calls: () => calls };
  }

  it('after a slow unavailable failure, fails writes without calling the store for the cool-down, then probes', async () => {
    const { clock, breaker, failAfter, calls } = setup();
    await expect(breaker.run(failAfter(1000))).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(calls()).toBe(1);
    clock.now += 999;
    await expect(breaker.run(failAfter(1000))).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(calls()).toBe(1);
    expect(breaker.open).toBe(true);
    clock.now += 1;
    expect(breaker.open).toBe(false);
    await expect(breaker.run(() => Promise.resolve('stored'))).resolves.toBe('stored');
    await expect(breaker.run(() => Promise.resolve('again'))).resolves.toBe('again');
  });

  it('stays closed after a quick failure: asking the store again is already fast', async () => {
    const { breaker, failAfter, calls } = setup();
    await expect(breaker.run(failAfter(5))).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(breaker.open).toBe(false);
    await expect(breaker.run(() => Promise.resolve('stored'))).resolves.toBe('stored');
    expect(calls()).toBe(1);
  });

  it('stays closed on other errors, however slow (bad input is not an outage)', async () => {
    const { clock, breaker } = setup();
    const slowBadInput = () => {
      clock.now += 2000;
      return Promise.reject(new Error('parent not found'));
    };
    await expect(breaker.run(slowBadInput)).rejects.toThrow('parent not found');
    expect(breaker.open).toBe(false);
  });
});

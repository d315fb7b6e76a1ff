import { describe, expect, it } from 'vitest';
import { formatAbsolute, formatRelative } from '../../client/time-format.ts';

const now = Date.parse('2024-05-20T12:00:00.000Z');
const ago = (seconds: number) => new Date(now - seconds * 1000).toISOString();

describe('widget time formatting', () => {
  it('says "just now" for the last 45 seconds and for times slightly in the future', () => {
    expect(formatRelative(ago(0), now)).toBe('just now');
    expect(formatRelative(ago(44), now)).toBe('just now');
    expect(formatRelative(ago(-30), now)).toBe('just now');
  });

  it('counts whole minutes, hours, days, weeks, months and years in the past', () => {
    expect(formatRelative(ago(45), now)).toBe('1 minute ago');
    expect(formatRelative(ago(119), now)).toBe('1 minute ago');
    expect(formatRelative(ago(5 * 60), now)).toBe('5 minutes ago');
    expect(formatRelative(ago(3600), now)).toBe('1 hour ago');
    expect(formatRelative(ago(23 * 3600 + 59 * 60), now)).toBe('23 hours ago');
    expect(formatRelative(ago(86_400), now)).toBe('yesterday');
    expect(formatRelative(ago(3 * 86_400), now)).toBe('3 days ago');
    expect(formatRelative(ago(7 * 86_400), now)).toBe('last week');
    expect(formatRelative(ago(45 * 86_400), now)).toBe('last month');
    expect(formatRelative(ago(400 * 86_400), now)).toBe('last year');
    expect(formatRelative(ago(3 * 365 * 86_400), now)).toBe('3 years ago');
  });

  it('reads the sample thread time relative to a later clock', () => {
    expect(formatRelative('2024-05-17T20:41:00.000Z', now)).toBe('2 days ago');
  });

  it('gives the exact time with its zone for hovering', () => {
    expect(formatAbsolute('2024-05-17T20:41:00.000Z', 'en-US', 'UTC')).toBe('May 17, 2024 at 8:41 PM UTC');
    expect(formatAbsolute('2024-05-17T20:41:00.000Z', 'en-GB', 'Europe/Berlin')).toBe('17 May 2024 at 22:41 CEST');
  });

  it('returns an empty string for an unreadable time instead of "Invalid Date"', () => {
    expect(formatRelative('not a date', now)).toBe('');
    expect(formatAbsolute('not a date', 'en-US', 'UTC')).toBe('');
  });
});

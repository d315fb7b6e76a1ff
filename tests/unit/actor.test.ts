import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors.ts';
import { ActorPolicy, guest, MAY, type Action } from '../../server/actors/actor.ts';

const ADMIN = 'admin-token-for-tests-0123456789';

describe('ActorPolicy', () => {
  it('makes the ADMIN_TOKEN a moderator and anything else a guest carrying its token and address', () => {
    const policy = new ActorPolicy({ adminToken: ADMIN });
    expect(policy.resolve({ bearer: ADMIN, clientIp: '203.0.113.7' })).toEqual({
      kind: 'moderator',
      clientIp: '203.0.113.7',
    });
    expect(policy.resolve({ bearer: `${ADMIN}x`, clientIp: '203.0.113.7' })).toEqual({
      kind: 'guest',
      authorToken: `${ADMIN}x`,
      clientIp: '203.0.113.7',
    });
    expect(policy.resolve({})).toEqual(guest());
    expect(policy.resolve({ bearer: '' }).kind).toBe('guest');
  });

  it('makes nobody a moderator without ADMIN_TOKEN', () => {
    const policy = new ActorPolicy();
    expect(policy.moderationEnabled).toBe(false);
    expect(policy.resolve({ bearer: ADMIN }).kind).toBe('guest');
    expect(policy.resolve({ bearer: '' }).kind).toBe('guest');
  });

  it('lets each actor do exactly what the table says, and refuses the rest with forbidden', () => {
    const policy = new ActorPolicy({ adminToken: ADMIN });
    const moderator = policy.resolve({ bearer: ADMIN });
    const reader = guest({ authorToken: 'a-token' });
    for (const action of Object.keys(MAY) as Action[]) {
      const kinds = MAY[action] as readonly string[];
      // Only a member's own data is not a moderator's to read or erase.
      expect(policy.may(moderator, action)).toBe(kinds.includes('moderator'));
      const guestMay = kinds.includes('guest');
      expect(policy.may(reader, action)).toBe(guestMay);
      if (!guestMay && !kinds.includes('moderator')) {
        expect(() => policy.authorize(reader, action)).toThrow(expect.objectContaining({ code: 'unauthenticated' }));
      } else if (!guestMay) {
        const error = (() => {
          try {
            policy.authorize(reader, action);
          } catch (e) {
            return e;
          }
          return null;
        })();
        expect(error).toBeInstanceOf(AppError);
        expect(error).toMatchObject({ code: 'forbidden', message: 'A moderator token is required' });
      }
    }
    expect(policy.may(reader, 'comment:post')).toBe(true);
    expect(policy.may(reader, 'comment:moderate')).toBe(false);
  });

  it('says moderation is not configured when a guest asks for a moderator action on a server without ADMIN_TOKEN', () => {
    const policy = new ActorPolicy();
    expect(() => policy.authorize(guest(), 'held:review')).toThrow('Moderation is not configured');
  });
});

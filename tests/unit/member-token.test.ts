import { describe, expect, it } from 'vitest';
import { readClaims } from '../../client/member/token.ts';

/** A JWT with this payload (header and signature do not matter to the widget: the server verifies). */
const jwt = (payload: unknown) =>
  `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2lnbmF0dXJl`;

describe('the widget’s reading of a member token (client/member/token.ts)', () => {
  it('reads name and exp from the payload, base64url and UTF-8 included', () => {
    // "?" and ">" in the JSON give "-" and "_" in base64url; the name is not ASCII.
    const payload = { sub: 'u>1?', name: 'Zoë Ångström ✓', exp: 1_900_000_000, note: '>>>???' };
    expect(jwt(payload).split('.')[1]).toMatch(/[-_]/);
    expect(readClaims(jwt(payload))).toEqual({ name: 'Zoë Ångström ✓', exp: 1_900_000_000 });
  });

  it('is null for what is not a JWT with a name and a numeric exp', () => {
    expect(readClaims('not a token')).toBeNull();
    expect(readClaims('a.%%%.c')).toBeNull();
    expect(readClaims(jwt({ name: 'No Exp' }))).toBeNull();
    expect(readClaims(jwt({ name: 'Text Exp', exp: '1900000000' }))).toBeNull();
    expect(readClaims(jwt(['name', 'exp']))).toBeNull();
    expect(readClaims(jwt(null))).toBeNull();
  });
});

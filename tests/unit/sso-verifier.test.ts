import { generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { SSO_CLOCK_SKEW_SECONDS, SsoVerifier, type SsoSettings } from '../../server/sso/verifier.ts';
import type { SsoFailureReason } from '../../shared/sso.ts';

const SECRET_A = 'a'.repeat(16) + 'first-secret-of-the-host-0001';
const SECRET_B = 'b'.repeat(16) + 'second-secret-of-the-host-002';
const NOW = new Date('2026-03-01T12:00:00Z');
const nowS = Math.floor(NOW.getTime() / 1000);

const settings = (overrides: Partial<SsoSettings> = {}): SsoSettings => ({
  secrets: [{ kid: undefined, secret: SECRET_A }],
  audience: 'live-comments',
  issuer: undefined,
  maxTtlSeconds: 86400,
  ...overrides,
});

const verifier = (overrides: Partial<SsoSettings> = {}) => new SsoVerifier(settings(overrides), { now: () => NOW });

interface SignOptions {
  secret?: string;
  alg?: string;
  kid?: string;
  claims?: JWTPayload;
  omit?: string[];
}

/** A token as a host signs it, one hour long, issued a minute ago; any claim can be changed or left out. */
async function sign(options: SignOptions = {}): Promise<string> {
  const claims: JWTPayload = {
    sub: 'user-42',
    name: 'Ann Lee',
    aud: 'live-comments',
    iat: nowS - 60,
    exp: nowS + 3600,
    ...options.claims,
  };
  for (const claim of options.omit ?? []) delete claims[claim];
  const header = {
    alg: options.alg ?? 'HS256',
    typ: 'JWT',
    ...(options.kid === undefined ? {} : { kid: options.kid }),
  };
  return new SignJWT(claims).setProtectedHeader(header).sign(new TextEncoder().encode(options.secret ?? SECRET_A));
}

const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

async function reasonOf(token: string, v = verifier()): Promise<SsoFailureReason | 'accepted'> {
  const result = await v.verify(token);
  return result.ok ? 'accepted' : result.reason;
}

describe('SsoVerifier accepts what a host signs', () => {
  it('a valid token gives the member with the checked claims', async () => {
    const token = await sign({
      claims: {
        name: '  Ann Lee ',
        email: 'ann@example.com',
        avatar: 'https://example.com/ann.png',
        url: 'https://example.com/u/42',
        badges: ['staff', 'subscriber'],
        jti: 'abc',
        extra: 'ignored',
      },
    });
    const result = await verifier().verify(token);
    expect(result).toEqual({
      ok: true,
      member: {
        sub: 'user-42',
        name: 'Ann Lee',
        email: 'ann@example.com',
        avatar: 'https://example.com/ann.png',
        url: 'https://example.com/u/42',
        badges: ['staff', 'subscriber'],
        jti: 'abc',
        iat: nowS - 60,
        exp: nowS + 3600,
      },
    });
  });

  it('allows 60 s of clock skew on exp and iat', async () => {
    expect(await reasonOf(await sign({ claims: { exp: nowS - SSO_CLOCK_SKEW_SECONDS + 1 } }))).toBe('accepted');
    expect(await reasonOf(await sign({ claims: { iat: nowS + SSO_CLOCK_SKEW_SECONDS - 1 } }))).toBe('accepted');
  });

  it('checks the issuer when SSO_ISSUER is set', async () => {
    const v = verifier({ issuer: 'https://www.example.com' });
    expect(await reasonOf(await sign({ claims: { iss: 'https://www.example.com' } }), v)).toBe('accepted');
    expect(await reasonOf(await sign({ claims: { iss: 'https://evil.example' } }), v)).toBe('wrong_issuer');
    expect(await reasonOf(await sign(), v)).toBe('wrong_issuer');
  });
});

describe('SsoVerifier refuses, saying why', () => {
  it.each<[string, () => Promise<string>, SsoFailureReason]>([
    ['an expired token', () => sign({ claims: { exp: nowS - SSO_CLOCK_SKEW_SECONDS - 1 } }), 'expired'],
    ['a token issued in the future', () => sign({ claims: { iat: nowS + 600, exp: nowS + 1200 } }), 'not_yet_valid'],
    ['a token with nbf in the future', () => sign({ claims: { nbf: nowS + 600 } }), 'not_yet_valid'],
    ['a wrong audience', () => sign({ claims: { aud: 'another-service' } }), 'wrong_audience'],
    ['no audience', () => sign({ omit: ['aud'] }), 'wrong_audience'],
    ['HS512', () => sign({ alg: 'HS512', secret: SECRET_A + SECRET_A }), 'bad_algorithm'],
    ['a secret that is not ours', () => sign({ secret: SECRET_B }), 'bad_signature'],
    ['an over-long lifetime', () => sign({ claims: { iat: nowS - 10, exp: nowS - 10 + 86401 } }), 'too_long_lived'],
    ['no exp', () => sign({ omit: ['exp'] }), 'bad_claims'],
    ['no iat', () => sign({ omit: ['iat'] }), 'bad_claims'],
    ['no sub', () => sign({ omit: ['sub'] }), 'bad_claims'],
    ['a sub over 128 units', () => sign({ claims: { sub: 'x'.repeat(129) } }), 'bad_claims'],
    ['a name with a bidi override', () => sign({ claims: { name: 'Ann\u202ELee' } }), 'bad_claims'],
    ['an empty name', () => sign({ claims: { name: '   ' } }), 'bad_claims'],
    ['four badges', () => sign({ claims: { badges: ['a', 'b', 'c', 'd'] } }), 'bad_claims'],
    ['an http avatar', () => sign({ claims: { avatar: 'http://example.com/a.png' } }), 'bad_claims'],
    ['a javascript: url', () => sign({ claims: { url: 'javascript:alert(1)' } }), 'bad_claims'],
    ['not a JWT', async () => 'not-a-token', 'malformed'],
    ['a header that is not JSON', async () => `${Buffer.from('{').toString('base64url')}.e30.sig`, 'malformed'],
  ])('%s', async (_what, make, reason) => {
    expect(await reasonOf(await make())).toBe(reason);
  });

  it('alg: none, signed or not', async () => {
    const payload = b64({ sub: 'user-42', name: 'Ann', aud: 'live-comments', iat: nowS, exp: nowS + 60 });
    expect(await reasonOf(`${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`)).toBe('bad_algorithm');
    expect(await reasonOf(`${b64({ alg: 'none' })}.${payload}.c2ln`)).toBe('bad_algorithm');
  });

  it('RS256, even when its signature is valid for its own key', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({ sub: 'user-42', name: 'Ann', aud: 'live-comments', iat: nowS, exp: nowS + 60 })
      .setProtectedHeader({ alg: 'RS256' })
      .sign(privateKey);
    expect(await reasonOf(token)).toBe('bad_algorithm');
  });

  it('a header that says HS256 over a token signed otherwise, and a tampered payload', async () => {
    const token = await sign();
    const [header, , signature] = token.split('.');
    const forged = b64({ sub: 'admin', name: 'Editor', aud: 'live-comments', iat: nowS, exp: nowS + 60 });
    expect(await reasonOf(`${header}.${forged}.${signature}`)).toBe('bad_signature');
    expect(await reasonOf(token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA'))).toBe('bad_signature');
  });

  it('gives a message for developers, with the claim at fault, and logs the reason but never the token', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const v = new SsoVerifier(settings(), { now: () => NOW, logger });
    const token = await sign({ claims: { badges: ['a', 'b', 'c', 'd'] } });
    const result = await v.verify(token);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(/invalid claims: badges: At most 3 badges/);
    const expired = await sign({ claims: { exp: nowS - 3600 } });
    await v.verify(expired);
    const log = lines.join('');
    expect(log).toContain('"reason":"bad_claims"');
    expect(log).toContain('"reason":"expired"');
    for (const part of [...token.split('.'), ...expired.split('.')]) expect(log).not.toContain(part);
  });
});

describe('SsoVerifier with several secrets (rotation)', () => {
  const two = () =>
    verifier({
      secrets: [
        { kid: 'k1', secret: SECRET_A },
        { kid: 'k2', secret: SECRET_B },
      ],
    });

  it('accepts tokens of either secret, by kid or without one', async () => {
    const v = two();
    expect(await reasonOf(await sign({ kid: 'k1', secret: SECRET_A }), v)).toBe('accepted');
    expect(await reasonOf(await sign({ kid: 'k2', secret: SECRET_B }), v)).toBe('accepted');
    expect(await reasonOf(await sign({ secret: SECRET_A }), v)).toBe('accepted');
    expect(await reasonOf(await sign({ secret: SECRET_B }), v)).toBe('accepted');
  });

  it('refuses an unknown kid, and a kid naming the other secret', async () => {
    const v = two();
    expect(await reasonOf(await sign({ kid: 'k3', secret: SECRET_A }), v)).toBe('unknown_kid');
    expect(await reasonOf(await sign({ kid: 'k2', secret: SECRET_A }), v)).toBe('bad_signature');
  });

  it('an expired token is expired whichever secret signed it, not a bad signature', async () => {
    const token = await sign({ secret: SECRET_B, claims: { exp: nowS - 3600 } });
    expect(await reasonOf(token, two())).toBe('expired');
  });

  it('after the old secret is removed, its tokens are refused', async () => {
    const after = verifier({ secrets: [{ kid: 'k2', secret: SECRET_B }] });
    expect(await reasonOf(await sign({ kid: 'k1', secret: SECRET_A }), after)).toBe('bad_signature');
    expect(await reasonOf(await sign({ kid: 'k2', secret: SECRET_B }), after)).toBe('accepted');
  });
});

describe('SSO settings', () => {
  const problems = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
  };

  it('off without secrets; optional by default with them; the rest defaulted', () => {
    expect(loadConfig({}).sso).toEqual({ mode: 'off', settings: undefined, loginUrl: undefined });
    const config = loadConfig({ SSO_SECRETS: SECRET_A, SSO_LOGIN_URL: 'https://www.example.com/login' });
    expect(config.sso).toEqual({
      mode: 'optional',
      settings: {
        secrets: [{ kid: undefined, secret: SECRET_A }],
        audience: 'live-comments',
        issuer: undefined,
        maxTtlSeconds: 86400,
      },
      loginUrl: 'https://www.example.com/login',
    });
  });

  it('reads a kid:secret list, mode, audience, issuer and lifetime', () => {
    const config = loadConfig({
      SSO_SECRETS: `k1:${SECRET_A}, k2:${SECRET_B}`,
      SSO_MODE: 'required',
      SSO_AUDIENCE: 'https://comments.example.com',
      SSO_ISSUER: 'https://www.example.com',
      SSO_MAX_TTL_SECONDS: '3600',
    });
    expect(config.sso.mode).toBe('required');
    expect(config.sso.settings).toEqual({
      secrets: [
        { kid: 'k1', secret: SECRET_A },
        { kid: 'k2', secret: SECRET_B },
      ],
      audience: 'https://comments.example.com',
      issuer: 'https://www.example.com',
      maxTtlSeconds: 3600,
    });
    expect(loadConfig({ SSO_SECRETS: SECRET_A, SSO_MODE: 'off' }).sso.mode).toBe('off');
  });

  it('refuses short secrets, bad or repeated kids and a mode without secrets, never echoing a secret', () => {
    expect(problems({ SSO_SECRETS: 'short' }).join()).toMatch(/at least 32 characters/);
    expect(problems({ SSO_SECRETS: `k1:${SECRET_A},k2:short` }).join()).toMatch(/kid "k2" must be at least 32/);
    expect(problems({ SSO_SECRETS: `k1:${SECRET_A},k1:${SECRET_B}` }).join()).toMatch(/listed twice/);
    expect(problems({ SSO_SECRETS: `k1:${SECRET_A},${SECRET_B}` }).join()).toMatch(/must be kid:secret/);
    expect(problems({ SSO_MODE: 'required' }).join()).toMatch(/needs SSO_SECRETS/);
    expect(problems({ SSO_SECRETS: SECRET_A, SSO_MAX_TTL_SECONDS: '0' }).join()).toMatch(/at least 1/);
    expect(problems({ SSO_SECRETS: SECRET_A, SSO_LOGIN_URL: 'javascript:alert(1)' }).join()).toMatch(/URL/);
    expect(problems({ SSO_SECRETS: `k1:${SECRET_A},k2:short` }).join()).not.toContain(SECRET_A);
  });
});

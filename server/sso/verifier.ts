import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { toFieldIssues, type FieldIssue } from '../../shared/errors.ts';
import { SSO_LIMITS, SSO_REFUSALS, SsoClaimsSchema, type SsoFailureReason } from '../../shared/sso.ts';
import type { Logger } from '../logger.ts';
import { KeyedLogThrottle } from '../log-throttle.ts';

/** One shared secret of SSO_SECRETS; `kid` is absent only for a single bare secret. */
export interface SsoSecret {
  readonly kid: string | undefined;
  readonly secret: string;
}

/** The verifier's settings (server/config.ts reads them from SSO_*). */
export interface SsoSettings {
  readonly secrets: readonly SsoSecret[];
  /** Required `aud`. */
  readonly audience: string;
  /** Required `iss` when set. */
  readonly issuer: string | undefined;
  /** Longest lifetime (`exp - iat`) a token may have. */
  readonly maxTtlSeconds: number;
}

/** Seconds of clock difference allowed between the host's clock and ours, on `exp`, `nbf` and `iat`. */
export const SSO_CLOCK_SKEW_SECONDS = 60;

/** A signed-in member, as a verified token says. */
export interface MemberIdentity {
  readonly sub: string;
  readonly name: string;
  readonly email: string | undefined;
  readonly avatar: string | undefined;
  readonly badges: readonly string[];
  readonly url: string | undefined;
  readonly jti: string | undefined;
  /** Issue time (s): a stored profile changes only for a newer one. */
  readonly iat: number;
  /** Expiry (s): an identity kept on a connection is checked against it at every write. */
  readonly exp: number;
}

export type SsoVerification =
  | { readonly ok: true; readonly member: MemberIdentity }
  | {
      readonly ok: false;
      readonly reason: SsoFailureReason;
      readonly message: string;
      readonly issues?: FieldIssue[];
    };

const refused = (reason: SsoFailureReason, issues?: FieldIssue[]): SsoVerification =>
  issues === undefined
    ? { ok: false, reason, message: SSO_REFUSALS[reason] }
    : { ok: false, reason, message: `${SSO_REFUSALS[reason]}: ${issues.map(describe).join('; ')}`, issues };

const describe = (issue: FieldIssue): string => (issue.path ? `${issue.path}: ${issue.message}` : issue.message);

/** What a jose failure means for the host's developers. */
function reasonOf(error: unknown): SsoFailureReason {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return 'bad_algorithm';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return 'wrong_audience';
    if (error.claim === 'iss') return 'wrong_issuer';
    if ((error.claim === 'nbf' || error.claim === 'iat') && error.reason === 'check_failed') return 'not_yet_valid';
    return 'bad_claims';
  }
  return 'malformed';
}

/**
 * Verifies member tokens signed by the host (HS256 JWTs, with `jose`): the algorithm is pinned to
 * HS256 (`none`, RS*, HS512 refused); a `kid` picks its secret, and an unknown one is refused when
 * several secrets are set (with one, it is tried); a token without `kid` is tried with each secret,
 * so secrets rotate without downtime. `aud` must be SSO_AUDIENCE, `iss` SSO_ISSUER when set, `exp`
 * and `iat` are required, `exp - iat` at most SSO_MAX_TTL_SECONDS, with 60 s of clock skew. The claims
 * are then checked with the shared schema (the name by our name rules).
 *
 * A refusal says why (a reason code and a message for the host's developers); it is logged with the
 * reason and the `kid`, never the token.
 */
export class SsoVerifier {
  readonly #settings: SsoSettings;
  readonly #logger: Logger | undefined;
  readonly #now: () => Date;
  readonly #keys: ReadonlyArray<{ kid: string | undefined; key: Uint8Array }>;
  /** Each reason is logged at most once per 10 s: a flood of bad tokens is not a flood of log lines. */
  readonly #logThrottle = new KeyedLogThrottle(10_000, 32);

  constructor(settings: SsoSettings, options: { logger?: Logger; now?: () => Date } = {}) {
    if (settings.secrets.length === 0) throw new Error('SsoVerifier needs at least one secret');
    this.#settings = settings;
    this.#logger = options.logger;
    this.#now = options.now ?? (() => new Date());
    this.#keys = settings.secrets.map((s) => ({ kid: s.kid, key: new TextEncoder().encode(s.secret) }));
  }

  /** Checks a token; never throws. */
  async verify(token: string): Promise<SsoVerification> {
    const result = await this.#verify(token);
    if (!result.ok) {
      const reason = result.reason;
      this.#logThrottle.run(reason, () => this.#logger?.info({ reason }, `sign-in token refused: ${reason}`));
    }
    return result;
  }

  async #verify(token: string): Promise<SsoVerification> {
    if (token.length > SSO_LIMITS.tokenMax || token.split('.').length !== 3) return refused('malformed');
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      return refused('malformed');
    }
    if (header.alg !== 'HS256') return refused('bad_algorithm');
    const kid = header.kid;
    if (kid !== undefined && typeof kid !== 'string') return refused('malformed');
    let candidates = this.#keys;
    if (kid !== undefined) {
      const named = this.#keys.filter((k) => k.kid === kid);
      if (named.length > 0) candidates = named;
      else if (this.#keys.length > 1) return refused('unknown_kid');
    }
    const now = this.#now();
    let last: unknown;
    for (const { key } of candidates) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          audience: this.#settings.audience,
          ...(this.#settings.issuer === undefined ? {} : { issuer: this.#settings.issuer }),
          requiredClaims: ['sub', 'iat', 'exp'],
          clockTolerance: SSO_CLOCK_SKEW_SECONDS,
          currentDate: now,
        });
        return this.#claims(payload, now);
      } catch (error) {
        last = error;
        // Another secret may have signed it; any other failure is the token's, whichever secret.
        if (!(error instanceof errors.JWSSignatureVerificationFailed)) break;
      }
    }
    return refused(reasonOf(last));
  }

  #claims(payload: JWTPayload, now: Date): SsoVerification {
    // jose checked that `iat` and `exp` are numbers and `exp` is not past; the rest of time is ours.
    const { iat = 0, exp = 0 } = payload;
    if (iat > now.getTime() / 1000 + SSO_CLOCK_SKEW_SECONDS) return refused('not_yet_valid');
    if (exp - iat > this.#settings.maxTtlSeconds) return refused('too_long_lived');
    const parsed = SsoClaimsSchema.safeParse(payload);
    if (!parsed.success) return refused('bad_claims', toFieldIssues(parsed.error.issues));
    const claims = parsed.data;
    return {
      ok: true,
      member: Object.freeze({
        sub: claims.sub,
        name: claims.name,
        email: claims.email,
        avatar: claims.avatar,
        badges: Object.freeze([...(claims.badges ?? [])]),
        url: claims.url,
        jti: claims.jti,
        iat: claims.iat,
        exp: claims.exp,
      }),
    };
  }
}

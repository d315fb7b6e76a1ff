import { AppError } from '../../shared/errors.ts';
import type { SsoMode } from '../config.ts';
import type { MemberIdentity, SsoVerifier } from './verifier.ts';

/** A JWS compact token has exactly two dots; author tokens and the ADMIN_TOKEN have none. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/** Who a connection or request is: a member, a guest, or the holder of a refused token (and why). */
export type MemberState =
  | { readonly kind: 'guest' }
  | { readonly kind: 'member'; readonly member: MemberIdentity }
  | { readonly kind: 'refused'; readonly error: AppError };

/**
 * The edge of sign-in: turns a member token (REST `Authorization: Bearer <jwt>`, the socket's
 * handshake `auth.ssoToken` or `auth:set`) into a MemberIdentity, or an `unauthenticated` (401) error saying
 * why. With SSO_MODE=off every token is ignored and everyone is a guest.
 */
export class MemberAuth {
  readonly mode: SsoMode;
  readonly #verifier: SsoVerifier | undefined;

  constructor(mode: SsoMode, verifier: SsoVerifier | undefined) {
    this.mode = verifier === undefined ? 'off' : mode;
    this.#verifier = verifier;
  }

  get enabled(): boolean {
    return this.mode !== 'off';
  }

  /** A token's state; never throws. */
  async state(token: string | undefined): Promise<MemberState> {
    if (token === undefined || this.#verifier === undefined) return { kind: 'guest' };
    const result = await this.#verifier.verify(token);
    return result.ok
      ? { kind: 'member', member: result.member }
      : { kind: 'refused', error: new AppError('unauthenticated', result.message, { issues: result.issues }) };
  }
}

import { AppError } from '../../shared/errors.ts';
import { SSO_REFUSALS } from '../../shared/sso.ts';
import { adminTokenMatches } from '../comments/admin-token.ts';
import type { SsoMode } from '../config.ts';
import { looksLikeJwt, type MemberAuth } from '../sso/member-auth.ts';
import { SSO_CLOCK_SKEW_SECONDS, type MemberIdentity } from '../sso/verifier.ts';

/**
 * Who acts, decided once at the edge (server/http/actor.ts for HTTP, the connection for a socket) and
 * handed to every service method that changes something; the service enforces the rule of {@link MAY}.
 *
 * A new kind of actor (a signed-in `Member`, say) is one more interface in {@link Actor}, a way to
 * resolve it in {@link ActorPolicy.resolve}, and its kind added to the rows of {@link MAY} it may do.
 */
interface ActorBase {
  /** The client address as the edge sees it (behind TRUST_PROXY): the author key of a guest's posts. */
  readonly clientIp: string | undefined;
}

/** A reader with no account. Proves authorship of one comment with the token it got for it. */
export interface Guest extends ActorBase {
  readonly kind: 'guest';
  /** The bearer token presented, if any (an author token, checked against the comment's stored hash). */
  readonly authorToken: string | undefined;
  /**
   * A member token was presented and refused (`unauthenticated`, saying why): the guest's writes are
   * refused with it, never made as a guest's. Reading is unaffected.
   */
  readonly signInRefused?: AppError;
}

/**
 * A reader the host site signed in (a verified member token, server/sso): posts under their stored
 * profile with an author key made from `sub`, changes their own comments from any device, likes once
 * per account. Their token's `exp` is checked again at every action (a connection outlives it).
 */
export interface Member extends ActorBase {
  readonly kind: 'member';
  readonly identity: MemberIdentity;
}

/** Whoever presents the ADMIN_TOKEN. */
export interface Moderator extends ActorBase {
  readonly kind: 'moderator';
}

export type Actor = Guest | Member | Moderator;

/** A guest with the given credentials (none: an anonymous reader from nowhere, as in-process tools post). */
export function guest(credentials: { authorToken?: string | undefined; clientIp?: string | undefined } = {}): Guest {
  return { kind: 'guest', authorToken: credentials.authorToken, clientIp: credentials.clientIp };
}
export type ActorKind = Actor['kind'];

/**
 * The rule table: which kinds of actor may do what. The service asks it before acting; routes and
 * socket handlers never check roles themselves. A guest's edit and removal are further limited to
 * its own comments (the author token) and, for edits, to the edit window; the service checks that.
 */
export const MAY = {
  /** Post a comment (subject to bans, locks and pre-moderation). */
  'comment:post': ['guest', 'member', 'moderator'],
  /** Edit a comment: a guest or member its own, within the window; a moderator any, any time. */
  'comment:edit': ['guest', 'member', 'moderator'],
  /** Remove a comment: a guest or member its own (the body is erased); a moderator any (the body is kept). */
  'comment:remove': ['guest', 'member', 'moderator'],
  /** Like a comment or take the like back. */
  'comment:like': ['guest', 'member', 'moderator'],
  /** Show other readers that one is writing (typing indicators): whoever may post. */
  'comment:typing': ['guest', 'member', 'moderator'],
  /** Report a comment to the moderators (one report per reader per comment). */
  'comment:report': ['guest', 'member', 'moderator'],
  /** Read and erase one's own data (GET /api/me/comments, DELETE /api/me). */
  'member:own-data': ['member'],
  /** Remove keeping the body for restore, and restore. */
  'comment:moderate': ['moderator'],
  /** List, approve and reject held comments; review reported ones. */
  'held:review': ['moderator'],
  /** Ban and unban authors, list bans. */
  'author:ban': ['moderator'],
  /** Read and change an article's lock and pre-moderation. */
  'article:configure': ['moderator'],
  /** Read and change the moderation pipeline's settings (word lists, links, repeats, …). */
  'moderation:configure': ['moderator'],
  /** Read the moderators' feed, and watch it live. */
  'feed:watch': ['moderator'],
  /** Sign in to the admin page (it only learns whether the token is a moderator's). */
  'moderation:sign-in': ['moderator'],
  /** Import and export comments. */
  'comments:transfer': ['moderator'],
  /** Add, list and remove webhooks, read their deliveries and the outbox's health. */
  'notifications:manage': ['moderator'],
  /** Edits and deletes not counted against the abuse budgets. */
  'writes:unmetered': ['moderator'],
} as const satisfies Record<string, readonly ActorKind[]>;

export type Action = keyof typeof MAY;

/** What a guest may not do with SSO_MODE=required (nor a guest whose member token was refused). */
const SIGNED_IN_ACTIONS: ReadonlySet<Action> = new Set([
  'comment:post',
  'comment:typing',
  'comment:edit',
  'comment:remove',
  'comment:like',
  'comment:report',
  'member:own-data',
]);

/** Turns credentials into an actor, and answers whether an actor may do an action. */
export class ActorPolicy {
  readonly #adminToken: string | undefined;
  readonly #members: MemberAuth | undefined;
  readonly #now: () => number;

  constructor(options: { adminToken?: string | undefined; members?: MemberAuth; now?: () => number } = {}) {
    this.#adminToken = options.adminToken;
    this.#members = options.members?.enabled ? options.members : undefined;
    this.#now = options.now ?? Date.now;
  }

  /** SSO_MODE as in force (`off` without secrets). */
  get ssoMode(): SsoMode {
    return this.#members?.mode ?? 'off';
  }

  /**
   * {@link resolve}, and with sign-in on, a member token (a JWT: two dots) verified: a member, or a
   * guest whose writes are refused saying why. Never throws.
   */
  async resolveSigned(credentials: { bearer?: string | undefined; clientIp?: string | undefined }): Promise<Actor> {
    const { bearer, clientIp } = credentials;
    if (this.#members === undefined || bearer === undefined || !looksLikeJwt(bearer)) return this.resolve(credentials);
    const state = await this.#members.state(bearer);
    if (state.kind === 'member') return { kind: 'member', identity: state.member, clientIp };
    return state.kind === 'refused'
      ? { kind: 'guest', authorToken: undefined, clientIp, signInRefused: state.error }
      : guest({ clientIp });
  }

  /** Whether moderation is configured at all (ADMIN_TOKEN); without it nobody is a moderator. */
  get moderationEnabled(): boolean {
    return this.#adminToken !== undefined;
  }

  /** The actor the credentials make: the ADMIN_TOKEN (compared in constant time) a moderator, anything else a guest. */
  resolve(credentials: { bearer?: string | undefined; clientIp?: string | undefined }): Actor {
    const clientIp = credentials.clientIp;
    if (adminTokenMatches(credentials.bearer, this.#adminToken)) return { kind: 'moderator', clientIp };
    return { kind: 'guest', authorToken: credentials.bearer, clientIp };
  }

  may(actor: Actor, action: Action): boolean {
    return (MAY[action] as readonly ActorKind[]).includes(actor.kind);
  }

  /**
   * Throws `forbidden` unless the actor may do the action; `unauthenticated` when the action needs a
   * member (SSO_MODE=required, or one's own data) and the actor is a guest, or a member whose token
   * has expired since.
   */
  authorize(actor: Actor, action: Action): void {
    if (actor.kind === 'member' && actor.identity.exp + SSO_CLOCK_SKEW_SECONDS <= this.#now() / 1000)
      throw new AppError('unauthenticated', SSO_REFUSALS.expired);
    if (actor.kind === 'guest' && SIGNED_IN_ACTIONS.has(action)) {
      if (actor.signInRefused) throw actor.signInRefused;
      if (this.ssoMode === 'required' || action === 'member:own-data')
        throw new AppError('unauthenticated', SSO_REFUSALS.missing);
    }
    if (this.may(actor, action)) return;
    const onlyModerators = MAY[action].length === 1 && MAY[action][0] === 'moderator';
    if (onlyModerators && !this.moderationEnabled)
      throw new AppError('forbidden', 'Moderation is not configured on this server (ADMIN_TOKEN)');
    throw new AppError('forbidden', onlyModerators ? 'A moderator token is required' : 'You may not do this');
  }
}

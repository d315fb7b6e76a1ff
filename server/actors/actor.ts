import { AppError } from '../../shared/errors.ts';
import { adminTokenMatches } from '../comments/admin-token.ts';

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
}

/** Whoever presents the ADMIN_TOKEN. */
export interface Moderator extends ActorBase {
  readonly kind: 'moderator';
}

export type Actor = Guest | Moderator;

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
  'comment:post': ['guest', 'moderator'],
  /** Edit a comment: a guest its own, within the window; a moderator any, any time. */
  'comment:edit': ['guest', 'moderator'],
  /** Remove a comment: a guest its own (the body is erased); a moderator any (the body is kept). */
  'comment:remove': ['guest', 'moderator'],
  /** Like a comment or take the like back. */
  'comment:like': ['guest', 'moderator'],
  /** Remove keeping the body for restore, and restore. */
  'comment:moderate': ['moderator'],
  /** List, approve and reject held comments. */
  'held:review': ['moderator'],
  /** Ban and unban authors, list bans. */
  'author:ban': ['moderator'],
  /** Read and change an article's lock and pre-moderation. */
  'article:configure': ['moderator'],
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

/** Turns credentials into an actor, and answers whether an actor may do an action. */
export class ActorPolicy {
  readonly #adminToken: string | undefined;

  constructor(options: { adminToken?: string | undefined } = {}) {
    this.#adminToken = options.adminToken;
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

  /** Throws `forbidden` unless the actor may do the action. */
  authorize(actor: Actor, action: Action): void {
    if (this.may(actor, action)) return;
    const onlyModerators = MAY[action].length === 1 && MAY[action][0] === 'moderator';
    if (onlyModerators && !this.moderationEnabled)
      throw new AppError('forbidden', 'Moderation is not configured on this server (ADMIN_TOKEN)');
    throw new AppError('forbidden', onlyModerators ? 'A moderator token is required' : 'You may not do this');
  }
}

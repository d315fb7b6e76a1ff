import type { Request, RequestHandler } from 'express';
import type { Action, Actor, ActorPolicy } from '../actors/actor.ts';
import { bearerToken } from '../comments/admin-token.ts';

const actors = new WeakMap<Request, Actor>();

/**
 * Decides who acts once per request (`Authorization: Bearer …`, a member token verified, and the client
 * IP); read with {@link actorOf}.
 */
export function resolveActor(policy: ActorPolicy): RequestHandler {
  return (req, _res, next) => {
    policy.resolveSigned({ bearer: bearerToken(req.get('authorization')), clientIp: req.ip }).then((actor) => {
      actors.set(req, actor);
      next();
    }, next);
  };
}

/** The actor {@link resolveActor} decided for this request. */
export function actorOf(req: Request): Actor {
  const actor = actors.get(req);
  if (actor === undefined) throw new Error('resolveActor is not mounted before this route');
  return actor;
}

/** For routes that call no service (import, export, the admin session): the rule of `action`, from the table. */
export function requireMay(policy: ActorPolicy, action: Action): RequestHandler {
  return (req, _res, next) => {
    policy.authorize(actorOf(req), action);
    next();
  };
}

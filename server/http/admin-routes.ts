import { Router, type RequestHandler } from 'express';
import * as z from 'zod/mini';
import {
  AdminFeedQuerySchema,
  ArticleSettingsInputSchema,
  AuthorKeySchema,
  BanInputSchema,
  HeldQuerySchema,
  type AdminFeed,
  type AdminSession,
  type BanList,
  type BanResult,
  type HeldList,
  type ModeratedResult,
  type RejectResult,
  type UnbanResult,
} from '../../shared/moderation.ts';
import { ArticleIdSchema, CommentIdSchema, type ArticleState } from '../../shared/schemas.ts';
import type { ReportedList, ReportedResult } from '../../shared/reports.ts';
import { parseInput } from '../../shared/validate.ts';
import type { Actor, ActorPolicy } from '../actors/actor.ts';
import type { CommentService } from '../comments/service.ts';
import { actorOf, requireMay } from './actor.ts';

/** Actions on one comment take no fields: an absent body or `{}`. */
const NoFieldsSchema = z.optional(z.strictObject({}));

/** Moderators' answers are never cached. */
const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

/**
 * The moderators' API, mounted at /api/admin inside the API router (after resolveActor). Every
 * route needs `Authorization: Bearer <ADMIN_TOKEN>`: the service refuses any other actor with 403
 * `forbidden` (server/actors/actor.ts), as it does without ADMIN_TOKEN configured. Answers are never cached.
 */
export function createAdminRoutes(service: CommentService, policy: ActorPolicy): Router {
  const router = Router();
  router.use(noStore);
  // The door of the admin API, from the same rule table: a guest is refused before its input is read
  // (nothing about the shapes of moderators' requests is told to it). Each service method still
  // enforces its own rule.
  router.use(requireMay(policy, 'moderation:sign-in'));

  // One comment, no body: the action's answer is the comment as moderators see it after it.
  const commentActions: Array<[path: string, act: (actor: Actor, id: string) => Promise<ModeratedResult['comment']>]> =
    [
      ['/comments/:id/remove', (actor, id) => service.moderatorRemove(actor, id)],
      ['/comments/:id/restore', (actor, id) => service.restore(actor, id)],
      ['/held/:id/approve', (actor, id) => service.approve(actor, id)],
    ];
  for (const [path, act] of commentActions) {
    router.post(path, async (req, res) => {
      const id = parseInput(CommentIdSchema, req.params.id, 'comment id');
      parseInput(NoFieldsSchema, req.body, 'body');
      const answer: ModeratedResult = { comment: await act(actorOf(req), id) };
      res.json(answer);
    });
  }

  // Sign-in of the admin page: answers only whether the token is a moderator's.
  router.get('/session', (_req, res) => {
    const answer: AdminSession = { moderator: true };
    res.json(answer);
  });

  router.get('/held', async (req, res) => {
    const { limit } = parseInput(HeldQuerySchema, req.query, 'query');
    const answer: HeldList = { held: await service.heldList(actorOf(req), limit) };
    res.json(answer);
  });

  router.get('/reports', async (req, res) => {
    const { limit } = parseInput(HeldQuerySchema, req.query, 'query');
    const answer: ReportedList = { reported: await service.reportedList(actorOf(req), limit) };
    res.json(answer);
  });

  // Keep a reported comment: restored if reports took it out of view; out of the queue either way.
  router.post('/reports/:id/keep', async (req, res) => {
    const id = parseInput(CommentIdSchema, req.params.id, 'comment id');
    parseInput(NoFieldsSchema, req.body, 'body');
    const answer: ReportedResult = { reported: await service.keepReported(actorOf(req), id) };
    res.json(answer);
  });

  router.post('/held/:id/reject', async (req, res) => {
    const id = parseInput(CommentIdSchema, req.params.id, 'comment id');
    parseInput(NoFieldsSchema, req.body, 'body');
    await service.reject(actorOf(req), id);
    const answer: RejectResult = { rejected: id };
    res.json(answer);
  });

  router.get('/feed', async (req, res) => {
    const { limit, articleId } = parseInput(AdminFeedQuerySchema, req.query, 'query');
    const answer: AdminFeed = { comments: await service.feed(actorOf(req), { limit, articleId }) };
    res.json(answer);
  });

  router.post('/bans', async (req, res) => {
    const input = parseInput(BanInputSchema, req.body, 'ban');
    const answer: BanResult = { ban: await service.ban(actorOf(req), input) };
    res.status(201).json(answer);
  });

  router.get('/bans', async (req, res) => {
    const answer: BanList = { bans: await service.bans(actorOf(req)) };
    res.json(answer);
  });

  router.delete('/bans/:authorKey', async (req, res) => {
    const authorKey = parseInput(AuthorKeySchema, req.params.authorKey, 'author key');
    await service.unban(actorOf(req), authorKey);
    const answer: UnbanResult = { unbanned: authorKey };
    res.json(answer);
  });

  router.get('/articles/:articleId', async (req, res) => {
    const articleId = parseInput(ArticleIdSchema, req.params.articleId, 'article id');
    const answer: ArticleState = await service.articleState(actorOf(req), articleId);
    res.json(answer);
  });

  router.put('/articles/:articleId', async (req, res) => {
    const articleId = parseInput(ArticleIdSchema, req.params.articleId, 'article id');
    const patch = parseInput(ArticleSettingsInputSchema, req.body, 'settings');
    const answer: ArticleState = await service.setArticleState(actorOf(req), articleId, {
      ...(patch.locked === undefined ? {} : { locked: patch.locked }),
      ...(patch.premoderated === undefined ? {} : { premoderated: patch.premoderated }),
    });
    res.json(answer);
  });

  return router;
}

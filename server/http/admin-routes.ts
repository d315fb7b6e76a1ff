import { Router, type RequestHandler } from 'express';
import * as z from 'zod/mini';
import { AppError } from '../../shared/errors.ts';
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
import { parseInput } from '../../shared/validate.ts';
import { bearerToken } from '../comments/admin-token.ts';
import type { CommentService } from '../comments/service.ts';

/** Actions on one comment take no fields: an absent body or `{}`. */
const NoFieldsSchema = z.optional(z.strictObject({}));

/** Lets only moderators through (`Authorization: Bearer <ADMIN_TOKEN>`), and marks the answer not to be cached. */
export function requireModerator(service: CommentService): RequestHandler {
  return (req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    if (!service.moderationEnabled)
      throw new AppError('forbidden', 'Moderation is not configured on this server (ADMIN_TOKEN)');
    if (!service.isModerator(bearerToken(req.get('authorization'))))
      throw new AppError('forbidden', 'A moderator token is required');
    next();
  };
}

/**
 * The moderators' API, mounted at /api/admin inside the API router. Every route needs
 * `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant time); without ADMIN_TOKEN configured
 * every route answers 403 `forbidden`. Answers are never cached.
 */
export function createAdminRoutes(service: CommentService): Router {
  const router = Router();
  router.use(requireModerator(service));

  // One comment, no body: the action's answer is the comment as moderators see it after it.
  const commentActions: Array<[path: string, act: (id: string) => Promise<ModeratedResult['comment']>]> = [
    ['/comments/:id/remove', (id) => service.moderatorRemove(id)],
    ['/comments/:id/restore', (id) => service.restore(id)],
    ['/held/:id/approve', (id) => service.approve(id)],
  ];
  for (const [path, act] of commentActions) {
    router.post(path, async (req, res) => {
      const id = parseInput(CommentIdSchema, req.params.id, 'comment id');
      parseInput(NoFieldsSchema, req.body, 'body');
      const answer: ModeratedResult = { comment: await act(id) };
      res.json(answer);
    });
  }

  // Sign-in of the admin page: answers only whether the token is a moderator's (requireModerator did the work).
  router.get('/session', (_req, res) => {
    const answer: AdminSession = { moderator: true };
    res.json(answer);
  });

  router.get('/held', async (req, res) => {
    const { limit } = parseInput(HeldQuerySchema, req.query, 'query');
    const answer: HeldList = { held: await service.heldList(limit) };
    res.json(answer);
  });

  router.post('/held/:id/reject', async (req, res) => {
    const id = parseInput(CommentIdSchema, req.params.id, 'comment id');
    parseInput(NoFieldsSchema, req.body, 'body');
    await service.reject(id);
    const answer: RejectResult = { rejected: id };
    res.json(answer);
  });

  router.get('/feed', async (req, res) => {
    const { limit, articleId } = parseInput(AdminFeedQuerySchema, req.query, 'query');
    const answer: AdminFeed = { comments: await service.feed({ limit, articleId }) };
    res.json(answer);
  });

  router.post('/bans', async (req, res) => {
    const input = parseInput(BanInputSchema, req.body, 'ban');
    const answer: BanResult = { ban: await service.ban(input) };
    res.status(201).json(answer);
  });

  router.get('/bans', async (_req, res) => {
    const answer: BanList = { bans: await service.bans() };
    res.json(answer);
  });

  router.delete('/bans/:authorKey', async (req, res) => {
    const authorKey = parseInput(AuthorKeySchema, req.params.authorKey, 'author key');
    await service.unban(authorKey);
    const answer: UnbanResult = { unbanned: authorKey };
    res.json(answer);
  });

  router.get('/articles/:articleId', async (req, res) => {
    const articleId = parseInput(ArticleIdSchema, req.params.articleId, 'article id');
    const answer: ArticleState = await service.articleState(articleId);
    res.json(answer);
  });

  router.put('/articles/:articleId', async (req, res) => {
    const articleId = parseInput(ArticleIdSchema, req.params.articleId, 'article id');
    const patch = parseInput(ArticleSettingsInputSchema, req.body, 'settings');
    const answer: ArticleState = await service.setArticleState(articleId, {
      ...(patch.locked === undefined ? {} : { locked: patch.locked }),
      ...(patch.premoderated === undefined ? {} : { premoderated: patch.premoderated }),
    });
    res.json(answer);
  });

  return router;
}

import { Router, type RequestHandler } from 'express';
import {
  ArticleIdSchema,
  CommentIdSchema,
  EditCommentSchema,
  LikeCommentSchema,
  ReaderLikesQuerySchema,
  type CommentResult,
  type LikeResult,
  type ReaderLikes,
} from '../../shared/schemas.ts';
import { parseInput } from '../../shared/validate.ts';
import { ReportCommentSchema, type ReportResult } from '../../shared/reports.ts';
import { actorOf } from './actor.ts';
import type { CommentService } from '../comments/service.ts';
import type { CommentWriteLimits } from '../abuse/guards.ts';

const pass: RequestHandler = (_req, _res, next) => next();
const NO_LIMITS: CommentWriteLimits = { edit: pass, delete: pass, like: pass, report: pass };

/**
 * A reader's own comments and likes (mounted inside the API router, after its JSON parser and resolveActor):
 * `PATCH` / `DELETE /comments/:id` with `Authorization: Bearer <authorToken>` (or the ADMIN_TOKEN, or a
 * member token),
 * `POST /comments/:id/like`, `POST /comments/:id/report`, and `GET /articles/:articleId/likes?reader=`.
 */
export function createCommentRoutes(service: CommentService, limits: CommentWriteLimits = NO_LIMITS): Router {
  const router = Router();

  router.patch('/comments/:id', limits.edit, async (req, res) => {
    const id = parseInput(CommentIdSchema, req.params.id, 'comment id');
    const { body } = parseInput(EditCommentSchema, req.body, 'edit');
    const answer: CommentResult = { comment: await service.edit(actorOf(req), id, body) };
    res.json(answer);
  });

  router.delete('/comments/:id', limits.delete, async (req, res) => {
    const id = parseInput(CommentIdSchema, req.params.id, 'comment id');
    const answer: CommentResult = { comment: await service.remove(actorOf(req), id) };
    res.json(answer);
  });

  router.post('/comments/:id/like', limits.like, async (req, res) => {
    const id = parseInput(CommentIdSchema, req.params.id, 'comment id');
    const { readerId, liked } = parseInput(LikeCommentSchema, req.body, 'like');
    const answer: LikeResult = await service.like(actorOf(req), id, readerId, liked);
    res.json(answer);
  });

  router.post('/comments/:id/report', limits.report, async (req, res) => {
    const id = parseInput(CommentIdSchema, req.params.id, 'comment id');
    const input = parseInput(ReportCommentSchema, req.body, 'report');
    const answer: ReportResult = await service.report(actorOf(req), id, input);
    res.status(answer.report.created ? 201 : 200).json(answer);
  });

  router.get('/articles/:articleId/likes', async (req, res) => {
    const articleId = parseInput(ArticleIdSchema, req.params.articleId, 'article id');
    const { reader } = parseInput(ReaderLikesQuerySchema, req.query, 'query');
    const answer: ReaderLikes = { articleId, commentIds: await service.readerLikes(actorOf(req), articleId, reader) };
    // Per reader: a shared cache must not hand one reader's likes to another.
    res.setHeader('Cache-Control', 'private, no-store');
    res.json(answer);
  });

  return router;
}

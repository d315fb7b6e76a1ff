import express, { Router, type RequestHandler } from 'express';
import { AppError } from '../../shared/errors.ts';
import {
  ArticleIdSchema,
  ChangesQuerySchema,
  CommentIdSchema,
  CountsQuerySchema,
  LIMITS,
  PageQuerySchema,
  RepliesQuerySchema,
  type Article,
  type CommentLocation,
  type Counts,
  type RepliesPage,
  type SsoInfo,
} from '../../shared/schemas.ts';
import { parseInput } from '../../shared/validate.ts';
import type { ActorPolicy } from '../actors/actor.ts';
import { postAnswer, type CommentService } from '../comments/service.ts';
import { PostInputSchema, type PostAnswer } from '../../shared/reply-emails.ts';
import type { CommentWriteLimits } from '../abuse/guards.ts';
import { actorOf } from './actor.ts';
import { MyCommentsQuerySchema, type Erased, type MyComments } from '../../shared/sso.ts';
import { createAdminRoutes } from './admin-routes.ts';
import { createCommentRoutes } from './comment-routes.ts';
import { requireJsonBody } from './cross-origin.ts';

export interface ApiDeps {
  service: CommentService;
  /** Who acts (server/actors/actor.ts), decided once per request. */
  policy: ActorPolicy;
  /** Article texts the server can serve (the demo article). */
  articles: ReadonlyMap<string, Article>;
  /** Runs before a post is read (after the JSON parser): the post budgets, answering 429 `rate_limited` with Retry-After. */
  postLimit?: RequestHandler;
  /** The budgets of edits, deletes and likes, likewise. */
  commentWriteLimits?: CommentWriteLimits;
  /** More moderator routes under /api/admin (webhooks and the outbox, server/http/notify-routes.ts). */
  adminExtras?: Router;
  /** SSO_LOGIN_URL, told to the widget with SSO_MODE (policy.ssoMode) in every page answer when sign-in is on. */
  ssoLoginUrl?: string | undefined;
  /** SMTP_URL is set: pages say `replyEmails: true`, so the widget offers reply e-mails. */
  replyEmails?: boolean;
}

/** Body size limit for every JSON write; a bigger body is a 413. */
export const JSON_BODY_LIMIT = '64kb';

/** The REST API of protocol v1 (docs/protocol.md), mounted at /api after resolveActor (server/http/actor.ts). */
export function createApiRouter({
  service,
  policy,
  articles,
  postLimit = (_req, _res, next) => next(),
  commentWriteLimits,
  adminExtras,
  ssoLoginUrl,
  replyEmails = false,
}: ApiDeps): Router {
  const router = Router();
  const mode = policy.ssoMode;
  const sso: SsoInfo | undefined =
    mode === 'off' ? undefined : { mode, ...(ssoLoginUrl === undefined ? {} : { loginUrl: ssoLoginUrl }) };
  router.use(requireJsonBody);
  router.use(express.json({ limit: JSON_BODY_LIMIT, strict: true, type: 'application/json' }));

  router.get('/articles/:articleId', (req, res) => {
    const articleId = parseInput(ArticleIdSchema, req.params.articleId, 'article id');
    const article = articles.get(articleId);
    if (!article) throw new AppError('not_found', 'No article text is stored for this id');
    res.json(article);
  });

  router.get('/articles/:articleId/comments', async (req, res) => {
    const articleId = parseInput(ArticleIdSchema, req.params.articleId, 'article id');
    const query = parseInput(PageQuerySchema, req.query, 'query');
    const page = await service.page(articleId, query);
    res.json({ ...page, ...(sso === undefined ? {} : { sso }), ...(replyEmails ? { replyEmails } : {}) });
  });

  router.get('/articles/:articleId/comments/:commentId', async (req, res) => {
    const articleId = parseInput(ArticleIdSchema, req.params.articleId, 'article id');
    const commentId = parseInput(CommentIdSchema, req.params.commentId, 'comment id');
    const answer: CommentLocation = await service.locate(articleId, commentId);
    res.json(answer);
  });

  router.get('/articles/:articleId/comments/:commentId/replies', async (req, res) => {
    const articleId = parseInput(ArticleIdSchema, req.params.articleId, 'article id');
    const commentId = parseInput(CommentIdSchema, req.params.commentId, 'comment id');
    const query = parseInput(RepliesQuerySchema, req.query, 'query');
    const answer: RepliesPage = await service.replies(articleId, commentId, query);
    res.json(answer);
  });

  router.get('/articles/:articleId/changes', async (req, res) => {
    const articleId = parseInput(ArticleIdSchema, req.params.articleId, 'article id');
    const { since } = parseInput(ChangesQuerySchema, req.query, 'query');
    res.json(await service.changesSince(articleId, since));
  });

  router.post('/articles/:articleId/comments', postLimit, async (req, res) => {
    const articleId = parseInput(ArticleIdSchema, req.params.articleId, 'article id');
    const input = parseInput(PostInputSchema, req.body, 'comment');
    const outcome = await service.post(actorOf(req), articleId, input);
    // 202: held for a moderator (repeated or not); 201 stored; 200 a repeated clientId's stored comment.
    const body: PostAnswer = postAnswer(outcome);
    // Written as it is: res.json() would also hash the answer for an ETag, which no POST answer uses.
    res
      .status('held' in outcome ? 202 : outcome.created ? 201 : 200)
      .setHeader('Content-Type', 'application/json; charset=utf-8')
      .end(JSON.stringify(body));
  });

  // A member's own data (member token): their comments as JSON, and erasing them.
  router.get('/me/comments', async (req, res) => {
    const { articleId } = parseInput(MyCommentsQuerySchema, req.query, 'query');
    const answer: MyComments = await service.myComments(actorOf(req), articleId);
    res.setHeader('Cache-Control', 'private, no-store');
    res.json(answer);
  });

  router.delete('/me', async (req, res) => {
    const answer: Erased = await service.eraseMe(actorOf(req));
    res.json(answer);
  });

  router.get('/counts', async (req, res) => {
    const { articles: ids } = parseInput(CountsQuerySchema, req.query, 'query');
    if (ids.length === 0)
      throw new AppError('invalid_input', 'articles must list at least one article id', {
        issues: [{ path: 'articles', message: 'Required' }],
      });
    if (ids.length > LIMITS.countsMax)
      throw new AppError('invalid_input', `At most ${LIMITS.countsMax} articles per request`, {
        issues: [{ path: 'articles', message: 'Too many' }],
      });
    const valid = ids.map((id) => parseInput(ArticleIdSchema, id, 'article id'));
    const body: Counts = { counts: await service.counts(valid) };
    res.json(body);
  });

  router.use(createCommentRoutes(service, commentWriteLimits));
  router.use('/admin', createAdminRoutes(service, policy));
  if (adminExtras) router.use('/admin', adminExtras);

  return router;
}

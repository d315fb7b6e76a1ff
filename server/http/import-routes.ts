import { Router, type RequestHandler } from 'express';
import * as z from 'zod/mini';
import { AppError } from '../../shared/errors.ts';
import { ImportQuerySchema, type ImportJobResult } from '../../shared/import-export.ts';
import { parseInput } from '../../shared/validate.ts';
import type { ActorPolicy } from '../actors/actor.ts';
import { ImportFileError } from '../import/errors.ts';
import type { ImportJobs } from '../import/jobs.ts';
import { writeNativeExport } from '../import/native.ts';
import type { CommentStore } from '../storage/port.ts';
import { actorOf } from './actor.ts';

const JobIdSchema = z.string().check(z.regex(/^[A-Za-z0-9_-]{8,32}$/, 'Not a job id'));

/**
 * The admin API's import and export (docs/import-export.md), mounted at /api/admin before the JSON-only
 * API: an import's body is the file itself (XML, JSON lines, or gzip of either), streamed, never buffered.
 */
export function createImportRoutes(deps: { policy: ActorPolicy; store: CommentStore; jobs: ImportJobs }): Router {
  const router = Router();
  // Never cached; only for actors the rule `comments:transfer` lets through (moderators).
  const moderatorsOnly: RequestHandler = (req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    deps.policy.authorize(actorOf(req), 'comments:transfer');
    next();
  };

  router.post('/import', moderatorsOnly, async (req, res) => {
    const query = parseInput(ImportQuerySchema, req.query, 'query');
    const started = await deps.jobs.start(query.format, req, {
      dryRun: query.dryRun === 'true',
      keepClosed: query.keepClosed === 'true',
    });
    if (started.kind === 'refused') {
      // Whatever of the body is left is read and dropped, so the client gets this answer rather than a reset.
      req.resume();
      const error = started.error;
      if (error instanceof ImportFileError && /larger than/.test(error.message))
        throw new AppError('payload_too_large', error.message);
      if (error instanceof ImportFileError)
        throw new AppError('invalid_input', `The file cannot be imported, nothing was written: ${error.message}`);
      // A store failure (and anything else) is answered by the one mapper (server/edge/public-error.ts).
      throw error;
    }
    const answer: ImportJobResult = { job: started.job };
    res.status(202).json(answer);
  });

  router.get('/import/:job', moderatorsOnly, async (req, res) => {
    const id = parseInput(JobIdSchema, req.params.job, 'job id');
    const job = await deps.jobs.get(id);
    if (job === null) throw new AppError('not_found', 'No such import job');
    const answer: ImportJobResult = { job };
    res.json(answer);
  });

  router.get('/export', moderatorsOnly, async (_req, res) => {
    const day = new Date().toISOString().slice(0, 10);
    res.setHeader('Content-Type', 'application/gzip');
    res.setHeader('Content-Disposition', `attachment; filename="comments-${day}.jsonl.gz"`);
    await writeNativeExport(deps.store, res);
  });

  return router;
}

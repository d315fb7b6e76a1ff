import { Router } from 'express';
import { ModerationSettingsSchema, type ModerationSettingsAnswer } from '../../shared/moderation-settings.ts';
import { parseInput } from '../../shared/validate.ts';
import type { ActorPolicy } from '../actors/actor.ts';
import type { ModerationSettingsKeeper } from '../moderation/settings.ts';
import { requireMay } from './actor.ts';

/**
 * `GET`/`PUT /api/admin/settings/moderation` (mounted at /api/admin inside the JSON API): the pipeline's
 * settings in force on this instance; a PUT replaces them all (absent fields take their defaults),
 * stores them and applies them on every instance at once. Moderators only; never cached.
 */
export function createModerationSettingsRoutes(deps: {
  policy: ActorPolicy;
  keeper: ModerationSettingsKeeper;
}): Router {
  const router = Router();
  router.use('/settings/moderation', requireMay(deps.policy, 'moderation:configure'), (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  router.get('/settings/moderation', (_req, res) => {
    const answer: ModerationSettingsAnswer = deps.keeper.current();
    res.json(answer);
  });
  router.put('/settings/moderation', async (req, res) => {
    const settings = parseInput(ModerationSettingsSchema, req.body, 'moderation settings');
    const answer: ModerationSettingsAnswer = await deps.keeper.save(settings);
    res.json(answer);
  });
  return router;
}

import { Router } from 'express';
import type { FanOut } from '../fanout/port.ts';
import type { CommentStore } from '../storage/port.ts';
import { withTimeout } from '../with-timeout.ts';

export interface HealthDeps {
  store: CommentStore;
  fanout: FanOut;
  /** False once shutdown began: the balancer should stop sending traffic. */
  isAccepting: () => boolean;
}

/** How long readiness waits for the store before calling it down. */
const STORE_PING_TIMEOUT_MS = 1000;

/** `/healthz`: the process is alive. `/readyz`: storage answers; Redis state is reported (down is `degraded`, still ready). */
export function createHealthRouter({ store, fanout, isAccepting }: HealthDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const storage = await withTimeout(store.ping(), STORE_PING_TIMEOUT_MS).then(
      () => 'up' as const,
      () => 'down' as const,
    );
    const fanoutState = fanout.state();
    const redis = fanoutState === 'local' ? 'not_configured' : fanoutState;
    const accepting = isAccepting();
    const status = !accepting
      ? 'shutting_down'
      : storage === 'down'
        ? 'unavailable'
        : redis === 'down'
          ? 'degraded'
          : 'ready';
    res.status(status === 'ready' || status === 'degraded' ? 200 : 503).json({ status, storage, redis });
  });
  return router;
}

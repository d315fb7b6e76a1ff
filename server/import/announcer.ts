import type { FanOut } from '../fanout/port.ts';
import type { ImportAnnouncer } from './importer.ts';

/** Announces through a fan-out: in the server, its own (local and Redis); in the CLI, Redis (REDIS_URL). */
export function fanOutAnnouncer(fanout: FanOut): ImportAnnouncer {
  return {
    head: (articleId, lastSeq) => fanout.publishArticleHead({ articleId, lastSeq }),
    state: (state) => fanout.publishArticleState(state),
  };
}

import type { ArticleId } from '../../shared/schemas.ts';

/**
 * Where the readers of every instance are added up. An implementation is asked once per tick and
 * must answer in one round trip at most; nothing is asked per join or leave.
 */
export interface PresenceStore {
  /**
   * Records this instance's local counts: `changed` for articles it stopped reading (0: none left),
   * and the current local count of each article in `read`; answers the total across live instances
   * for each article in `read`, this instance's current count included.
   */
  sync(changed: ReadonlyMap<ArticleId, number>, read: ReadonlyMap<ArticleId, number>): Promise<Map<ArticleId, number>>;
  /** Withdraws this instance's counts (best effort) and releases the connection. Never rejects. */
  close(): Promise<void>;
}

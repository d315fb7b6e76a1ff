import type { ArticleId } from '../../shared/schemas.ts';
import type { PresenceStore } from './port.ts';

/** A single instance: the total is the local count. */
export class LocalPresenceStore implements PresenceStore {
  sync(
    _changed: ReadonlyMap<ArticleId, number>,
    read: ReadonlyMap<ArticleId, number>,
  ): Promise<Map<ArticleId, number>> {
    return Promise.resolve(new Map(read));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

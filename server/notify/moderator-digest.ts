import { ADMIN_LIST_MAX } from '../../shared/moderation.ts';
import type { CommentStore } from '../storage/port.ts';
import type { MailPayload } from './mailer.ts';

/** A window's digest waits this long after the window ends, for posts committed just after their createdAt. */
const GRACE_MS = 5_000;

export interface ModeratorDigestOptions {
  store: CommentStore;
  /** MODERATOR_EMAILS. */
  to: readonly string[];
  /** MODERATOR_ALERT_MINUTES in ms. */
  windowMs: number;
  /** PUBLIC_URL, without a trailing slash: the digest links to its /admin. */
  publicUrl: string;
}

/**
 * The moderators' digest: time is cut into windows of MODERATOR_ALERT_MINUTES; once a window has begun
 * (and 5 s more), the comments held during the one before that still wait are listed in one mail, queued in the outbox
 * under the id `digest_<window>`. Every instance checks (once per window, from its outbox poll); the
 * id makes the first one's row the only one, so moderators get at most one digest per window, and a
 * held comment is listed once. A window in which nothing was held sends nothing.
 */
export class ModeratorDigest {
  readonly #options: ModeratorDigestOptions;
  #checked = -1;

  constructor(options: ModeratorDigestOptions) {
    this.#options = options;
  }

  /** Queues the digest of the previous window if it is due and not queued yet; answers whether this call queued it. */
  async check(now: number): Promise<boolean> {
    const { store, to, windowMs, publicUrl } = this.#options;
    const window = Math.floor((now - GRACE_MS) / windowMs);
    if (to.length === 0 || window === this.#checked) return false;
    const start = (window - 1) * windowMs;
    const end = window * windowMs;
    const held = await store.heldList(ADMIN_LIST_MAX);
    const fresh = held.filter((h) => {
      const at = Date.parse(h.createdAt);
      return at >= start && at < end;
    });
    let queued = false;
    if (fresh.length > 0) {
      const waiting = held.length >= ADMIN_LIST_MAX ? `${ADMIN_LIST_MAX} or more` : String(held.length);
      const lines = fresh.map((h) => `- ${h.author.name} on ${h.articleId}: ${oneLine(h.body)}`);
      const mail: MailPayload = {
        to: [...to],
        subject: `${fresh.length} new comment${fresh.length === 1 ? '' : 's'} waiting for review`,
        text: [
          `${fresh.length} comment${fresh.length === 1 ? ' was' : 's were'} held for review between ${new Date(start).toISOString()} and ${new Date(end).toISOString()}; ${waiting} wait in all.`,
          '',
          ...lines,
          '',
          `Review them: ${publicUrl}/admin`,
        ].join('\n'),
      };
      queued = await store.enqueueOutbox({
        id: `digest_${window}`,
        kind: 'mail',
        target: 'moderators',
        type: 'moderation.digest',
        payload: JSON.stringify(mail),
        createdAt: new Date(now).toISOString(),
      });
    }
    this.#checked = window;
    return queued;
  }
}

/** A body on one line, at most 200 characters. */
function oneLine(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}

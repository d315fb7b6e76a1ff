import { ADMIN_LIST_MAX } from '../../shared/moderation.ts';
import { REPORT_REASONS, type ReportedComment } from '../../shared/reports.ts';
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
 * (and 5 s more), the comments held during the one before that, and those readers first reported in it,
 * that still wait are listed in one mail, queued in the outbox under the id `digest_<window>`. Every
 * instance checks (once per window, from its outbox poll); the id makes the first one's row the only
 * one, so moderators get at most one digest per window, and a comment is listed once per hold or
 * review round. A window in which nothing was held or reported sends nothing.
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
    const inWindow = (iso: string) => {
      const at = Date.parse(iso);
      return at >= start && at < end;
    };
    const [held, reported] = await Promise.all([
      store.heldList(ADMIN_LIST_MAX),
      store.reportedComments(ADMIN_LIST_MAX),
    ]);
    const fresh = held.filter((h) => inWindow(h.createdAt));
    const freshReports = reported.filter((r) => inWindow(r.firstReportedAt));
    let queued = false;
    const count = fresh.length + freshReports.length;
    if (count > 0) {
      const between = `between ${new Date(start).toISOString()} and ${new Date(end).toISOString()}`;
      const summary: string[] = [];
      if (fresh.length > 0) {
        const waiting = held.length >= ADMIN_LIST_MAX ? `${ADMIN_LIST_MAX} or more` : String(held.length);
        summary.push(
          `${fresh.length} comment${fresh.length === 1 ? ' was' : 's were'} held for review ${between}; ${waiting} wait in all.`,
          '',
          ...fresh.map((h) => `- ${h.author.name} on ${h.articleId}: ${oneLine(h.body)}`),
          '',
        );
      }
      if (freshReports.length > 0)
        summary.push(
          `${freshReports.length} comment${freshReports.length === 1 ? ' was' : 's were'} reported by readers ${between}.`,
          '',
          ...freshReports.map(reportLine),
          '',
        );
      const mail: MailPayload = {
        to: [...to],
        subject: `${count} new comment${count === 1 ? '' : 's'} waiting for review`,
        text: [...summary, `Review them: ${publicUrl}/admin`].join('\n'),
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

/** A reported comment in the digest: how many reports, why, and whether readers no longer see it. */
function reportLine(entry: ReportedComment): string {
  const { comment } = entry;
  const why = REPORT_REASONS.filter((reason) => entry.reasons[reason] > 0)
    .map((reason) => `${reason.replace('_', ' ')} ${entry.reasons[reason]}`)
    .join(', ');
  const hidden = entry.state === 'hidden' ? ', out of view until reviewed' : '';
  const body = comment.status === 'removed' ? (comment.originalBody ?? '') : comment.body;
  return `- ${comment.author.name} on ${comment.articleId} (${entry.reports} report${entry.reports === 1 ? '' : 's'}: ${why}${hidden}): ${oneLine(body)}`;
}

/** A body on one line, at most 200 characters. */
function oneLine(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}

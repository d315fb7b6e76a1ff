import { nanoid } from 'nanoid';
import { AppError } from '../../shared/errors.ts';
import {
  toPublicComment,
  type Ban,
  type BanInput,
  type ModeratedComment,
  type ModeratedHeld,
} from '../../shared/moderation.ts';
import {
  LIMITS,
  type ArticleId,
  type ArticleState,
  type Changes,
  type CommentLocation,
  type Comment,
  type CommentPage,
  type HeldComment,
  type NewComment,
  type RepliesPage,
  type SortOrder,
} from '../../shared/schemas.ts';
import { authorKey as authorKeyOf } from '../abuse/keys.ts';
import { ActorPolicy, type Actor } from '../actors/actor.ts';
import { memberAuthorKey, normaliseAuthorName } from '../abuse/keys.ts';
import type { MemberIdentity } from '../sso/verifier.ts';
import type { Erased, MyComments } from '../../shared/sso.ts';
import type { ReportComment, ReportedComment, ReportResult } from '../../shared/reports.ts';
import { memberProfileText, type MemberProfileSnapshot } from '../storage/rows.ts';
import type { FanOut, FeedMessage } from '../fanout/port.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { Logger } from '../logger.ts';
import type { NotifyTargets } from '../storage/outbox.ts';
import type { ModerationPipeline, Verdict } from '../moderation/pipeline/pipeline.ts';
import {
  type ArticleSettings,
  type CommentRecord,
  type CommentStore,
  type NewCommentRecord,
  type SubmitResult,
} from '../storage/port.ts';
import { authorTokenFromSecret, authorTokenMatches, hashAuthorToken, newAuthorToken } from './author-token.ts';
import { WriteBreaker } from './write-breaker.ts';
import type { NotifyStatus, PostAnswer, PostInput } from '../../shared/reply-emails.ts';
import type { ReplySubscribe } from '../notify/reply-subscribe.ts';
import type { ReplyMailOptions } from '../storage/subscriptions.ts';

/** A post that was stored (`created: false`: a repeated clientId returned the first comment, re-published). */
export interface StoredOutcome {
  comment: Comment;
  /** The token to edit or delete it; absent for a repeat that did not prove it comes from the poster (see submit). */
  authorToken: string | undefined;
  created: boolean;
  /** What became of the post's `notify` (absent without, and on a repeat). */
  notify?: NotifyStatus;
}

/** A post held for pre-moderation (`created: false`: a repeated clientId returned the held one). */
export interface HeldOutcome {
  held: HeldComment;
  authorToken: string | undefined;
  created: boolean;
  notify?: NotifyStatus;
}

export type PostOutcome = StoredOutcome | HeldOutcome;

/** A post's answer, over HTTP and on the socket alike. */
export function postAnswer(outcome: PostOutcome): PostAnswer {
  const notify = outcome.notify === undefined ? {} : { notify: outcome.notify };
  return 'held' in outcome
    ? { held: outcome.held, authorToken: outcome.authorToken, ...notify }
    : { comment: outcome.comment, authorToken: outcome.authorToken, ...notify };
}

/** Counts accepted posts for the metrics (server/metrics.ts fits). */
export interface CommentServiceMetrics {
  commentPosted(outcome: 'created' | 'duplicate' | 'held'): void;
  /** A change to an existing comment or a held one was stored. */
  commentChanged?(kind: CommentChangeKind): void;
}

export type CommentChangeKind =
  'edited' | 'removed' | 'restored' | 'liked' | 'unliked' | 'approved' | 'rejected' | 'reported' | 'hidden_by_reports';

export interface CommentServiceDeps {
  store: CommentStore;
  /** Shared with the other users of the store on this instance (the outbox worker), so one slow failure stops them all asking. */
  writeBreaker?: WriteBreaker;
  fanout: FanOut;
  logger: Logger;
  /** Derives the author keys bans are made on (server/keys/keyring.ts). */
  keys: Keyring;
  now?: () => Date;
  metrics?: CommentServiceMetrics;
  /** The rule table and who is a moderator (server/actors/actor.ts); by default nobody is. */
  policy?: ActorPolicy;
  /** Minutes after creation during which an author may edit (default 15; 0: never). Moderators may always. */
  editWindowMinutes?: number;
  /** `all`: every new comment waits for a moderator (default `none`: only on articles set so). */
  premoderation?: 'all' | 'none';
  /**
   * The receivers subscribed right now (server/notify/subscribers.ts), read from memory on every change:
   * the store writes their outbox rows in the change's transaction. Absent or empty: nothing is written.
   */
  notifyTargets?: () => NotifyTargets;
  /** The offline moderation pipeline every post and edit passes before it is stored (server/moderation/pipeline). */
  moderation?: ModerationPipeline | undefined;
  /** REPORT_HOLD_THRESHOLD: reports from different readers that take a comment out of view (default 3; 0: never). */
  reportHoldThreshold?: number;
  /** Reply e-mails (SMTP_URL): turns a post's `notify` into a subscription. Absent: `notify` is refused. */
  replySubscribe?: ReplySubscribe | null;
  /** REPLY_EMAIL_BATCH_MINUTES in ms (default 10 minutes); only with `replySubscribe`. */
  replyBatchMs?: number;
}

/** Who removed a comment, as stored: its author (the body is erased) or a moderator (kept for restore). */
type RemovedBy = 'author' | 'moderator';

/** A pipeline refusal as the author sees it: a 400 on the body, with what to change. */
function refusal(verdict: Extract<Verdict, { action: 'reject' }>): AppError {
  return new AppError('invalid_input', verdict.message, { issues: [{ path: 'body', message: verdict.message }] });
}

const notFound = (): AppError => new AppError('not_found', 'No such comment');

/** The badge a host gives its staff in their member tokens: their comments, like moderators', are never held. */
export const STAFF_BADGE = 'staff';

/** Whose comments the moderation pipeline never holds (its refusals still apply): moderators and staff members. */
function trustedAuthor(actor: Actor): boolean {
  if (actor.kind === 'moderator') return true;
  return actor.kind === 'member' && actor.identity.badges.some((badge) => badge.toLowerCase() === STAFF_BADGE);
}

/** A held comment as its poster sees it: no author key, member id or hold reason (the reason names the word or rule that tripped, which would teach evasion). */
function toPublicHeld(held: ModeratedHeld): HeldComment {
  const { authorKey: _authorKey, memberSub: _memberSub, holdReason: _holdReason, ...visible } = held;
  return visible;
}

/**
 * The domain rules of comments: inputs arrive validated and normalised by the shared schemas;
 * the service checks what needs the store (bans, locks, pre-moderation, tokens, the edit window),
 * persists, and only then publishes. Nothing is published that was not stored, and a failed
 * publish never fails a stored change (clients catch up by seq).
 *
 * Every change to a thread is published to its article (`comment:*`) and to moderators
 * (`admin:comment`); held comments only to moderators (`admin:held`, `admin:resolved`).
 */
export class CommentService {
  private readonly store: CommentStore;
  private readonly fanout: FanOut;
  private readonly logger: Logger;
  private readonly keys: Keyring;
  private readonly now: () => Date;
  private readonly metrics: CommentServiceMetrics | undefined;
  private readonly policy: ActorPolicy;
  private readonly editWindowMs: number;
  private readonly premoderateAll: boolean;
  private readonly notifyTargets: () => NotifyTargets | undefined;
  private readonly moderation: ModerationPipeline | undefined;
  private readonly reportHoldThreshold: number;
  private readonly replySubscribe: ReplySubscribe | null;
  /** With reply e-mails on: how a stored reply queues its subscribers' e-mails. */
  private readonly replyMail: ReplyMailOptions | undefined;
  /** Writes that have started and not yet settled (stored and published, or failed). */
  private readonly writes = new Set<Promise<unknown>>();
  /** Posts fail at once for a moment after the store was slow to report itself down (see WriteBreaker). */
  private readonly writeBreaker: WriteBreaker;

  constructor(deps: CommentServiceDeps) {
    this.store = deps.store;
    this.writeBreaker = deps.writeBreaker ?? new WriteBreaker();
    this.fanout = deps.fanout;
    this.logger = deps.logger;
    this.keys = deps.keys;
    this.now = deps.now ?? (() => new Date());
    this.metrics = deps.metrics;
    this.policy = deps.policy ?? new ActorPolicy();
    this.editWindowMs = (deps.editWindowMinutes ?? 15) * 60_000;
    this.premoderateAll = deps.premoderation === 'all';
    this.notifyTargets = deps.notifyTargets ?? (() => undefined);
    this.moderation = deps.moderation;
    this.reportHoldThreshold = deps.reportHoldThreshold ?? 3;
    this.replySubscribe = deps.replySubscribe ?? null;
    this.replyMail = this.replySubscribe ? { batchMs: deps.replyBatchMs ?? 600_000 } : undefined;
  }

  /**
   * A new post from a reader: refused with `forbidden` when its author is banned or the article is
   * locked; held when the article (or every article) is pre-moderated; otherwise stored with the next
   * seq, then published. Resolves once stored and published. Counted by {@link drain}. The actor's
   * client IP makes the author key bans are made on.
   */
  post(actor: Actor, articleId: ArticleId, input: PostInput): Promise<PostOutcome> {
    return this.track(this.submit(actor, articleId, input));
  }

  /**
   * A trusted import (the sample article, from the server itself; no edge reaches it): stored at once with its original time, whatever the
   * article's lock or pre-moderation; idempotent by clientId like a post.
   */
  importComment(articleId: ArticleId, input: NewComment, createdAt: string): Promise<StoredOutcome> {
    return this.track(
      (async () => {
        const authorToken = newAuthorToken();
        const name = input.author?.name;
        if (name === undefined) throw new AppError('invalid_input', 'An imported comment needs an author name');
        const result = await this.store.create(this.record(articleId, input, name, authorToken, null, createdAt));
        const committedAt = Date.now();
        await this.publish(
          'comment:created',
          { ...result.comment, removedBy: null, originalBody: null, authorKey: null },
          committedAt,
        );
        return { comment: result.comment, authorToken, created: result.created };
      })(),
    );
  }

  /**
   * Resolves when every write started so far, and every one started while waiting, has settled
   * (committed and published, or failed). Shutdown calls it before closing fan-out and store.
   */
  async drain(): Promise<void> {
    while (this.writes.size > 0) await Promise.allSettled([...this.writes]);
  }

  /**
   * Replaces the body of a comment: its author within the edit window, a moderator at any time.
   * Unknown id → `not_found`; wrong token, window over or comment removed → `forbidden`.
   */
  edit(actor: Actor, id: string, body: string): Promise<Comment> {
    return this.track(
      (async () => {
        await this.mayChange(actor, id, 'edit', body);
        const result = await this.store.edit(id, body, this.now().toISOString(), this.notifyTargets());
        if (result === null) throw notFound();
        if (!result.changed) throw new AppError('forbidden', 'A removed comment cannot be edited');
        this.logger.debug({ commentId: id, actor: actor.kind }, 'comment edited');
        this.metrics?.commentChanged?.('edited');
        await this.publish('comment:updated', result.comment, Date.now());
        return toPublicComment(result.comment);
      })(),
    );
  }

  /**
   * Removes a comment, leaving a placeholder: by its author (the body is erased for good) or by a
   * moderator (the body is kept for restore). Removing a removed comment changes nothing and answers it.
   */
  remove(actor: Actor, id: string): Promise<Comment> {
    return this.track(
      (async () => {
        await this.mayChange(actor, id, 'remove');
        return toPublicComment(await this.removeAs(id, actor.kind === 'moderator' ? 'moderator' : 'author'));
      })(),
    );
  }

  /** A moderator's removal: the body is kept for restore. Anyone else → `forbidden`. */
  moderatorRemove(actor: Actor, id: string): Promise<ModeratedComment> {
    return this.track(
      (async () => {
        this.policy.authorize(actor, 'comment:moderate');
        return this.removeAs(id, 'moderator');
      })(),
    );
  }

  /** Puts back a comment a moderator removed; one its author deleted has nothing to restore (`forbidden`). */
  restore(actor: Actor, id: string): Promise<ModeratedComment> {
    return this.track(
      (async () => {
        this.policy.authorize(actor, 'comment:moderate');
        const result = await this.store.restore(id, this.notifyTargets());
        if (result === null) throw notFound();
        if (!result.changed) {
          if (result.comment.status === 'visible') return result.comment;
          throw new AppError('forbidden', 'Its author deleted this comment; there is nothing to restore');
        }
        this.metrics?.commentChanged?.('restored');
        await this.publish('comment:updated', result.comment, Date.now());
        await this.publishReview(id);
        return result.comment;
      })(),
    );
  }

  /**
   * Records a reader's like (or its undo). At most one per reader: a repeat changes nothing, takes no
   * seq and publishes nothing. A removed comment cannot be liked (`forbidden`), only unliked.
   */
  like(actor: Actor, id: string, readerId: string, liked: boolean): Promise<{ comment: Comment; liked: boolean }> {
    return this.track(
      (async () => {
        this.policy.authorize(actor, 'comment:like');
        // The store decides inside the write whether the comment can still be liked.
        const result = await this.store.setLike(id, this.readerOf(actor, readerId), liked);
        if (result === null) throw notFound();
        if (liked && !result.changed && result.comment.status !== 'visible')
          throw new AppError('forbidden', 'A removed comment cannot be liked');
        if (result.changed) {
          this.metrics?.commentChanged?.(liked ? 'liked' : 'unliked');
          await this.publish('comment:updated', result.comment, Date.now());
        }
        return { comment: toPublicComment(result.comment), liked };
      })(),
    );
  }

  /** A member's own data: their stored profile, their comments and their held comments (GET /api/me/comments). */
  async myComments(actor: Actor, articleId?: ArticleId): Promise<MyComments> {
    this.policy.authorize(actor, 'member:own-data');
    if (actor.kind !== 'member') throw new AppError('unauthenticated', 'Sign in to read your comments');
    const sub = actor.identity.sub;
    const [profile, mine] = await Promise.all([this.store.getMember(sub), this.store.memberComments(sub)]);
    return {
      profile:
        profile === null
          ? null
          : {
              sub: profile.sub,
              name: profile.name,
              email: profile.email,
              avatar: profile.avatar,
              badges: profile.badges,
              url: profile.url,
            },
      comments: mine.comments
        .filter((comment) => articleId === undefined || comment.articleId === articleId)
        .map((comment) => toPublicComment(comment)),
      held: mine.held.filter((held) => articleId === undefined || held.articleId === articleId).map(toPublicHeld),
    };
  }

  /**
   * Erases a member's data (DELETE /api/me): each visible comment is removed as by its author (body
   * gone, a placeholder keeps its replies in place; pushed as `comment:removed`), then what is left
   * (names, kept bodies, the member id and profile on their comments, held comments, the stored
   * profile) is erased. Bans made on them stay (their key is a keyed pseudonym). Re-running finishes
   * an interrupted erase.
   */
  eraseMe(actor: Actor): Promise<Erased> {
    return this.track(
      (async () => {
        this.policy.authorize(actor, 'member:own-data');
        if (actor.kind !== 'member') throw new AppError('unauthenticated', 'Sign in to erase your data');
        const sub = actor.identity.sub;
        const mine = await this.store.memberComments(sub);
        let comments = 0;
        for (const comment of mine.comments) {
          if (comment.status !== 'visible') continue;
          await this.removeAs(comment.id, 'author');
          comments += 1;
        }
        await this.store.eraseMember(sub);
        this.logger.info({ comments, held: mine.held.length }, 'member erased their data');
        return { erased: { comments, held: mine.held.length } };
      })(),
    );
  }

  /** Ids of the article's comments the reader likes (a member: the account's likes, whatever `readerId`). */
  async readerLikes(actor: Actor, articleId: ArticleId, readerId: string): Promise<string[]> {
    return this.store.readerLikes(articleId, this.readerOf(actor, readerId));
  }

  /**
   * Who likes: a member with a reader id keyed from their `sub` (like their author key), so their likes
   * count once per account on every browser; anyone else with the id their browser keeps.
   */
  private readerOf(actor: Actor, readerId: string): string {
    return actor.kind === 'member' ? this.keys.deriveKey('reader', `sso:${actor.identity.sub}`) : readerId;
  }

  /**
   * A reader reports a comment to the moderators: one report per reader per comment (a member: per
   * account), a repeat changes nothing. At REPORT_HOLD_THRESHOLD reports the store takes the comment
   * out of view (a `comment:removed` push with the next seq) until a moderator keeps or removes it.
   * A removed comment cannot be reported (`forbidden`). Moderators get the queue entry live (`admin:report`).
   */
  report(actor: Actor, id: string, input: ReportComment): Promise<ReportResult> {
    return this.track(
      (async () => {
        this.policy.authorize(actor, 'comment:report');
        const outcome = await this.store.report(
          {
            commentId: id,
            readerId: this.readerOf(actor, input.readerId),
            reason: input.reason,
            note: input.note === undefined || input.note === '' ? null : input.note,
            createdAt: this.now().toISOString(),
          },
          this.reportHoldThreshold,
          this.notifyTargets(),
        );
        if (outcome === null) throw notFound();
        if (!outcome.created && outcome.comment.status !== 'visible')
          throw new AppError('forbidden', 'A removed comment cannot be reported');
        if (outcome.created) {
          this.metrics?.commentChanged?.('reported');
          if (outcome.hidden) {
            this.logger.info(
              { commentId: id, articleId: outcome.comment.articleId },
              'reports took a comment out of view',
            );
            this.metrics?.commentChanged?.('hidden_by_reports');
            await this.publish('comment:removed', outcome.comment, Date.now());
          }
          await this.publishReview(id);
        }
        return { report: { commentId: id, reason: input.reason, created: outcome.created } };
      })(),
    );
  }

  /** The reported comments waiting for review (open or out of view), longest waiting first. */
  async reportedList(actor: Actor, limit: number): Promise<ReportedComment[]> {
    this.policy.authorize(actor, 'held:review');
    return this.store.reportedComments(limit);
  }

  /**
   * A moderator keeps a reported comment: one reports took out of view is restored (next seq, pushed);
   * a public one leaves the queue. Either way later reports no longer hide it by themselves.
   * `not_found` when no review of it is open.
   */
  keepReported(actor: Actor, id: string): Promise<ReportedComment> {
    return this.track(
      (async () => {
        this.policy.authorize(actor, 'held:review');
        const entry = await this.store.reportedComment(id);
        if (entry === null || entry.state === 'closed')
          throw new AppError('not_found', 'No report of this comment waits for review');
        let after: ReportedComment | null = null;
        // A hidden one is restored (restore publishes its closed entry); a public one leaves the queue here.
        if (entry.state === 'hidden') await this.restore(actor, id);
        else if (await this.store.closeReports(id, true)) after = await this.publishReview(id);
        after ??= await this.store.reportedComment(id);
        if (after === null) throw notFound();
        return after;
      })(),
    );
  }

  async heldList(actor: Actor, limit: number): Promise<ModeratedHeld[]> {
    this.policy.authorize(actor, 'held:review');
    return this.store.heldList(limit);
  }

  /** Moves a held comment into its thread with the next seq; it appears live for everyone. Unknown → `not_found`. */
  approve(actor: Actor, id: string): Promise<ModeratedComment> {
    return this.track(
      (async () => {
        this.policy.authorize(actor, 'held:review');
        const approved = await this.store.approve(id, this.notifyTargets(), this.replyMail);
        if (approved === null) throw new AppError('not_found', 'No such held comment');
        const committedAt = Date.now();
        this.metrics?.commentChanged?.('approved');
        await Promise.all([
          this.publish('comment:created', approved, committedAt),
          this.publishFeed({
            event: 'admin:resolved',
            resolved: { id, articleId: approved.articleId, outcome: 'approved' },
          }),
        ]);
        return approved;
      })(),
    );
  }

  /** Deletes a held comment for good. Unknown → `not_found`. */
  reject(actor: Actor, id: string): Promise<void> {
    return this.track(
      (async () => {
        this.policy.authorize(actor, 'held:review');
        const held = await this.store.getHeld(id);
        if (held === null || !(await this.store.reject(id))) throw new AppError('not_found', 'No such held comment');
        this.metrics?.commentChanged?.('rejected');
        await this.publishFeed({
          event: 'admin:resolved',
          resolved: { id, articleId: held.articleId, outcome: 'rejected' },
        });
      })(),
    );
  }

  /** The most recent comments across articles (or of one), newest first, as moderators see them. */
  async feed(actor: Actor, options: { limit: number; articleId?: ArticleId | undefined }): Promise<ModeratedComment[]> {
    this.policy.authorize(actor, 'feed:watch');
    return this.store.feed(
      options.articleId === undefined
        ? { limit: options.limit }
        : { limit: options.limit, articleId: options.articleId },
    );
  }

  /**
   * Bans the author of a comment (stored or held) by its author key, until `expiresInMinutes` pass
   * or the ban is lifted. A comment with no author key (imported, or older than bans) → `invalid_input`.
   */
  async ban(actor: Actor, input: BanInput): Promise<Ban> {
    this.policy.authorize(actor, 'author:ban');
    const record = await this.store.getRecord(input.commentId);
    const target = record?.comment ?? (await this.store.getHeld(input.commentId));
    if (!target) throw notFound();
    if (target.authorKey === null) {
      throw new AppError(
        'invalid_input',
        'This comment carries no author key (it was imported, or stored before the current author keys)',
        {
          issues: [{ path: 'commentId', message: 'No author key' }],
        },
      );
    }
    const now = this.now();
    const ban: Ban = {
      authorKey: target.authorKey,
      authorName: target.author.name,
      // An empty reason (or one of nothing but controls and spaces) is no reason.
      reason: input.reason || null,
      createdAt: now.toISOString(),
      expiresAt:
        input.expiresInMinutes === undefined
          ? null
          : new Date(now.getTime() + input.expiresInMinutes * 60_000).toISOString(),
    };
    return this.store.addBan(ban);
  }

  async bans(actor: Actor): Promise<Ban[]> {
    this.policy.authorize(actor, 'author:ban');
    return this.store.bans(this.now().toISOString());
  }

  /** Lifts a ban. Unknown key → `not_found`. */
  async unban(actor: Actor, authorKey: string): Promise<void> {
    this.policy.authorize(actor, 'author:ban');
    if (!(await this.store.removeBan(authorKey))) throw new AppError('not_found', 'No ban for this author key');
  }

  /** The article's lock and (effective) pre-moderation, as moderators read it (readers get it with every page). */
  async articleState(actor: Actor, articleId: ArticleId): Promise<ArticleState> {
    this.policy.authorize(actor, 'article:configure');
    return this.effective(articleId, await this.store.articleSettings(articleId));
  }

  /**
   * Changes an article's lock or pre-moderation and pushes `article:updated` to its readers on every
   * instance. Takes no seq: it is article state, in every page answer. The answer is effective
   * (PREMODERATION=all keeps every article pre-moderated whatever its own setting).
   */
  async setArticleState(actor: Actor, articleId: ArticleId, patch: Partial<ArticleSettings>): Promise<ArticleState> {
    this.policy.authorize(actor, 'article:configure');
    const state = this.effective(articleId, await this.store.setArticleSettings(articleId, patch));
    try {
      await this.fanout.publishArticleState(state);
    } catch (error) {
      this.logger.warn({ err: error, articleId }, 'fan-out publish of article state failed');
    }
    return state;
  }

  async page(
    articleId: ArticleId,
    options: { limit?: number; before?: string; order?: SortOrder },
  ): Promise<CommentPage> {
    const [page, settings] = await Promise.all([
      this.store.page(articleId, {
        limit: options.limit ?? LIMITS.pageDefault,
        cursor: options.before ?? null,
        order: options.order ?? 'newest',
      }),
      this.store.articleSettings(articleId),
    ]);
    const state = this.effective(articleId, settings);
    return {
      articleId,
      lastSeq: page.lastSeq,
      comments: page.comments,
      next: page.next,
      locked: state.locked,
      premoderated: state.premoderated,
      moreReplies: page.moreReplies,
    };
  }

  /** The next replies of a thread (`commentId` a top-level comment of the article). Unknown thread → `not_found`. */
  async replies(
    articleId: ArticleId,
    commentId: string,
    options: { after?: string | undefined; limit?: number | undefined },
  ): Promise<RepliesPage> {
    const result = await this.store.replies(articleId, commentId, {
      after: options.after ?? null,
      limit: options.limit ?? LIMITS.repliesPerThread,
    });
    if (result === null) throw new AppError('not_found', 'No such thread: not a top-level comment of this article');
    return { articleId, commentId, lastSeq: result.lastSeq, comments: result.comments, more: result.more };
  }

  /**
   * One comment of the article as readers see it, and its thread's top-level comment (a permalink's
   * target). Unknown, held, or of another article → `not_found`.
   */
  async locate(articleId: ArticleId, commentId: string): Promise<CommentLocation> {
    const comment = await this.store.get(commentId);
    if (comment?.articleId !== articleId) throw new AppError('not_found', 'No such comment in this article');
    let top = comment;
    // Threads are at most LIMITS.depthMax deep; the bound also stops a corrupt parent chain.
    for (let depth = 0; top.parentId !== null && depth <= LIMITS.depthMax; depth += 1) {
      const parent = await this.store.get(top.parentId);
      if (parent === null) break;
      top = parent;
    }
    if (top.parentId !== null) throw new AppError('not_found', 'The thread of this comment is not stored');
    return { articleId, comment, threadId: top.id };
  }

  async changesSince(articleId: ArticleId, since: number): Promise<Changes> {
    const changes = await this.store.changesSince(articleId, since, LIMITS.changesMax);
    return changes.reset
      ? { articleId, lastSeq: changes.lastSeq, comments: [], reset: true }
      : { articleId, lastSeq: changes.lastSeq, comments: changes.comments };
  }

  async lastSeq(articleId: ArticleId): Promise<number> {
    return this.store.lastSeq(articleId);
  }

  async counts(articleIds: readonly ArticleId[]): Promise<Record<ArticleId, number>> {
    return this.store.counts(articleIds);
  }

  private track<T>(write: Promise<T>): Promise<T> {
    this.writes.add(write);
    const forget = (): void => {
      this.writes.delete(write);
    };
    write.then(forget, forget);
    return write;
  }

  private effective(articleId: ArticleId, settings: ArticleSettings): ArticleState {
    return { articleId, locked: settings.locked, premoderated: this.premoderateAll || settings.premoderated };
  }

  private record(
    articleId: ArticleId,
    input: NewComment,
    authorName: string,
    authorToken: string,
    authorKey: string | null,
    createdAt: string,
  ): NewCommentRecord {
    return {
      id: nanoid(),
      articleId,
      parentId: input.parentId ?? null,
      authorName,
      body: input.body,
      createdAt,
      clientId: input.clientId ?? null,
      authorTokenHash: hashAuthorToken(authorToken),
      authorKey,
    };
  }

  /**
   * A post, and its retries: a post that carries a `clientSecret` gets the token derived from it, so a
   * retry with the same clientId and secret proves it is the poster and gets that same token again. A
   * repeat without the secret gets the comment but no token, and the stored token is never replaced:
   * knowing someone's clientId is not enough to take their comment over.
   */
  private async submit(actor: Actor, articleId: ArticleId, input: PostInput): Promise<PostOutcome> {
    this.policy.authorize(actor, 'comment:post');
    const clientIp = actor.clientIp;
    const authorToken = input.clientSecret === undefined ? newAuthorToken() : authorTokenFromSecret(input.clientSecret);
    const now = this.now().toISOString();
    const record =
      actor.kind === 'member'
        ? await this.memberRecord(actor.identity, articleId, input, authorToken, now)
        : await this.guestRecord(articleId, input, authorToken, clientIp, now);
    const authorKey = record.authorKey ?? null;
    let hold = this.premoderateAll;
    if (this.moderation) {
      const verdict = await this.moderation.check({
        body: input.body,
        articleId,
        authorKey,
        clientId: input.clientId ?? null,
        kind: 'post',
        trusted: trustedAuthor(actor),
      });
      if (verdict.action === 'reject') throw refusal(verdict);
      if (verdict.action === 'hold') {
        hold = true;
        record.holdReason = verdict.reason;
      }
    }
    const planned = input.notify === undefined ? undefined : this.planSubscription(actor, record, input.notify);
    // The store applies the posting gate (bans, lock, the article's pre-moderation) in the write itself.
    const result: SubmitResult = await this.writeBreaker.run(() =>
      this.store.submit(record, {
        hold,
        notify: this.notifyTargets(),
        subscribe: planned?.subscribe,
        replyMail: this.replyMail,
      }),
    );
    if (result.kind === 'refused') {
      throw new AppError(
        'forbidden',
        result.reason === 'banned' ? 'You cannot comment here' : 'This discussion is closed',
      );
    }
    const committedAt = Date.now();
    const proven =
      result.created || (input.clientSecret !== undefined && authorTokenMatches(authorToken, result.authorTokenHash));
    const token = proven ? authorToken : undefined;
    if (result.kind === 'held') {
      this.metrics?.commentPosted('held');
      if (result.created) await this.publishFeed({ event: 'admin:held', held: result.held });
      return {
        held: toPublicHeld(result.held),
        authorToken: token,
        created: result.created,
        ...(planned && result.created ? { notify: planned.status } : {}),
      };
    }
    this.metrics?.commentPosted(result.created ? 'created' : 'duplicate');
    // A repeated clientId is published again, as stored now (moderators' view and author key
    // included): the first attempt may have been committed by an instance that died before
    // publishing. Subscribers drop the repeat by seq; nothing is lost.
    const visible = toPublicComment(result.comment);
    await this.publish('comment:created', result.comment, committedAt, visible);
    return {
      comment: visible,
      authorToken: token,
      created: result.created,
      ...(planned && result.created ? { notify: planned.status } : {}),
    };
  }

  /** The subscription a post's `notify` asks for; refused when this server sends no e-mail (no SMTP_URL). */
  private planSubscription(actor: Actor, record: NewCommentRecord, notify: NonNullable<PostInput['notify']>) {
    if (!this.replySubscribe)
      throw new AppError('invalid_input', 'This server sends no reply e-mails (no SMTP_URL)', {
        issues: [{ path: 'notify', message: 'Reply e-mails are not available here' }],
      });
    const member = actor.kind === 'member' ? { sub: actor.identity.sub, email: actor.identity.email ?? null } : null;
    return this.replySubscribe.plan(record, notify, member, this.now());
  }

  /**
   * A member's post: under the profile of the newest token seen (an older token posts under the name
   * stored since), with the author key of their `sub`, so a ban follows the account.
   */
  private async memberRecord(
    member: MemberIdentity,
    articleId: ArticleId,
    input: NewComment,
    authorToken: string,
    now: string,
  ): Promise<NewCommentRecord> {
    const profile = await this.store.saveMember(
      {
        sub: member.sub,
        name: member.name,
        email: member.email ?? null,
        avatar: member.avatar ?? null,
        badges: [...member.badges],
        url: member.url ?? null,
        iat: member.iat,
      },
      normaliseAuthorName(member.name),
      now,
    );
    const snapshot: MemberProfileSnapshot = {
      ...(profile.badges.length > 0 ? { badges: profile.badges } : {}),
      ...(profile.avatar === null ? {} : { avatar: profile.avatar }),
    };
    return {
      ...this.record(articleId, input, profile.name, authorToken, memberAuthorKey(this.keys, member.sub), now),
      memberSub: member.sub,
      memberProfile: memberProfileText(snapshot),
    };
  }

  /** A guest's post: under the name they typed, which with SSO_MODE=optional must not be a member's. */
  private async guestRecord(
    articleId: ArticleId,
    input: NewComment,
    authorToken: string,
    clientIp: string | undefined,
    now: string,
  ): Promise<NewCommentRecord> {
    const name = input.author?.name;
    if (name === undefined)
      throw new AppError('invalid_input', 'Invalid comment: author.name: Name must not be empty', {
        issues: [{ path: 'author.name', message: 'Name must not be empty' }],
      });
    if (this.policy.ssoMode === 'optional' && (await this.store.memberNameTaken(normaliseAuthorName(name))))
      throw new AppError(
        'forbidden',
        `The name "${name}" belongs to a signed-in member: sign in, or choose another name`,
        {
          issues: [{ path: 'author.name', message: 'This name belongs to a signed-in member' }],
        },
      );
    const authorKey = clientIp === undefined ? null : authorKeyOf(this.keys, name, clientIp);
    return this.record(articleId, input, name, authorToken, authorKey, now);
  }

  private async removeAs(id: string, by: RemovedBy): Promise<ModeratedComment> {
    const result = await this.store.remove(id, by, this.notifyTargets());
    if (result === null) throw notFound();
    if (result.changed) {
      this.metrics?.commentChanged?.('removed');
      await this.publish('comment:removed', result.comment, Date.now());
    }
    // A removal settles a review of the comment: moderators' queues drop it.
    if (by === 'moderator' || result.changed) await this.publishReview(id);
    return result.comment;
  }

  /** Sends moderators a reported comment's queue entry as it stands now, and answers it (null: it was never reported). */
  private async publishReview(id: string): Promise<ReportedComment | null> {
    const reported = await this.store.reportedComment(id);
    if (reported !== null) await this.publishFeed({ event: 'admin:report', reported });
    return reported;
  }

  /**
   * Whether the actor may change this comment: a moderator always; a guest only with the comment's own
   * token (compared in constant time with the stored hash), and for edits only while the comment is
   * visible and within the window.
   */
  private async mayChange(actor: Actor, id: string, action: 'edit' | 'remove', newBody?: string): Promise<void> {
    this.policy.authorize(actor, action === 'edit' ? 'comment:edit' : 'comment:remove');
    const record = await this.store.getRecord(id);
    if (record === null) throw notFound();
    if (actor.kind === 'moderator') {
      if (newBody !== undefined) await this.screenEdit(record, newBody, true);
      return;
    }
    const trusted = trustedAuthor(actor);
    if (actor.kind === 'member') {
      // A member changes their own comments with their token, from any browser or device.
      if (record.comment.memberSub !== actor.identity.sub)
        throw new AppError('forbidden', 'Only its author or a moderator may change this comment');
    } else if (actor.authorToken === undefined || !authorTokenMatches(actor.authorToken, record.authorTokenHash)) {
      throw new AppError(
        'forbidden',
        'Only its author (with the token from posting) or a moderator may change this comment',
      );
    }
    if (action === 'edit') {
      if (record.comment.status !== 'visible') throw new AppError('forbidden', 'A removed comment cannot be edited');
      const age = this.now().getTime() - Date.parse(record.comment.createdAt);
      // Within the window means younger than it: a window of 0 lets no author edit.
      if (age >= this.editWindowMs) {
        throw new AppError(
          'forbidden',
          `Comments can be edited for ${this.editWindowMs / 60_000} minutes after posting`,
        );
      }
      if (newBody !== undefined) await this.screenEdit(record, newBody, trusted);
    }
  }

  /** An edit's new body through the moderation pipeline, once its editor is known to be allowed. */
  private async screenEdit(record: CommentRecord, body: string, trusted: boolean): Promise<void> {
    if (!this.moderation) return;
    const verdict = await this.moderation.check({
      body,
      articleId: record.comment.articleId,
      authorKey: record.comment.authorKey,
      clientId: null,
      kind: 'edit',
      trusted,
    });
    if (verdict.action === 'reject') throw refusal(verdict);
    // A published comment cannot wait for review: an edit that would be held is not saved.
    if (verdict.action === 'hold')
      throw new AppError(
        'invalid_input',
        'This edit would have to wait for a moderator, so it was not saved. Please change it (fewer links, no capitals-only text), or post a new comment.',
        { issues: [{ path: 'body', message: 'Needs review' }] },
      );
  }

  /** Publishes a committed change to the article's readers and to moderators; failures are logged, never thrown. */
  private async publish(
    event: 'comment:created' | 'comment:updated' | 'comment:removed',
    comment: ModeratedComment,
    committedAt: number,
    visible: Comment = toPublicComment(comment),
  ): Promise<void> {
    await Promise.all([
      this.fanout.publish({ event, comment: visible }, committedAt).catch((error: unknown) => {
        this.logger.warn(
          { err: error, articleId: comment.articleId, seq: comment.seq },
          'fan-out publish failed; subscribers will catch up',
        );
      }),
      this.publishFeed({ event: 'admin:comment', comment }),
    ]);
  }

  private async publishFeed(message: FeedMessage): Promise<void> {
    try {
      await this.fanout.publishFeed(message);
    } catch (error) {
      this.logger.warn({ err: error, event: message.event }, 'fan-out publish to moderators failed');
    }
  }
}

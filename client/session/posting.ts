import { toFieldIssues } from '../../shared/errors.ts';
import { NewCommentSchema, type Comment, type PostResult } from '../../shared/schemas.ts';
import { readName, saveAuthorToken, saveName } from '../local-store.ts';
import type { NotifyOptIn } from '../notify/notify-opt-in.ts';
import { loadPart } from '../parts.ts';
import { Poster, type PendingPost, type PostInput } from '../posting.ts';
import { postAnswerSchema, readAck, toWidgetError, type WidgetError } from '../protocol.ts';
import { CommentForm, type FormValues } from '../view/comment-form.ts';
import type { HeldPost } from '../view/thread-view.ts';
import type { LiveArticle } from './connection.ts';
import { ACK_TIMEOUT_MS, type SessionContext } from './context.ts';

export interface PostingHooks {
  /** The server stored a comment of this reader's: it is theirs to edit and delete. */
  posted(comment: Comment): void;
}

/**
 * The reader's writing: the form for a new comment, the inline reply form, their posts in flight
 * (over the socket while connected, else over HTTP) and their posts awaiting moderation.
 */
export class Posting {
  readonly compose: CommentForm;
  readonly replyForm: CommentForm;
  readonly poster: Poster;
  /** The reader's posts held for pre-moderation, until their approval arrives as `comment:created`. */
  readonly awaitingModeration = new Map<string, HeldPost>();
  /** The comment the reply form answers, while it is open. */
  replyTo: Comment | null = null;
  /** "Email me when someone replies" (widget-notify.js): undefined until asked for (`offerNotify`), null until loaded. */
  #optIn: NotifyOptIn | null | undefined;
  readonly #context: SessionContext;
  readonly #live: LiveArticle;
  readonly #hooks: PostingHooks;

  constructor(context: SessionContext, live: LiveArticle, hooks: PostingHooks) {
    this.#context = context;
    this.#live = live;
    this.#hooks = hooks;
    this.compose = new CommentForm({
      idPrefix: 'lc-new',
      submitLabel: 'post',
      strings: context.config.strings,
      onSubmit: (values) => this.#submit(values, null, this.compose),
    });
    this.replyForm = new CommentForm({
      idPrefix: 'lc-reply',
      submitLabel: 'reply',
      strings: context.config.strings,
      onSubmit: (values) => this.#submit(values, this.replyTo, this.replyForm),
      onCancel: () => this.closeReply(true),
    });
    this.compose.fill({ name: readName() });
    const { strings } = context.config;
    this.compose.element.setAttribute('aria-label', strings.text('writeComment'));
    this.poster = new Poster((input) => context.retrying(() => this.#send(input)), {
      changed: () => context.scheduleRender(),
      confirmed: (post, result) => this.#onPosted(post, result),
      refused: (post, error) => this.#onRefused(post, error),
      failed: (_post, error) => {
        context.announce(strings.text('notPosted', { error: strings.error(error) }));
        context.scheduleRender();
      },
    });
  }

  /** A comment arrived in the feed: true when it is one of the reader's own posts (approved, or a push of one in flight). */
  claim(comment: Comment): boolean {
    if (this.awaitingModeration.delete(comment.id))
      this.#context.announce(this.#context.config.strings.text('approved'));
    return this.poster.matchPush(comment) !== null;
  }

  openReply(comment: Comment): void {
    if (this.replyTo?.id === comment.id) {
      this.replyForm.focus();
      return;
    }
    this.replyTo = comment;
    this.replyForm.clearIssues();
    this.replyForm.fill({ name: this.compose.name.value || readName(), body: '' });
    this.replyForm.element.setAttribute(
      'aria-label',
      this.#context.config.strings.text('replyTo', { name: comment.author.name }),
    );
    this.#context.render();
    this.replyForm.focus();
  }

  closeReply(returnFocus: boolean): void {
    const target = this.replyTo;
    this.replyTo = null;
    this.replyForm.element.remove();
    this.#context.render();
    if (returnFocus && target)
      this.#context.thread.element(target.id)?.querySelector<HTMLButtonElement>('.reply-button')?.focus();
  }

  /**
   * The page answer said whether the server sends reply e-mails: the first time it does, the opt-in
   * (widget-notify.js) is loaded, once (a part that failed to load leaves the forms as they are).
   */
  offerNotify(on: boolean | undefined): void {
    if (!on || this.#optIn !== undefined) return;
    this.#optIn = null;
    loadPart(this.#context.config.base, 'notify').then(
      ({ NotifyOptIn }) => {
        this.#optIn = new NotifyOptIn(this.#context.config.strings, () => this.#live.connection.token, [
          this.compose,
          this.replyForm,
        ]);
      },
      () => undefined,
    );
  }

  stop(): void {
    this.poster.dispose();
  }

  #submit(values: FormValues, parent: Comment | null, form: CommentForm): void {
    const candidate = { author: { name: values.name }, body: values.body, ...(parent ? { parentId: parent.id } : {}) };
    const parsed = NewCommentSchema.safeParse(candidate);
    if (!parsed.success) {
      form.showIssues(toFieldIssues(parsed.error.issues));
      return;
    }
    // Asked for reply e-mails at an address that is not one: said under its field, nothing is sent.
    const notify = this.#optIn?.request(form);
    if (notify === null) return;
    form.clearIssues();
    // The form always sends a name, so the checked one is there.
    const { name } = parsed.data.author ?? values;
    // A member's name comes from their token: the name kept for guest posts stays the guest's.
    if (this.#live.connection.token === null) saveName(name);
    this.compose.fill({ name });
    this.replyForm.fill({ name });
    form.fill({ body: '' });
    this.poster.submit({ name, body: parsed.data.body, parentId: parent?.id ?? null, notify });
    if (parent) this.closeReply(true);
    this.#context.scheduleRender();
  }

  async #send(input: PostInput): Promise<PostResult> {
    const connection = this.#live.connection;
    const { articleId } = this.#context.config;
    if (!connection.isConnected) return this.#context.api.post(articleId, input);
    let answer: unknown;
    try {
      answer = await connection.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('comment:post', { articleId, ...input });
    } catch (error) {
      throw toWidgetError(error);
    }
    return readAck(answer, postAnswerSchema);
  }

  #onPosted(_post: PendingPost, result: PostResult): void {
    const context = this.#context;
    // What became of the reply e-mails it asked for: the part says it.
    this.#optIn?.answered(result);
    if ('held' in result) {
      // Not part of the thread until a moderator approves it: shown to its author alone, marked as waiting.
      const { held } = result;
      if (result.authorToken !== undefined) saveAuthorToken(held.id, result.authorToken);
      if (!context.feed.comments.has(held.id)) this.awaitingModeration.set(held.id, { kind: 'held', ...held });
      context.announce(context.config.strings.text('awaiting'));
      context.scheduleRender();
      return;
    }
    if (result.authorToken !== undefined) saveAuthorToken(result.comment.id, result.authorToken);
    this.#hooks.posted(result.comment);
    context.feed.adopt(result.comment);
    context.announce(context.config.strings.text('posted'));
    context.scheduleRender();
  }

  #onRefused(post: PendingPost, error: WidgetError): void {
    const parent = post.parentId === null ? null : (this.#context.feed.comments.get(post.parentId) ?? null);
    let form = this.compose;
    if (parent && parent.status === 'visible') {
      this.openReply(parent);
      form = this.replyForm;
    }
    form.fill({ name: post.author.name, body: post.body });
    const { strings } = this.#context.config;
    const said = strings.text('notPosted', { error: strings.error(error) });
    // The opt-in takes back what the post asked of it, and what the server says of that.
    form.showIssues(this.#optIn?.refused(form, post, error) ?? error.issues, said);
    this.#context.announce(said);
    this.#context.scheduleRender();
  }
}

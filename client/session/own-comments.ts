import { EditCommentSchema, type Comment } from '../../shared/schemas.ts';
import { forgetAuthorToken, readAuthorToken } from '../local-store.ts';
import { loadPart } from '../parts.ts';
import { toWidgetError } from '../protocol.ts';
import type { ConfirmDelete, EditForm } from '../view/own-panels.ts';
import type { SessionContext } from './context.ts';
import type { Posting } from './posting.ts';

/**
 * The reader's own comments: which they are (posted here, or with an author token this browser
 * keeps), and editing and deleting them with that token. The edit and delete forms are a part
 * loaded from the server the first time this browser shows one of its own comments (client/parts.ts).
 */
export class OwnComments {
  /** The forms, once their part is loaded. */
  editForm: EditForm | null = null;
  confirm: ConfirmDelete | null = null;
  /** The comment being edited, while its form is open. */
  editing: Comment | null = null;
  /** The comment whose deletion is being confirmed, while the question is open. */
  deleting: Comment | null = null;
  /** The delete the reader confirmed, until its answer: its push may arrive first and close the panel. */
  #confirmed: Comment | null = null;
  readonly #known = new Set<string>();
  readonly #context: SessionContext;
  readonly #posting: Posting;

  constructor(context: SessionContext, posting: Posting) {
    this.#context = context;
    this.#posting = posting;
  }

  /** The forms, loading their part first if needed; null (and said to the reader) if it cannot be loaded. */
  async #panels(): Promise<{ edit: EditForm; confirm: ConfirmDelete } | null> {
    if (!this.editForm || !this.confirm) {
      try {
        const { EditForm, ConfirmDelete } = await loadPart(this.#context.config.base, 'own');
        this.editForm ??= new EditForm(
          (body) => void this.#save(body),
          () => this.closeEdit(true),
        );
        this.confirm ??= new ConfirmDelete(
          () => void this.#confirmDelete(),
          () => this.closeDelete(true),
        );
      } catch (error) {
        this.#context.announce(`Your comment cannot be changed now: ${toWidgetError(error).message}`);
        return null;
      }
    }
    return { edit: this.editForm, confirm: this.confirm };
  }

  /** Marks a comment as the reader's (the server just stored it for them). */
  add(commentId: string): void {
    this.#known.add(commentId);
  }

  has(commentId: string): boolean {
    if (this.#known.has(commentId)) return true;
    if (this.#posting.awaitingModeration.has(commentId)) return true;
    if (this.#posting.poster.isMatched(commentId) || readAuthorToken(commentId) !== null) {
      this.#known.add(commentId);
      // The reader will likely want Edit or Delete: fetch their forms now, so a press opens them at once.
      if (this.#known.size === 1) void this.#panels();
      return true;
    }
    return false;
  }

  async openEdit(comment: Comment): Promise<void> {
    const panels = await this.#panels();
    if (!panels) return;
    this.closeDelete(false);
    if (this.editing?.id !== comment.id) panels.edit.open(comment.body);
    this.editing = comment;
    this.#context.render();
    panels.edit.focus();
  }

  closeEdit(returnFocus: boolean): void {
    const target = this.editing;
    if (!target) return;
    this.editing = null;
    this.#context.refocus(returnFocus ? target.id : null, '.edit-button');
  }

  async openDelete(comment: Comment): Promise<void> {
    const panels = await this.#panels();
    if (!panels) return;
    this.closeEdit(false);
    panels.confirm.reset();
    this.deleting = comment;
    this.#context.render();
    panels.confirm.cancel.focus();
  }

  closeDelete(returnFocus: boolean): void {
    const target = this.deleting;
    if (!target) return;
    this.deleting = null;
    this.#confirmed = null;
    this.#context.refocus(returnFocus ? target.id : null, '.delete-button');
  }

  async #save(text: string): Promise<void> {
    const target = this.editing;
    const form = this.editForm;
    if (!target || !form) return;
    const parsed = EditCommentSchema.safeParse({ body: text });
    if (!parsed.success) {
      form.showError(parsed.error.issues[0]?.message ?? 'Invalid comment');
      form.text.focus();
      return;
    }
    const token = readAuthorToken(target.id);
    if (token === null) return form.showError('This browser no longer holds the key to edit this comment.');
    form.busy(true);
    try {
      this.#context.feed.adopt(await this.#context.api.edit(target.id, parsed.data.body, token));
    } catch (error) {
      if (this.editing !== target) return;
      form.busy(false);
      form.showError(`Not saved: ${toWidgetError(error).message}`);
      return;
    }
    if (this.editing !== target) return;
    this.#context.announce('Your comment was edited.');
    this.closeEdit(true);
  }

  async #confirmDelete(): Promise<void> {
    const target = this.deleting;
    const token = target && readAuthorToken(target.id);
    const confirm = this.confirm;
    if (!target || !token || !confirm) return;
    confirm.busy(true);
    this.#confirmed = target;
    try {
      this.#context.feed.adopt(await this.#context.api.remove(target.id, token));
    } catch (error) {
      if (this.#confirmed !== target) return;
      this.#confirmed = null;
      confirm.busy(false);
      confirm.showError(`Not deleted: ${toWidgetError(error).message}`);
      return;
    }
    forgetAuthorToken(target.id);
    this.#context.announce('Your comment was deleted.');
    if (this.#confirmed !== target) return;
    this.#confirmed = null;
    this.deleting = null;
    // The comment is a placeholder now: keep the reader at its place in the thread.
    this.#context.refocus(target.id, null);
  }
}

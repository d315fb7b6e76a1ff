import type { Comment } from '../../shared/schemas.ts';
import { EN_OWN } from '../i18n/en-parts.ts';
import type { Strings } from '../i18n/strings.ts';
import { forgetAuthorToken } from '../storage.ts';
import { adoptPanelStyles, ConfirmDelete, EditForm } from './own-panels.ts';

/**
 * What the editor needs from the widget. Passed in, not imported: the editor is a part loaded on
 * first use (widget-own.js, client/parts.ts), and what it needs (the schema, the API, the author
 * tokens) is in widget.js already; forgetting a token is client/storage.ts, which has no zod.
 */
export interface OwnEditorHost {
  announce(text: string): void;
  render(): void;
  /** Renders now, then focuses a control (`selector`) of a comment's row, or the row itself; null: no focus move. */
  refocus(commentId: string | null, selector: string | null): void;
  /** The edit as the shared schema normalises it, or why it is refused. */
  check(text: string): { body: string } | { error: string };
  /** Sends an edit or a delete with the comment's author token and adopts the stored comment it answers. */
  edit(commentId: string, body: string, token: string): Promise<void>;
  remove(commentId: string, token: string): Promise<void>;
  readToken(commentId: string): string | null;
  /** The reader's words for what went wrong. */
  describe(error: unknown): string;
  /** The widget's words, in its language. */
  strings: Strings;
}

/** Editing and deleting the reader's own comments with the author token this browser keeps. */
export class OwnEditor {
  readonly editForm: EditForm;
  readonly confirm: ConfirmDelete;
  /** The comment being edited, while its form is open. */
  editing: Comment | null = null;
  /** The comment whose deletion is being confirmed, while the question is open. */
  deleting: Comment | null = null;
  /** The delete the reader confirmed, until its answer: its push may arrive first and close the panel. */
  #confirmed: Comment | null = null;
  readonly #host: OwnEditorHost;

  constructor(host: OwnEditorHost) {
    this.#host = host;
    host.strings.add(EN_OWN);
    this.editForm = new EditForm(
      host.strings,
      (body) => void this.#save(body),
      () => this.closeEdit(true),
    );
    this.confirm = new ConfirmDelete(
      host.strings,
      () => void this.#confirmDelete(),
      () => this.closeDelete(true),
    );
  }

  openEdit(comment: Comment): void {
    this.closeDelete(false);
    if (this.editing?.id !== comment.id) this.editForm.open(comment.body);
    this.editing = comment;
    this.#host.render();
    adoptPanelStyles(this.editForm.element);
    this.editForm.focus();
  }

  closeEdit(returnFocus: boolean): void {
    const target = this.editing;
    if (!target) return;
    this.editing = null;
    this.#host.refocus(returnFocus ? target.id : null, '.edit-button');
  }

  openDelete(comment: Comment): void {
    this.closeEdit(false);
    this.confirm.reset();
    this.deleting = comment;
    this.#host.render();
    adoptPanelStyles(this.confirm.element);
    this.confirm.cancel.focus();
  }

  closeDelete(returnFocus: boolean): void {
    const target = this.deleting;
    if (!target) return;
    this.deleting = null;
    this.#confirmed = null;
    this.#host.refocus(returnFocus ? target.id : null, '.delete-button');
  }

  async #save(text: string): Promise<void> {
    const target = this.editing;
    if (!target) return;
    const host = this.#host;
    const form = this.editForm;
    const checked = host.check(text);
    if ('error' in checked) {
      form.showError(checked.error);
      form.text.focus();
      return;
    }
    const token = host.readToken(target.id);
    const { strings } = host;
    if (token === null) return form.showError(strings.text('noKey'));
    form.busy(true);
    try {
      await host.edit(target.id, checked.body, token);
    } catch (error) {
      if (this.editing !== target) return;
      form.busy(false);
      form.showError(strings.text('notSaved', { error: host.describe(error) }));
      return;
    }
    if (this.editing !== target) return;
    host.announce(strings.text('wasEdited'));
    this.closeEdit(true);
  }

  async #confirmDelete(): Promise<void> {
    const host = this.#host;
    const target = this.deleting;
    if (!target) return;
    // '' is a member's key (their member token goes with every write): only null means none.
    const token = host.readToken(target.id);
    if (token === null) return;
    this.confirm.busy(true);
    this.#confirmed = target;
    try {
      await host.remove(target.id, token);
    } catch (error) {
      if (this.#confirmed !== target) return;
      this.#confirmed = null;
      this.confirm.busy(false);
      this.confirm.showError(host.strings.text('notDeleted', { error: host.describe(error) }));
      return;
    }
    forgetAuthorToken(target.id);
    host.announce(host.strings.text('wasDeleted'));
    if (this.#confirmed !== target) return;
    this.#confirmed = null;
    this.deleting = null;
    // The comment is a placeholder now: keep the reader at its place in the thread.
    host.refocus(target.id, null);
  }
}

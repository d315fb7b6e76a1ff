import { EditCommentSchema, LIMITS, type Comment } from '../../shared/schemas.ts';
import { readAuthorToken } from '../local-store.ts';
import { loadPart } from '../parts.ts';
import { toWidgetError } from '../protocol.ts';
import type { OwnEditor } from '../view/own-editor.ts';
import type { SessionContext } from './context.ts';
import type { Posting } from './posting.ts';
import type { RepliesToYou } from './replies-to-you.ts';

/**
 * The reader's own comments: which they are (posted here, or with an author token this browser
 * keeps). Editing and deleting them, and "N new replies to you", are a part loaded from the server
 * (widget-own.js, client/parts.ts) the first time this browser shows one of its own comments: a
 * reader with none has no use for them.
 */
export class OwnComments {
  /** Edit and delete, once their part is loaded. */
  editor: OwnEditor | null = null;
  /** "N new replies to you", once the part is loaded. */
  toYou: RepliesToYou | null = null;
  readonly #known = new Set<string>();
  readonly #context: SessionContext;
  readonly #posting: Posting;
  /** Puts the "N new replies to you" button in the header. */
  readonly #placeToYou: (button: HTMLElement) => void;

  constructor(context: SessionContext, posting: Posting, placeToYou: (button: HTMLElement) => void) {
    this.#context = context;
    this.#posting = posting;
    this.#placeToYou = placeToYou;
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
      // The reader will likely want Edit or Delete: fetch them now, so a press opens them at once.
      if (this.#known.size === 1) void this.load();
      return true;
    }
    return false;
  }

  /** The editor, loading its part first if needed; null (and said to the reader) if it cannot be loaded. */
  async load(): Promise<OwnEditor | null> {
    const context = this.#context;
    try {
      const { OwnEditor, RepliesToYou } = await loadPart(context.config.base, 'own');
      if (!this.toYou) {
        this.toYou = new RepliesToYou(
          context.config.articleId,
          context.thread,
          () => context.render(),
          context.config.strings,
        );
        this.#placeToYou(this.toYou.button);
        context.scheduleRender();
      }
      return (this.editor ??= new OwnEditor({
        announce: (text) => context.announce(text),
        render: () => context.render(),
        refocus: (commentId, selector) => context.refocus(commentId, selector),
        check: (text) => {
          const parsed = EditCommentSchema.safeParse({ body: text });
          if (parsed.success) return parsed.data;
          const { strings } = context.config;
          return {
            error:
              text.trim() === '' ? strings.text('bodyEmpty') : strings.text('bodyTooLong', { max: LIMITS.bodyMax }),
          };
        },
        edit: async (commentId, body, token) =>
          context.feed.adopt(await context.retrying(() => context.api.edit(commentId, body, token))),
        remove: async (commentId, token) =>
          context.feed.adopt(await context.retrying(() => context.api.remove(commentId, token))),
        // A member's comment from another browser has no author token here: their member token (sent on every write) is the key.
        readToken: (id) => readAuthorToken(id) ?? (context.api.signedIn ? '' : null),
        describe: (error) => context.config.strings.error(toWidgetError(error)),
        strings: context.config.strings,
      }));
    } catch (error) {
      const { strings } = context.config;
      context.announce(strings.text('cannotChange', { error: strings.error(toWidgetError(error)) }));
      return null;
    }
  }

  async openEdit(comment: Comment): Promise<void> {
    (await this.load())?.openEdit(comment);
  }

  async openDelete(comment: Comment): Promise<void> {
    (await this.load())?.openDelete(comment);
  }
}

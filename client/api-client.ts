import * as z from 'zod/mini';
import {
  CommentLocationSchema,
  CommentResultSchema,
  CountsSchema,
  LikeResultSchema,
  ReaderLikesSchema,
  type ArticleId,
  type Comment,
  type CommentLocation,
  type CommentPage,
  type LikeResult,
  type NewComment,
  type PostResult,
  type RepliesPage,
  type SortOrder,
} from '../shared/schemas.ts';
import {
  ErrorBodySchema,
  PageAnswerSchema,
  postAnswerSchema,
  readAnswer,
  RepliesAnswerSchema,
  WidgetError,
} from './protocol.ts';

const json = { 'content-type': 'application/json' };
/** An answer whose shape the caller does not need (a part checks what it uses). */
const AnyAnswer = z.object({});

/** Top-level threads per page. */
export const PAGE_SIZE = 20;

/**
 * The REST half of the protocol. Every answer is checked with the shared schemas; anything else is
 * a WidgetError with a message fit for the reader. No cookies are sent (the API uses none).
 */
export class ApiClient {
  readonly #base: URL;
  readonly #token: () => string | null;

  /**
   * `base` is the server's root, ending in `/` (the folder widget.js was loaded from); `token` the
   * reader's member token, if signed in: posts, likes, edits and deletes send it as a Bearer.
   */
  constructor(base: URL, token: () => string | null = () => null) {
    this.#base = base;
    this.#token = token;
  }

  /** A member token is in force: writes are made as that member. */
  get signedIn(): boolean {
    return this.#token() !== null;
  }

  /** `headers` with the member's Authorization, when signed in. */
  #signed(headers: Record<string, string>): Record<string, string> {
    const token = this.#token();
    return token === null ? headers : { ...headers, authorization: `Bearer ${token}` };
  }

  page(
    articleId: ArticleId,
    options: { order: SortOrder; before: string | null },
    signal?: AbortSignal,
  ): Promise<CommentPage> {
    const url = this.#url(`api/articles/${encodeURIComponent(articleId)}/comments`);
    url.searchParams.set('limit', String(PAGE_SIZE));
    url.searchParams.set('order', options.order);
    if (options.before !== null) url.searchParams.set('before', options.before);
    return request(url, { signal }, PageAnswerSchema);
  }

  /** The next replies of a thread, after the cursor its `moreReplies` (or the previous answer's `more`) gave. */
  replies(articleId: ArticleId, topId: string, after: string, signal?: AbortSignal): Promise<RepliesPage> {
    const url = this.#url(`api/articles/${encodeURIComponent(articleId)}/comments/${topId}/replies`);
    url.searchParams.set('after', after);
    return request(url, { signal }, RepliesAnswerSchema);
  }

  /** Where a comment of the article is: its thread's top-level comment (a permalink's target). */
  locate(articleId: ArticleId, commentId: string): Promise<CommentLocation> {
    return request(
      this.#url(`api/articles/${encodeURIComponent(articleId)}/comments/${commentId}`),
      {},
      CommentLocationSchema,
    );
  }

  async count(articleId: ArticleId, signal?: AbortSignal): Promise<number> {
    const url = this.#url('api/counts');
    url.searchParams.set('articles', articleId);
    const { counts } = await request(url, { signal }, CountsSchema);
    return counts[articleId] ?? 0;
  }

  post(articleId: ArticleId, body: NewComment, signal?: AbortSignal): Promise<PostResult> {
    const url = this.#url(`api/articles/${encodeURIComponent(articleId)}/comments`);
    return request(
      url,
      { method: 'POST', headers: this.#signed(json), body: JSON.stringify(body), signal },
      postAnswerSchema,
    );
  }

  /** `PATCH /api/comments/:id` with the author token (the member token when signed in): the edited comment. */
  async edit(commentId: string, body: string, token: string): Promise<Comment> {
    const init = {
      method: 'PATCH',
      headers: this.#signed({ ...json, authorization: `Bearer ${token}` }),
      body: JSON.stringify({ body }),
    };
    return (await request(this.#url(`api/comments/${commentId}`), init, CommentResultSchema)).comment;
  }

  /** `DELETE /api/comments/:id` with the author token (the member token when signed in): the comment, now a removed placeholder. */
  async remove(commentId: string, token: string): Promise<Comment> {
    return (
      await request(
        this.#url(`api/comments/${commentId}`),
        { method: 'DELETE', headers: this.#signed({ authorization: `Bearer ${token}` }) },
        CommentResultSchema,
      )
    ).comment;
  }

  /** Likes (or, with `liked: false`, stops liking) a comment; idempotent per reader. */
  like(commentId: string, readerId: string, liked: boolean): Promise<LikeResult> {
    return request(
      this.#url(`api/comments/${commentId}/like`),
      { method: 'POST', headers: this.#signed(json), body: JSON.stringify({ readerId, liked }) },
      LikeResultSchema,
    );
  }

  /** POSTs JSON to `path` (under the server's root) as the reader; the answer is only checked to be an object. */
  send(path: string, body: object): Promise<unknown> {
    return request(
      this.#url(path),
      { method: 'POST', headers: this.#signed(json), body: JSON.stringify(body) },
      AnyAnswer,
    );
  }

  /** Ids of the article's comments this reader likes. */
  async readerLikes(articleId: ArticleId, readerId: string, signal?: AbortSignal): Promise<string[]> {
    const url = this.#url(`api/articles/${encodeURIComponent(articleId)}/likes`);
    url.searchParams.set('reader', readerId);
    return (await request(url, { signal, headers: this.#signed({}) }, ReaderLikesSchema)).commentIds;
  }

  #url(path: string): URL {
    return new URL(path, this.#base);
  }
}

/**
 * Fetches JSON without cookies and checks the answer with `schema` (or the schema `schema` picks for
 * it); failures are WidgetErrors with a message fit to show.
 */
export async function request<S extends z.ZodMiniType>(
  url: URL,
  init: RequestInit,
  schema: S | ((answer: object) => S),
): Promise<z.infer<S>> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, credentials: 'omit', cache: 'no-store', mode: 'cors' });
  } catch (error) {
    if (init.signal?.aborted) throw error;
    throw new WidgetError('network', 'Could not reach the comment server.');
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    if (init.signal?.aborted) throw error;
    throw new WidgetError('bad_response', `The comment server sent an unreadable answer (${response.status}).`);
  }
  return checkAnswer(response.status, body, schema);
}

/**
 * An answer's JSON body checked with `schema` (or the schema it picks for the body); an error answer
 * (or an unexpected shape) becomes a WidgetError fit to show.
 */
export function checkAnswer<S extends z.ZodMiniType>(
  status: number,
  body: unknown,
  schema: S | ((answer: object) => S),
): z.infer<S> {
  if (status < 200 || status > 299) {
    const failure = ErrorBodySchema.safeParse(body);
    if (failure.success) throw WidgetError.fromInfo(failure.data.error);
    throw new WidgetError('bad_response', `The comment server answered ${status}.`);
  }
  return readAnswer(body, typeof schema === 'function' ? schema : () => schema);
}

import * as z from 'zod/mini';
import {
  AdminSessionSchema,
  BanResultSchema,
  BanSchema,
  ModeratedCommentSchema,
  ModeratedHeldSchema,
  ModeratedResultSchema,
  RejectResultSchema,
  UnbanResultSchema,
  type Ban,
  type BanInput,
  type ModeratedComment,
  type ModeratedHeld,
} from '../../shared/moderation.ts';
import { ArticleStateSchema, type ArticleId, type ArticleState } from '../../shared/schemas.ts';
import { request } from '../api-client.ts';
import { eachValid } from '../protocol.ts';

// Lists are checked item by item: one entry this page cannot show is left out, never the whole list.
const FeedAnswerSchema = z.object({ comments: eachValid(ModeratedCommentSchema) });
const HeldAnswerSchema = z.object({ held: eachValid(ModeratedHeldSchema) });
const BansAnswerSchema = z.object({ bans: eachValid(BanSchema) });

/** Most feed entries and held comments the page loads (the server's limit). */
export const ADMIN_PAGE_SIZE = 200;

/**
 * The moderators' REST API (`/api/admin/…`), with the ADMIN_TOKEN as a bearer token on every call.
 * Every answer is checked with the shared moderation schemas.
 */
export class AdminApi {
  readonly #base: URL;
  readonly #token: string;

  constructor(base: URL, token: string) {
    this.#base = base;
    this.#token = token;
  }

  /** Resolves when the server accepts the token (sign-in); nothing else is read. */
  async checkToken(): Promise<void> {
    await this.#call('GET', 'session', AdminSessionSchema);
  }

  async feed(): Promise<ModeratedComment[]> {
    return (await this.#call('GET', `feed?limit=${ADMIN_PAGE_SIZE}`, FeedAnswerSchema)).comments;
  }

  async held(): Promise<ModeratedHeld[]> {
    return (await this.#call('GET', `held?limit=${ADMIN_PAGE_SIZE}`, HeldAnswerSchema)).held;
  }

  async remove(commentId: string): Promise<ModeratedComment> {
    return (await this.#call('POST', `comments/${commentId}/remove`, ModeratedResultSchema, {})).comment;
  }

  async restore(commentId: string): Promise<ModeratedComment> {
    return (await this.#call('POST', `comments/${commentId}/restore`, ModeratedResultSchema, {})).comment;
  }

  async approve(heldId: string): Promise<ModeratedComment> {
    return (await this.#call('POST', `held/${heldId}/approve`, ModeratedResultSchema, {})).comment;
  }

  async reject(heldId: string): Promise<void> {
    await this.#call('POST', `held/${heldId}/reject`, RejectResultSchema, {});
  }

  async ban(input: BanInput): Promise<Ban> {
    return (await this.#call('POST', 'bans', BanResultSchema, input)).ban;
  }

  async bans(): Promise<Ban[]> {
    return (await this.#call('GET', 'bans', BansAnswerSchema)).bans;
  }

  async unban(authorKey: string): Promise<void> {
    await this.#call('DELETE', `bans/${encodeURIComponent(authorKey)}`, UnbanResultSchema);
  }

  articleState(articleId: ArticleId): Promise<ArticleState> {
    return this.#call('GET', `articles/${encodeURIComponent(articleId)}`, ArticleStateSchema);
  }

  setArticleState(articleId: ArticleId, patch: { locked?: boolean; premoderated?: boolean }): Promise<ArticleState> {
    return this.#call('PUT', `articles/${encodeURIComponent(articleId)}`, ArticleStateSchema, patch);
  }

  #call<S extends z.ZodMiniType>(method: string, path: string, schema: S, body?: object): Promise<z.infer<S>> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return request(
      new URL(`api/admin/${path}`, this.#base),
      { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) },
      schema,
    );
  }
}

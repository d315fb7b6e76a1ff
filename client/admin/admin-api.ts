import type * as z from 'zod/mini';
import {
  AdminFeedSchema,
  BanListSchema,
  BanResultSchema,
  HeldListSchema,
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

  async feed(): Promise<ModeratedComment[]> {
    return (await this.#call('GET', `feed?limit=${ADMIN_PAGE_SIZE}`, AdminFeedSchema)).comments;
  }

  async held(): Promise<ModeratedHeld[]> {
    return (await this.#call('GET', `held?limit=${ADMIN_PAGE_SIZE}`, HeldListSchema)).held;
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
    return (await this.#call('GET', 'bans', BanListSchema)).bans;
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

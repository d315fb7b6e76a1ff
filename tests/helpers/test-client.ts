import { ErrorBodySchema, type ErrorInfo } from '../../shared/errors.ts';
import { PostHeldSchema, PostStoredSchema, type PostHeld, type PostStored } from '../../shared/schemas.ts';
import { postJson } from './test-app.ts';

/** A post as tests write it: the fields of the REST body, with a name instead of `author`, and extra headers. */
export interface TestPost {
  name?: string;
  body?: string;
  parentId?: string;
  clientId?: string;
  clientSecret?: string;
  /** `x-forwarded-for`, `authorization` … */
  headers?: Record<string, string>;
}

/** What a post answered, read with the shared schemas by its status. */
export type PostAnswer =
  ({ status: 200 | 201 } & PostStored) | ({ status: 202 } & PostHeld) | { status: number; error: ErrorInfo };

/**
 * The REST API of one test server, typed: every answer is parsed with the shared schemas, so tests read
 * fields instead of casting bodies. One client per server (`new TestClient(app.url)`).
 */
export class TestClient {
  constructor(readonly url: string) {}

  /** POSTs a comment and reads the answer by its status (stored, held, or the error body). */
  async post(articleId: string, post: TestPost = {}): Promise<PostAnswer> {
    const { name = 'Ann', body = 'hello', headers = {}, ...rest } = post;
    const res = await postJson(
      `${this.url}/api/articles/${articleId}/comments`,
      { author: { name }, body, ...rest },
      headers,
    );
    if (res.status === 200 || res.status === 201) return { status: res.status, ...PostStoredSchema.parse(res.body) };
    if (res.status === 202) return { status: 202, ...PostHeldSchema.parse(res.body) };
    return { status: res.status, error: ErrorBodySchema.parse(res.body).error };
  }

  /** POSTs a comment that must be stored as new (201): its comment and author token. */
  async stored(articleId: string, post: TestPost = {}): Promise<PostStored & { authorToken: string }> {
    const answer = await this.post(articleId, post);
    if (answer.status !== 201 || !('comment' in answer) || answer.authorToken === undefined)
      throw new Error(`expected 201 with a comment and token, got ${JSON.stringify(answer)}`);
    return { comment: answer.comment, authorToken: answer.authorToken };
  }

  /** POSTs a comment that must be held for a moderator (202). */
  async held(articleId: string, post: TestPost = {}): Promise<PostHeld> {
    const answer = await this.post(articleId, post);
    if (answer.status !== 202 || !('held' in answer)) throw new Error(`expected 202, got ${JSON.stringify(answer)}`);
    return { held: answer.held, ...(answer.authorToken === undefined ? {} : { authorToken: answer.authorToken }) };
  }
}

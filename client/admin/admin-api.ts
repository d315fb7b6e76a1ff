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
import { ImportJobResultSchema, type ImportFormat, type ImportJob } from '../../shared/import-export.ts';
import { ArticleStateSchema, type ArticleId, type ArticleState } from '../../shared/schemas.ts';
import { ReportedCommentSchema, ReportedResultSchema, type ReportedComment } from '../../shared/reports.ts';
import {
  DeliveryAttemptSchema,
  OutboxHealthSchema,
  WebhookCreatedSchema,
  WebhookRemovedSchema,
  WebhookSchema,
  type DeliveryAttempt,
  type OutboxHealth,
  type Webhook,
  type WebhookCreated,
  type WebhookInput,
} from '../../shared/notifications.ts';
import {
  ModerationSettingsAnswerSchema,
  type ModerationSettings,
  type ModerationSettingsAnswer,
} from '../../shared/moderation-settings.ts';
import { checkAnswer, request } from '../api-client.ts';
import { eachValid, WidgetError } from '../protocol.ts';

// Lists are checked item by item: one entry this page cannot show is left out, never the whole list.
const FeedAnswerSchema = z.object({ comments: eachValid(ModeratedCommentSchema) });
const HeldAnswerSchema = z.object({ held: eachValid(ModeratedHeldSchema) });
const BansAnswerSchema = z.object({ bans: eachValid(BanSchema) });
const ReportedAnswerSchema = z.object({ reported: eachValid(ReportedCommentSchema) });
const WebhooksAnswerSchema = z.object({ webhooks: eachValid(WebhookSchema) });
const DeliveriesAnswerSchema = z.object({ deliveries: eachValid(DeliveryAttemptSchema) });

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

  async reported(): Promise<ReportedComment[]> {
    return (await this.#call('GET', `reports?limit=${ADMIN_PAGE_SIZE}`, ReportedAnswerSchema)).reported;
  }

  async keepReported(commentId: string): Promise<ReportedComment> {
    return (await this.#call('POST', `reports/${commentId}/keep`, ReportedResultSchema, {})).reported;
  }

  async webhooks(): Promise<Webhook[]> {
    return (await this.#call('GET', 'webhooks', WebhooksAnswerSchema)).webhooks;
  }

  async addWebhook(input: WebhookInput): Promise<WebhookCreated['webhook']> {
    return (await this.#call('POST', 'webhooks', WebhookCreatedSchema, input)).webhook;
  }

  async removeWebhook(id: string): Promise<void> {
    await this.#call('DELETE', `webhooks/${encodeURIComponent(id)}`, WebhookRemovedSchema);
  }

  async deliveries(id: string): Promise<DeliveryAttempt[]> {
    return (await this.#call('GET', `webhooks/${encodeURIComponent(id)}/deliveries`, DeliveriesAnswerSchema))
      .deliveries;
  }

  async outboxHealth(): Promise<OutboxHealth> {
    return this.#call('GET', 'outbox', OutboxHealthSchema);
  }

  async moderationSettings(): Promise<ModerationSettingsAnswer> {
    return this.#call('GET', 'settings/moderation', ModerationSettingsAnswerSchema);
  }

  async saveModerationSettings(settings: ModerationSettings): Promise<ModerationSettingsAnswer> {
    return this.#call('PUT', 'settings/moderation', ModerationSettingsAnswerSchema, settings);
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

  /**
   * `POST /api/admin/import`: the file is the body, streamed by the browser from disk (XMLHttpRequest,
   * for the upload's progress, which fetch cannot report). Resolves with the job once the server has
   * read the whole file; a malformed file is refused then, with the record named.
   */
  startImport(
    file: Blob,
    options: { format: ImportFormat; dryRun: boolean; keepClosed: boolean },
    onSent: (sent: number, total: number) => void,
  ): Promise<ImportJob> {
    const url = new URL('api/admin/import', this.#base);
    url.searchParams.set('format', options.format);
    if (options.dryRun) url.searchParams.set('dryRun', 'true');
    if (options.keepClosed) url.searchParams.set('keepClosed', 'true');
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', url);
      xhr.setRequestHeader('authorization', `Bearer ${this.#token}`);
      // Whatever the file's type: the server recognises the format (and gzip) by the bytes.
      xhr.setRequestHeader('content-type', 'application/octet-stream');
      xhr.upload.addEventListener('progress', (event) =>
        onSent(event.loaded, event.lengthComputable ? event.total : file.size),
      );
      xhr.addEventListener('load', () => {
        try {
          resolve(checkAnswer(xhr.status, parseJson(xhr.responseText), ImportJobResultSchema).job);
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
      xhr.addEventListener('error', () => reject(new WidgetError('network', 'Could not reach the comment server.')));
      xhr.send(file);
    });
  }

  /** `GET /api/admin/import/:job`: the job's state, progress and summary, from whichever instance answers. */
  async importJob(jobId: string): Promise<ImportJob> {
    return (await this.#call('GET', `import/${encodeURIComponent(jobId)}`, ImportJobResultSchema)).job;
  }

  /**
   * `GET /api/admin/export`: the native export as a Blob, with the file name the server gives it. The
   * token travels in the Authorization header, so a plain link cannot download it.
   */
  async export(): Promise<{ blob: Blob; fileName: string }> {
    let response: Response;
    try {
      response = await fetch(new URL('api/admin/export', this.#base), {
        headers: { authorization: `Bearer ${this.#token}` },
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      throw new WidgetError('network', 'Could not reach the comment server.');
    }
    if (!response.ok) checkAnswer(response.status, parseJson(await response.text()), z.never());
    let blob: Blob;
    try {
      blob = await response.blob();
    } catch {
      throw new WidgetError('network', 'The export was cut off before its end. Try again.');
    }
    const named = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '');
    return { blob, fileName: named?.[1] ?? 'comments.jsonl.gz' };
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

/** JSON text, or undefined when it is not JSON (the answer is then reported by its status). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

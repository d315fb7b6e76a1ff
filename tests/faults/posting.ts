import { nanoid } from 'nanoid';
import { CommentPageSchema, PostStoredSchema, type Comment } from '../../shared/schemas.ts';

export interface PostOutcome {
  /** HTTP status; 0 when the request failed at the network level (connection refused or reset). */
  status: number;
  /** Wall time of the request. */
  ms: number;
  retryAfter: string | null;
  comment: Comment | null;
}

/** POSTs one comment with a clientId; never throws. */
export async function postComment(
  baseUrl: string,
  articleId: string,
  body: string,
  clientId: string = nanoid(),
  name = 'Fault Tester',
): Promise<PostOutcome> {
  const started = performance.now();
  try {
    const res = await fetch(`${baseUrl}/api/articles/${articleId}/comments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ author: { name }, body, clientId }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    const parsed = res.ok ? PostStoredSchema.safeParse(JSON.parse(text)) : null;
    return {
      status: res.status,
      ms: performance.now() - started,
      retryAfter: res.headers.get('retry-after'),
      comment: parsed?.success ? parsed.data.comment : null,
    };
  } catch {
    return { status: 0, ms: performance.now() - started, retryAfter: null, comment: null };
  }
}

/** Polls `check` every 10 ms; resolves with the milliseconds it took to become true, throws after `timeoutMs`. */
export async function timeUntil(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - started;
}

export const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** Prints one measured figure in a form easy to find in the CI log. */
export function report(scenario: string, figures: Record<string, unknown>): void {
  console.log(`[fault] ${scenario}: ${JSON.stringify(figures)}`);
}

/** Every stored comment of an article, by walking the REST pages (oldest first), sorted by seq. */
export async function storedComments(baseUrl: string, articleId: string): Promise<Comment[]> {
  const all: Comment[] = [];
  let before: string | null = null;
  do {
    const query: string = `limit=100&order=oldest${before === null ? '' : `&before=${before}`}`;
    const res = await fetch(`${baseUrl}/api/articles/${articleId}/comments?${query}`);
    if (!res.ok) throw new Error(`GET comments answered ${res.status}`);
    const page = CommentPageSchema.parse(await res.json());
    all.push(...page.comments);
    before = page.next;
  } while (before !== null);
  return all.sort((x, y) => x.seq - y.seq);
}

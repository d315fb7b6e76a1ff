import type { ArticleId, SortOrder } from '../../shared/schemas.ts';
import type { ApiClient } from '../api-client.ts';
import type { Strings } from '../i18n/strings.ts';
import type { ArticleFeed } from '../article-feed.ts';
import type { ThreadView } from '../view/thread-view.ts';

/** How long the socket waits for an ack before the widget calls the attempt failed. */
export const ACK_TIMEOUT_MS = 10_000;

export interface SessionConfig {
  /** The comment server's root URL, ending in `/`. */
  base: URL;
  articleId: ArticleId;
  order: SortOrder;
  /** The `<live-comments>` element (its `refreshSsoToken`; sign-in events are dispatched on it). */
  host: HTMLElement;
  /** The member token the element was given (`sso-token`, `ssoToken`); null: none. */
  ssoToken: string | null;
  /** The widget's words, in its language. */
  strings: Strings;
}

/** What the parts of a session share: the article's feed and thread, and the session's way to speak and redraw. */
export interface SessionContext {
  readonly config: SessionConfig;
  readonly api: ApiClient;
  readonly feed: ArticleFeed;
  readonly thread: ThreadView;
  /** Says `text` to screen readers (the polite live region). */
  announce(text: string): void;
  /** Renders once, at the end of the current task. */
  scheduleRender(): void;
  /** Renders now. */
  render(): void;
  /** Renders now, then focuses a control (`selector`) of a comment's row, or the row itself; null: no focus move. */
  refocus(commentId: string | null, selector: string | null): void;
  /** Runs a write; signed in, once more with a fresh token if the server says the token expired. */
  retrying<T>(action: () => Promise<T>): Promise<T>;
}

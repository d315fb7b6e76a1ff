import { Likes } from '../likes.ts';
import { readerId } from '../local-store.ts';
import type { SessionContext } from './context.ts';

/** The reader's likes on this article: pressed ones from the server, presses sent as this browser's reader id. */
export function readerLikes(context: SessionContext): Likes {
  const likes = new Likes((id, liked) => context.retrying(() => context.api.like(id, readerId(), liked)), {
    changed: () => context.scheduleRender(),
    adopt: (comment) => context.feed.adopt(comment),
    failed: (_comment, error) => {
      const { strings } = context.config;
      context.announce(strings.text('likeFailed', { error: strings.error(error) }));
    },
  });
  reloadLikes(context, likes);
  return likes;
}

/** Reads which comments the reader likes (again when they sign in or out: a member's likes are their account's). */
export function reloadLikes(context: SessionContext, likes: Likes): void {
  context.api.readerLikes(context.config.articleId, readerId()).then(
    (ids) => likes.load(ids),
    // Without the list, Like buttons start unpressed; pressing still counts once (the server is idempotent).
    () => undefined,
  );
}

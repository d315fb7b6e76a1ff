import { describe, expect, it } from 'vitest';
import { Likes } from '../../client/likes.ts';
import { WidgetError } from '../../client/protocol.ts';
import type { Comment, LikeResult } from '../../shared/schemas.ts';

const comment = (extra: Partial<Comment> = {}): Comment => ({
  id: 'c00000000000000000001',
  articleId: 'a',
  parentId: null,
  author: { name: 'Ann' },
  body: 'Hello',
  createdAt: '2024-05-17T12:00:00.000Z',
  editedAt: null,
  status: 'visible',
  seq: 5,
  likes: 2,
  ...extra,
});

/** A Likes whose requests the test answers by hand, recording what it adopted and what failed. */
function setup() {
  const requests: Array<{ liked: boolean; resolve(result: LikeResult): void; reject(error: Error): void }> = [];
  const adopted: Comment[] = [];
  const failures: string[] = [];
  let changes = 0;
  const likes = new Likes(
    (_id, liked) => new Promise<LikeResult>((resolve, reject) => requests.push({ liked, resolve, reject })),
    { changed: () => changes++, adopt: (c) => adopted.push(c), failed: (_c, error) => failures.push(error.message) },
  );
  return { likes, requests, adopted, failures, changes: () => changes };
}

describe('widget likes', () => {
  it('shows the server’s count and whether this reader likes it', () => {
    const { likes } = setup();
    expect(likes.view(comment())).toEqual({ count: 2, pressed: false });
    likes.load([comment().id]);
    expect(likes.view(comment())).toEqual({ count: 2, pressed: true });
  });

  it('shows a press at once, then the server’s answer', async () => {
    const { likes, requests, adopted } = setup();
    const shown = comment();
    const pressing = likes.toggle(shown);
    expect(likes.view(shown)).toEqual({ count: 3, pressed: true });
    expect(requests.map((r) => r.liked)).toEqual([true]);
    const answer = comment({ seq: 6, likes: 3 });
    requests[0]!.resolve({ comment: answer, liked: true });
    await pressing;
    expect(adopted).toEqual([answer]);
    expect(likes.view(answer)).toEqual({ count: 3, pressed: true });
  });

  it('never counts a press twice when a newer version arrives before the answer', () => {
    const { likes } = setup();
    const shown = comment();
    void likes.toggle(shown);
    // The push of this very like (or of another reader's) arrives first: its count is shown as it is.
    expect(likes.view(comment({ seq: 6, likes: 3 }))).toEqual({ count: 3, pressed: true });
  });

  it('undoes a like the same way', async () => {
    const { likes, requests } = setup();
    likes.load([comment().id]);
    const pressing = likes.toggle(comment());
    expect(likes.view(comment())).toEqual({ count: 1, pressed: false });
    expect(requests.map((r) => r.liked)).toEqual([false]);
    requests[0]!.resolve({ comment: comment({ seq: 6, likes: 1 }), liked: false });
    await pressing;
    expect(likes.view(comment({ seq: 6, likes: 1 }))).toEqual({ count: 1, pressed: false });
  });

  it('rolls back a press the server did not take, and says why, beside the button until the next press', async () => {
    const { likes, requests, adopted, failures } = setup();
    const pressing = likes.toggle(comment());
    requests[0]!.reject(new WidgetError('rate_limited', 'Too many likes; try again in 20 s'));
    await pressing;
    expect(likes.view(comment())).toMatchObject({
      count: 2,
      pressed: false,
      error: { code: 'rate_limited', message: 'Too many likes; try again in 20 s' },
    });
    expect(adopted).toEqual([]);
    expect(failures).toEqual(['Too many likes; try again in 20 s']);
    void likes.toggle(comment());
    expect(likes.view(comment()).error).toBeUndefined();
  });

  it('ignores presses while one is on its way', async () => {
    const { likes, requests } = setup();
    const first = likes.toggle(comment());
    await likes.toggle(comment());
    expect(requests).toHaveLength(1);
    requests[0]!.resolve({ comment: comment({ seq: 6, likes: 3 }), liked: true });
    await first;
    void likes.toggle(comment({ seq: 6, likes: 3 }));
    expect(requests.map((r) => r.liked)).toEqual([true, false]);
  });

  it('never shows a negative count', () => {
    const { likes } = setup();
    likes.load([comment().id]);
    void likes.toggle(comment({ likes: 0 }));
    expect(likes.view(comment({ likes: 0 }))).toEqual({ count: 0, pressed: false });
  });
});

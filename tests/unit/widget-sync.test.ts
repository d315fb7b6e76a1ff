import { describe, expect, it, vi } from 'vitest';
import type { Comment, CommentPage, SortOrder } from '../../shared/schemas.ts';
import { ArticleFeed, type FeedTransport, type LiveState } from '../../client/article-feed.ts';
import { SeqTracker } from '../../client/seq-tracker.ts';
import { WidgetError } from '../../client/protocol.ts';

describe('widget seq tracker', () => {
  it('advances through consecutive changes and ignores repeats', () => {
    const tracker = new SeqTracker(3);
    expect(tracker.observe(4)).toBe(true);
    expect(tracker.observe(4)).toBe(false);
    expect(tracker.observe(2)).toBe(false);
    expect(tracker.lastSeq).toBe(4);
    expect(tracker.hasGap).toBe(false);
  });

  it('reports a gap when a change skips ahead, and closes it when the missing one arrives', () => {
    const tracker = new SeqTracker(4);
    tracker.observe(6);
    expect(tracker.hasGap).toBe(true);
    expect(tracker.lastSeq).toBe(4);
    tracker.observe(5);
    expect(tracker.hasGap).toBe(false);
    expect(tracker.lastSeq).toBe(6);
  });

  it('settles to a catch-up head, keeping later changes seen meanwhile, and never moves back', () => {
    const tracker = new SeqTracker(4);
    tracker.observe(8);
    tracker.observe(9);
    tracker.settle(7);
    expect(tracker.lastSeq).toBe(9);
    expect(tracker.hasGap).toBe(false);
    tracker.settle(2);
    expect(tracker.lastSeq).toBe(9);
    expect(tracker.isBehind(10)).toBe(true);
    expect(tracker.isBehind(9)).toBe(false);
  });
});

/** A stand-in for the server's store: gapless seq per change, changes-since and pages like the real one. */
class FakeServer {
  readonly comments = new Map<string, Comment>();
  lastSeq = 0;
  subscribeCalls: number[] = [];
  pageCalls = 0;
  /** Answer the next subscribe with `reset: true`. */
  resetNext = false;
  /** Replies of a thread a page carries (like LIMITS.repliesPerThread); the rest come from `replies`. */
  repliesPerThread = Number.POSITIVE_INFINITY;
  repliesCalls: string[] = [];
  #ids = 0;

  create(body: string, parentId: string | null = null): Comment {
    const id = `id${String(++this.#ids).padStart(19, '0')}`;
    const comment: Comment = {
      id,
      articleId: 'art',
      parentId,
      author: { name: 'Ann' },
      body,
      createdAt: new Date(Date.UTC(2024, 0, 1, 0, this.#ids)).toISOString(),
      editedAt: null,
      status: 'visible',
      seq: ++this.lastSeq,
      likes: 0,
    };
    this.comments.set(id, comment);
    return comment;
  }

  edit(id: string, body: string): Comment {
    const next = { ...this.comments.get(id)!, body, editedAt: new Date().toISOString(), seq: ++this.lastSeq };
    this.comments.set(id, next);
    return next;
  }

  remove(id: string): Comment {
    const next = { ...this.comments.get(id)!, body: '', status: 'removed' as const, seq: ++this.lastSeq };
    this.comments.set(id, next);
    return next;
  }

  transport(): FeedTransport {
    return {
      page: async (order: SortOrder): Promise<CommentPage> => {
        this.pageCalls++;
        const all = [...this.comments.values()];
        const tops = all
          .filter((c) => c.parentId === null)
          .sort((a, b) => (order === 'newest' ? b.seq - a.seq : a.seq - b.seq));
        const moreReplies: Record<string, { count: number; next: string }> = {};
        const comments = tops.flatMap((top) => {
          const replies = all.filter((c) => c.parentId === top.id);
          const shown = replies.slice(0, this.repliesPerThread);
          if (shown.length < replies.length)
            moreReplies[top.id] = { count: replies.length - shown.length, next: String(shown.length) };
          return [top, ...shown];
        });
        return {
          articleId: 'art',
          lastSeq: this.lastSeq,
          comments,
          next: null,
          locked: false,
          premoderated: false,
          moreReplies,
        };
      },
      // The cursor of this stand-in is how many of the thread's replies came before.
      replies: async (topId: string, after: string) => {
        this.repliesCalls.push(`${topId}@${after}`);
        const replies = [...this.comments.values()].filter((c) => c.parentId === topId);
        const from = Number(after);
        const comments = replies.slice(from, from + this.repliesPerThread);
        const rest = replies.length - from - comments.length;
        return {
          lastSeq: this.lastSeq,
          comments,
          more: rest > 0 ? { count: rest, next: String(from + comments.length) } : null,
        };
      },
      count: async () => [...this.comments.values()].filter((c) => c.status === 'visible').length,
      subscribe: async (since: number) => {
        this.subscribeCalls.push(since);
        if (this.resetNext) {
          this.resetNext = false;
          return { lastSeq: this.lastSeq, comments: [], reset: true };
        }
        const comments = [...this.comments.values()].filter((c) => c.seq > since).sort((a, b) => a.seq - b.seq);
        return { lastSeq: this.lastSeq, comments };
      },
    };
  }
}

function setup(server: FakeServer, transport: FeedTransport = server.transport()) {
  const fresh: Comment[] = [];
  const states: LiveState[] = [];
  const failures: string[] = [];
  const feed = new ArticleFeed(
    'art',
    'newest',
    transport,
    {
      changed: (added) => fresh.push(...added),
      liveState: (state) => states.push(state),
      failed: (error, during) => failures.push(`${during}:${error.code}`),
    },
    { retryDelayMs: 5 },
  );
  return { feed, fresh, states, failures };
}

const bodies = (feed: ArticleFeed) => [...feed.comments.values()].map((c) => c.body).sort();

describe('widget article feed', () => {
  it('subscribes only after the first page, from that page’s lastSeq, and goes live', async () => {
    const server = new FakeServer();
    server.create('one');
    server.create('two');
    const { feed, states } = setup(server);
    feed.connected();
    feed.start();
    await vi.waitFor(() => expect(feed.state).toBe('live'));
    expect(server.subscribeCalls).toEqual([2]);
    expect(bodies(feed)).toEqual(['one', 'two']);
    expect(feed.count).toBe(2);
    expect(states).toEqual(['live']);
  });

  it('applies pushes once, drops repeats, and counts only new visible comments', async () => {
    const server = new FakeServer();
    const { feed, fresh } = setup(server);
    feed.connected();
    feed.start();
    await vi.waitFor(() => expect(feed.state).toBe('live'));
    const created = server.create('hello');
    feed.receive('comment:created', created);
    feed.receive('comment:created', created);
    expect(fresh.map((c) => c.body)).toEqual(['hello']);
    expect(feed.count).toBe(1);
    const edited = server.edit(created.id, 'hello again');
    feed.receive('comment:updated', edited);
    feed.receive('comment:created', created); // a late repeat of the older version
    expect(feed.comments.get(created.id)?.body).toBe('hello again');
    expect(feed.count).toBe(1);
    feed.receive('comment:removed', server.remove(created.id));
    expect(feed.count).toBe(0);
    expect(feed.lastSeq).toBe(3);
    expect(server.subscribeCalls).toEqual([0]);
  });

  it('catches up when a pushed seq skips ahead, so the missed change appears once', async () => {
    const server = new FakeServer();
    const { feed, fresh } = setup(server);
    feed.connected();
    feed.start();
    await vi.waitFor(() => expect(feed.state).toBe('live'));
    const missed = server.create('missed'); // stored, but its push never arrives
    const next = server.create('next');
    feed.receive('comment:created', next);
    await vi.waitFor(() => expect(feed.lastSeq).toBe(2));
    expect(server.subscribeCalls).toEqual([0, 0]);
    expect(bodies(feed)).toEqual(['missed', 'next']);
    expect(fresh.map((c) => c.id).sort()).toEqual([missed.id, next.id].sort());
  });

  it('catches up from lastSeq after a reconnect, and when the server’s head is ahead', async () => {
    const server = new FakeServer();
    server.create('before');
    const { feed, states } = setup(server);
    feed.connected();
    feed.start();
    await vi.waitFor(() => expect(feed.state).toBe('live'));
    feed.disconnected();
    server.create('while away 1');
    server.create('while away 2');
    feed.connected();
    await vi.waitFor(() => expect(bodies(feed)).toEqual(['before', 'while away 1', 'while away 2']));
    expect(server.subscribeCalls).toEqual([1, 1]);
    expect(states).toEqual(['live', 'paused', 'live']);
    server.create('missed on another instance');
    feed.head(server.lastSeq);
    await vi.waitFor(() => expect(feed.lastSeq).toBe(4));
    expect(server.subscribeCalls).toEqual([1, 1, 3]);
    feed.head(2); // an older head changes nothing
    expect(server.subscribeCalls).toHaveLength(3);
  });

  it('reloads the first page when the catch-up answers reset', async () => {
    const server = new FakeServer();
    const { feed } = setup(server);
    feed.connected();
    feed.start();
    await vi.waitFor(() => expect(feed.state).toBe('live'));
    feed.disconnected();
    for (let i = 0; i < 3; i++) server.create(`burst ${i}`);
    server.resetNext = true;
    feed.connected();
    await vi.waitFor(() => expect(feed.state).toBe('live'));
    expect(server.pageCalls).toBe(2);
    expect(bodies(feed)).toEqual(['burst 0', 'burst 1', 'burst 2']);
    expect(server.subscribeCalls).toEqual([0, 0, 3]);
  });

  it('ignores pushes before its first page (the subscription covers them) and subscribes once connected', async () => {
    const server = new FakeServer();
    const { feed } = setup(server);
    feed.start();
    feed.receive('comment:created', server.create('early'));
    await vi.waitFor(() => expect(feed.loaded).toBe(true));
    expect(server.subscribeCalls).toEqual([]);
    feed.connected();
    await vi.waitFor(() => expect(feed.state).toBe('live'));
    expect(bodies(feed)).toEqual(['early']);
  });

  it('retries a refused subscription and reports it', async () => {
    const server = new FakeServer();
    const base = server.transport();
    let refusals = 2;
    const { feed, failures } = setup(server, {
      ...base,
      subscribe: async (since) => {
        if (refusals-- > 0) throw new WidgetError('rate_limited', 'slow down');
        return base.subscribe(since);
      },
    });
    feed.connected();
    feed.start();
    await vi.waitFor(() => expect(feed.state).toBe('live'));
    expect(failures).toEqual(['live:rate_limited', 'live:rate_limited']);
  });

  it('reports a failed first page and loads it on retry', async () => {
    const server = new FakeServer();
    server.create('there');
    const base = server.transport();
    let fail = true;
    const { feed, failures } = setup(server, {
      ...base,
      page: async (order, before, signal) => {
        if (fail) throw new WidgetError('network', 'offline');
        return base.page(order, before, signal);
      },
    });
    feed.start();
    // Failed (and failing again on the widget's own retries) until the reader asks or the server is back.
    await vi.waitFor(() => expect(failures).toContain('load:network'));
    expect(new Set(failures)).toEqual(new Set(['load:network']));
    fail = false;
    feed.retry();
    await vi.waitFor(() => expect(bodies(feed)).toEqual(['there']));
  });

  it('keeps the reader’s own confirmed post and lets its push pass as a repeat', async () => {
    const server = new FakeServer();
    const { feed, fresh } = setup(server);
    feed.connected();
    feed.start();
    await vi.waitFor(() => expect(feed.state).toBe('live'));
    const mine = server.create('mine');
    feed.adopt(mine);
    feed.receive('comment:created', mine);
    expect(fresh).toEqual([]);
    expect(feed.count).toBe(1);
    expect(feed.lastSeq).toBe(1);
  });

  it('applies a coalesced batch (older versions superseded) without a gap, so it does not catch up', async () => {
    const server = new FakeServer();
    const { feed } = setup(server);
    feed.connected();
    feed.start();
    await vi.waitFor(() => expect(feed.state).toBe('live'));
    const liked = server.create('liked'); // seq 1
    const versions = [1, 2, 3].map((likes) => {
      const next = { ...server.comments.get(liked.id)!, likes, seq: ++server.lastSeq };
      server.comments.set(liked.id, next);
      return next;
    });
    // The server sent seq 1 (created) and 4 (the newest like), listing 2 and 3 as superseded.
    feed.receiveBatch(
      [
        { event: 'comment:created', comment: { ...liked } },
        { event: 'comment:updated', comment: versions[2]! },
      ],
      [2, 3],
    );
    expect(feed.lastSeq).toBe(4);
    expect(feed.comments.get(liked.id)?.likes).toBe(3);
    expect(server.subscribeCalls).toEqual([0]);
  });

  it('loads a thread’s replies in steps; the count stays the server’s until every reply is in', async () => {
    const server = new FakeServer();
    server.repliesPerThread = 2;
    const top = server.create('top');
    for (let i = 1; i <= 5; i++) server.create(`reply ${i}`, top.id);
    const { feed } = setup(server);
    feed.connected();
    feed.start();
    await vi.waitFor(() => expect(feed.state).toBe('live'));
    expect(bodies(feed)).toEqual(['reply 1', 'reply 2', 'top']);
    expect(feed.moreReplies(top.id)).toEqual({ count: 3, loading: false, error: null });
    // Three comments loaded of six: the count is the server's, not the three.
    expect(feed.count).toBe(6);
    await feed.loadReplies(top.id);
    expect(feed.moreReplies(top.id)).toEqual({ count: 1, loading: false, error: null });
    await feed.loadReplies(top.id);
    expect(feed.moreReplies(top.id)).toBeNull();
    expect(bodies(feed)).toEqual(['reply 1', 'reply 2', 'reply 3', 'reply 4', 'reply 5', 'top']);
    expect(server.repliesCalls).toEqual([`${top.id}@2`, `${top.id}@4`]);
    expect(feed.count).toBe(6);
  });

  it('loads and subscribes by itself once the connection comes up, when the server was down at first load', async () => {
    const server = new FakeServer();
    server.create('there all along');
    const base = server.transport();
    let down = true;
    const { feed, failures, states } = setup(server, {
      ...base,
      page: async (order, before, signal) => {
        if (down) throw new WidgetError('network', 'Could not reach the comment server.');
        return base.page(order, before, signal);
      },
    });
    feed.start();
    feed.disconnected();
    await vi.waitFor(() => expect(failures).toContain('load:network'));
    expect(feed.loaded).toBe(false);
    // The server comes back: the socket connects, and that is all it takes.
    down = false;
    feed.connected();
    await vi.waitFor(() => expect(feed.state).toBe('live'));
    expect(bodies(feed)).toEqual(['there all along']);
    expect(server.subscribeCalls).toEqual([1]);
    expect(states.at(-1)).toBe('live');
  });

  it('tries the first page again by itself after a failure the server may recover from, not after a refusal', async () => {
    const server = new FakeServer();
    server.create('eventually');
    const base = server.transport();
    let failures = 0;
    let code: 'unavailable' | 'forbidden' = 'unavailable';
    const { feed } = setup(server, {
      ...base,
      page: async (order, before, signal) => {
        if (failures++ < 2) throw new WidgetError(code, 'no');
        return base.page(order, before, signal);
      },
    });
    feed.connected();
    feed.start();
    await vi.waitFor(() => expect(feed.state).toBe('live'));
    expect(bodies(feed)).toEqual(['eventually']);

    failures = 0;
    code = 'forbidden';
    const refused = setup(server, { ...base, page: async () => Promise.reject(new WidgetError('forbidden', 'no')) });
    refused.feed.connected();
    refused.feed.start();
    await vi.waitFor(() => expect(refused.failures).toEqual(['load:forbidden']));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(refused.failures).toEqual(['load:forbidden']);
  });
});

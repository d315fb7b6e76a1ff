import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TypingChanged } from '../../shared/typing.ts';
import type { TypingCount } from '../../server/fanout/port.ts';
import type { CommentServer } from '../../server/socket/gateway.ts';
import { TypingTracker } from '../../server/typing/tracker.ts';

/** What a room or a set of sockets was sent, in order: `to` names the targets, `except` the ones left out. */
interface Sent {
  to: string | string[];
  except: string[];
  typing: TypingChanged;
}

/** Just the part of a Socket.IO server the tracker uses: rooms to emit to and the adapter's leave-room event. */
function fakeServer() {
  const adapter = new EventEmitter();
  const sent: Sent[] = [];
  const target = (to: string | string[], except: string[] = []) => ({
    except: (ids: string[]) => target(to, ids),
    emit: (_event: 'typing:changed', typing: TypingChanged) => void sent.push({ to, except, typing }),
  });
  const io = { of: () => ({ adapter }), to: (to: string | string[]) => target(to) } as unknown as CommentServer;
  return { io, adapter, sent };
}

describe('TypingTracker', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  function setup() {
    const server = fakeServer();
    const published: Array<Omit<TypingCount, 'origin'>> = [];
    const tracker = new TypingTracker(
      server.io,
      { publishTyping: (typing) => void published.push(typing) },
      {
        holdMs: 6000,
        refreshMs: 3000,
        remoteHoldMs: 7500,
        flushMs: 300,
      },
    );
    return { ...server, published, tracker };
  }

  it('tells the room the total and the writer the total without them, once per window, and the other instances its count', () => {
    const { tracker, sent, published } = setup();
    tracker.start('s1', 'art', null);
    tracker.start('s2', 'art', null);
    tracker.start('s1', 'art', null); // a renewal changes nothing
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(300);
    expect(published).toEqual([{ articleId: 'art', parentId: null, count: 2 }]);
    expect(sent).toEqual([
      { to: 'article:art', except: ['s1', 's2'], typing: { articleId: 'art', parentId: null, count: 2 } },
      { to: ['s1', 's2'], except: [], typing: { articleId: 'art', parentId: null, count: 1 } },
    ]);
  });

  it('moves a connection that starts writing elsewhere, and ends it on stop and on leaving the room', () => {
    const { tracker, sent, adapter } = setup();
    tracker.start('s1', 'art', null);
    vi.advanceTimersByTime(300);
    tracker.start('s1', 'art', 'c'.repeat(21));
    vi.advanceTimersByTime(300);
    expect(tracker.current('art')).toEqual([{ articleId: 'art', parentId: 'c'.repeat(21), count: 1 }]);
    expect(sent).toContainEqual({
      to: 'article:art',
      except: [],
      typing: { articleId: 'art', parentId: null, count: 0 },
    });
    tracker.stop('s1', 'other-article'); // not where it writes: nothing
    tracker.stop('s1', 'art');
    vi.advanceTimersByTime(300);
    expect(tracker.current('art')).toEqual([]);
    tracker.start('s2', 'art', null);
    vi.advanceTimersByTime(300);
    adapter.emit('leave-room', 'article:art', 's2');
    vi.advanceTimersByTime(300);
    expect(sent.at(-1)).toEqual({
      to: 'article:art',
      except: [],
      typing: { articleId: 'art', parentId: null, count: 0 },
    });
  });

  it('ends a start that is not renewed, and forgets another instance whose count is not sent again', () => {
    const { tracker, sent } = setup();
    tracker.start('s1', 'art', null);
    tracker.remote({ origin: 'b', articleId: 'art', parentId: null, count: 3 });
    vi.advanceTimersByTime(300);
    expect(tracker.current('art')).toEqual([{ articleId: 'art', parentId: null, count: 4 }]);
    vi.advanceTimersByTime(5000); // 5.3 s: both still hold
    expect(tracker.current('art')[0]?.count).toBe(4);
    vi.advanceTimersByTime(1700); // the start lapsed at 6 s
    expect(tracker.current('art')[0]?.count).toBe(3);
    vi.advanceTimersByTime(1000); // the remote count lapsed at 7.8 s
    vi.advanceTimersByTime(300);
    expect(tracker.current('art')).toEqual([]);
    expect(sent.at(-1)?.typing.count).toBe(0);
  });

  it('sends its count again while it lasts, and 0 once nobody writes, then stops its timers', () => {
    const { tracker, published } = setup();
    tracker.start('s1', 'art', null);
    vi.advanceTimersByTime(300);
    tracker.start('s1', 'art', null);
    vi.advanceTimersByTime(3500);
    expect(published.filter((p) => p.count === 1).length).toBeGreaterThanOrEqual(2);
    tracker.stop('s1', 'art');
    vi.advanceTimersByTime(300);
    expect(published.at(-1)).toEqual({ articleId: 'art', parentId: null, count: 0 });
    vi.advanceTimersByTime(2000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('tells nothing when a change is undone within the window, and nothing after close', () => {
    const { tracker, sent } = setup();
    tracker.start('s1', 'art', null);
    tracker.stop('s1', 'art');
    vi.advanceTimersByTime(300);
    expect(sent).toEqual([]);
    tracker.start('s1', 'art', null);
    tracker.close();
    vi.advanceTimersByTime(10_000);
    expect(sent).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

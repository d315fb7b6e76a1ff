import { nanoid } from 'nanoid';
import { describe, expect, vi } from 'vitest';
import { FailedAckSchema } from '../../shared/acks.ts';
import { TypingChangedSchema, type TypingChanged } from '../../shared/typing.ts';
import { test } from '../helpers/fixtures.ts';
import { startTwoTestApps, uniqueArticle, type TestSocket } from '../helpers/test-app.ts';

/** A subscribed reader of one article and every `typing:changed` it heard, by place (`parentId ?? ''`). */
interface Reader {
  socket: TestSocket;
  heard: Map<string, number[]>;
}

const last = (reader: Reader, parentId: string | null = null): number | undefined =>
  reader.heard.get(parentId ?? '')?.at(-1);

/** Typing indicators across two instances over Redis: counts converge everywhere, without the writer. */
describe('typing indicators', () => {
  test('shows writers to readers on both instances, by place, and clears them on stop, move and disconnect', async ({
    connect,
    defer,
  }) => {
    const pair = await startTwoTestApps();
    defer(() => pair.close());
    const articleId = uniqueArticle('typing');

    const read = async (url: string): Promise<Reader> => {
      const socket = await connect(url);
      const heard = new Map<string, number[]>();
      socket.on('typing:changed', (raw: TypingChanged) => {
        const typing = TypingChangedSchema.parse(raw);
        if (typing.articleId !== articleId) return;
        const key = typing.parentId ?? '';
        heard.set(key, [...(heard.get(key) ?? []), typing.count]);
      });
      expect((await socket.emitWithAck('article:subscribe', { articleId })).ok).toBe(true);
      return { socket, heard };
    };
    const settle = (check: () => void) => vi.waitFor(check, { timeout: 5000, interval: 50 });

    const onA = await read(pair.a.url);
    const onB = await read(pair.b.url);
    const writerA = await read(pair.a.url);
    const writerB = await read(pair.b.url);
    const parentId = nanoid();

    expect(await writerA.socket.emitWithAck('typing:start', { articleId })).toEqual({ ok: true });
    await settle(() => {
      expect(last(onA)).toBe(1);
      expect(last(onB)).toBe(1);
      expect(last(writerB)).toBe(1);
    });
    // The writer is not counted in what it is told.
    expect(writerA.heard.get('')?.every((count) => count === 0)).toBe(true);

    expect((await writerB.socket.emitWithAck('typing:start', { articleId, parentId })).ok).toBe(true);
    await settle(() => {
      expect(last(onA, parentId)).toBe(1);
      expect(last(onB, parentId)).toBe(1);
      expect(last(writerA, parentId)).toBe(1);
    });

    // A reader who arrives now is told who writes where at once.
    const late = await read(pair.b.url);
    await settle(() => {
      expect(last(late)).toBe(1);
      expect(last(late, parentId)).toBe(1);
    });

    // Both write new comments now: writer B moved from its reply.
    expect((await writerB.socket.emitWithAck('typing:start', { articleId })).ok).toBe(true);
    await settle(() => {
      expect(last(onA)).toBe(2);
      expect(last(onB)).toBe(2);
      expect(last(onA, parentId)).toBe(0);
      expect(last(writerA)).toBe(1);
      expect(last(writerB)).toBe(1);
    });

    expect(await writerA.socket.emitWithAck('typing:stop', { articleId })).toEqual({ ok: true });
    await settle(() => expect(last(onB)).toBe(1));

    writerB.socket.disconnect();
    await settle(() => {
      expect(last(onA)).toBe(0);
      expect(last(onB)).toBe(0);
      expect(last(late)).toBe(0);
    });
  });

  test('refuses a start outside a subscribed article, a malformed one, and a guest where posting needs a member', async ({
    startApp,
    connect,
  }) => {
    const open = await startApp();
    const socket = await connect(open.url);
    const articleId = uniqueArticle('typing');
    const notSubscribed = FailedAckSchema.parse(await socket.emitWithAck('typing:start', { articleId }));
    expect(notSubscribed.error.code).toBe('invalid_input');
    expect((await socket.emitWithAck('article:subscribe', { articleId })).ok).toBe(true);
    const malformed = FailedAckSchema.parse(
      await socket.emitWithAck('typing:start', { articleId, parentId: 'not-an-id' }),
    );
    expect(malformed.error.code).toBe('invalid_input');

    const membersOnly = await startApp({ env: { SSO_SECRETS: 's'.repeat(40), SSO_MODE: 'required' } });
    const guest = await connect(membersOnly.url);
    expect((await guest.emitWithAck('article:subscribe', { articleId })).ok).toBe(true);
    const refused = FailedAckSchema.parse(await guest.emitWithAck('typing:start', { articleId }));
    expect(refused.error.code).toBe('unauthenticated');
  });
});

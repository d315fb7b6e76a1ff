import * as parser from 'socket.io-parser';
import { describe, expect, it } from 'vitest';
import { countText, isCount, readFrame, subscribeFrame } from '../../client/count/wire.ts';

/** A Socket.IO packet as the server sends it inside an Engine.IO message frame (`4` + the encoded packet). */
const message = (packet: { type: number; nsp?: string; id?: number; data?: unknown }): string =>
  `4${(new parser.Encoder().encode({ nsp: '/', ...packet }) as string[])[0]!}`;

describe('count.js wire format', () => {
  it('reads the Engine.IO open frame with the silence after which the server is gone', () => {
    const open = `0${JSON.stringify({ sid: 'abc', upgrades: [], pingInterval: 25_000, pingTimeout: 20_000, maxPayload: 1_000_000 })}`;
    expect(readFrame(open)).toEqual({ kind: 'open', silence: 45_000 });
    expect(readFrame('0{"sid":"abc"}')).toBeNull();
    expect(readFrame('2')).toEqual({ kind: 'ping' });
    expect(readFrame('1')).toEqual({ kind: 'end' });
  });

  it('reads the Socket.IO packets the server sends, as socket.io-parser encodes them', () => {
    expect(readFrame(message({ type: parser.PacketType.CONNECT, data: { sid: 'xyz' } }))).toEqual({
      kind: 'connected',
    });
    const change = { articleId: 'a-1', count: 3 };
    expect(readFrame(message({ type: parser.PacketType.EVENT, data: ['count:changed', change] }))).toEqual({
      kind: 'event',
      name: 'count:changed',
      payload: change,
    });
    const answer = { ok: true, counts: { 'a-1': 3, b: 0 } };
    expect(readFrame(message({ type: parser.PacketType.ACK, id: 12, data: [answer] }))).toEqual({
      kind: 'ack',
      payload: answer,
    });
    expect(readFrame(message({ type: parser.PacketType.CONNECT_ERROR, data: { message: 'refused' } }))).toEqual({
      kind: 'end',
    });
    expect(readFrame(message({ type: parser.PacketType.DISCONNECT }))).toEqual({ kind: 'end' });
  });

  it('treats anything else as broken (the caller starts over)', () => {
    for (const data of ['', '3', '5', '6', 'x', '42', '42[', '43[1]', '0not json', '4x', new ArrayBuffer(2), null, 42])
      expect(readFrame(data), String(data)).toBeNull();
  });

  it('writes counts:subscribe with an ack id as socket.io-parser decodes it', () => {
    const frame = subscribeFrame(7, ['a-1', 'b']);
    expect(frame[0]).toBe('4');
    let decoded: unknown;
    const decoder = new parser.Decoder();
    decoder.on('decoded', (packet: unknown) => (decoded = packet));
    decoder.add(frame.slice(1));
    expect(decoded).toEqual({
      type: parser.PacketType.EVENT,
      nsp: '/',
      id: 7,
      data: ['counts:subscribe', { articleIds: ['a-1', 'b'] }],
    });
  });

  it('accepts whole non-negative counts only', () => {
    expect([0, 1, 12_345].every(isCount)).toBe(true);
    expect([-1, 1.5, '3', null, undefined, Number.NaN, Infinity].some(isCount)).toBe(false);
  });

  it('words a count with the element’s templates, or shows the bare number', () => {
    expect(countText(4, null, null)).toBe('4');
    expect(countText(4, '{n} comments', '{n} comment')).toBe('4 comments');
    expect(countText(1, '{n} comments', '{n} comment')).toBe('1 comment');
    expect(countText(1, '{n} comments', null)).toBe('1 comments');
    expect(countText(0, 'Comments ({n})', '')).toBe('Comments (0)');
  });
});

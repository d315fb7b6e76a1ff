import fc from 'fast-check';
import * as original from 'socket.io-parser';
import { describe, expect, it } from 'vitest';
import { Decoder, Encoder, PacketType, protocol, type Packet } from '../../shared/socket-parser.ts';

/** Decodes with a parser's Decoder: the packet it emits, or the error it throws. */
function decodeWith(
  decoder: { on(event: 'decoded', listener: (packet: Packet) => void): unknown; add(chunk: unknown): void },
  text: string,
): { packet?: Packet; error?: true } {
  let packet: Packet | undefined;
  decoder.on('decoded', (decoded: Packet) => (packet = decoded));
  try {
    decoder.add(text);
  } catch {
    return { error: true };
  }
  return packet === undefined ? {} : { packet: { ...packet } };
}

const json = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<unknown>;
const eventName = fc.oneof(
  fc.constantFrom('comment:created', 'article:subscribe', 'connect', 'disconnect', 'x'),
  fc.string({ maxLength: 12 }),
);
const nsp = fc.constantFrom('/', '/admin', '/a,b');
const id = fc.option(fc.nat({ max: 1_000_000 }), { nil: undefined });

/** Packets as socket.io-client and the server make them (text only). */
const packets: fc.Arbitrary<Packet> = fc
  .oneof(
    fc.record({
      type: fc.constant(PacketType.CONNECT),
      nsp,
      data: fc.option(fc.dictionary(fc.string({ maxLength: 6 }), json, { maxKeys: 3 }), { nil: undefined }),
    }),
    fc.record({ type: fc.constant(PacketType.DISCONNECT), nsp }),
    fc.record({
      type: fc.constant(PacketType.EVENT),
      nsp,
      id,
      data: fc.tuple(eventName, fc.array(json, { maxLength: 3 })).map(([name, args]) => [name, ...args]),
    }),
    fc.record({
      type: fc.constant(PacketType.ACK),
      nsp,
      id: fc.nat({ max: 1_000_000 }),
      data: fc.array(json, { maxLength: 3 }),
    }),
    fc.record({
      type: fc.constant(PacketType.CONNECT_ERROR),
      nsp,
      data: fc.oneof(fc.string({ maxLength: 20 }), fc.record({ message: fc.string({ maxLength: 20 }) })),
    }),
  )
  .map((packet) => {
    const clean: Packet = { type: packet.type, nsp: packet.nsp };
    if ('id' in packet && packet.id !== undefined) clean.id = packet.id;
    if ('data' in packet && packet.data !== undefined) clean.data = packet.data;
    return clean;
  });

describe('the widget’s text-only Socket.IO parser', () => {
  it('speaks the same protocol version', () => {
    expect(protocol).toBe(original.protocol);
    for (const [name, value] of Object.entries(PacketType))
      expect(original.PacketType[name as keyof typeof original.PacketType]).toBe(value);
  });

  it('encodes every text packet exactly as socket.io-parser does', () => {
    fc.assert(
      fc.property(packets, (packet) => {
        expect(new Encoder().encode(packet)).toEqual(new original.Encoder().encode(packet));
      }),
      { numRuns: 500 },
    );
  });

  it('decodes what socket.io-parser encodes to the packet socket.io-parser decodes, or refuses it likewise', () => {
    fc.assert(
      fc.property(packets, (packet) => {
        const [text] = new original.Encoder().encode(packet) as string[];
        expect(decodeWith(new Decoder(), text!)).toEqual(decodeWith(new original.Decoder(), text!));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses malformed and binary packets, as socket.io-parser does', () => {
    const malformed = [
      '',
      '9',
      'x',
      '2',
      '2{"a":1}',
      '2["connect"]',
      '2[1',
      '0[]',
      '1"x"',
      '3{}',
      '4',
      '4[]',
      '2/admin,["disconnect"]',
      '0/admin,"x"',
    ];
    for (const text of malformed) {
      expect(decodeWith(new Decoder(), text), text).toEqual(decodeWith(new original.Decoder(), text));
    }
    // The original waits for the attachment of a binary packet; this parser refuses it outright.
    expect(decodeWith(new Decoder(), '51-["x",{"_placeholder":true,"num":0}]')).toEqual({ error: true });
    expect(() => new Decoder().add(new Uint8Array([1, 2]))).toThrow();
  });
});

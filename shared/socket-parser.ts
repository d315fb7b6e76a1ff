/**
 * The Socket.IO packet parser (protocol 5) for text packets only, on both ends: in the browser bundles
 * in place of socket.io-parser (client/build.mjs swaps it in; socket.io-client takes it unchanged), and
 * on the server (the `parser` option of the Socket.IO server). Our protocol is JSON: no event or ack
 * ever carries binary data. In the widget the binary half of the original parser (attachments,
 * placeholders, reconstruction) is dead weight in a 35 KB budget; on the server it is a hole: a binary
 * event announces attachments and the stock parser keeps it, outside every budget, until they arrive.
 * Here such a packet is a decode error and Socket.IO closes that connection.
 *
 * Invariants: `Encoder.encode` gives the same string socket.io-parser gives for any packet without
 * binary data; `Decoder.add` emits the same packet for every text packet socket.io-parser accepts
 * and throws (socket.io-client then closes and reconnects) for everything it refuses, and for
 * binary packets. tests/unit/socket-parser.test.ts checks both against the original.
 */
import { Emitter } from '@socket.io/component-emitter';

export const protocol = 5;

export const PacketType = {
  CONNECT: 0,
  DISCONNECT: 1,
  EVENT: 2,
  ACK: 3,
  CONNECT_ERROR: 4,
  BINARY_EVENT: 5,
  BINARY_ACK: 6,
} as const;

export interface Packet {
  type: number;
  nsp: string;
  id?: number;
  data?: unknown;
}

/** Names socket.io reserves; an event packet may not use them. */
const RESERVED = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];

export class Encoder {
  /** One string per packet (a text packet is never split). */
  encode(packet: Packet): string[] {
    let text = String(packet.type);
    if (packet.nsp && packet.nsp !== '/') text += `${packet.nsp},`;
    if (packet.id != null) text += packet.id;
    if (packet.data != null) text += JSON.stringify(packet.data);
    return [text];
  }
}

const isObject = (value: unknown): boolean => Object.prototype.toString.call(value) === '[object Object]';

function validPayload(type: number, data: unknown): boolean {
  switch (type) {
    case PacketType.CONNECT:
      return isObject(data);
    case PacketType.DISCONNECT:
      return data === undefined;
    case PacketType.CONNECT_ERROR:
      return typeof data === 'string' || isObject(data);
    case PacketType.EVENT:
      return (
        Array.isArray(data) &&
        (typeof data[0] === 'number' || (typeof data[0] === 'string' && !RESERVED.includes(data[0])))
      );
    default:
      return Array.isArray(data);
  }
}

/** Emits `decoded` with each packet; throws on anything it cannot decode. */
export class Decoder extends Emitter<
  Record<never, never>,
  Record<never, never>,
  { decoded: (packet: Packet) => void }
> {
  add(chunk: unknown): void {
    if (typeof chunk !== 'string') throw new Error('binary packets are not supported');
    // type (an empty packet reads as 0, as in the original), then an optional namespace ("/admin,"),
    // an optional ack id, and the JSON payload.
    const match = /^([0-4]|(?=$))(?:(\/[^,]*),?)?(\d*)([\s\S]*)$/.exec(chunk);
    if (!match) throw new Error('unknown packet type');
    const packet: Packet = { type: Number(match[1]), nsp: match[2] ?? '/' };
    if (match[3]) packet.id = Number(match[3]);
    if (match[4]) {
      let data: unknown;
      try {
        data = JSON.parse(match[4]);
      } catch {
        data = false;
      }
      if (!validPayload(packet.type, data)) throw new Error('invalid payload');
      packet.data = data;
    }
    this.emitReserved('decoded', packet);
  }

  destroy(): void {
    // Nothing is buffered between packets (no binary attachments to wait for).
  }
}

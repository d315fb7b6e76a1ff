/**
 * The little of Engine.IO v4 and Socket.IO v5 that count.js speaks, as pure functions over the text
 * frames of one WebSocket. Engine.IO frames: `0{…}` open (with the ping interval and timeout), `1`
 * close, `2` ping (answered `3`), `4…` a message, which here is a Socket.IO packet: `0{…}` connected
 * to the namespace, `2[…]` an event, `3N[…]` the ack of the event sent with id N, `4{…}` refused,
 * `1` disconnected. Anything else, or malformed, is `null`: the caller starts over.
 */

/** One frame from the server, as count.js acts on it. */
export type Incoming =
  | { kind: 'open'; /** ms without a ping after which the connection is dead */ silence: number }
  | { kind: 'ping' }
  | { kind: 'connected' }
  | { kind: 'event'; name: unknown; payload: unknown }
  | { kind: 'ack'; payload: unknown }
  /** The server closed, refused or disconnected: start over. */
  | { kind: 'end' };

export function readFrame(data: unknown): Incoming | null {
  if (typeof data !== 'string') return null;
  try {
    if (data[0] === '0') {
      const { pingInterval, pingTimeout } = JSON.parse(data.slice(1)) as {
        pingInterval?: unknown;
        pingTimeout?: unknown;
      };
      return typeof pingInterval === 'number' && typeof pingTimeout === 'number'
        ? { kind: 'open', silence: pingInterval + pingTimeout }
        : null;
    }
    if (data === '2') return { kind: 'ping' };
    if (data === '1') return { kind: 'end' };
    if (data[0] !== '4') return null;
    const type = data[1];
    if (type === '0') return { kind: 'connected' };
    if (type === '2') {
      const [name, payload] = JSON.parse(data.slice(2)) as unknown[];
      return { kind: 'event', name, payload };
    }
    const ack = /^43\d+(\[.*)$/s.exec(data);
    if (ack) return { kind: 'ack', payload: (JSON.parse(ack[1]!) as unknown[])[0] };
    return type === '1' || type === '4' ? { kind: 'end' } : null;
  } catch {
    return null;
  }
}

/** `counts:subscribe { articleIds }` as an event with ack id `ackId`. */
export function subscribeFrame(ackId: number, articleIds: readonly string[]): string {
  return `42${ackId}${JSON.stringify(['counts:subscribe', { articleIds }])}`;
}

/** A comment count: a whole number, not negative. */
export function isCount(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0;
}

/** What an element shows: the template (`{n}` replaced; the `one` template for 1 when given), or the bare number. */
export function countText(count: number, template: string | null, one: string | null): string {
  const chosen = (count === 1 && one) || template;
  return chosen ? chosen.replace('{n}', String(count)) : String(count);
}

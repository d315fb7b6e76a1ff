import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** Express's compiled `trust proxy` test (`app.get('trust proxy fn')`): may the peer at `hop` set X-Forwarded-For? */
export type TrustProxyFn = (address: string, hop: number) => boolean;

/** Longest X-Forwarded-For header read, and most hops walked; a longer chain is cut, never scanned whole. */
const MAX_FORWARDED_CHARS = 2048;
const MAX_FORWARDED_HOPS = 32;

/** Stands in when Node no longer knows the peer (the socket closed early); every such request shares one budget. */
export const UNKNOWN_IP = 'unknown';

/**
 * The client address behind trusted proxies: start at the TCP peer and walk X-Forwarded-For from right
 * to left while the address just reached is trusted (Express's algorithm for `req.ip`). Only a
 * syntactically valid IPv4 or IPv6 address is taken from the header: at the first entry that is not
 * one (text, a port, a bracketed or empty entry), the walk stops and the client is the proxy that sent
 * it. So whatever a trusted peer forwards, the client is an address, and a forged text cannot become a
 * new client for every request (new budgets, author keys and connection counts each time).
 */
export function forwardedClientIp(
  remoteAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trust: TrustProxyFn,
): string {
  let address = remoteAddress ?? UNKNOWN_IP;
  if (forwardedFor === undefined) return address;
  const header = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).slice(-MAX_FORWARDED_CHARS);
  // The header is already cut to 2 KB, so splitting it whole is bounded; the nearest hops are at the end.
  const hops = header
    .split(',')
    .slice(-MAX_FORWARDED_HOPS)
    .map((part) => part.trim())
    .filter(Boolean)
    .reverse();
  for (let hop = 0; hop < hops.length; hop++) {
    const next = hops[hop] ?? '';
    if (!trust(address, hop) || isIP(next) === 0) return address;
    address = next;
  }
  return address;
}

/** The client address of an HTTP request (forwardedClientIp of its TCP peer and X-Forwarded-For). */
export function requestClientIp(request: IncomingMessage, trust: TrustProxyFn): string {
  return forwardedClientIp(request.socket?.remoteAddress, request.headers['x-forwarded-for'], trust);
}

/**
 * Makes `req.ip` of the app use forwardedClientIp, so HTTP requests and socket handshakes name the
 * same client for the same headers (Express's own getter would return a forwarded text as the client).
 */
export function useForwardedClientIp(app: { request: object }, trust: TrustProxyFn): void {
  Object.defineProperty(app.request, 'ip', {
    configurable: true,
    enumerable: true,
    get(this: IncomingMessage): string {
      return requestClientIp(this, trust);
    },
  });
}

/** An engine.io connection as far as its client address goes: the handshake request, until it is released. */
export interface HandshakeConnection {
  request: IncomingMessage | null;
}

const connectionIps = new WeakMap<HandshakeConnection, string>();

/**
 * The client address of a Socket.IO connection, read from its handshake request with the same
 * `trust proxy` setting as HTTP the first time it is asked and kept per connection from then on,
 * so the request itself can be let go (releaseHandshakeRequests). A connection asked about only
 * after its request was released (nothing here does that) counts as UNKNOWN_IP.
 */
export function connectionClientIp(connection: HandshakeConnection, trust: TrustProxyFn): string {
  let ip = connectionIps.get(connection);
  if (ip === undefined) {
    const request = connection.request;
    ip = request ? requestClientIp(request, trust) : UNKNOWN_IP;
    connectionIps.set(connection, ip);
  }
  return ip;
}

/** A handshake request with what engine.io adds to it: its parsed query and the upgraded WebSocket. */
type EngineRequest = IncomingMessage & { _query?: unknown; websocket?: unknown };

/**
 * Engine.io keeps each connection's first HTTP request (its headers, raw headers, parsed query and
 * the WebSocket it was upgraded to) for the connection's whole life, though only Socket.IO's
 * `socket.handshake` reads it, and this server reads nothing from the handshake but `auth`. So each
 * new connection's client address is recorded and the request let go, as Socket.IO's memory-usage
 * guide suggests. Engine.io's upgrade path keeps one more reference to the request until the TCP
 * socket closes (its response shim listens for the socket's close), so the request is also emptied
 * of its headers and query: nothing reads them after the upgrade. About 0.5 KB less per idle reader
 * with the benchmark's few headers, more with a browser's (docs/performance.md).
 * `socket.handshake.headers` is therefore empty on this server: origins and connection caps are
 * decided before, on the request itself.
 */
export function releaseHandshakeRequests(
  engine: { on(event: 'connection', listener: (connection: HandshakeConnection) => void): unknown },
  trust: TrustProxyFn,
): void {
  engine.on('connection', (connection) => {
    connectionClientIp(connection, trust);
    const request: EngineRequest | null = connection.request;
    if (request) {
      request.headers = {};
      request.rawHeaders = [];
      request._query = undefined;
      request.websocket = undefined;
    }
    connection.request = null;
  });
}

/**
 * The unit a per-IP budget is kept for: an IPv4 address (IPv4-mapped IPv6 included) or the /64 of an
 * IPv6 address, since one IPv6 subscriber usually holds a whole /64. Anything else (a non-IP entry a
 * trusted proxy passed on) is used as given, cut to 64 chars.
 */
export function ipBucket(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip.length <= 64 ? ip : '');
  if (mapped?.[1] !== undefined && isIP(mapped[1]) === 4) return mapped[1];
  const version = ip.length <= 64 ? isIP(ip) : 0;
  if (version === 4) return ip;
  if (version === 6) return `${expandIpv6(ip).slice(0, 4).join(':')}::/64`;
  return ip.slice(0, 64);
}

/** The eight 16-bit groups of a valid IPv6 address (zone dropped, `::` expanded, a dotted IPv4 tail converted). */
function expandIpv6(ip: string): string[] {
  let text = ip.split('%')[0] ?? ip;
  const dotted = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const middle = tail === undefined ? [] : Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...middle, ...right].map((group) => parseInt(group, 16).toString(16));
}

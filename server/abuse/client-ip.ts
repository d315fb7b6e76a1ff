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

/**
 * Makes `req.ip` of the app use forwardedClientIp, so HTTP requests and socket handshakes name the
 * same client for the same headers (Express's own getter would return a forwarded text as the client).
 */
export function useForwardedClientIp(app: { request: object }, trust: TrustProxyFn): void {
  Object.defineProperty(app.request, 'ip', {
    configurable: true,
    enumerable: true,
    get(this: IncomingMessage): string {
      return forwardedClientIp(this.socket?.remoteAddress, this.headers['x-forwarded-for'], trust);
    },
  });
}

const socketIps = new WeakMap<IncomingMessage, string>();

/**
 * The client address of a Socket.IO handshake request (`socket.request`), honouring the same
 * `trust proxy` setting as HTTP. Cached per request object: the engine keeps the handshake request.
 */
export function socketClientIp(request: IncomingMessage, trust: TrustProxyFn): string {
  let ip = socketIps.get(request);
  if (ip === undefined) {
    ip = forwardedClientIp(request.socket?.remoteAddress, request.headers['x-forwarded-for'], trust);
    socketIps.set(request, ip);
  }
  return ip;
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

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Where webhooks may not go unless WEBHOOK_ALLOW_PRIVATE=true (SSRF): loopback, private, shared (CGNAT),
 * link-local (cloud metadata at 169.254.169.254), unspecified, benchmarking, documentation, multicast
 * and reserved ranges, in IPv4 and IPv6; an IPv4-mapped or NAT64 IPv6 address is judged by its IPv4 part.
 */
const NOT_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const)
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv6');

/** The IPv4 address an IPv6 address carries (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible, or NAT64 `64:ff9b::/96`), if any. */
function embeddedIpv4(address: string): string | null {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  if (dotted?.[1]) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex?.[1] && hex[2]) {
    const high = parseInt(hex[1], 16);
    const low = parseInt(hex[2], 16);
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  return null;
}

/** True for an address a webhook may reach without WEBHOOK_ALLOW_PRIVATE (a public unicast address). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !NOT_PUBLIC.check(address, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    if (v4 !== null) return isIP(v4) === 4 && !NOT_PUBLIC.check(v4, 'ipv4');
    return !NOT_PUBLIC.check(address, 'ipv6');
  }
  return false;
}

/** A destination refused by the SSRF rules; not retried any differently from other network errors. */
export class DestinationRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DestinationRefusedError';
  }
}

/** The host of a URL as `net.connect` sees it (IPv6 without brackets). */
export function urlHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * A `lookup` for http(s).request that refuses names resolving to a non-public address: the addresses
 * checked are the ones the connection then uses, so a name that resolves differently a second time
 * (DNS rebinding) cannot slip through.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) {
      callback(error, '', 0);
      return;
    }
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused || addresses.length === 0) {
      callback(
        new DestinationRefusedError(
          `${hostname} resolves to ${refused?.address ?? 'nothing'}, which is not a public address (WEBHOOK_ALLOW_PRIVATE)`,
        ),
        '',
        0,
      );
      return;
    }
    if (options.all) callback(null, addresses);
    else {
      const first = addresses[0] as LookupAddress;
      callback(null, first.address, first.family);
    }
  });
};

/**
 * Checks a webhook URL before it is stored or called: an IP literal must be public; a name must
 * resolve to public addresses only (checked again when connecting). Resolves with null when allowed,
 * else the reason.
 */
export async function refusedDestination(url: URL, allowPrivate: boolean): Promise<string | null> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'only http and https URLs are allowed';
  if (allowPrivate) return null;
  const host = urlHost(url);
  if (isIP(host) !== 0) return isPublicAddress(host) ? null : `${host} is not a public address (WEBHOOK_ALLOW_PRIVATE)`;
  return new Promise((resolve) => {
    publicOnlyLookup(host, { all: true }, (error) => {
      if (error instanceof DestinationRefusedError) resolve(error.message);
      else if (error) resolve(`${host} does not resolve (${error.code ?? error.message})`);
      else resolve(null);
    });
  });
}

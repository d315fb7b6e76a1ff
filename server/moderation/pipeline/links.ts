import type { PhaseDecision, PhaseInput } from './types.ts';

/** Width and case folded; accents kept (bücher.example and bucher.example are different hosts), URL makes punycode. */
const foldHost = (text: string): string => text.normalize('NFKC').toLowerCase();

/** Characters trimmed off a word's ends before it is read as a link or a domain. */
const EDGE = /^[\s"'`([{<«“‘]+|[\s"'`)\]}>»”’.,;:!?*_~…]+$/gu;
const SCHEME = /^https?:\/\//i;
/** A host name of at least two labels, the last one letters (a TLD). */
const HOST = /^(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,62})\.)+[\p{L}]{2,63}$/u;

/** The lower-cased ASCII (punycode) host of a name, or null when it is not one. */
function asciiHost(name: string): string | null {
  if (!HOST.test(name)) return null;
  try {
    return new URL(`http://${name}`).hostname;
  } catch {
    return null;
  }
}

/** A domain as the moderator wrote it (`spam.example`, `https://spam.example/`, `*.spam.example`), or null. */
export function normaliseDomain(entry: string): string | null {
  const word = foldHost(entry.trim())
    .replace(SCHEME, '')
    .replace(/^\*\./, '')
    .replace(/[/?#].*$/s, '')
    .replace(/\.$/, '');
  return asciiHost(word);
}

export interface LinkScan {
  /** http(s):// and www. links. */
  links: number;
  /** Hosts of those links and of bare domain names (`spam.example/buy`). */
  hosts: string[];
}

/** One pass over the words of a text: links counted, hosts collected. Linear in the text's length. */
export function scanLinks(body: string): LinkScan {
  let links = 0;
  const hosts: string[] = [];
  for (const raw of body.split(/\s+/)) {
    if (raw.length < 4 || !raw.includes('.')) continue;
    const word = raw.replace(EDGE, '');
    if (!word.includes('.')) continue;
    const hasScheme = SCHEME.test(word);
    const rest = hasScheme ? word.replace(SCHEME, '') : word;
    const name = foldHost(
      rest
        .replace(/[/?#].*$/s, '')
        .replace(/^[^@]*@/, '')
        .replace(/:\d+$/, ''),
    );
    if (hasScheme || name.startsWith('www.')) links++;
    const host = asciiHost(name);
    if (host !== null) hosts.push(host);
  }
  return { links, hosts };
}

/** Blocked domains compiled once per settings change: a set looked up per suffix of a host. */
export class DomainList {
  readonly #domains: Set<string>;

  constructor(entries: readonly string[]) {
    this.#domains = new Set(entries.map(normaliseDomain).filter((d): d is string => d !== null));
  }

  get size(): number {
    return this.#domains.size;
  }

  /** The blocked domain `host` is or is under, or null. */
  blocks(host: string): string | null {
    let rest = host;
    for (;;) {
      if (this.#domains.has(rest)) return rest;
      const dot = rest.indexOf('.');
      if (dot < 0) return null;
      rest = rest.slice(dot + 1);
    }
  }
}

/** Blocked domains refuse; more than `maxLinks` links hold. */
export function linksPhase(blocked: DomainList, maxLinks: number, input: PhaseInput): PhaseDecision {
  const scan = scanLinks(input.body);
  if (blocked.size > 0) {
    for (const host of scan.hosts) {
      const domain = blocked.blocks(host);
      if (domain !== null)
        return {
          action: 'reject',
          reason: `blocked domain ${domain}`,
          message: `Links to ${domain} are not allowed here. Please remove them and send your comment again.`,
        };
    }
  }
  if (scan.links > maxLinks) return { action: 'hold', reason: `${scan.links} links (more than ${maxLinks})` };
  return { action: 'accept' };
}

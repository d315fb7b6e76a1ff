import { createHash } from 'node:crypto';
import type { RedisClient } from '../../redis/clients.ts';
import type { PhaseDecision, PhaseInput } from './types.ts';

/** Shortest canonical text the cross-article check looks at: "Thanks!" on three articles is no campaign. */
export const SPREAD_MIN_CHARS = 20;

/** What the ledger knew before this post was noted. */
export interface RepeatSighting {
  /** The same author posted the same text within the window, under another clientId (or none). */
  sameAuthor: boolean;
  /** Distinct articles the same text reached within the window, this one included. */
  articles: number;
}

export interface RepeatNote {
  /** Hash of author key and text; absent without an author key. */
  authorTextKey: string | undefined;
  /** Hash of the text; absent for a short text. */
  textKey: string | undefined;
  articleId: string;
  clientId: string | null;
  windowMs: number;
  nowMs: number;
}

/** Where texts seen lately are remembered: this process's memory, or Redis so it holds across instances. */
export interface RepeatLedger {
  note(note: RepeatNote): Promise<RepeatSighting>;
}

/** A key of fixed length that reveals neither the text nor the author. */
export function digest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('base64url').slice(0, 32);
}

/** The ledger of one instance; bounded by the window (expired entries are dropped as they are met, and swept). */
export class MemoryRepeatLedger implements RepeatLedger {
  readonly #authors = new Map<string, { clientId: string | null; until: number }>();
  readonly #texts = new Map<string, Map<string, number>>();
  #sweptAt = 0;

  async note(note: RepeatNote): Promise<RepeatSighting> {
    this.#sweep(note.nowMs, note.windowMs);
    const until = note.nowMs + note.windowMs;
    let sameAuthor = false;
    if (note.authorTextKey !== undefined) {
      const seen = this.#authors.get(note.authorTextKey);
      if (seen !== undefined && seen.until > note.nowMs) {
        sameAuthor = seen.clientId === null || seen.clientId !== note.clientId;
      } else this.#authors.set(note.authorTextKey, { clientId: note.clientId, until });
    }
    let articles = 1;
    if (note.textKey !== undefined) {
      const seen = this.#texts.get(note.textKey) ?? new Map<string, number>();
      seen.set(note.articleId, until);
      for (const [article, expires] of seen) if (expires <= note.nowMs) seen.delete(article);
      this.#texts.set(note.textKey, seen);
      articles = seen.size;
    }
    return { sameAuthor, articles };
  }

  #sweep(nowMs: number, windowMs: number): void {
    if (nowMs - this.#sweptAt < Math.max(windowMs, 60_000)) return;
    this.#sweptAt = nowMs;
    for (const [key, seen] of this.#authors) if (seen.until <= nowMs) this.#authors.delete(key);
    for (const [key, seen] of this.#texts) {
      for (const [article, expires] of seen) if (expires <= nowMs) seen.delete(article);
      if (seen.size === 0) this.#texts.delete(key);
    }
  }
}

/** Author and text: the first post's clientId kept for the window; answers what was there (nil when new). */
const AUTHOR_SCRIPT = `
local old = redis.call('GET', KEYS[1])
if old then return old end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`;

/** Text across articles: a sorted set of article ids scored by expiry; answers the live count. */
const SPREAD_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return redis.call('ZCARD', KEYS[1])`;

/**
 * The ledger shared by every instance through Redis (or a Redis Cluster: each script touches one key).
 * Keys are `<prefix>mod:rep:<hash>` and `<prefix>mod:spread:<hash>`, expiring with the window.
 */
export class RedisRepeatLedger implements RepeatLedger {
  readonly #redis: RedisClient;
  readonly #prefix: string;

  constructor(redis: RedisClient, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  async note(note: RepeatNote): Promise<RepeatSighting> {
    const window = String(note.windowMs);
    const [old, articles] = await Promise.all([
      note.authorTextKey === undefined
        ? null
        : (this.#redis.eval(
            AUTHOR_SCRIPT,
            1,
            `${this.#prefix}mod:rep:${note.authorTextKey}`,
            note.clientId ?? '',
            window,
          ) as Promise<string | null>),
      note.textKey === undefined
        ? 1
        : (this.#redis.eval(
            SPREAD_SCRIPT,
            1,
            `${this.#prefix}mod:spread:${note.textKey}`,
            String(note.nowMs),
            String(note.nowMs + note.windowMs),
            note.articleId,
            window,
          ) as Promise<number>),
    ]);
    return {
      sameAuthor: old !== null && (old === '' || old !== (note.clientId ?? '')),
      articles: Number(articles),
    };
  }
}

/**
 * The same text from the same author within the window refuses (a retry of the same post, by its
 * clientId, is no repeat); the same text on `articles` or more articles within the window holds.
 */
export async function repeatsPhase(
  ledger: RepeatLedger,
  settings: { windowMinutes: number; articles: number },
  input: PhaseInput,
  nowMs: number,
): Promise<PhaseDecision> {
  if (input.kind !== 'post' || settings.windowMinutes === 0) return { action: 'accept' };
  const text = input.repeatText();
  if (text.length === 0) return { action: 'accept' };
  const sighting = await ledger.note({
    authorTextKey: input.authorKey === null ? undefined : digest('author', input.authorKey, text),
    textKey: text.length >= SPREAD_MIN_CHARS ? digest('text', text) : undefined,
    articleId: input.articleId,
    clientId: input.clientId,
    windowMs: settings.windowMinutes * 60_000,
    nowMs,
  });
  if (sighting.sameAuthor)
    return {
      action: 'reject',
      reason: 'repeated comment',
      message: 'You posted this same comment a moment ago. Please write something new instead of sending it again.',
    };
  if (sighting.articles >= settings.articles)
    return { action: 'hold', reason: `the same text on ${sighting.articles} articles` };
  return { action: 'accept' };
}

/**
 * Redis first; while Redis fails, this instance's memory (a repeat across instances may then pass,
 * which is better than refusing or holding every post while Redis is away).
 */
export class FallbackRepeatLedger implements RepeatLedger {
  constructor(
    private readonly primary: RepeatLedger,
    private readonly fallback: RepeatLedger,
    private readonly onFallback: (error: unknown) => void,
  ) {}

  async note(note: RepeatNote): Promise<RepeatSighting> {
    try {
      return await this.primary.note(note);
    } catch (error) {
      this.onFallback(error);
      return this.fallback.note(note);
    }
  }
}

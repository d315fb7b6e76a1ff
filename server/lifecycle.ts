import type { Logger } from './logger.ts';
import { withTimeout } from './with-timeout.ts';

/** Something the app opened and must close: a store, Redis clients, timers. */
export interface Owned {
  readonly name: string;
  close(): Promise<void> | void;
}

/**
 * The one owner of what an app opens. Everything is registered right after it is created; closing
 * goes in reverse order (the last opened first: what uses a resource stops before the resource), each
 * close bounded and its failure logged, never thrown. A start that fails halfway closes what it had
 * opened with the same call, so nothing keeps the process alive.
 */
export class Lifecycle {
  readonly #owned: Owned[] = [];
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  #closing: Promise<void> | null = null;

  constructor(logger: Logger, options: { timeoutMs?: number } = {}) {
    this.#logger = logger;
    this.#timeoutMs = options.timeoutMs ?? 1000;
  }

  /** Registers `resource` with how to close it, and returns it. */
  own<T>(name: string, resource: T, close: (resource: T) => Promise<void> | void): T {
    this.#owned.push({ name, close: () => close(resource) });
    return resource;
  }

  /** What is owned, in closing order (last opened first). */
  get closingOrder(): readonly Owned[] {
    return [...this.#owned].reverse();
  }

  /** Closes everything owned, last opened first. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const owned of this.closingOrder) {
        await withTimeout(
          Promise.resolve().then(() => owned.close()),
          this.#timeoutMs,
        ).catch((err: unknown) => this.#logger.warn({ err, resource: owned.name }, 'close failed'));
      }
    })();
    return this.#closing;
  }
}

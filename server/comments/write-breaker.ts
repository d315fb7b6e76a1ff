import { StoreUnavailableError } from '../storage/port.ts';

/** How long writes fail at once after a slow failure of the store. */
export const WRITE_BREAKER_COOL_DOWN_MS = 1000;
/** A failed write that took at least this long opens the breaker; quicker failures are already fast. */
export const WRITE_BREAKER_SLOW_FAILURE_MS = 250;

/**
 * Fails writes fast while the store is known to be down and slow to say so. When a write fails with
 * StoreUnavailableError after waiting at least `slowFailureMs` (a locked SQLite file waits out its busy
 * timeout with the event loop blocked; an unreachable PostgreSQL host waits out the connect timeout),
 * every write in the next `coolDownMs` fails at once with the same error, without touching the store.
 * The first write after that goes through as a probe, and its success closes the breaker.
 *
 * A failure that came back quickly (connection refused, the store closed) leaves the breaker closed:
 * asking the store again is already fast, and the next write succeeds as soon as it is back.
 * So during an outage a post costs at most one slow probe's wait, and the store is asked about once per cool-down.
 */
export class WriteBreaker {
  private openUntil = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly coolDownMs = WRITE_BREAKER_COOL_DOWN_MS,
    private readonly slowFailureMs = WRITE_BREAKER_SLOW_FAILURE_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** True while writes are being refused without asking the store. */
  get open(): boolean {
    return this.now() < this.openUntil;
  }

  async run<T>(write: () => Promise<T>): Promise<T> {
    if (this.open) throw new StoreUnavailableError('Store unavailable: a write timed out moments ago; failing fast');
    const started = this.now();
    try {
      const result = await write();
      this.openUntil = Number.NEGATIVE_INFINITY;
      return result;
    } catch (error) {
      const finished = this.now();
      if (error instanceof StoreUnavailableError && finished - started >= this.slowFailureMs)
        this.openUntil = finished + this.coolDownMs;
      throw error;
    }
  }
}

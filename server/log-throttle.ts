/**
 * Lets a log call through at most once per interval and counts what it swallowed in between, so a
 * flood of rejected requests cannot turn into a flood of log lines.
 */
export class LogThrottle {
  private last = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(private readonly intervalMs: number) {}

  run(action: (suppressed: number) => void): void {
    const now = Date.now();
    if (now - this.last < this.intervalMs) {
      this.suppressed += 1;
      return;
    }
    const suppressed = this.suppressed;
    this.suppressed = 0;
    this.last = now;
    action(suppressed);
  }
}

/**
 * A LogThrottle per key (an origin, say), so each key is logged at most once per interval. The keys
 * come from the network: at most `maxKeys` are remembered; past that, entries older than the interval
 * are forgotten, and if all are recent, all keys share one throttle until they age out.
 */
export class KeyedLogThrottle {
  private readonly last = new Map<string, number>();
  private readonly overflow: LogThrottle;

  constructor(
    private readonly intervalMs: number,
    private readonly maxKeys = 1000,
  ) {
    this.overflow = new LogThrottle(intervalMs);
  }

  run(key: string, action: () => void): void {
    const now = Date.now();
    const last = this.last.get(key);
    if (last !== undefined && now - last < this.intervalMs) return;
    if (last === undefined && this.last.size >= this.maxKeys) {
      for (const [known, at] of this.last) if (now - at >= this.intervalMs) this.last.delete(known);
      if (this.last.size >= this.maxKeys) return this.overflow.run(() => action());
    }
    this.last.set(key, now);
    action();
  }
}

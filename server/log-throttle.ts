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

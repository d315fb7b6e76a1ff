/**
 * Tracks which changes of one article a client has applied, by the article's gapless `seq`.
 *
 * Invariant: every change with `seq <= lastSeq` has been applied (or superseded by a newer version of
 * the same comment). Changes seen above `lastSeq` wait in `ahead` until the ones below them arrive;
 * while `ahead` is not empty something was missed and the client must catch up.
 */
export class SeqTracker {
  #lastSeq: number;
  readonly #ahead = new Set<number>();

  constructor(lastSeq = 0) {
    this.#lastSeq = lastSeq;
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** True when a change above `lastSeq` arrived without the ones before it. */
  get hasGap(): boolean {
    return this.#ahead.size > 0;
  }

  /** Records one pushed change. Returns false when it was already covered (a repeat). */
  observe(seq: number): boolean {
    if (seq <= this.#lastSeq || this.#ahead.has(seq)) return false;
    this.#ahead.add(seq);
    this.#advance();
    return true;
  }

  /** A catch-up (or a first page) covered every change up to `head`: move past it. Never moves back. */
  settle(head: number): void {
    if (head > this.#lastSeq) this.#lastSeq = head;
    for (const seq of this.#ahead) if (seq <= this.#lastSeq) this.#ahead.delete(seq);
    this.#advance();
  }

  /** True when the server's `head` is past what this client applied. */
  isBehind(head: number): boolean {
    return head > this.#lastSeq;
  }

  #advance(): void {
    while (this.#ahead.delete(this.#lastSeq + 1)) this.#lastSeq++;
  }
}

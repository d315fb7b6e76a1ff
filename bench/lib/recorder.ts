import type { Histogram } from 'hdr-histogram-js';
import { latencyHistogram, recordMs, summarize, type LatencySummary } from './histogram.ts';

/** The delivery figures of one phase. */
export interface DeliveryResult {
  comments: number;
  expected: number;
  delivered: number;
  /** A subscriber received the same comment again. */
  duplicates: number;
  /** Receipts that matched no comment of the phase, or a comment of an article the subscriber did not watch. */
  stray: number;
  /** Every delivery: intended send time → receipt at one subscriber. */
  latency: LatencySummary;
  /** Per comment: intended send time → receipt at its first / last recipient. */
  firstRecipient: LatencySummary;
  lastRecipient: LatencySummary;
  /** Wall time from the first intended send to the last receipt, in ms. */
  spanMs: number;
}

/**
 * Matches receipts to the open-loop schedule of one phase. Latency is measured from each
 * comment's *intended* send time (not from when the request went out), so a stalled sender or
 * server cannot hide queueing (no coordinated omission).
 *
 * Invariant: a (subscriber, comment) pair counts as delivered at most once; repeats are duplicates.
 */
export class PhaseRecorder {
  private readonly intended: Float64Array;
  private readonly articleOfComment: Int32Array;
  private readonly expectedOf: Uint32Array;
  private readonly receivedOf: Uint32Array;
  private readonly first: Float64Array;
  private readonly last: Float64Array;
  private readonly seen: Uint8Array;
  private readonly latency: Histogram = latencyHistogram();
  private posted = 0;
  private expectedTotal = 0;
  delivered = 0;
  private duplicates = 0;
  private stray = 0;
  private lastReceipt = 0;

  /**
   * @param articleOfSubscriber the article index each subscriber watches
   * @param subscribersOfArticle how many subscribers watch each article index
   */
  constructor(
    readonly phase: number,
    readonly capacity: number,
    private readonly articleOfSubscriber: Int32Array,
    private readonly subscribersOfArticle: Uint32Array,
  ) {
    this.intended = new Float64Array(capacity).fill(Number.NaN);
    this.articleOfComment = new Int32Array(capacity).fill(-1);
    this.expectedOf = new Uint32Array(capacity);
    this.receivedOf = new Uint32Array(capacity);
    this.first = new Float64Array(capacity).fill(Number.POSITIVE_INFINITY);
    this.last = new Float64Array(capacity).fill(Number.NEGATIVE_INFINITY);
    this.seen = new Uint8Array(Math.ceil((articleOfSubscriber.length * capacity) / 8));
  }

  get expected(): number {
    return this.expectedTotal;
  }

  get complete(): boolean {
    return this.delivered >= this.expectedTotal;
  }

  /** Registers comment `n`, intended to be sent at `at`, to article index `article`. */
  schedule(n: number, at: number, article: number): void {
    this.intended[n] = at;
    this.articleOfComment[n] = article;
    const expected = this.subscribersOfArticle[article] ?? 0;
    this.expectedOf[n] = expected;
    this.expectedTotal += expected;
    this.posted = Math.max(this.posted, n + 1);
  }

  /** A subscriber received comment `n` at `now`. */
  receive(subscriber: number, n: number, now: number): void {
    if (
      n >= this.posted ||
      Number.isNaN(this.intended[n]!) ||
      this.articleOfSubscriber[subscriber] !== this.articleOfComment[n]
    ) {
      this.stray += 1;
      return;
    }
    const bit = subscriber * this.capacity + n;
    const byte = bit >>> 3;
    const mask = 1 << (bit & 7);
    if (this.seen[byte]! & mask) {
      this.duplicates += 1;
      return;
    }
    this.seen[byte]! |= mask;
    this.delivered += 1;
    this.receivedOf[n]! += 1;
    recordMs(this.latency, now - this.intended[n]!);
    if (now < this.first[n]!) this.first[n] = now;
    if (now > this.last[n]!) this.last[n] = now;
    if (now > this.lastReceipt) this.lastReceipt = now;
  }

  result(): DeliveryResult {
    const firstHistogram = latencyHistogram();
    const lastHistogram = latencyHistogram();
    let start = Number.POSITIVE_INFINITY;
    for (let n = 0; n < this.posted; n++) {
      const at = this.intended[n]!;
      if (Number.isNaN(at)) continue;
      start = Math.min(start, at);
      if (this.receivedOf[n]! === 0) continue;
      recordMs(firstHistogram, this.first[n]! - at);
      recordMs(lastHistogram, this.last[n]! - at);
    }
    const result: DeliveryResult = {
      comments: this.posted,
      expected: this.expectedTotal,
      delivered: this.delivered,
      duplicates: this.duplicates,
      stray: this.stray,
      latency: summarize(this.latency),
      firstRecipient: summarize(firstHistogram),
      lastRecipient: summarize(lastHistogram),
      spanMs: Number.isFinite(start) && this.lastReceipt > 0 ? this.lastReceipt - start : 0,
    };
    firstHistogram.destroy();
    lastHistogram.destroy();
    this.latency.destroy();
    return result;
  }
}

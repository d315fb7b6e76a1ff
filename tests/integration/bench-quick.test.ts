import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { markedBody, scanMarkers } from '../../bench/lib/marker.ts';
import { Poster } from '../../bench/lib/publisher.ts';
import { PhaseRecorder } from '../../bench/lib/recorder.ts';
import { SubscriberPool } from '../../bench/lib/subscribers.ts';
import { startTestApp, uniqueArticle, type TestApp } from '../helpers/test-app.ts';

// The benchmark's own measuring tools: if they could not see a loss or a repeat, its figures would be worthless.
// Speed is not asserted here (that is the benchmark's job); only that counting is exact.

describe('benchmark markers', () => {
  it('finds every marker in a frame, batched or not, and ignores look-alikes', () => {
    const frame = Buffer.from(
      `42["comment:batch",{"changes":[{"comment":{"body":"${markedBody(7, 12)}"}},{"comment":{"body":"${markedBody(7, 13)}"}}]}] ~bm ~bm1. ~bmx.2~ ~bm3.4`,
    );
    const found: Array<[number, number]> = [];
    scanMarkers(frame, (phase, n) => found.push([phase, n]));
    expect(found).toEqual([
      [7, 12],
      [7, 13],
    ]);
  });
});

describe('benchmark recorder', () => {
  it('counts deliveries, repeats and strays exactly, and measures from the intended send time', () => {
    // Subscribers 0 and 1 watch article 0, subscriber 2 watches article 1.
    const recorder = new PhaseRecorder(1, 3, Int32Array.from([0, 0, 1]), Uint32Array.from([2, 1]));
    recorder.schedule(0, 1000, 0);
    recorder.schedule(1, 1010, 1);
    recorder.schedule(2, 1020, 0);
    expect(recorder.expected).toBe(5);
    recorder.receive(0, 0, 1005);
    recorder.receive(1, 0, 1015);
    recorder.receive(1, 0, 1016); // repeat
    recorder.receive(2, 0, 1017); // wrong article
    recorder.receive(2, 1, 1012);
    recorder.receive(0, 2, 1030);
    recorder.receive(0, 9, 1030); // never scheduled
    expect(recorder.complete).toBe(false);
    const result = recorder.result();
    expect(result).toMatchObject({ comments: 3, expected: 5, delivered: 4, duplicates: 1, stray: 2 });
    expect(result.latency.max).toBeCloseTo(15, 1);
    expect(result.firstRecipient.max).toBeCloseTo(10, 1);
    expect(result.lastRecipient.p50).toBeCloseTo(10, 1);
  });
});

describe('benchmark subscribers against the real product', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startTestApp();
  });
  afterAll(async () => {
    await server.close();
  });

  it.each([true, false])(
    'speak Engine.IO/Socket.IO by hand and see every post exactly once (batch: %s)',
    async (batch) => {
      const articleIds = [uniqueArticle('bench'), uniqueArticle('bench')];
      const pool = new SubscriberPool({
        protocol: 'socketio',
        batch,
        endpoints: [{ host: '127.0.0.1', port: server.port }],
        articleIds,
        rampConcurrency: 10,
      });
      const poster = new Poster({ host: '127.0.0.1', port: server.port }, 8);
      try {
        await pool.grow(30, (i) => i % 2);
        expect(pool.size).toBe(30);
        const total = 40;
        const recorder = new PhaseRecorder(99, total, pool.articleSnapshot(), pool.subscribersPerArticle());
        pool.attach(recorder);
        const answers: boolean[] = [];
        const now = performance.now();
        for (let n = 0; n < total; n++) {
          recorder.schedule(n, now, n % 2);
          poster.post(articleIds[n % 2]!, markedBody(99, n), (ok) => answers.push(ok));
        }
        expect(recorder.expected).toBe(total * 15);
        await vi.waitFor(() => expect(recorder.complete && answers.length === total).toBe(true), { timeout: 10_000 });
        pool.detach(99);
        expect(answers.every(Boolean)).toBe(true);
        const result = recorder.result();
        expect(result).toMatchObject({ delivered: total * 15, duplicates: 0, stray: 0 });
        expect(pool.disconnects).toBe(0);
      } finally {
        pool.close();
        poster.close();
      }
    },
  );
});

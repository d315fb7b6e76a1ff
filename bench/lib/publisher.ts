import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Endpoint } from './servers.ts';

/** The outcome of one POST: `ok` for a 2xx answer; `now` when the answer ended (or failed). */
export type PostDone = (ok: boolean, status: number, now: number) => void;

/**
 * POSTs comments over keep-alive HTTP/1.1 connections, the way a page (or a proxy in front of the
 * servers) would. Requests beyond `maxSockets` queue in the agent: their wait counts in the latency,
 * because callers measure from the intended send time.
 */
export class Poster {
  private readonly agent: Agent;

  constructor(
    private readonly endpoint: Endpoint,
    maxSockets = 64,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  post(articleId: string, body: string, done: PostDone): void {
    const payload = Buffer.from(JSON.stringify({ author: { name: 'Bench Reader' }, body }));
    const req = request(
      {
        host: this.endpoint.host,
        port: this.endpoint.port,
        method: 'POST',
        path: `/api/articles/${encodeURIComponent(articleId)}/comments`,
        agent: this.agent,
        headers: { 'content-type': 'application/json', 'content-length': payload.length },
        timeout: 30_000,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        res.once('end', () => done(status >= 200 && status < 300, status, performance.now()));
        res.once('error', () => done(false, status, performance.now()));
      },
    );
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', () => done(false, 0, performance.now()));
    req.end(payload);
  }

  /** Posts and waits for the answer. */
  postAndWait(articleId: string, body: string): Promise<{ ok: boolean; status: number; now: number }> {
    return new Promise((resolve) => this.post(articleId, body, (ok, status, now) => resolve({ ok, status, now })));
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Open-loop schedule: item n is due at `startAt + n × 1000 / rate` whatever happened to the items
 * before it; `fire(n, dueAt)` is called as soon as possible after that time (late timers fire every
 * overdue item at once). Resolves after the last item was fired.
 */
export async function runOpenLoop(
  rate: number,
  count: number,
  startAt: number,
  fire: (n: number, dueAt: number) => void,
): Promise<void> {
  const interval = 1000 / rate;
  let n = 0;
  while (n < count) {
    const now = performance.now();
    while (n < count && startAt + n * interval <= now) {
      fire(n, startAt + n * interval);
      n += 1;
    }
    if (n < count) await sleep(Math.max(0, startAt + n * interval - performance.now()));
  }
}

/**
 * One generator process of the idle-readers scenario (bench/scenarios/idle-readers.ts): opens `count`
 * subscribed Socket.IO connections to one article from its own source address, tells the parent over
 * IPC when they are all open, then, when told a comment was posted at an epoch time, reports when it
 * reached each of its subscribers. Several of these share the 18,000 connections because a process
 * here may hold at most 20,000 open files.
 */
import { performance } from 'node:perf_hooks';
import { PhaseRecorder } from './lib/recorder.ts';
import { SubscriberPool } from './lib/subscribers.ts';

export interface IdleWorkerConfig {
  host: string;
  port: number;
  count: number;
  articleId: string;
  localAddress: string;
  rampConcurrency: number;
}

/** Parent → worker: the marker comment (phase, n) was sent at `sentAtEpochMs`. */
export interface IdleWorkerArm {
  type: 'arm';
  phase: number;
  sentAtEpochMs: number;
}

export type IdleWorkerReport =
  | { type: 'open'; opened: number; startEpochMs: number; endEpochMs: number }
  | { type: 'reached'; delivered: number; expected: number; p50Ms: number; maxMs: number }
  | { type: 'failed'; error: string };

const config = JSON.parse(process.env.IDLE_WORKER_CONFIG ?? '{}') as IdleWorkerConfig;
const send = (report: IdleWorkerReport) => process.send?.(report);
const epoch = () => performance.timeOrigin + performance.now();

const pool = new SubscriberPool({
  protocol: 'socketio',
  batch: true,
  endpoints: [{ host: config.host, port: config.port }],
  articleIds: [config.articleId],
  rampConcurrency: config.rampConcurrency,
  localAddress: config.localAddress,
});

process.on('message', (message: IdleWorkerArm | { type: 'close' }) => {
  if (message.type === 'close') {
    pool.close();
    process.exit(0);
  }
  const recorder = new PhaseRecorder(message.phase, 1, pool.articleSnapshot(), pool.subscribersPerArticle());
  // The send time in this process's performance clock (both clocks are the same machine's).
  recorder.schedule(0, message.sentAtEpochMs - performance.timeOrigin, 0);
  pool.attach(recorder);
  const deadline = Date.now() + 60_000;
  const check = () => {
    if (!recorder.complete && Date.now() < deadline) {
      setTimeout(check, 5);
      return;
    }
    pool.detach(message.phase);
    const result = recorder.result();
    send({
      type: 'reached',
      delivered: result.delivered,
      expected: result.expected,
      p50Ms: result.latency.p50,
      maxMs: result.latency.max,
    });
  };
  check();
});

const startEpochMs = epoch();
pool
  .grow(config.count, () => 0)
  .then(
    () => send({ type: 'open', opened: pool.size, startEpochMs, endEpochMs: epoch() }),
    (error: unknown) => {
      send({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
      pool.close();
    },
  );

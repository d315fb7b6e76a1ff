import { monitorEventLoopDelay } from 'node:perf_hooks';

/** What a server process reports about itself to the load generator over IPC. */
export interface ServerStats {
  /** User + system CPU time of the whole process since it started, in microseconds. */
  cpuUs: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** Event-loop delay since the last `reset`, in milliseconds. */
  eld: { p50: number; p99: number; max: number; mean: number };
}

/** Generator → server: read the figures; `gc` runs a full collection first, `reset` restarts the delay histogram. */
export interface StatsRequest {
  type: 'bench:stats';
  id: number;
  gc?: boolean;
  reset?: boolean;
}

export interface StatsReply {
  type: 'bench:stats';
  id: number;
  stats: ServerStats;
}

export function isStatsRequest(message: unknown): message is StatsRequest {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'bench:stats' &&
    typeof (message as { id?: unknown }).id === 'number'
  );
}

export function isStatsReply(message: unknown): message is StatsReply {
  return isStatsRequest(message) && typeof (message as { stats?: unknown }).stats === 'object';
}

/** Delay histogram sampling period: fine enough to see a few-ms block, cheap enough not to cost CPU. */
export const ELD_RESOLUTION_MS = 2;

const nsToMs = (ns: number) => (Number.isFinite(ns) ? ns / 1e6 : 0);

/**
 * Answers the generator's stats requests on the IPC channel, so server CPU, memory and event-loop
 * delay are measured inside the server process, apart from the generator. Does nothing without IPC.
 * The channel is unref'd: it never keeps the server alive on its own.
 */
export function startStatsResponder(): void {
  if (typeof process.send !== 'function') return;
  const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  eld.enable();
  process.channel?.unref();
  process.on('message', (message: unknown) => {
    if (!isStatsRequest(message)) return;
    const gc = (globalThis as { gc?: () => void }).gc;
    if (message.gc && gc) {
      gc();
      gc();
    }
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    const stats: ServerStats = {
      cpuUs: cpu.user + cpu.system,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      eld: {
        p50: nsToMs(eld.percentile(50)),
        p99: nsToMs(eld.percentile(99)),
        max: nsToMs(eld.max),
        mean: nsToMs(eld.mean),
      },
    };
    if (message.reset) eld.reset();
    const reply: StatsReply = { type: 'bench:stats', id: message.id, stats };
    process.send?.(reply);
  });
}

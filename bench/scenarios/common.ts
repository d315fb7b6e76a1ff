import { Poster } from '../lib/publisher.ts';
import { startTarget, type RunningTarget, type TargetSpec } from '../lib/servers.ts';
import { SubscriberPool } from '../lib/subscribers.ts';

export type Log = (line: string) => void;

/** Runs `body` against a freshly started target and its subscriber pool; always stops both. */
export async function withTarget<T>(
  spec: TargetSpec,
  runId: string,
  articleIds: readonly string[],
  body: (ctx: { target: RunningTarget; pool: SubscriberPool; poster: Poster }) => Promise<T>,
): Promise<T> {
  const target = await startTarget(spec, runId);
  const pool = new SubscriberPool({
    protocol: spec.protocol,
    batch: spec.batch,
    endpoints: target.endpoints,
    articleIds,
  });
  const poster = new Poster(target.postEndpoint);
  try {
    return await body({ target, pool, poster });
  } finally {
    pool.close();
    poster.close();
    await target.stop();
  }
}

/** A small deterministic PRNG (mulberry32), so runs pick the same articles. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

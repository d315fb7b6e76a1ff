/**
 * The write path alone, in its own process: the product's comment service and SQLite store as
 * `createApp` wires them (no HTTP, no subscribers), posting one comment after another for the given
 * milliseconds. Prints one line `BENCH_RESULT {json}`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { createApp } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { latencyHistogram, recordMs, summarize } from './lib/histogram.ts';
import { markedBody } from './lib/marker.ts';

const durationMs = Number(process.argv[2] ?? 3000);
const dir = mkdtempSync(join(tmpdir(), 'live-comments-bench-write-'));
const app = await createApp(
  loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    SQLITE_PATH: join(dir, 'bench.db'),
    SEED_DEMO: 'false',
    LOG_LEVEL: 'silent',
    RATE_LIMIT_POSTS_PER_MINUTE_IP: '0',
    RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: '0',
  }),
  { logger: pino({ level: 'silent' }) },
);
const articles = Array.from({ length: 100 }, (_, i) => `write-${i}`);
const post = (i: number) =>
  app.service.post(articles[i % articles.length]!, { author: { name: 'Bench Writer' }, body: markedBody(0, i) });

for (let i = 0; i < 300; i++) await post(i);
const histogram = latencyHistogram();
const cpuBefore = process.cpuUsage();
const start = performance.now();
let posts = 0;
while (performance.now() - start < durationMs) {
  const t = performance.now();
  await post(1000 + posts);
  recordMs(histogram, performance.now() - t);
  posts += 1;
}
const elapsedS = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(cpuBefore);
await app.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  `BENCH_RESULT ${JSON.stringify({ posts, postsPerSec: posts / elapsedS, cpuUsPerPost: (cpu.user + cpu.system) / posts, latency: summarize(histogram) })}\n`,
);
process.exit(0);

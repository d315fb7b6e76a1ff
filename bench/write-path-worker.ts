/**
 * The write path alone, in its own process: the product's comment service and SQLite store as
 * `createApp` wires them (no HTTP, no subscribers), posting one comment after another for the given
 * milliseconds. Prints one line `BENCH_RESULT {json}`.
 */
import { performance } from 'node:perf_hooks';
import { latencyHistogram, recordMs, summarize } from './lib/histogram.ts';
import { markedBody } from './lib/marker.ts';
import { guest as anonymous } from '../server/actors/actor.ts';
import { startWritePathApp } from './lib/write-path-app.ts';

const guest = anonymous();

const durationMs = Number(process.argv[2] ?? 3000);
const { app, close } = await startWritePathApp();
const articles = Array.from({ length: 100 }, (_, i) => `write-${i}`);
const post = (i: number) =>
  app.service.post(guest, articles[i % articles.length]!, { author: { name: 'Bench Writer' }, body: markedBody(0, i) });

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
await close();
process.stdout.write(
  `BENCH_RESULT ${JSON.stringify({ posts, postsPerSec: posts / elapsedS, cpuUsPerPost: (cpu.user + cpu.system) / posts, latency: summarize(histogram) })}\n`,
);
process.exit(0);

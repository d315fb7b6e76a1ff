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
import { benchBodies, benchWordList } from './lib/moderation-lists.ts';
import { DEFAULT_MODERATION_SETTINGS, ModerationSettingsSchema } from '../shared/moderation-settings.ts';

const guest = anonymous();

const durationMs = Number(process.argv[2] ?? 3000);
const { app, close } = await startWritePathApp();
const articles = Array.from({ length: 100 }, (_, i) => `write-${i}`);
const post = (i: number) =>
  app.service.post(guest, articles[i % articles.length]!, { author: { name: 'Bench Writer' }, body: markedBody(0, i) });

for (let i = 0; i < 300; i++) await post(i);

/** Posts one after another for durationMs: posts/s, CPU per post, latency. */
async function measure(from: number) {
  const histogram = latencyHistogram();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  let posts = 0;
  while (performance.now() - start < durationMs) {
    const t = performance.now();
    await post(from + posts);
    recordMs(histogram, performance.now() - t);
    posts += 1;
  }
  const elapsedS = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    posts,
    postsPerSec: posts / elapsedS,
    cpuUsPerPost: (cpu.user + cpu.system) / posts,
    latency: summarize(histogram),
  };
}

/** The pipeline alone: µs per check of realistic bodies (the write path's other work left out). */
async function pipelineUs(): Promise<number> {
  const bodies = benchBodies(500);
  const check = (i: number) =>
    app.moderation.check({
      body: bodies[i % bodies.length]!,
      articleId: 'bench',
      authorKey: `author-${i % 50}`,
      clientId: null,
      kind: 'post',
      trusted: false,
    });
  for (let i = 0; i < 2000; i++) await check(i);
  const rounds = 20_000;
  const start = performance.now();
  for (let i = 0; i < rounds; i++) await check(i);
  return ((performance.now() - start) * 1000) / rounds;
}

const LIST_WORDS = 1000;
const withLists = ModerationSettingsSchema.parse({
  bannedWords: benchWordList('b', LIST_WORDS),
  suspectWords: benchWordList('s', LIST_WORDS),
  blockedDomains: ['spam.example', 'pills.example'],
});
// Same process, same store, one after the other: the write path without, then with the lists.
app.moderation.configure(DEFAULT_MODERATION_SETTINGS);
const plain = await measure(1000);
const compileStart = performance.now();
app.moderation.configure(withLists);
const compileMs = performance.now() - compileStart;
const listed = await measure(1_000_000);
const usEmpty = (app.moderation.configure(DEFAULT_MODERATION_SETTINGS), await pipelineUs());
const usLists = (app.moderation.configure(withLists), await pipelineUs());
await close();
process.stdout.write(
  `BENCH_RESULT ${JSON.stringify({
    ...plain,
    moderation: {
      bannedWords: LIST_WORDS,
      suspectWords: LIST_WORDS,
      compileMs,
      usPerCheckEmpty: usEmpty,
      usPerCheckLists: usLists,
      postsPerSecWithLists: listed.postsPerSec,
      cpuUsPerPostWithLists: listed.cpuUsPerPost,
      throughputRatio: listed.postsPerSec / plain.postsPerSec,
    },
  })}\n`,
);
process.exit(0);

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

/** Posts one after another for `forMs`: posts/s, CPU per post, latency. */
async function measure(from: number, forMs = durationMs) {
  const histogram = latencyHistogram();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  let posts = 0;
  while (performance.now() - start < forMs) {
    const t = performance.now();
    await post(from + posts);
    recordMs(histogram, performance.now() - t);
    posts += 1;
  }
  const elapsedS = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    posts,
    elapsedS,
    cpuUs: cpu.user + cpu.system,
    postsPerSec: posts / elapsedS,
    cpuUsPerPost: (cpu.user + cpu.system) / posts,
    histogram,
  };
}

/** Rounds of one side as one measurement: posts over their summed time, latency over every post. */
function combine(rounds: ReadonlyArray<Awaited<ReturnType<typeof measure>>>) {
  const histogram = latencyHistogram();
  let posts = 0;
  let elapsedS = 0;
  let cpuUs = 0;
  for (const round of rounds) {
    posts += round.posts;
    elapsedS += round.elapsedS;
    cpuUs += round.cpuUs;
    histogram.add(round.histogram);
  }
  return { posts, postsPerSec: posts / elapsedS, cpuUsPerPost: cpuUs / posts, latency: summarize(histogram) };
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
const compileStart = performance.now();
app.moderation.configure(withLists);
const compileMs = performance.now() - compileStart;
// Same process, same store, in alternating rounds (without the lists, then with them, four times), so
// the store's growth and the JIT's warm-up fall on both sides alike rather than on the second.
const ROUNDS = 4;
const plainRounds: Array<Awaited<ReturnType<typeof measure>>> = [];
const listedRounds: Array<Awaited<ReturnType<typeof measure>>> = [];
for (let round = 0; round < ROUNDS; round++) {
  app.moderation.configure(DEFAULT_MODERATION_SETTINGS);
  plainRounds.push(await measure(1000 + round * 200_000, durationMs / ROUNDS));
  app.moderation.configure(withLists);
  listedRounds.push(await measure(1_000_000 + round * 200_000, durationMs / ROUNDS));
}
const plain = combine(plainRounds);
const listed = combine(listedRounds);
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

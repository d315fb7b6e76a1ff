/**
 * CPU per write of each kind, through the comment service and SQLite store as createApp wires them:
 * top-level posts, replies, likes. Prints `BENCH_RESULT {json}`.
 */
import { performance } from 'node:perf_hooks';
import { guest as anonymous } from '../server/actors/actor.ts';
import { startWritePathApp } from './lib/write-path-app.ts';

const guest = anonymous();

const durationMs = Number(process.argv[2] ?? 2000);
const { app, close } = await startWritePathApp();
const articles = Array.from({ length: 100 }, (_, i) => `mix-${i}`);
const tops: string[] = [];
for (let i = 0; i < 300; i++) {
  const outcome = await app.service.post(guest, articles[i % 100]!, { author: { name: 'Writer' }, body: `warm ${i}` });
  if ('comment' in outcome) tops.push(outcome.comment.id);
}
async function measure(kind: string, op: (i: number) => Promise<unknown>) {
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < durationMs) await op(n++);
  const cpu = process.cpuUsage(cpuBefore);
  return [kind, Math.round((cpu.user + cpu.system) / n)] as const;
}
const results = Object.fromEntries([
  await measure('topPostUs', (i) =>
    app.service.post(guest, articles[i % 100]!, { author: { name: 'Writer' }, body: `top ${i}` }),
  ),
  await measure('replyUs', (i) =>
    app.service.post(guest, articles[i % 100]!, {
      author: { name: 'Writer' },
      body: `reply ${i}`,
      parentId: tops[i % 100]!,
    }),
  ),
  await measure('likeUs', (i) =>
    app.service.like(guest, tops[i % tops.length]!, `reader-${String(i).padStart(8, '0')}`, true),
  ),
]);
await close();
process.stdout.write(`BENCH_RESULT ${JSON.stringify(results)}\n`);
process.exit(0);

/**
 * One import or export through the command-line tool (`npm run comments`), in this process so its CPU
 * time and peak RSS are the tool's own. The store comes from the environment the tool reads
 * (SQLITE_PATH or DATABASE_URL), set by bench/scenarios/import.ts.
 *
 *   import-worker.ts import FILE   →  BENCH_RESULT {"seconds","comments","cpuSeconds","maxRssMB"}
 *   import-worker.ts export FILE
 */
import { performance } from 'node:perf_hooks';
import { main } from '../server/cli.ts';

const [command, file] = process.argv.slice(2);
if ((command !== 'import' && command !== 'export') || !file) {
  process.stderr.write('usage: import-worker.ts import|export FILE\n');
  process.exit(2);
}
const lines: string[] = [];
const io = { out: (line: string) => lines.push(line), err: (line: string) => lines.push(line), tty: false };
const argv = command === 'import' ? ['import', '--format', 'disqus', '--file', file] : ['export', '--file', file];
const cpu = process.cpuUsage();
const start = performance.now();
const code = await main(argv, io);
const seconds = (performance.now() - start) / 1000;
const used = process.cpuUsage(cpu);
// The tool's own summary says how many comments moved: "imported N" or "Exported N comments".
const counted = lines.join('\n').match(command === 'import' ? /comments: imported (\d+)/ : /Exported (\d+) comments/);
if (code !== 0 || !counted) {
  process.stderr.write(`${command} failed (exit ${code}):\n${lines.join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(
  `BENCH_RESULT ${JSON.stringify({
    seconds,
    comments: Number(counted[1]),
    cpuSeconds: (used.user + used.system) / 1e6,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);
process.exit(0);

import type { BenchResults } from './results.ts';
import type { CellResult } from './phase.ts';
import type { ClosedLoopSummary } from '../scenarios/write-path.ts';

const f1 = (n: number) => n.toFixed(1);
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (n: number) => `${Math.round(n * 100)}%`;

function cellRow(c: CellResult): string {
  const d = c.delivery;
  const delivered = d.delivered === d.expected ? `${int(d.delivered)}` : `**${int(d.delivered)}/${int(d.expected)}**`;
  return (
    `| ${c.label} | ${int(c.subscribers)} | ${c.rate} | ${f1(d.latency.p50)} | ${f1(d.latency.p90)} | ${f1(d.latency.p99)} | ${f1(d.latency.p999)} | ${f1(d.latency.max)} ` +
    `| ${f1(d.firstRecipient.p99)} | ${f1(d.lastRecipient.p99)} | ${delivered} | ${d.duplicates} | ${int(c.deliveriesPerSec)} | ${f1(c.server.cpuUsPerDelivery)} | ${pct(c.server.cpuCores)} ` +
    `| ${f1(c.server.eldP99)} | ${pct(c.generator.cpuCores)}${c.generator.overloaded ? ' ⚠' : ''} | ${f1(c.generator.eldP99)} | ${f1(c.posts.latency.p99)}${c.posts.failed > 0 ? ` (${c.posts.failed} failed)` : ''} | ${c.disconnects} | ${c.loadavg1.toFixed(1)} |`
  );
}

const CELL_HEADER =
  '| target | subs | rate/s | p50 | p90 | p99 | p99.9 | max | first p99 | last p99 | delivered | dup | deliveries/s | CPU µs/delivery | server CPU | server ELD p99 | generator CPU | gen. ELD p99 | POST p99 | disconnects | load |\n' +
  '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|';

/** The markdown report: what ran, where, the targets, and every table. Latencies in ms. */
export function renderMarkdown(results: BenchResults, chartFile: string | null): string {
  const m = results.machine;
  const out: string[] = [];
  out.push(`# Benchmark results (${results.mode} run)`);
  out.push('');
  out.push(
    `Run ${results.startedAt} → ${results.finishedAt} (${Math.round(results.durationS)} s). Command: \`npm run bench${results.argv.length ? ` -- ${results.argv.join(' ')}` : ''}\`.`,
  );
  out.push('');
  out.push(
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGB} GB RAM, Node ${m.node}, Linux ${m.kernel}, open files ${m.openFilesLimit}. ` +
      `Load average at start ${m.loadavgStart.join(' / ')}, at end ${m.loadavgEnd.join(' / ')} (1/5/15 min): ` +
      'the load generator, the servers and Redis share these cores, and anything else running on the machine shows up in that figure.',
  );
  out.push('');
  out.push(
    "Latency is measured from each comment's *intended* send time on an open-loop schedule to its receipt at each subscriber, all in one generator process (one clock). " +
      '"first/last p99": per comment, the time to its first and last recipient. CPU µs/delivery: server CPU time (all instances) during the phase ÷ deliveries. ' +
      "ELD: event-loop delay. ⚠: the generator used more than 80% of a core, so it may be what limits that cell. load: the machine's 1-minute load average at the end of the cell.",
  );
  if (chartFile) {
    out.push('');
    out.push(`![p99 latency against subscribers](${chartFile})`);
  }

  out.push('');
  out.push('## Targets');
  out.push('');
  out.push('| target | measured | |');
  out.push('|---|---|---|');
  for (const check of results.targets)
    out.push(
      `| ${check.target} | ${check.measured} | ${check.pass === null ? '–' : check.pass ? 'met' : '**missed**'} |`,
    );

  if (results.fanout.length > 0) {
    out.push('');
    out.push('## Fan-out: one hot article');
    out.push('');
    out.push(CELL_HEADER);
    const sorted = [...results.fanout].sort(
      (a, b) => a.subscribers - b.subscribers || a.rate - b.rate || order(a.target) - order(b.target),
    );
    for (const cell of sorted) out.push(cellRow(cell));
  }

  if (results.articles.length > 0) {
    const a = results.articles[0]!;
    out.push('');
    out.push(
      `## Many articles: ${int(a.articles)} articles × ${int(a.subscribers / a.articles)} subscribers, ${a.rate} comments/s in total`,
    );
    out.push('');
    out.push(CELL_HEADER);
    for (const cell of results.articles) out.push(cellRow(cell));
  }

  if (results.saturation.length > 0) {
    out.push('');
    out.push('## Saturation: step-up search on one hot article (fails when p99 > 1 s, or anything is lost or refused)');
    out.push('');
    out.push('| target | subs | sustained | failed at | steps (rate/s: p99 ms, delivered) |');
    out.push('|---|--:|--:|--:|---|');
    for (const s of results.saturation) {
      const steps = s.steps
        .map(
          (c) =>
            `${c.rate}: ${f1(c.delivery.latency.p99)}, ${c.delivery.delivered === c.delivery.expected ? 'all' : `${int(c.delivery.delivered)}/${int(c.delivery.expected)}`}${c.generator.overloaded ? ' ⚠' : ''}`,
        )
        .join('; ');
      out.push(
        `| ${s.label} | ${int(s.subscribers)} | ${s.sustainedRate === null ? 'none' : `${s.sustainedRate}/s`} | ${s.failedRate === null ? '–' : `${s.failedRate}/s`} | ${steps} |`,
      );
    }
  }

  if (results.rss.length > 0) {
    out.push('');
    out.push('## Server memory with idle connections (after a full GC; two-instance targets: both processes)');
    out.push('');
    out.push(
      'Measured after warming the server up with 200 connections that then closed. KB/connection: (RSS − idle RSS) / connections; marginal: RSS added per connection since the previous count.',
    );
    out.push('');
    out.push(
      '| target | connections | RSS MB | RSS KB/connection | marginal KB/connection | heap MB | heap KB/connection |',
    );
    out.push('|---|--:|--:|--:|--:|--:|--:|');
    for (const p of results.rss) {
      out.push(
        `| ${p.label} | ${int(p.connections)} | ${f1(p.rssMB)} | ${p.rssPerConnectionKB === null ? '–' : f1(p.rssPerConnectionKB)} | ${p.rssMarginalKB === null ? '–' : f1(p.rssMarginalKB)} | ${f1(p.heapUsedMB)} | ${p.heapPerConnectionKB === null ? '–' : f1(p.heapPerConnectionKB)} |`,
      );
    }
  }

  const idle = results.idle;
  if (idle) {
    out.push('');
    out.push(
      `## Idle readers: ${int(idle.connections)} subscribed connections to one product instance, from ${idle.workers} generator processes`,
    );
    out.push('');
    out.push(
      '| open | ramp s | handshakes/s | RSS MB (before) | RSS KB/conn | heap MB (before) | heap KB/conn | idle CPU | one comment to all: p50 / max ms |',
    );
    out.push('|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
    out.push(
      `| ${int(idle.opened)} | ${f1(idle.rampS)} | ${int(idle.handshakesPerSec)} | ${f1(idle.rssMB)} (${f1(idle.rssMB0)}) | ${f1(idle.rssPerConnectionKB)} | ${f1(idle.heapMB)} (${f1(idle.heapMB0)}) | ${f1(idle.heapPerConnectionKB)} | ${pct(idle.idleCpuCores)} | ${int(idle.reach.p50Ms)} / ${int(idle.reach.maxMs)} (${int(idle.reach.delivered)} of ${int(idle.reach.expected)}) |`,
    );
  }

  const w = results.writePath;
  if (w) {
    out.push('');
    out.push('## Write path (product, SQLite unless said, no subscribers)');
    out.push('');
    out.push('| measurement | posts/s | p50 ms | p99 ms | max ms | failed | notes |');
    out.push('|---|--:|--:|--:|--:|--:|---|');
    out.push(
      `| comment service + store, in process, one after another | ${int(w.inProcess.postsPerSec)} | ${f1(w.inProcess.latency.p50)} | ${f1(w.inProcess.latency.p99)} | ${f1(w.inProcess.latency.max)} | 0 | ${f1(w.inProcess.cpuUsPerPost)} µs CPU per post |`,
    );
    const m = w.inProcess.moderation;
    if (m)
      out.push(
        `| … the same with ${int(m.bannedWords)} banned and ${int(m.suspectWords)} suspect words | ${int(m.postsPerSecWithLists)} | – | – | – | 0 | ×${m.throughputRatio.toFixed(2)} of the above, ${f1(m.cpuUsPerPostWithLists)} µs CPU per post; the pipeline alone ${f1(m.usPerCheckLists)} µs per comment (${f1(m.usPerCheckEmpty)} µs with the defaults), lists compiled in ${f1(m.compileMs)} ms |`,
      );
    out.push(
      `| HTTP POST, ${w.httpMax.concurrency} concurrent posters (closed loop) | ${int(w.httpMax.postsPerSec)} | ${f1(w.httpMax.latency.p50)} | ${f1(w.httpMax.latency.p99)} | ${f1(w.httpMax.latency.max)} | ${w.httpMax.failed} | server ${pct(w.httpMax.serverCpuCores)} CPU, ELD p99 ${f1(w.httpMax.serverEldP99)} ms; generator ${pct(w.httpMax.generatorCpuCores)} |`,
    );
    const closedRow = (label: string, m: ClosedLoopSummary) =>
      `| ${label} | ${int(m.postsPerSec)} | ${f1(m.latency.p50)} | ${f1(m.latency.p99)} | ${f1(m.latency.max)} | ${m.failed} | server ${pct(m.serverCpuCores)} CPU (${int(m.serverCpuUsPerPost)} µs per post), ELD p99 ${f1(m.serverEldP99)} ms; generator ${pct(m.generatorCpuCores)} |`;
    if (w.baselineMax)
      out.push(
        closedRow('bare Express + better-sqlite3 insert endpoint, the same posters, alternating rounds', w.baselineMax),
      );
    if (w.floorMax)
      out.push(
        closedRow(
          "bare node:http + better-sqlite3 (the same insert, no framework: the machine's floor), alternating rounds",
          w.floorMax,
        ),
      );
    if (w.postgresMax) out.push(closedRow('the product on PostgreSQL, the same posters', w.postgresMax));
    out.push(
      `| HTTP POST, open loop at ${w.httpOpenLoop.rate}/s | ${w.httpOpenLoop.rate} | ${f1(w.httpOpenLoop.latency.p50)} | ${f1(w.httpOpenLoop.latency.p99)} | ${f1(w.httpOpenLoop.latency.max)} | ${w.httpOpenLoop.failed} | server ELD p99 ${f1(w.httpOpenLoop.serverEldP99)} ms |`,
    );
  }
  const imports = results.imports;
  if (imports) {
    const f = imports.file;
    out.push('');
    out.push(
      `## Import and export (\`npm run comments\`): a generated Disqus export of ${int(f.posts)} posts in ${int(f.threads)} threads`,
    );
    out.push('');
    out.push(
      `${f1(f.bytes / 1e6)} MB of XML (${f1(f.gzippedMB)} MB gzipped, read as it is), ${int(f.deleted)} deleted and ${int(f.spam)} spam posts among them. ` +
        'Each run is the command-line tool in a process of its own on an empty store; comments/s counts the comments written (or exported) over the wall time of the command, from opening and migrating the store to its summary (loading the code not included); an export also counts the placeholders kept for deleted posts with replies.',
    );
    out.push('');
    out.push('| store | step | comments | seconds | comments/s | CPU s | CPU ms/comment | peak RSS MB |');
    out.push('|---|---|--:|--:|--:|--:|--:|--:|');
    for (const s of imports.stores)
      for (const [step, run] of [
        ['import', s.import],
        ['export', s.export],
      ] as const)
        out.push(
          `| ${s.store} | ${step} | ${int(run.comments)} | ${f1(run.seconds)} | ${int(run.commentsPerSec)} | ${f1(run.cpuSeconds)} | ${(run.comments > 0 ? (run.cpuSeconds * 1000) / run.comments : 0).toFixed(2)} | ${int(run.maxRssMB)} |`,
        );
  }
  out.push('');
  return out.join('\n');
}

const TARGET_ORDER = ['ws', 'socketio', 'product', 'product-nobatch', 'socketio-redis', 'product-redis'];
function order(target: string): number {
  const i = TARGET_ORDER.indexOf(target);
  return i < 0 ? TARGET_ORDER.length : i;
}

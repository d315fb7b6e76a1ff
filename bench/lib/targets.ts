import type { WritePathResult } from '../scenarios/write-path.ts';
import type { IdleReadersResult } from '../scenarios/idle-readers.ts';
import type { RssPoint } from '../scenarios/rss.ts';
import type { CellResult } from './phase.ts';

/** One target of the issue, checked against this run's figures. `pass: null` when the run did not measure it. */
export interface TargetCheck {
  target: string;
  measured: string;
  pass: boolean | null;
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

function fanoutCell(
  cells: readonly CellResult[],
  target: string,
  subscribers: number,
  rate: number,
): CellResult | undefined {
  return cells.find(
    (c) => c.scenario === 'fanout' && c.target === target && c.subscribers === subscribers && c.rate === rate,
  );
}

const lossless = (cell: CellResult) =>
  cell.delivery.delivered === cell.delivery.expected && cell.delivery.duplicates === 0;

/** The targets from the issue (measured on our 2-core machines), evaluated on this run. */
export function checkTargets(results: {
  fanout: readonly CellResult[];
  rss: readonly RssPoint[];
  writePath: WritePathResult | null;
  idle?: IdleReadersResult | null;
}): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const { fanout, rss, writePath } = results;
  const idle = results.idle ?? null;

  const product = fanoutCell(fanout, 'product', 1000, 10);
  const bare = fanoutCell(fanout, 'socketio', 1000, 10);
  if (product && bare) {
    const p99Ratio = product.delivery.latency.p99 / bare.delivery.latency.p99;
    const cpuRatio = product.server.cpuUsPerDelivery / bare.server.cpuUsPerDelivery;
    checks.push({
      target: '1,000 subscribers × 10/s: product p99 ≤ 1.2× bare Socket.IO, zero loss',
      measured: `p99 ${fmt(product.delivery.latency.p99)} ms vs ${fmt(bare.delivery.latency.p99)} ms (${fmt(p99Ratio, 2)}×), delivered ${product.delivery.delivered}/${product.delivery.expected}, ${product.delivery.duplicates} duplicates`,
      pass: p99Ratio <= 1.2 && lossless(product),
    });
    checks.push({
      target: '1,000 subscribers × 10/s: server CPU per delivery ≤ 1.2× bare Socket.IO',
      measured: `${fmt(product.server.cpuUsPerDelivery)} µs vs ${fmt(bare.server.cpuUsPerDelivery)} µs (${fmt(cpuRatio, 2)}×; the product's figure includes its HTTP post, validation and SQLite commit)`,
      pass: cpuRatio <= 1.2,
    });
  } else {
    checks.push({
      target: '1,000 subscribers × 10/s: product vs bare Socket.IO (p99, CPU per delivery)',
      measured: 'not measured in this run',
      pass: null,
    });
  }

  const pairs = fanout.filter((c) => c.scenario === 'fanout' && c.target === 'product-redis');
  const deltas = pairs
    .map((two) => ({ two, one: fanoutCell(fanout, 'product', two.subscribers, two.rate) }))
    .filter((p): p is { two: CellResult; one: CellResult } => p.one !== undefined);
  if (deltas.length > 0) {
    const added = (p: { two: CellResult; one: CellResult }) => p.two.delivery.latency.p50 - p.one.delivery.latency.p50;
    const signed = (ms: number) => `${ms >= 0 ? '+' : ''}${fmt(ms)}`;
    const headline = deltas.find((p) => p.two.subscribers === 1000 && p.two.rate === 10) ?? deltas[0]!;
    // Every cell counts: the largest difference at each subscriber count, over its rates.
    const counts = [...new Set(deltas.map((p) => p.two.subscribers))].sort((a, b) => a - b);
    const worstPerCount = counts.map((count) => {
      const worst = deltas.filter((p) => p.two.subscribers === count).reduce((w, p) => (added(p) > added(w) ? p : w));
      return `${count}: ${signed(added(worst))} ms at ${worst.two.rate}/s`;
    });
    checks.push({
      target: 'Two instances over Redis add ≤ 2 ms to p50 (vs one instance)',
      measured:
        `${headline.two.subscribers} subs × ${headline.two.rate}/s: p50 ${fmt(headline.two.delivery.latency.p50)} vs ${fmt(headline.one.delivery.latency.p50)} ms (${signed(added(headline))} ms); ` +
        `largest difference per subscriber count: ${worstPerCount.join(', ')}`,
      pass: deltas.every((p) => added(p) <= 2),
    });
  } else {
    checks.push({
      target: 'Two instances over Redis add ≤ 2 ms to p50',
      measured: 'not measured in this run',
      pass: null,
    });
  }

  const productRss = rss.filter((p) => p.target === 'product' && p.rssPerConnectionKB !== null);
  if (productRss.length > 0) {
    // Every figure counts: the average over idle at each count, and the cost of each added connection.
    const figures = productRss.flatMap((p) => [
      p.rssPerConnectionKB!,
      ...(p.rssMarginalKB === null ? [] : [p.rssMarginalKB]),
    ]);
    checks.push({
      target: 'RSS ≤ 20 KB per idle connection',
      measured: productRss
        .map(
          (p) =>
            `${fmt(p.rssPerConnectionKB!)} KB at ${p.connections}${p.rssMarginalKB === null ? '' : ` (${fmt(p.rssMarginalKB)} KB per added connection)`}, heap ${fmt(p.heapPerConnectionKB!)} KB`,
        )
        .join('; '),
      pass: Math.max(...figures) <= 20,
    });
  } else {
    checks.push({ target: 'RSS ≤ 20 KB per idle connection', measured: 'not measured in this run', pass: null });
  }

  // One hot article on one instance (issue 16, item 3 raised the rooms to 10,000 and 18,000).
  for (const [subscribers, rate, limitMs] of [
    [5000, 50, 250],
    [10_000, 50, 250],
    [18_000, 10, 500],
  ] as const) {
    const target = `${subscribers.toLocaleString('en-US')} subscribers × ${rate}/s on one instance: p99 < ${limitMs} ms`;
    const hot = fanoutCell(fanout, 'product', subscribers, rate);
    const hotBare = fanoutCell(fanout, 'socketio', subscribers, rate);
    checks.push(
      hot
        ? {
            target,
            measured:
              `p99 ${fmt(hot.delivery.latency.p99)} ms, delivered ${hot.delivery.delivered}/${hot.delivery.expected}, load ${hot.loadavg1}` +
              (hotBare
                ? ` (bare Socket.IO: p99 ${fmt(hotBare.delivery.latency.p99)} ms, delivered ${hotBare.delivery.delivered}/${hotBare.delivery.expected})`
                : ''),
            pass: hot.delivery.latency.p99 < limitMs && lossless(hot),
          }
        : { target, measured: 'not measured in this run', pass: null },
    );
  }

  checks.push(
    idle
      ? {
          target: `${idle.connections.toLocaleString('en-US')} idle readers on one instance: RSS ≤ 10 KB per connection`,
          measured: `${idle.opened} open, ${fmt(idle.rssPerConnectionKB)} KB RSS per connection (heap ${fmt(idle.heapPerConnectionKB)} KB), ${Math.round(idle.handshakesPerSec)} handshakes/s, one comment reached ${idle.reach.delivered}/${idle.reach.expected} within ${Math.round(idle.reach.maxMs)} ms`,
          pass: idle.opened === idle.connections && idle.rssPerConnectionKB <= 10,
        }
      : { target: 'Idle readers: RSS ≤ 10 KB per connection', measured: 'not measured in this run', pass: null },
  );

  if (writePath) {
    const base = writePath.baselineMax;
    checks.push({
      target: 'Write path: ≥ 5,000 posts/s over HTTP on one instance with SQLite (32 posters)',
      measured: `${Math.round(writePath.httpMax.postsPerSec)} posts/s over HTTP (${writePath.httpMax.concurrency} concurrent, ${Math.round(writePath.httpMax.serverCpuUsPerPost)} µs server CPU per post); ${Math.round(writePath.inProcess.postsPerSec)} posts/s service + store alone${writePath.floorMax ? `; bare node:http + better-sqlite3 ${Math.round(writePath.floorMax.postsPerSec)} posts/s (${Math.round(writePath.floorMax.serverCpuUsPerPost)} µs per post)` : ''}`,
      pass: writePath.httpMax.postsPerSec >= 5000 && writePath.httpMax.failed === 0,
    });
    checks.push({
      target: 'Write path: ≥ half of a bare Express + better-sqlite3 insert endpoint, same run',
      measured: base
        ? `×${(writePath.httpMax.postsPerSec / base.postsPerSec).toFixed(2)}: ${Math.round(writePath.httpMax.postsPerSec)} vs ${Math.round(base.postsPerSec)} posts/s (server CPU ${Math.round(writePath.httpMax.serverCpuUsPerPost)} vs ${Math.round(base.serverCpuUsPerPost)} µs per post)`
        : 'not measured in this run',
      pass: base ? writePath.httpMax.postsPerSec >= base.postsPerSec / 2 && writePath.httpMax.failed === 0 : null,
    });
    checks.push({
      target: 'Write path: POST p99 < 20 ms at 500 posts/s',
      measured: `p99 ${fmt(writePath.httpOpenLoop.latency.p99)} ms (p50 ${fmt(writePath.httpOpenLoop.latency.p50)}, max ${fmt(writePath.httpOpenLoop.latency.max)}), ${writePath.httpOpenLoop.failed} failed`,
      pass: writePath.httpOpenLoop.latency.p99 < 20 && writePath.httpOpenLoop.failed === 0,
    });
  } else {
    checks.push({
      target: 'Write path (posts/s, p99 at 500 posts/s)',
      measured: 'not measured in this run',
      pass: null,
    });
  }
  return checks;
}

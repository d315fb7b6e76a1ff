/**
 * What one idle subscribed connection keeps on a server's JS heap, by kind of object: heap snapshots
 * of the server before and after `--connections` subscribers joined one article, compared object
 * type by object type (self sizes, after a full GC). It found what the product held per connection
 * beyond Socket.IO's own state (docs/performance.md, "Idle readers").
 *
 *   npx tsx bench/heap-per-connection.ts --target=product --connections=3000
 *
 * Targets: product, socketio, ws (bench/lib/servers.ts). Snapshots go to a temporary directory and are removed.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SubscriberPool } from './lib/subscribers.ts';
import { startTarget, TARGETS, type ServerProcess, type TargetName } from './lib/servers.ts';

interface HeapSnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Count and total self size of each kind of object ("object:Socket", "closure:", "array", …). */
type Composition = Map<string, { count: number; bytes: number }>;

const option = (name: string, fallback: string) =>
  process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const targetName = option('target', 'product') as TargetName;
const connections = Number(option('connections', '3000'));
if (!['product', 'socketio', 'ws'].includes(targetName) || !Number.isInteger(connections) || connections < 1) {
  console.error('Usage: npx tsx bench/heap-per-connection.ts [--target=product|socketio|ws] [--connections=N]');
  process.exit(2);
}

function composition(file: string): Composition {
  const heap = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshotFile;
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field)) as [
    number,
    number,
    number,
  ];
  const kinds: Composition = new Map();
  for (let i = 0; i < heap.nodes.length; i += fields.length) {
    const type = types[heap.nodes[i + typeAt]!]!;
    const kind = type === 'object' || type === 'closure' ? `${type}:${heap.strings[heap.nodes[i + nameAt]!]}` : type;
    const entry = kinds.get(kind) ?? { count: 0, bytes: 0 };
    entry.count += 1;
    entry.bytes += heap.nodes[i + sizeAt]!;
    kinds.set(kind, entry);
  }
  return kinds;
}

/** Collects garbage, has the server write a heap snapshot into `dir` and reads it. */
async function snapshot(server: ServerProcess, dir: string): Promise<Composition> {
  await server.stats({ gc: true });
  const before = new Set(readdirSync(dir));
  server.signal('SIGUSR2');
  for (;;) {
    await sleep(500);
    const file = readdirSync(dir).find((name) => !before.has(name) && name.endsWith('.heapsnapshot'));
    if (!file) continue;
    // The server writes the file in pieces: read it once it parses whole.
    for (let attempt = 1; ; attempt++) {
      try {
        return composition(join(dir, file));
      } catch (error) {
        if (!(error instanceof SyntaxError) || attempt === 60) throw error;
        await sleep(1000);
      }
    }
  }
}

const dir = mkdtempSync(join(tmpdir(), 'live-comments-heap-'));
process.env.BENCH_SERVER_NODE_FLAGS = `${process.env.BENCH_SERVER_NODE_FLAGS ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}`;
const target = await startTarget(TARGETS[targetName], `heap-${process.pid}`);
const server = target.processes[0]!;
const pool = new SubscriberPool({
  protocol: TARGETS[targetName].protocol,
  batch: TARGETS[targetName].batch,
  endpoints: target.endpoints,
  articleIds: ['heap-article'],
  rampConcurrency: 100,
});
try {
  const empty = await snapshot(server, dir);
  await pool.grow(connections, () => 0);
  await sleep(2000);
  const full = await snapshot(server, dir);
  const rows = [...full]
    .map(([kind, { count, bytes }]) => {
      const was = empty.get(kind) ?? { count: 0, bytes: 0 };
      return { kind, count: (count - was.count) / connections, bytes: (bytes - was.bytes) / connections };
    })
    .filter((row) => Math.abs(row.bytes) >= 8)
    .sort((a, b) => b.bytes - a.bytes);
  const total = rows.reduce((sum, row) => sum + row.bytes, 0);
  console.log(`${TARGETS[targetName].label}: ${connections} idle subscribed connections`);
  console.log(`heap per connection (self sizes, after a full GC): ${Math.round(total)} B`);
  console.log(' bytes  objects  kind');
  for (const row of rows.slice(0, 30))
    console.log(`${row.bytes.toFixed(0).padStart(6)} ${row.count.toFixed(2).padStart(8)}  ${row.kind}`);
} finally {
  pool.close();
  await target.stop();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A real Redis Cluster of the test's own: `redis-server --cluster-enabled yes` processes on free ports,
 * each in a temp dir, joined by `redis-cli --cluster create … --cluster-replicas N --cluster-yes`.
 * Nodes can be SIGKILLed and restarted (a restarted node keeps its identity from nodes.conf and comes
 * back as a replica). Used by the fan-out contract suite, the failover fault test and benchmarks.
 * Every node is killed when the test process exits, so a failed test leaves nothing running.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const runFile = promisify(execFile);

/** Nodes still running, killed on exit whatever happened to the test. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface RedisClusterOptions {
  /** Masters, each owning an equal share of the 16,384 slots (default 3). */
  masters?: number;
  /** Replicas per master (default 1). */
  replicasPerMaster?: number;
  /** `cluster-node-timeout`: how long a node may be unreachable before it is failed over (default 2000 ms). */
  nodeTimeoutMs?: number;
  /** Extra redis-server options for every node. */
  args?: readonly string[];
}

/** One node as CLUSTER NODES describes it. */
export interface ClusterNodeInfo {
  id: string;
  port: number;
  role: 'master' | 'replica';
  /** The master's node id, for a replica. */
  masterId: string | null;
  /** `fail` or `fail?` flags are set, or the node is disconnected. */
  failing: boolean;
  /** Slot ranges [first, last] a master serves. */
  slots: Array<[number, number]>;
}

/**
 * Runs one command on a node and returns its reply as text (a status, a bulk string or an integer;
 * an error reply rejects). Speaks RESP over a fresh TCP connection: polling during a failover must not
 * spawn a process per question.
 */
export function redisCommand(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let buffer = Buffer.alloc(0);
    const finish = (error: Error | null, reply?: string) => {
      socket.destroy();
      if (error) reject(error);
      else resolve(reply ?? '');
    };
    socket.setTimeout(5000, () => finish(new Error(`redis node ${port} did not answer ${args.join(' ')}`)));
    socket.once('error', (error) => finish(error));
    socket.once('connect', () =>
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`),
    );
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const lineEnd = buffer.indexOf('\r\n');
      if (lineEnd < 0) return;
      const kind = String.fromCharCode(buffer[0] ?? 0);
      const line = buffer.subarray(1, lineEnd).toString('utf8');
      if (kind === '+' || kind === ':') return finish(null, line);
      if (kind === '-') return finish(new Error(line));
      if (kind !== '$') return finish(new Error(`unexpected reply to ${args.join(' ')}: ${kind}`));
      const length = Number(line);
      if (length < 0) return finish(null, '');
      if (buffer.length < lineEnd + 2 + length) return;
      finish(
        null,
        buffer
          .subarray(lineEnd + 2, lineEnd + 2 + length)
          .toString('utf8')
          .replace(/\r?\n$/, ''),
      );
    });
  });
}

/** Parses CLUSTER NODES output. */
export function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id = '', address = '', flags = '', master = '-', , , , link = '', ...slotFields] = line.split(' ');
      const port = Number(/:(\d+)@/.exec(address)?.[1] ?? 0);
      const flagSet = new Set(flags.split(','));
      const slots: Array<[number, number]> = [];
      for (const field of slotFields) {
        if (field.startsWith('[')) continue; // a slot being migrated or imported
        const [first, last] = field.split('-').map(Number);
        if (first !== undefined && Number.isInteger(first)) slots.push([first, last ?? first]);
      }
      return {
        id,
        port,
        role: flagSet.has('master') ? 'master' : 'replica',
        masterId: master === '-' ? null : master,
        failing: flagSet.has('fail') || flagSet.has('fail?') || link !== 'connected',
        slots,
      };
    });
}

/** A node's process ended before it answered: its port (or bus port) was taken after all. */
class NodeExited extends Error {
  constructor(port: number) {
    super(`redis node ${port} exited before it answered`);
  }
}

class ClusterNode {
  child: ChildProcess | null = null;
  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly args: readonly string[],
  ) {}

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) throw new Error(`redis node ${this.port} is already running`);
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--save',
        '',
        '--appendonly',
        'no',
        // A replica's first sync goes straight over the socket, without the default 5 s wait for more replicas.
        '--repl-diskless-sync',
        'yes',
        '--repl-diskless-sync-delay',
        '0',
        ...this.args,
      ],
      { stdio: 'ignore' },
    );
    live.add(child);
    child.once('exit', () => live.delete(child));
    this.child = child;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.kill('SIGCONT');
    child.kill(signal);
    await exited;
  }
}

/**
 * Node ports: a cluster node also listens on its port + 10,000 (the cluster bus). Both are taken below
 * the kernel's ephemeral range (32768–60999 here), so neither can be an outgoing connection's port (a
 * busy machine, or a benchmark holding 18,000 connections, uses thousands of them), and neither can pass
 * 65,535 (a node on a port above 55,535 cannot start). Each pair is checked free before it is used.
 */
const NODE_PORTS = { first: 20_000, count: 2_700 } as const;
const BUS_OFFSET = 10_000;
const taken = new Set<number>();

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A node port whose port and bus port are both free now, never handed out before in this process. */
async function freeNodePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = NODE_PORTS.first + Math.floor(Math.random() * NODE_PORTS.count);
    if (taken.has(port)) continue;
    taken.add(port);
    if ((await portIsFree(port)) && (await portIsFree(port + BUS_OFFSET))) return port;
  }
  throw new Error('no free port pair for a Redis Cluster node');
}

/** Polls `check` until it resolves true; throws with `what` after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      if (error instanceof NodeExited) throw error;
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(`${what} within ${timeoutMs} ms${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await sleep(everyMs);
  }
}

export class RedisCluster {
  private constructor(
    private readonly root: string,
    private readonly nodeList: ClusterNode[],
  ) {}

  /**
   * Starts the nodes, creates the cluster and resolves once every node reports `cluster_state:ok`,
   * agrees on the slot map, and every replica has finished its first sync (`master_link_status:up`):
   * a replica still syncing refuses to take over from a failed master.
   */
  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    // A node that could not start (its port taken between the check and the start) fails the attempt at
    // once; the next attempt takes other ports.
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await RedisCluster.startOnce(options);
      } catch (error) {
        if (attempt >= 3 || !(error instanceof NodeExited)) throw error;
      }
    }
  }

  private static async startOnce(options: RedisClusterOptions): Promise<RedisCluster> {
    const masters = options.masters ?? 3;
    const replicas = options.replicasPerMaster ?? 1;
    const args = [
      '--cluster-node-timeout',
      String(options.nodeTimeoutMs ?? 2000),
      // A replica takes over however long it was cut off from its master (tests kill masters at will).
      '--cluster-replica-validity-factor',
      '0',
      ...(options.args ?? []),
    ];
    const root = mkdtempSync(join(tmpdir(), 'live-comments-redis-cluster-'));
    const nodes: ClusterNode[] = [];
    const ports = new Set<number>();
    while (ports.size < masters * (replicas + 1)) ports.add(await freeNodePort());
    for (const port of ports) {
      const dir = join(root, String(port));
      mkdirSync(dir);
      nodes.push(new ClusterNode(port, dir, args));
    }
    const cluster = new RedisCluster(root, nodes);
    try {
      for (const node of nodes) node.start();
      await Promise.all(
        nodes.map((node) =>
          until(
            `redis node ${node.port} did not answer PING`,
            async () => {
              if (!node.running) throw new NodeExited(node.port);
              return (await redisCommand(node.port, 'PING')) === 'PONG';
            },
            // Generous: six processes start at once on a machine other suites keep busy.
            30_000,
          ),
        ),
      );
      await runFile(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...nodes.map((node) => `127.0.0.1:${node.port}`),
          '--cluster-replicas',
          String(replicas),
          '--cluster-yes',
        ],
        { timeout: 30_000 },
      );
      await cluster.waitHealthy(30_000);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Every node's port, running or not. */
  get ports(): number[] {
    return this.nodeList.map((node) => node.port);
  }

  /** `host:port,host:port,…` of every node: the value of REDIS_CLUSTER_NODES. */
  get startupNodes(): string {
    return this.nodeList.map((node) => `127.0.0.1:${node.port}`).join(',');
  }

  /** The slot map as a running node sees it. */
  async nodes(): Promise<ClusterNodeInfo[]> {
    for (const node of this.nodeList) {
      if (!node.running) continue;
      try {
        return parseClusterNodes(await redisCommand(node.port, 'CLUSTER', 'NODES'));
      } catch {
        // try the next node
      }
    }
    throw new Error('no cluster node answers');
  }

  /** The slot a key or channel name maps to (CLUSTER KEYSLOT, hash tags included). */
  async slotOf(name: string): Promise<number> {
    const port = this.nodeList.find((node) => node.running)?.port;
    if (port === undefined) throw new Error('no cluster node is running');
    return Number(await redisCommand(port, 'CLUSTER', 'KEYSLOT', name));
  }

  /** The port of the master serving `slot`, as a running node sees it. */
  async masterOf(slot: number): Promise<number> {
    const master = (await this.nodes()).find(
      (node) => node.role === 'master' && node.slots.some(([first, last]) => slot >= first && slot <= last),
    );
    if (!master) throw new Error(`no master serves slot ${slot}`);
    return master.port;
  }

  /** Ports of the masters that serve slots, in slot order. */
  async masterPorts(): Promise<number[]> {
    return (await this.nodes())
      .filter((node) => node.role === 'master' && node.slots.length > 0)
      .sort((x, y) => (x.slots[0]?.[0] ?? 0) - (y.slots[0]?.[0] ?? 0))
      .map((node) => node.port);
  }

  /** SIGKILLs (or otherwise signals) the node on `port` and waits until its process is gone. */
  async kill(port: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.node(port).kill(signal);
  }

  /** Starts a killed node again on its port and directory; it rejoins with its old identity. */
  async restart(port: number): Promise<void> {
    const node = this.node(port);
    node.start();
    await until(
      `redis node ${port} did not answer PING`,
      async () => (await redisCommand(port, 'PING')) === 'PONG',
      10_000,
    );
  }

  /**
   * Resolves with the port of the node that took over `formerMasterPort`'s slots, once every running
   * node sees it as their master.
   */
  async waitForPromotion(formerMasterPort: number, slot: number, timeoutMs = 20_000): Promise<number> {
    let promoted = 0;
    await until(
      `no replica took over slot ${slot} from ${formerMasterPort}`,
      async () => {
        const views = await Promise.all(
          this.nodeList
            .filter((node) => node.running)
            .map(async (node) => {
              const master = parseClusterNodes(await redisCommand(node.port, 'CLUSTER', 'NODES')).find(
                (info) =>
                  info.role === 'master' && !info.failing && info.slots.some(([f, l]) => slot >= f && slot <= l),
              );
              return master?.port ?? 0;
            }),
        );
        promoted = views[0] ?? 0;
        return promoted !== 0 && promoted !== formerMasterPort && views.every((port) => port === promoted);
      },
      timeoutMs,
      20,
    );
    return promoted;
  }

  /**
   * A manual failover of the master on `masterPort` (the old master stays up and turns replica), as an
   * operator does for maintenance; resolves with the promoted replica's port. `CLUSTER FAILOVER` waits
   * for the replica to catch up and gives up after a few seconds on a busy machine: then it is asked
   * again with FORCE (no catch-up, still elected).
   */
  async failover(masterPort: number, slot: number): Promise<number> {
    // The node asked may still see a replica that just came back (restarted by an earlier test) as
    // disconnected for a moment after the cluster was healthy by every node's own account: ask again.
    let replica: number | undefined;
    await until(
      `no healthy replica of ${masterPort}`,
      async () => {
        const nodes = await this.nodes();
        const masterId = nodes.find((n) => n.port === masterPort)?.id;
        replica = nodes.find((n) => n.masterId === masterId && !n.failing)?.port;
        return replica !== undefined;
      },
      15_000,
    );
    if (replica === undefined) throw new Error(`no healthy replica of ${masterPort}`);
    await redisCommand(replica, 'CLUSTER', 'FAILOVER');
    try {
      return await this.waitForPromotion(masterPort, slot, 8000);
    } catch {
      await redisCommand(replica, 'CLUSTER', 'FAILOVER', 'FORCE');
      return this.waitForPromotion(masterPort, slot, 15_000);
    }
  }

  /**
   * Resolves once every running node reports `cluster_state:ok` with all 16,384 slots served, the nodes
   * agree on the masters, and every running replica's link to its master is up (first sync done).
   */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await until(
      'the Redis cluster did not become healthy',
      async () => {
        const running = this.nodeList.filter((node) => node.running);
        const views: string[] = [];
        for (const node of running) {
          const info = await redisCommand(node.port, 'CLUSTER', 'INFO');
          if (!info.includes('cluster_state:ok') || !info.includes('cluster_slots_ok:16384')) return false;
          const nodes = parseClusterNodes(await redisCommand(node.port, 'CLUSTER', 'NODES'));
          if (nodes.some((n) => n.failing && running.some((r) => r.port === n.port))) return false;
          views.push(
            nodes
              .filter((n) => n.role === 'master' && n.slots.length > 0)
              .map((n) => `${n.port}:${JSON.stringify(n.slots)}`)
              .sort()
              .join(' '),
          );
          const replication = await redisCommand(node.port, 'INFO', 'replication');
          if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return false;
        }
        return views.length > 0 && views.every((view) => view === views[0]);
      },
      timeoutMs,
      100,
    );
  }

  /** Kills every node and removes their directories. */
  async stop(): Promise<void> {
    await Promise.all(this.nodeList.map((node) => node.kill('SIGKILL')));
    rmSync(this.root, { recursive: true, force: true });
  }

  private node(port: number): ClusterNode {
    const node = this.nodeList.find((n) => n.port === port);
    if (!node) throw new Error(`no cluster node on port ${port}`);
    return node;
  }
}

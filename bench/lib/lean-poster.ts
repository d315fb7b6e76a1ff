import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Endpoint } from './servers.ts';

const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');
const CONTENT_LENGTH = /\r\ncontent-length: *(\d+)/i;

/** One answer: the status (0: the connection failed) and when it was read. */
export interface LeanAnswer {
  status: number;
  now: number;
}

/**
 * One keep-alive HTTP/1.1 connection that POSTs one request at a time and reads the answer by its
 * Content-Length, with no agent, no parser objects and no per-request streams. Node's HTTP client
 * cost the generator about 240 µs per post here, so at a few thousand posts/s the generator, not the
 * server, was what the write-path figure measured; this one costs a tenth of that. Only for the
 * closed-loop write path: it assumes every answer has a Content-Length (Express and the baselines
 * send one) and no `Connection: close`.
 */
class LeanConnection {
  private socket: Socket | null = null;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: ((answer: LeanAnswer) => void) | null = null;

  constructor(private readonly endpoint: Endpoint) {}

  private open(): Socket {
    const socket = connect({ host: this.endpoint.host, port: this.endpoint.port, noDelay: true });
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    const fail = () => {
      this.socket = null;
      this.buffered = Buffer.alloc(0);
      this.settle(0);
    };
    socket.on('error', fail);
    socket.on('close', fail);
    this.socket = socket;
    return socket;
  }

  private settle(status: number): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.({ status, now: performance.now() });
  }

  private read(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const end = this.buffered.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.buffered.toString('latin1', 0, end);
    const length = Number(CONTENT_LENGTH.exec(head)?.[1] ?? 0);
    const total = end + HEADER_END.length + length;
    if (this.buffered.length < total) return;
    this.buffered = this.buffered.subarray(total);
    // "HTTP/1.1 201 Created": the status is the three digits after the first space.
    this.settle(Number(head.slice(9, 12)));
  }

  post(path: string, body: Buffer): Promise<LeanAnswer> {
    const socket = this.socket ?? this.open();
    return new Promise((resolve) => {
      this.waiting = resolve;
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: ${this.endpoint.host}:${this.endpoint.port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
        'latin1',
      );
      socket.write(body);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }
}

/** `concurrency` lean connections, each posting one comment after another (closed loop). */
export class LeanPoster {
  private readonly connections: LeanConnection[];

  constructor(endpoint: Endpoint, concurrency: number) {
    this.connections = Array.from({ length: concurrency }, () => new LeanConnection(endpoint));
  }

  /** Posts a comment on connection `worker` and resolves with its answer. */
  post(worker: number, articleId: string, body: string): Promise<LeanAnswer> {
    const payload = Buffer.from(JSON.stringify({ author: { name: 'Bench Reader' }, body }));
    return this.connections[worker]!.post(`/api/articles/${encodeURIComponent(articleId)}/comments`, payload);
  }

  close(): void {
    for (const connection of this.connections) connection.close();
  }
}

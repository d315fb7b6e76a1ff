import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A minimal layer-4 load balancer for fault tests, like a TCP balancer in front of the instances:
 * each new connection goes to the next backend in turn, skipping backends that refuse it. Bytes are
 * piped unchanged (HTTP keep-alive and WebSocket alike); when either side closes, so does the other,
 * so a killed backend's clients see their connection drop and reconnect through the balancer.
 */
export class TcpBalancer {
  private next = 0;
  private readonly sockets = new Set<Socket>();
  /** Connections currently open to each backend port. */
  readonly open = new Map<number, number>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly backends: readonly number[],
  ) {}

  static start(backends: readonly number[]): Promise<TcpBalancer> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const balancer = new TcpBalancer(server, typeof address === 'object' && address ? address.port : 0, backends);
        server.on('connection', (client) => balancer.accept(client));
        resolve(balancer);
      });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private accept(client: Socket): void {
    this.sockets.add(client);
    client.once('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const start = this.next++ % this.backends.length;
    const tryBackend = (attempt: number): void => {
      if (client.destroyed) return;
      if (attempt >= this.backends.length) return void client.destroy();
      const port = this.backends[(start + attempt) % this.backends.length]!;
      const upstream = connect({ host: '127.0.0.1', port });
      const refused = () => {
        upstream.destroy();
        tryBackend(attempt + 1);
      };
      upstream.once('error', refused);
      upstream.once('connect', () => {
        upstream.off('error', refused);
        upstream.on('error', () => client.destroy());
        this.sockets.add(upstream);
        this.open.set(port, (this.open.get(port) ?? 0) + 1);
        upstream.once('close', () => {
          this.sockets.delete(upstream);
          this.open.set(port, (this.open.get(port) ?? 1) - 1);
          client.destroy();
        });
        client.once('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryBackend(0);
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

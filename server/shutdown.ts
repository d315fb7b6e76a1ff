import type { Server as HttpServer } from 'node:http';
import type { RequestHandler } from 'express';
import type { Server as SocketServer } from 'socket.io';
import type { Logger } from './logger.ts';
import { withTimeout } from './with-timeout.ts';

/**
 * Counts HTTP requests between arrival and the end of their response, so shutdown can wait for
 * them. Once {@link InFlightRequests.closing} is set, responses carry `Connection: close`, so
 * keep-alive clients do not keep feeding a stopping instance.
 */
export class InFlightRequests {
  #count = 0;
  #closing = false;
  readonly #idleWaiters = new Set<() => void>();

  /** Express middleware; mount it before every route. */
  readonly middleware: RequestHandler = (_req, res, next) => {
    this.#count += 1;
    if (this.#closing) res.setHeader('Connection', 'close');
    let done = false;
    const finished = (): void => {
      if (done) return;
      done = true;
      this.#count -= 1;
      if (this.#count === 0) for (const wake of [...this.#idleWaiters]) wake();
    };
    res.once('finish', finished);
    res.once('close', finished);
    next();
  };

  get count(): number {
    return this.#count;
  }

  /** From now on, every response asks the client to close its connection. */
  close(): void {
    this.#closing = true;
  }

  /** Resolves as soon as no request is in flight. */
  idle(): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#idleWaiters.delete(wake);
        resolve();
      };
      this.#idleWaiters.add(wake);
    });
  }
}

export interface ShutdownPlan {
  httpServer: HttpServer;
  /** Structural: only engine-level access is needed, so any Socket.IO server type fits. */
  io: Pick<SocketServer, 'engine' | 'sockets' | 'close'>;
  requests: InFlightRequests;
  /** Readiness goes false: `/readyz` answers 503 and balancers stop sending new work. */
  markNotReady(): void;
  /** Resolves when every write started so far has committed and published (or failed). */
  drainWrites(): Promise<void>;
  /** Closed in order after every connection is gone: fan-out first (its last publishes are done), then the store. */
  resources: ReadonlyArray<{ name: string; close(): Promise<void> }>;
  logger: Logger;
  /** Longest wait for in-flight requests and writes (default 6000 ms). */
  drainTimeoutMs?: number;
  /** Longest wait for socket connections to flush and close (default 1000 ms). */
  socketCloseTimeoutMs?: number;
  /** Longest wait for each resource to close (default 1000 ms). */
  resourceTimeoutMs?: number;
}

/** Resolves when `check()` holds, polling every few ms, or after `ms` (no rejection: shutdown goes on regardless). */
async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/**
 * Graceful shutdown, in an order that loses nothing accepted and lets clients move on by themselves:
 *
 * 1. readiness goes false;
 * 2. the listener closes (no new connections; keep-alive responses say `Connection: close`);
 * 3. in-flight requests finish, and in-flight writes commit and publish (REST and socket posts alike);
 * 4. every Socket.IO connection is closed at the transport level after its queued packets (acks
 *    included) are flushed: clients see `transport close` and reconnect (through the balancer, to
 *    another instance) and catch up from their lastSeq. Never a Socket.IO `disconnect` packet, which
 *    would stop the client from reconnecting, and nothing is sent to other instances;
 * 5. writes that arrived meanwhile settle, remaining HTTP connections close;
 * 6. fan-out and store close.
 *
 * Every wait is bounded (about 9 s in all with the defaults), so a process can exit within 10 s.
 */
export async function shutDownGracefully(plan: ShutdownPlan): Promise<void> {
  const { httpServer, io, requests, logger } = plan;
  const drainTimeoutMs = plan.drainTimeoutMs ?? 6000;
  const socketCloseTimeoutMs = plan.socketCloseTimeoutMs ?? 1000;
  const resourceTimeoutMs = plan.resourceTimeoutMs ?? 1000;
  const started = Date.now();

  plan.markNotReady();
  requests.close();
  httpServer.close();
  httpServer.closeIdleConnections();

  const drained = await withTimeout(Promise.all([requests.idle(), plan.drainWrites()]), drainTimeoutMs).then(
    () => true,
    () => false,
  );
  if (!drained)
    logger.warn(
      { requests: requests.count, drainTimeoutMs },
      'shutdown: in-flight work did not finish in time; closing anyway',
    );

  const sockets = io.engine.clientsCount;
  // Engine-level close: flushes the connection's queued packets, then closes the transport.
  for (const socket of io.sockets.sockets.values()) socket.conn.close();
  const socketsClosed = await until(() => io.engine.clientsCount === 0, socketCloseTimeoutMs);
  if (!socketsClosed)
    logger.warn(
      { left: io.engine.clientsCount },
      'shutdown: some socket connections did not close in time; dropping them',
    );

  await withTimeout(
    Promise.all([requests.idle(), plan.drainWrites()]),
    Math.max(100, drainTimeoutMs - (Date.now() - started)),
  ).catch(() => undefined);
  httpServer.closeAllConnections();
  // Tidies Socket.IO itself (local adapters, timers); every connection is already gone.
  await withTimeout(io.close(), socketCloseTimeoutMs).catch(() => undefined);

  for (const resource of plan.resources) {
    await withTimeout(resource.close(), resourceTimeoutMs).catch((err: unknown) =>
      logger.warn({ err, resource: resource.name }, 'shutdown: close failed'),
    );
  }
  logger.info({ sockets, elapsedMs: Date.now() - started }, 'shutdown complete');
}

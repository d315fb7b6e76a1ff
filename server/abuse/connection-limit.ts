import type { IncomingMessage } from 'node:http';
import type { Logger } from '../logger.ts';
import { ipBucket, type HandshakeConnection } from './client-ip.ts';
import { logId } from './keys.ts';
import { LogThrottle } from '../log-throttle.ts';

/** The parts of an engine.io connection the limiter uses. */
export interface EngineConnection extends HandshakeConnection {
  once(event: 'close', listener: () => void): unknown;
  close(): unknown;
}

/** The parts of the engine.io server the limiter uses (`io.engine`). */
export interface EngineServer {
  on(event: 'connection', listener: (connection: EngineConnection) => void): unknown;
}

export interface ConnectionLimiterOptions {
  /** Open connections per client IP (IPv6 by /64) on this instance; 0: no limit. */
  maxPerIp: number;
  /** The client IP of a handshake request, before engine.io accepts it. */
  requestIp: (request: IncomingMessage) => string;
  /** The client IP of an accepted connection (its request may already be released). */
  connectionIp: (connection: EngineConnection) => string;
  logger: Logger;
}

/**
 * Caps open Socket.IO connections per client IP on this instance. `admit` refuses a handshake at
 * the cap (engine.io answers 403 before any upgrade); handshakes that raced past it are closed as
 * soon as they count one too many, so the cap holds at every moment. Counts drop when a connection closes.
 */
export class ConnectionLimiter {
  private readonly open = new Map<string, number>();
  private readonly refusedLog = new LogThrottle(5000);

  constructor(private readonly options: ConnectionLimiterOptions) {}

  /** For engine.io's `allowRequest`: false when the client already holds the maximum. */
  admit(request: IncomingMessage): boolean {
    if (this.options.maxPerIp === 0) return true;
    const ip = this.options.requestIp(request);
    if ((this.open.get(ipBucket(ip)) ?? 0) < this.options.maxPerIp) return true;
    this.logRefusal(ip);
    return false;
  }

  /** Starts counting the engine's connections. */
  attach(engine: EngineServer): void {
    if (this.options.maxPerIp === 0) return;
    engine.on('connection', (connection) => {
      const ip = this.options.connectionIp(connection);
      const bucket = ipBucket(ip);
      const count = (this.open.get(bucket) ?? 0) + 1;
      this.open.set(bucket, count);
      connection.once('close', () => {
        const left = (this.open.get(bucket) ?? 1) - 1;
        if (left <= 0) this.open.delete(bucket);
        else this.open.set(bucket, left);
      });
      if (count > this.options.maxPerIp) {
        this.logRefusal(ip);
        connection.close();
      }
    });
  }

  /** Open connections of the client's IP bucket (for tests and diagnostics). */
  openFor(ip: string): number {
    return this.open.get(ipBucket(ip)) ?? 0;
  }

  private logRefusal(ip: string): void {
    this.refusedLog.run((suppressed) =>
      this.options.logger.info(
        { client: logId(ip), max: this.options.maxPerIp, suppressed },
        'socket connection refused: too many from this client',
      ),
    );
  }
}

import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';

/** Why a handshake is refused (a short text for the client), or null to let it in. */
export type HandshakeDecision = (request: IncomingMessage) => string | null;

/** Engine.IO's answer shape for a refused handshake (its `FORBIDDEN` code). */
const FORBIDDEN = 4;

/**
 * Socket.IO handshakes decided once per request and refused with 403, over every transport.
 * `allowRequest` is Engine.IO's hook, which answers a refused polling request 403 but a refused
 * WebSocket upgrade 400; `wrapUpgrades` answers a refused upgrade itself, 403 with the same JSON
 * body, before Engine.IO sees it (so each refusal is decided, counted and logged once).
 */
export class HandshakeGuard {
  readonly #decide: HandshakeDecision;
  readonly #decisions = new WeakMap<IncomingMessage, string | null>();

  constructor(decide: HandshakeDecision) {
    this.#decide = decide;
  }

  /** For the Socket.IO server's `allowRequest` option. */
  readonly allowRequest = (request: IncomingMessage, callback: (err: string | null, success: boolean) => void) => {
    const refusal = this.#decision(request);
    callback(refusal, refusal === null);
  };

  /**
   * Puts itself in front of the upgrade listeners already on `server` (Engine.IO's): an upgrade to
   * `path` that the decision refuses is answered `403 Forbidden` and closed; every other upgrade goes
   * on to them unchanged. Call after the Socket.IO server is attached.
   */
  wrapUpgrades(server: HttpServer, path: string): void {
    const listeners = server.listeners('upgrade') as Array<
      (req: IncomingMessage, socket: Duplex, head: Buffer) => void
    >;
    server.removeAllListeners('upgrade');
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const refusal = (request.url ?? '').startsWith(path) ? this.#decision(request) : null;
      if (refusal === null) {
        for (const listener of listeners) listener.call(server, request, socket, head);
        return;
      }
      const body = JSON.stringify({ code: FORBIDDEN, message: refusal });
      socket.on('error', () => undefined);
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
  }

  #decision(request: IncomingMessage): string | null {
    if (!this.#decisions.has(request)) this.#decisions.set(request, this.#decide(request));
    return this.#decisions.get(request) ?? null;
  }
}

import type { Logger } from '../logger.ts';
import type { CommentServer } from './gateway.ts';

export interface SlowConsumerOptions {
  /** Bytes a connection may have waiting to be sent; above it the connection is cut. 0: no cap. */
  maxBufferedBytes: number;
  /** How often every connection is checked (default 1000 ms). */
  intervalMs?: number;
  logger: Logger;
}

/** The parts of engine.io's connection and transport the sweep reads. Internal fields of engine.io 6 and ws 8. */
interface EngineConnectionView {
  readonly writeBuffer?: ReadonlyArray<{ data?: unknown }>;
  readonly transport?: {
    readonly name?: string;
    readonly socket?: { readonly bufferedAmount?: number; terminate?: () => void };
  };
  close(discard?: boolean): unknown;
}

export interface SlowConsumerSweep {
  /** Connections cut off since start. */
  readonly cutOff: number;
  stop(): void;
}

function packetBytes(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

/**
 * What a connection holds in this process, not yet handed to the kernel: packets engine.io queued
 * while its transport was busy, plus what the WebSocket still buffers. A client that stops reading
 * makes both grow with every push to its articles. Counting stops once past `limit`.
 */
export function bufferedBytes(connection: EngineConnectionView, limit = Number.POSITIVE_INFINITY): number {
  let total = connection.transport?.socket?.bufferedAmount ?? 0;
  for (const packet of connection.writeBuffer ?? []) {
    if (total > limit) break;
    total += packetBytes(packet.data);
  }
  return total;
}

/**
 * Caps what a stalled client can make the server buffer. Every `intervalMs`, each connection's
 * buffered bytes are measured; one over the cap is cut at once (a WebSocket is terminated, not closed
 * politely, since a polite close would queue behind the data the client is not reading). Its
 * Socket.IO disconnect follows, the client reconnects and catches up with `since`, and no other
 * connection waits for it: pushes to a room are per-connection writes.
 *
 * Memory held per stalled connection is thus at most the cap plus what arrives in one interval.
 */
export function startSlowConsumerSweep(io: CommentServer, options: SlowConsumerOptions): SlowConsumerSweep {
  const state = { cutOff: 0, timer: undefined as NodeJS.Timeout | undefined };
  if (options.maxBufferedBytes > 0) {
    state.timer = setInterval(() => {
      for (const socket of io.of('/').sockets.values()) {
        const connection = socket.conn as unknown as EngineConnectionView;
        const bytes = bufferedBytes(connection, options.maxBufferedBytes);
        if (bytes <= options.maxBufferedBytes) continue;
        state.cutOff += 1;
        options.logger.warn(
          {
            socket: socket.id,
            bufferedBytes: bytes,
            maxBufferedBytes: options.maxBufferedBytes,
            transport: connection.transport?.name,
          },
          'slow consumer cut off; it will reconnect and catch up',
        );
        const ws = connection.transport?.name === 'websocket' ? connection.transport.socket : undefined;
        if (ws?.terminate) ws.terminate();
        else connection.close(true);
      }
    }, options.intervalMs ?? 1000);
    state.timer.unref();
  }
  return {
    get cutOff() {
      return state.cutOff;
    },
    stop: () => clearInterval(state.timer),
  };
}

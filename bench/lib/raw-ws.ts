import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface RawWebSocketHandlers {
  /**
   * A complete text or binary message; `now` is `performance.now()` when its bytes were read. The
   * buffer is only valid during the call. `socket` is given because frames glued to the handshake
   * answer arrive before `open` resolves.
   */
  onMessage(payload: Buffer, now: number, socket: RawWebSocket): void;
  /** The connection ended (close frame, reset or error); called once. */
  onClose(reason: string): void;
}

/**
 * A minimal WebSocket client (RFC 6455) for the load generator: thousands fit in one process.
 * It parses frames straight off the TCP stream without copying complete frames, answers pings and
 * close frames, and sends masked text frames. No extensions (no permessage-deflate), no TLS.
 */
export class RawWebSocket {
  private pending: Buffer | null = null;
  private fragments: Buffer[] = [];
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    private readonly handlers: RawWebSocketHandlers,
  ) {}

  /** Opens `ws://host:port/path`; resolves after the 101 handshake. Frames that arrive with the handshake are delivered. */
  static open(
    host: string,
    port: number,
    path: string,
    handlers: RawWebSocketHandlers,
    timeoutMs = 10_000,
    localAddress?: string,
  ): Promise<RawWebSocket> {
    return new Promise((resolve, reject) => {
      const key = randomBytes(16).toString('base64');
      const expectedAccept = createHash('sha1')
        .update(key + WS_GUID)
        .digest('base64');
      const socket = connect(localAddress === undefined ? { host, port } : { host, port, localAddress });
      socket.setNoDelay(true);
      let head: Buffer = Buffer.alloc(0);
      let settled = false;
      const timer = setTimeout(() => fail(new Error(`WebSocket handshake to ${host}:${port} timed out`)), timeoutMs);
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      const onHandshakeData = (chunk: Buffer): void => {
        head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > 16_384) fail(new Error('WebSocket handshake answer too long'));
          return;
        }
        const lines = head.subarray(0, end).toString('latin1').split('\r\n');
        const status = lines[0] ?? '';
        const accept = lines
          .find((line) => line.toLowerCase().startsWith('sec-websocket-accept:'))
          ?.slice('sec-websocket-accept:'.length)
          .trim();
        if (!/^HTTP\/1\.1 101 /.test(status) || accept !== expectedAccept) {
          fail(new Error(`WebSocket handshake refused: ${status}`));
          return;
        }
        settled = true;
        clearTimeout(timer);
        socket.off('data', onHandshakeData);
        socket.off('error', fail);
        const ws = new RawWebSocket(socket, handlers);
        socket.on('data', (data: Buffer) => ws.onData(data));
        socket.on('error', (error) => ws.finish(`error: ${error.message}`));
        socket.on('close', () => ws.finish('closed'));
        resolve(ws);
        const rest = head.subarray(end + 4);
        if (rest.length > 0) ws.onData(rest);
      };
      socket.on('data', onHandshakeData);
      socket.once('error', fail);
      socket.once('close', () => fail(new Error('connection closed during the WebSocket handshake')));
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
  }

  /** Sends a masked text frame (clients must mask, RFC 6455 §5.3). */
  sendText(text: string): void {
    if (this.closed) return;
    this.writeFrame(0x1, Buffer.from(text, 'utf8'));
  }

  /** Closes politely (close frame) and then the TCP connection. */
  close(): void {
    if (this.closed) return;
    this.writeFrame(0x8, Buffer.from([0x03, 0xe8]));
    this.socket.end();
    this.finish('closed by client');
  }

  /** Drops the TCP connection at once. */
  destroy(): void {
    this.socket.destroy();
    this.finish('destroyed by client');
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.onClose(reason);
  }

  private writeFrame(opcode: number, payload: Buffer): void {
    const length = payload.length;
    const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(headerLength + 4 + length);
    frame[0] = 0x80 | opcode;
    if (headerLength === 2) frame[1] = 0x80 | length;
    else if (headerLength === 4) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeBigUInt64BE(BigInt(length), 2);
    }
    const mask = randomBytes(4);
    mask.copy(frame, headerLength);
    const start = headerLength + 4;
    for (let i = 0; i < length; i++) frame[start + i] = payload[i]! ^ mask[i & 3]!;
    this.socket.write(frame);
  }

  private onData(chunk: Buffer): void {
    const now = performance.now();
    let buffer = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    let offset = 0;
    while (buffer.length - offset >= 2) {
      const b0 = buffer[offset]!;
      const b1 = buffer[offset + 1]!;
      let length = b1 & 0x7f;
      let header = 2;
      if (length === 126) {
        if (buffer.length - offset < 4) break;
        length = buffer.readUInt16BE(offset + 2);
        header = 4;
      } else if (length === 127) {
        if (buffer.length - offset < 10) break;
        length = Number(buffer.readBigUInt64BE(offset + 2));
        header = 10;
      }
      if (b1 & 0x80) header += 4; // a server must not mask; tolerate it by skipping the key (payload stays masked, never expected)
      if (buffer.length - offset < header + length) break;
      const payload = buffer.subarray(offset + header, offset + header + length);
      offset += header + length;
      this.onFrame(b0 & 0x80, b0 & 0x0f, payload, now);
      if (this.closed) return;
    }
    if (offset < buffer.length) {
      // Keep only the incomplete tail; copy it so the big chunk it came from can be collected.
      buffer = buffer.subarray(offset);
      this.pending = Buffer.from(buffer);
    }
  }

  private onFrame(fin: number, opcode: number, payload: Buffer, now: number): void {
    switch (opcode) {
      case 0x0: // continuation
      case 0x1: // text
      case 0x2: // binary
        if (!fin) {
          this.fragments.push(Buffer.from(payload));
          return;
        }
        if (this.fragments.length > 0) {
          this.fragments.push(payload);
          const whole = Buffer.concat(this.fragments);
          this.fragments = [];
          this.handlers.onMessage(whole, now, this);
        } else {
          this.handlers.onMessage(payload, now, this);
        }
        return;
      case 0x8: // close: answer and end
        this.writeFrame(0x8, payload.subarray(0, 2));
        this.socket.end();
        this.finish(`server closed (${payload.length >= 2 ? payload.readUInt16BE(0) : 'no code'})`);
        return;
      case 0x9: // ping
        this.writeFrame(0xa, payload);
        return;
      default: // pong and reserved opcodes: nothing to do
        return;
    }
  }
}

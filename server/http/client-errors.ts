import type { Socket } from 'node:net';
import type { ErrorBody } from '../../shared/errors.ts';

/**
 * Answers requests Node's HTTP parser refuses before Express sees them (headers or URL over the
 * 16 KB limit, malformed request lines, a header timeout) with the protocol's typed JSON error instead
 * of Node's bare status line, then closes the connection, since the parser cannot go on after such an error.
 * Nothing from the request is echoed or logged.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable || (error.code === 'ECONNRESET' && socket.destroyed)) {
    socket.destroy();
    return;
  }
  const [status, reason, body]: [number, string, ErrorBody] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [
          431,
          'Request Header Fields Too Large',
          { error: { code: 'payload_too_large', message: 'Request headers or URL are too large' } },
        ]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', { error: { code: 'invalid_input', message: 'Request took too long to arrive' } }]
        : [400, 'Bad Request', { error: { code: 'invalid_input', message: 'Malformed HTTP request' } }];
  const json = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${json}`,
  );
}

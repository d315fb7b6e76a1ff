import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout. Secrets are redacted wherever they may appear; user text is only ever a
 * JSON string value, so newlines or quotes in it cannot break a line.
 *
 * Written asynchronously (pino's SonicBoom destination with `sync: false`): a log call appends to a
 * buffer and the write to stdout happens off the request's path, several lines per write under load,
 * instead of one blocking write(2) per line. pino flushes the buffer synchronously when the process
 * exits (its exit handler), so a `process.exit` after shutdown loses no line.
 */
export function createLogger(level: string, instanceId: string): Logger {
  return pino(
    {
      level,
      base: { instance: instanceId },
      redact: {
        paths: [
          'authorToken',
          '*.authorToken',
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
        ],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: 1, sync: false }),
  );
}

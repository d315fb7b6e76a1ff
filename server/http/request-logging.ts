import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger.ts';

/** The header that carries a request id in (from a balancer) and out (to the client). */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/** An incoming id is kept only if it is this plain: no spaces, quotes, control characters or huge values. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Probe and scrape paths: answered often and uninteresting, so not logged. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Query parameters whose value must never reach a log. */
const SECRET_PARAM = /token|key|secret|pass|auth|sig/i;

/** Longest URL logged; longer ones are cut (a log line stays small whatever the client sends). */
const MAX_LOGGED_URL = 512;

/** The id to use for a request: the client's or balancer's `X-Request-Id` when sane, else a new UUID. */
export function acceptRequestId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && SANE_REQUEST_ID.test(value) ? value : randomUUID();
}

/** A short salted SHA-256 of a client address: the same client gives the same value, and the address cannot be read back. */
export function hashClientAddress(address: string | undefined, salt: Buffer): string | null {
  if (address === undefined || address === '') return null;
  return createHash('sha256').update(salt).update(address).digest('hex').slice(0, 16);
}

/** The request URL as logged: secret-looking query values replaced, at most MAX_LOGGED_URL characters. */
export function loggableUrl(url: string | undefined): string {
  const raw = url ?? '';
  const query = raw.indexOf('?');
  let safe = raw;
  if (query >= 0) {
    const params = new URLSearchParams(raw.slice(query + 1));
    for (const name of new Set(params.keys())) if (SECRET_PARAM.test(name)) params.set(name, '[redacted]');
    safe = `${raw.slice(0, query)}?${params.toString()}`;
  }
  return safe.length > MAX_LOGGED_URL ? `${safe.slice(0, MAX_LOGGED_URL)}…` : safe;
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '';
  const query = raw.indexOf('?');
  return query >= 0 ? raw.slice(0, query) : raw;
}

export interface RequestLoggingOptions {
  /** Salt of the client address hash; a random one per process when absent. */
  salt?: Buffer;
}

/**
 * One JSON log line per HTTP request, with a request id that is echoed in the `X-Request-Id`
 * response header and kept as `req.id` (the error handler logs it).
 *
 * What a line holds, and why no more: method, URL (secret-looking query values redacted), status,
 * response time, the request id, and `client`, a salted hash of the client address (Express's
 * `req.ip`, so it honours `trust proxy`); never the raw address, headers, cookies or bodies, so no
 * token or personal data leaks into logs. Every value is a JSON string, so user text cannot break
 * a line. Probe paths (/healthz, /readyz, /metrics) are not logged.
 *
 * Written by hand rather than with pino-http, which made a child logger and ran its serializers on
 * every request even when the level logs nothing: about a tenth of a post's CPU on the write path
 * (issue 16). Here a request that is not logged costs its id and one listener.
 */
export function createRequestLogging(logger: Logger, options: RequestLoggingOptions = {}): RequestHandler {
  const salt = options.salt ?? randomBytes(16);
  return (req, res, next) => {
    const id = acceptRequestId(req.headers['x-request-id']);
    res.setHeader(REQUEST_ID_HEADER, id);
    (req as IncomingMessage & { id?: string }).id = id;
    if (!QUIET_PATHS.has(pathOf(req.url))) {
      const start = performance.now();
      res.once('close', () => {
        const finished = res.writableFinished;
        const level = !finished || res.statusCode >= 500 ? 'error' : 'info';
        if (!logger.isLevelEnabled(level)) return;
        logger[level](
          {
            req: {
              id,
              method: req.method,
              url: loggableUrl(req.originalUrl),
              client: hashClientAddress(req.ip ?? req.socket.remoteAddress, salt),
            },
            res: { statusCode: res.statusCode },
            responseTime: Math.round(performance.now() - start),
          },
          finished ? 'request completed' : 'request aborted',
        );
      });
    }
    next();
  };
}

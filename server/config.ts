import * as z from 'zod/mini';
import { maxUnits, minUnits } from '../shared/lengths.ts';
import { isIP } from 'node:net';
import { nanoid } from 'nanoid';
import { MIN_SECRET_BYTES } from './keys/keyring.ts';
import type { SsoSecret, SsoSettings } from './sso/verifier.ts';

const PortSchema = z.pipe(
  z.string().check(z.regex(/^\d{1,5}$/, 'must be a port number')),
  z.pipe(
    z.transform((s: string) => Number(s)),
    z.int().check(z.minimum(0), z.maximum(65535, 'must be at most 65535')),
  ),
);

const UrlSchema = (protocols: RegExp, what: string) =>
  z.string().check(
    z.refine((s) => {
      try {
        return protocols.test(new URL(s).protocol);
      } catch {
        return false;
      }
    }, `must be a ${what} URL`),
  );

const OriginsSchema = z.pipe(
  z.string(),
  z.transform((s: string, ctx) => {
    const raw = s.trim();
    if (raw === '' || raw === '*') return 'any' as const;
    const origins: string[] = [];
    for (const part of raw
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      try {
        const url = new URL(part);
        if (url.origin === 'null' || url.origin !== part.replace(/\/$/, '')) throw new Error('not an origin');
        origins.push(url.origin);
      } catch {
        ctx.issues.push({
          code: 'custom',
          message: `"${part}" is not an origin like https://news.example.com`,
          input: part,
        });
      }
    }
    return origins;
  }),
);

/** A plain e-mail address (one @, no spaces or angle brackets). */
const EMAIL_PATTERN = /^[^\s@<>,;"]{1,64}@[^\s@<>,;"]{1,255}$/;

/** A non-negative integer setting; `0` turns the guard it sizes off. */
const CountSchema = z.pipe(
  z.string().check(z.regex(/^\d{1,9}$/, 'must be a whole number (0 turns it off)')),
  z.transform((s: string) => Number(s)),
);

/** One Redis Cluster node address: `host:port`, with an IPv6 host in brackets (`[::1]:7000`). */
export interface RedisNodeAddress {
  readonly host: string;
  readonly port: number;
}

/** `REDIS_CLUSTER_NODES`: a comma-separated list of `host:port`, some or all of the cluster's nodes (the rest is discovered). */
const ClusterNodesSchema = z.pipe(
  z.string().check(maxUnits(4000)),
  z.transform((s: string, ctx): RedisNodeAddress[] => {
    const nodes: RedisNodeAddress[] = [];
    let refused = false;
    for (const part of s
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(part);
      const host = match?.[1] ?? match?.[2];
      const port = Number(match?.[3]);
      if (!host || !(port >= 1 && port <= 65535) || (match?.[1] !== undefined && isIP(host) !== 6)) {
        refused = true;
        ctx.issues.push({
          code: 'custom',
          message: `"${part}" is not host:port like redis-1:6379 or [::1]:7000`,
          input: part,
        });
      } else nodes.push(Object.freeze({ host, port }));
    }
    if (nodes.length === 0 && !refused)
      ctx.issues.push({ code: 'custom', message: 'must list at least one host:port', input: s });
    return nodes;
  }),
);

/** Least characters of each SSO secret. */
const SSO_SECRET_MIN = 32;
const SSO_KID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * `SSO_SECRETS`: one bare secret, or a comma list of `kid:secret` (every listed secret verifies, so
 * keys rotate without downtime). Each secret at least 32 characters; kids unique.
 */
const SsoSecretsSchema = z.pipe(
  z.string().check(maxUnits(10_000)),
  z.transform((s: string, ctx): SsoSecret[] => {
    const parts = s
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const secrets: SsoSecret[] = [];
    const problem = (message: string): void => {
      ctx.issues.push({ code: 'custom', message, input: '(hidden)' });
    };
    if (parts.length === 1 && !parts[0]?.includes(':')) {
      const secret = parts[0] ?? '';
      if (secret.length < SSO_SECRET_MIN)
        problem(`the secret must be at least ${SSO_SECRET_MIN} characters (for example: openssl rand -base64 32)`);
      else secrets.push(Object.freeze({ kid: undefined, secret }));
      return secrets;
    }
    for (const [index, part] of parts.entries()) {
      const colon = part.indexOf(':');
      const kid = colon < 0 ? '' : part.slice(0, colon);
      const secret = colon < 0 ? '' : part.slice(colon + 1);
      if (!SSO_KID_PATTERN.test(kid))
        problem(`entry ${index + 1} must be kid:secret, the kid 1-64 chars of A-Z a-z 0-9 . _ -`);
      else if (secret.length < SSO_SECRET_MIN)
        problem(`the secret of kid "${kid}" must be at least ${SSO_SECRET_MIN} characters`);
      else if (secrets.some((known) => known.kid === kid)) problem(`kid "${kid}" is listed twice`);
      else secrets.push(Object.freeze({ kid, secret }));
    }
    if (parts.length === 0) problem('must list at least one secret');
    return secrets;
  }),
);

const TRUST_PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Which peers may set X-Forwarded-For, in Express's `trust proxy` forms: `true`, `false`, a hop count, or a list of names, addresses and CIDRs. */
const TrustProxySchema = z.pipe(
  z.string().check(maxUnits(1000)),
  z.transform((s: string, ctx): boolean | number | string => {
    const raw = s.trim();
    if (raw === 'true' || raw === 'false') return raw === 'true';
    if (/^\d{1,3}$/.test(raw)) return Number(raw);
    const parts = raw
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    for (const part of parts) {
      const [address = '', prefix, ...rest] = part.split('/');
      const prefixOk =
        prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (isIP(address) === 4 ? 32 : 128));
      if (!TRUST_PROXY_NAMES.has(part) && !(isIP(address) !== 0 && prefixOk && rest.length === 0)) {
        ctx.issues.push({
          code: 'custom',
          message: `"${part}" is not true, false, a hop count, loopback, linklocal, uniquelocal, an IP address or a CIDR`,
          input: part,
        });
      }
    }
    if (parts.length === 0) ctx.issues.push({ code: 'custom', message: 'must not be empty', input: raw });
    return parts.join(', ');
  }),
);

const EnvSchema = z.object({
  PORT: z._default(PortSchema, 3000),
  HOST: z._default(z.string().check(minUnits(1)), '0.0.0.0'),
  SQLITE_PATH: z._default(z.string().check(minUnits(1)), './data/comments.db'),
  DATABASE_URL: z.optional(UrlSchema(/^postgres(ql)?:$/, 'postgres://')),
  REDIS_URL: z.optional(UrlSchema(/^rediss?:$/, 'redis://')),
  REDIS_CLUSTER_NODES: z.optional(ClusterNodesSchema),
  REDIS_PREFIX: z._default(z.string().check(maxUnits(64)), 'lc:'),
  ALLOWED_ORIGINS: z._default(OriginsSchema, 'any'),
  ADMIN_TOKEN: z.optional(z.string().check(minUnits(16, 'must be at least 16 characters'))),
  SECRET_KEY: z.optional(
    z
      .string()
      .check(
        z.refine(
          (s) => Buffer.byteLength(s, 'utf8') >= MIN_SECRET_BYTES,
          `must be at least ${MIN_SECRET_BYTES} bytes (for example: openssl rand -base64 32)`,
        ),
      ),
  ),
  LOG_LEVEL: z._default(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
  INSTANCE_ID: z.optional(
    z.string().check(z.regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 chars of A-Z a-z 0-9 . _ -')),
  ),
  SEED_DEMO: z._default(z.enum(['true', 'false']), 'true'),
  DEMO_PAGES: z.optional(z.enum(['true', 'false'])),
  TRUST_PROXY: z._default(TrustProxySchema, 'loopback, linklocal, uniquelocal'),
  RATE_LIMIT_POSTS_PER_MINUTE_IP: z._default(CountSchema, 30),
  RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR: z._default(CountSchema, 10),
  RATE_LIMIT_EDITS_PER_MINUTE_IP: z._default(CountSchema, 30),
  RATE_LIMIT_EDITS_PER_MINUTE_COMMENT: z._default(CountSchema, 10),
  RATE_LIMIT_DELETES_PER_MINUTE_IP: z._default(CountSchema, 30),
  RATE_LIMIT_LIKES_PER_MINUTE_IP: z._default(CountSchema, 120),
  RATE_LIMIT_LIKES_PER_MINUTE_COMMENT: z._default(CountSchema, 600),
  RATE_LIMIT_REPORTS_PER_MINUTE_IP: z._default(CountSchema, 10),
  RATE_LIMIT_REPORTS_PER_MINUTE_COMMENT: z._default(CountSchema, 60),
  REPORT_HOLD_THRESHOLD: z._default(CountSchema, 3),
  SOCKET_EVENTS_PER_10S: z._default(CountSchema, 100),
  MAX_CONNECTIONS_PER_IP: z._default(CountSchema, 100),
  SOCKET_MAX_BUFFER_KB: z._default(CountSchema, 1024),
  EDIT_WINDOW_MINUTES: z._default(CountSchema, 15),
  PREMODERATION: z._default(z.enum(['all', 'none']), 'none'),
  SSO_SECRETS: z.optional(SsoSecretsSchema),
  SSO_MODE: z.optional(z.enum(['off', 'optional', 'required'])),
  SSO_AUDIENCE: z._default(z.string().check(minUnits(1), maxUnits(200)), 'live-comments'),
  SSO_ISSUER: z.optional(z.string().check(maxUnits(200))),
  SSO_MAX_TTL_SECONDS: z._default(z.pipe(CountSchema, z.int().check(z.minimum(1, 'must be at least 1'))), 86400),
  SSO_LOGIN_URL: z.optional(UrlSchema(/^https?:$/, 'http(s)://')),
  WEBHOOK_ALLOW_PRIVATE: z._default(z.enum(['true', 'false']), 'false'),
  SMTP_URL: z.optional(UrlSchema(/^smtps?:$/, 'smtp:// or smtps://')),
  MAIL_FROM: z.optional(
    z.string().check(maxUnits(300), z.regex(/@/, 'must be an address like Comments <comments@example.com>')),
  ),
  PUBLIC_URL: z.optional(UrlSchema(/^https?:$/, 'http(s)://')),
  MODERATOR_EMAILS: z.optional(
    z.pipe(
      z.string().check(maxUnits(2000)),
      z.transform((s: string, ctx) => {
        const addresses = s
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean);
        for (const address of addresses)
          if (!EMAIL_PATTERN.test(address))
            ctx.issues.push({ code: 'custom', message: `"${address}" is not an e-mail address`, input: address });
        return addresses;
      }),
    ),
  ),
  MODERATOR_ALERT_MINUTES: z._default(z.pipe(CountSchema, z.int().check(z.minimum(1, 'must be at least 1'))), 10),
  /** Replies within this many minutes of a reply e-mail are batched into the next one (0: every reply at once). */
  REPLY_EMAIL_BATCH_MINUTES: z._default(CountSchema, 10),
  /** At most this many reply e-mails per address per UTC day (0: none at all). */
  REPLY_EMAIL_DAILY_CAP: z._default(CountSchema, 20),
  NOTIFY_RETRY_HOURS: z._default(
    z.pipe(
      z.string().check(z.regex(/^\d{1,4}$/, 'must be a whole number of hours')),
      z.pipe(
        z.transform((s: string) => Number(s)),
        z.int().check(z.minimum(1, 'must be at least 1'), z.maximum(720, 'must be at most 720 (30 days)')),
      ),
    ),
    24,
  ),
});

/** Every environment variable the server reads (the README's configuration table has a row for each). */
export const CONFIG_VARIABLES = Object.keys(EnvSchema.shape) as ReadonlyArray<keyof typeof EnvSchema.shape>;

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly sqlitePath: string;
  readonly databaseUrl: string | undefined;
  /** A single Redis (`REDIS_URL`); never set together with `redisClusterNodes`. */
  readonly redisUrl: string | undefined;
  /** Seed nodes of a Redis Cluster (`REDIS_CLUSTER_NODES`); never set together with `redisUrl`. */
  readonly redisClusterNodes: readonly RedisNodeAddress[] | undefined;
  /** Prefix of every Redis channel and key, so several deployments (or tests) can share one Redis. */
  readonly redisPrefix: string;
  /** Origins allowed to embed and write; `any` allows every origin. */
  readonly allowedOrigins: 'any' | readonly string[];
  /** Moderator token (Bearer) for /api/admin and `admin:subscribe`; without it every admin route answers 403. */
  readonly adminToken: string | undefined;
  /** The server secret every keyed pseudonym is made with; without it, one generated once and kept in the store. */
  readonly secretKey: string | undefined;
  /** Minutes after creation during which an author may edit their comment (0: never); moderators may always. */
  readonly editWindowMinutes: number;
  /** `all`: every article's new comments wait for a moderator; `none`: only articles a moderator set so. */
  readonly premoderation: 'all' | 'none';
  /** Reports from different readers that take a comment out of view until a moderator reviews it (0: never). */
  readonly reportHoldThreshold: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Tags fan-out messages so an instance drops its own echo. */
  readonly instanceId: string;
  /** Import the sample article when the store has none of its comments. */
  readonly seedDemo: boolean;
  /**
   * Serve the demo pages (`/`, `/articles`, `/articles/:id`, `/embed-example`). Each of them is an open
   * comment board for any article id on the owner's server, so a production server without the sample
   * article does not serve them unless asked to.
   */
  readonly demoPages: boolean;
  /** Express `trust proxy`: which peers' X-Forwarded-For is believed, for HTTP and socket handshakes alike. */
  readonly trustProxy: boolean | number | string;
  /** Sign-in from the host site (SSO_*); `settings` is set whenever the mode is not `off`. */
  readonly sso: SsoConfig;
  /** Notifications (docs/notifications.md). */
  readonly notify: {
    /** WEBHOOK_ALLOW_PRIVATE: webhooks may reach loopback, private and link-local addresses. */
    readonly allowPrivate: boolean;
    /** NOTIFY_RETRY_HOURS in ms: how long a failing notification is retried before it is given up. */
    readonly retryHorizonMs: number;
    /** Mail, when SMTP_URL is set (with MAIL_FROM and PUBLIC_URL, which links start with). */
    readonly mail: { readonly smtpUrl: string; readonly from: string; readonly publicUrl: string } | null;
    /** MODERATOR_EMAILS: who gets the digest of comments waiting for review (needs mail). */
    readonly moderatorEmails: readonly string[];
    /** MODERATOR_ALERT_MINUTES in ms: at most one digest per this long. */
    readonly moderatorAlertMs: number;
    /** REPLY_EMAIL_BATCH_MINUTES in ms: replies within this long of a reply e-mail wait for the next one. */
    readonly replyBatchMs: number;
    /** REPLY_EMAIL_DAILY_CAP: reply e-mails per address per UTC day. */
    readonly replyDailyCap: number;
  };
  /** Abuse guards; every count is per its window, and 0 turns that guard off. */
  readonly limits: {
    /** Post attempts (REST and socket) per client IP per minute, shared across instances through Redis. */
    readonly postsPerMinutePerIp: number;
    /** Post attempts per author (normalised name + IP) per minute. */
    readonly postsPerMinutePerAuthor: number;
    /** Edits (PATCH) per client IP, and of one comment, per minute; moderators are not counted. */
    readonly editsPerMinutePerIp: number;
    readonly editsPerMinutePerComment: number;
    /** Deletes per client IP per minute; moderators are not counted. */
    readonly deletesPerMinutePerIp: number;
    /** Likes and unlikes per client IP, and of one comment, per minute. */
    readonly likesPerMinutePerIp: number;
    readonly likesPerMinutePerComment: number;
    /** Reports per client IP, and of one comment, per minute. */
    readonly reportsPerMinutePerIp: number;
    readonly reportsPerMinutePerComment: number;
    /** Events one socket connection may send per 10 s. */
    readonly socketEventsPer10s: number;
    /** Open Socket.IO connections per client IP, per instance. */
    readonly connectionsPerIp: number;
    /** Bytes a connection may leave unsent in server memory before it is cut off (it reconnects and catches up). */
    readonly socketMaxBufferBytes: number;
  };
}

/**
 * `off`: no member tokens (a token sent is ignored); `optional`: members sign in, guests still post
 * under a name no member holds; `required`: posting, editing and liking need a member token.
 */
export type SsoMode = 'off' | 'optional' | 'required';

export type SsoConfig =
  | { readonly mode: 'off'; readonly settings: undefined; readonly loginUrl: string | undefined }
  | {
      readonly mode: 'optional' | 'required';
      readonly settings: SsoSettings;
      /** Where the widget's "Sign in to comment" link leads, when nothing handles `live-comments:login-required`. */
      readonly loginUrl: string | undefined;
    };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the environment once; a bad value throws ConfigError listing every problem. Empty strings count as unset. */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.REDIS_URL !== undefined && e.REDIS_CLUSTER_NODES !== undefined)
    problems.push(
      'REDIS_URL and REDIS_CLUSTER_NODES are both set: set REDIS_URL for a single Redis or REDIS_CLUSTER_NODES for a Redis Cluster, not both',
    );
  // A brace in the prefix would become every key's hash tag and put all of them in one cluster slot.
  if (e.REDIS_CLUSTER_NODES !== undefined && /[{}]/.test(e.REDIS_PREFIX))
    problems.push('REDIS_PREFIX: must not contain { or } with REDIS_CLUSTER_NODES (braces choose Redis Cluster slots)');
  const ssoMode: SsoMode = e.SSO_MODE ?? (e.SSO_SECRETS === undefined ? 'off' : 'optional');
  if (ssoMode !== 'off' && e.SSO_SECRETS === undefined)
    problems.push(`SSO_MODE=${ssoMode} needs SSO_SECRETS (the secret the host site signs member tokens with)`);
  if (e.SMTP_URL !== undefined && (e.MAIL_FROM === undefined || e.PUBLIC_URL === undefined))
    problems.push('SMTP_URL: set MAIL_FROM (the sender) and PUBLIC_URL (the base of links in e-mails) with it');
  if (e.MODERATOR_EMAILS !== undefined && e.MODERATOR_EMAILS.length > 0 && e.SMTP_URL === undefined)
    problems.push('MODERATOR_EMAILS: needs SMTP_URL (and MAIL_FROM, PUBLIC_URL) to send the digest');
  if (problems.length > 0) throw new ConfigError(problems);
  const sso: SsoConfig =
    ssoMode === 'off' || e.SSO_SECRETS === undefined
      ? { mode: 'off', settings: undefined, loginUrl: e.SSO_LOGIN_URL }
      : {
          mode: ssoMode,
          settings: Object.freeze({
            secrets: Object.freeze(e.SSO_SECRETS),
            audience: e.SSO_AUDIENCE,
            issuer: e.SSO_ISSUER,
            maxTtlSeconds: e.SSO_MAX_TTL_SECONDS,
          }),
          loginUrl: e.SSO_LOGIN_URL,
        };
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    sqlitePath: e.SQLITE_PATH,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisClusterNodes: e.REDIS_CLUSTER_NODES ? Object.freeze(e.REDIS_CLUSTER_NODES) : undefined,
    redisPrefix: e.REDIS_PREFIX,
    allowedOrigins: e.ALLOWED_ORIGINS === 'any' ? 'any' : Object.freeze([...e.ALLOWED_ORIGINS]),
    adminToken: e.ADMIN_TOKEN,
    secretKey: e.SECRET_KEY,
    editWindowMinutes: e.EDIT_WINDOW_MINUTES,
    premoderation: e.PREMODERATION,
    reportHoldThreshold: e.REPORT_HOLD_THRESHOLD,
    logLevel: e.LOG_LEVEL,
    instanceId: e.INSTANCE_ID ?? nanoid(10),
    seedDemo: e.SEED_DEMO === 'true',
    demoPages:
      e.DEMO_PAGES === undefined
        ? !(env.NODE_ENV === 'production' && e.SEED_DEMO === 'false')
        : e.DEMO_PAGES === 'true',
    trustProxy: e.TRUST_PROXY,
    sso: Object.freeze(sso),
    notify: Object.freeze({
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE === 'true',
      retryHorizonMs: e.NOTIFY_RETRY_HOURS * 3_600_000,
      mail:
        e.SMTP_URL !== undefined && e.MAIL_FROM !== undefined && e.PUBLIC_URL !== undefined
          ? Object.freeze({ smtpUrl: e.SMTP_URL, from: e.MAIL_FROM, publicUrl: e.PUBLIC_URL.replace(/\/+$/, '') })
          : null,
      moderatorEmails: Object.freeze([...(e.MODERATOR_EMAILS ?? [])]),
      moderatorAlertMs: e.MODERATOR_ALERT_MINUTES * 60_000,
      replyBatchMs: e.REPLY_EMAIL_BATCH_MINUTES * 60_000,
      replyDailyCap: e.REPLY_EMAIL_DAILY_CAP,
    }),
    limits: Object.freeze({
      postsPerMinutePerIp: e.RATE_LIMIT_POSTS_PER_MINUTE_IP,
      postsPerMinutePerAuthor: e.RATE_LIMIT_POSTS_PER_MINUTE_AUTHOR,
      editsPerMinutePerIp: e.RATE_LIMIT_EDITS_PER_MINUTE_IP,
      editsPerMinutePerComment: e.RATE_LIMIT_EDITS_PER_MINUTE_COMMENT,
      deletesPerMinutePerIp: e.RATE_LIMIT_DELETES_PER_MINUTE_IP,
      likesPerMinutePerIp: e.RATE_LIMIT_LIKES_PER_MINUTE_IP,
      likesPerMinutePerComment: e.RATE_LIMIT_LIKES_PER_MINUTE_COMMENT,
      reportsPerMinutePerIp: e.RATE_LIMIT_REPORTS_PER_MINUTE_IP,
      reportsPerMinutePerComment: e.RATE_LIMIT_REPORTS_PER_MINUTE_COMMENT,
      socketEventsPer10s: e.SOCKET_EVENTS_PER_10S,
      connectionsPerIp: e.MAX_CONNECTIONS_PER_IP,
      socketMaxBufferBytes: e.SOCKET_MAX_BUFFER_KB * 1024,
    }),
  });
}

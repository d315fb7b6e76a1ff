import * as z from 'zod/mini';
import { nanoid } from 'nanoid';

const PortSchema = z.pipe(
  z.string().check(z.regex(/^\d{1,5}$/, 'must be a port number')),
  z.pipe(z.transform((s: string) => Number(s)), z.int().check(z.minimum(0), z.maximum(65535, 'must be at most 65535'))),
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
    for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
      try {
        const url = new URL(part);
        if (url.origin === 'null' || url.origin !== part.replace(/\/$/, '')) throw new Error('not an origin');
        origins.push(url.origin);
      } catch {
        ctx.issues.push({ code: 'custom', message: `"${part}" is not an origin like https://news.example.com`, input: part });
      }
    }
    return origins;
  }),
);

const EnvSchema = z.object({
  PORT: z._default(PortSchema, 3000),
  HOST: z._default(z.string().check(z.minLength(1)), '0.0.0.0'),
  SQLITE_PATH: z._default(z.string().check(z.minLength(1)), './data/comments.db'),
  DATABASE_URL: z.optional(UrlSchema(/^postgres(ql)?:$/, 'postgres://')),
  REDIS_URL: z.optional(UrlSchema(/^rediss?:$/, 'redis://')),
  REDIS_PREFIX: z._default(z.string().check(z.maxLength(64)), 'lc:'),
  ALLOWED_ORIGINS: z._default(OriginsSchema, 'any'),
  ADMIN_TOKEN: z.optional(z.string().check(z.minLength(16, 'must be at least 16 characters'))),
  LOG_LEVEL: z._default(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
  INSTANCE_ID: z.optional(z.string().check(z.regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 chars of A-Z a-z 0-9 . _ -'))),
  SEED_DEMO: z._default(z.enum(['true', 'false']), 'true'),
});

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly sqlitePath: string;
  readonly databaseUrl: string | undefined;
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis channel and key, so several deployments (or tests) can share one Redis. */
  readonly redisPrefix: string;
  /** Origins allowed to embed and write; `any` allows every origin. */
  readonly allowedOrigins: 'any' | readonly string[];
  readonly adminToken: string | undefined;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Tags fan-out messages so an instance drops its own echo. */
  readonly instanceId: string;
  /** Import the sample article when the store has none of its comments. */
  readonly seedDemo: boolean;
}

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
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`));
  }
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    sqlitePath: e.SQLITE_PATH,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    allowedOrigins: e.ALLOWED_ORIGINS === 'any' ? 'any' : Object.freeze([...e.ALLOWED_ORIGINS]),
    adminToken: e.ADMIN_TOKEN,
    logLevel: e.LOG_LEVEL,
    instanceId: e.INSTANCE_ID ?? nanoid(10),
    seedDemo: e.SEED_DEMO === 'true',
  });
}

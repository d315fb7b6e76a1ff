/**
 * The scale-out topology, defined once: docker-compose.yml declares it for containers and
 * `npm run cluster` (scripts/cluster.ts) brings it up from local processes. A test
 * (tests/integration/compose-drift.test.ts) checks that the compose file declares exactly these
 * services, ports and environment names, so the two cannot drift apart.
 */

/** One app instance: its compose service name (also its INSTANCE_ID) and the host port it is reached on. */
export interface ClusterInstance {
  readonly service: string;
  readonly hostPort: number;
}

export const CLUSTER = {
  /** App instances; both run the same image with the same environment names. */
  instances: [
    { service: 'app1', hostPort: 3001 },
    { service: 'app2', hostPort: 3002 },
  ] as readonly ClusterInstance[],
  /** The port the app listens on inside its container. */
  containerPort: 3000,
  /** The nginx balancer in front of the instances (compose only; locally, clients pick an instance). */
  balancer: { service: 'balancer', hostPort: 8080, containerPort: 80 },
  redis: { service: 'redis' },
  postgres: { service: 'postgres', database: 'live_comments' },
} as const;

/**
 * The environment names every app instance is given, in the compose file and by the local script
 * alike. Anything else in the script's own environment (rate limits, ALLOWED_ORIGINS, …) is passed
 * through to its instances unchanged.
 */
export const APP_ENVIRONMENT_NAMES = [
  'PORT',
  'HOST',
  'DATABASE_URL',
  'REDIS_URL',
  'REDIS_PREFIX',
  'INSTANCE_ID',
  'LOG_LEVEL',
  'SEED_DEMO',
  'TRUST_PROXY',
] as const;
export type AppEnvironmentName = (typeof APP_ENVIRONMENT_NAMES)[number];
export type AppEnvironment = Record<AppEnvironmentName, string>;

/** Settings shared by every instance of a local cluster; each may be overridden from the script's environment. */
export interface LocalClusterSettings {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  logLevel: string;
  seedDemo: string;
  trustProxy: string;
  host: string;
}

/** What `npm run cluster` uses when its environment says nothing: the machine's PostgreSQL and Redis. */
export const LOCAL_DEFAULTS: LocalClusterSettings = {
  databaseUrl: `postgres://postgres@127.0.0.1:5432/${CLUSTER.postgres.database}`,
  redisUrl: 'redis://127.0.0.1:6379',
  redisPrefix: 'lc:',
  logLevel: 'info',
  seedDemo: 'true',
  trustProxy: 'loopback',
  host: '127.0.0.1',
};

/** The environment of one local instance, listening on `port` (0: any free port). */
export function localInstanceEnvironment(
  instance: ClusterInstance,
  port: number,
  settings: LocalClusterSettings,
): AppEnvironment {
  return {
    PORT: String(port),
    HOST: settings.host,
    DATABASE_URL: settings.databaseUrl,
    REDIS_URL: settings.redisUrl,
    REDIS_PREFIX: settings.redisPrefix,
    INSTANCE_ID: instance.service,
    LOG_LEVEL: settings.logLevel,
    SEED_DEMO: settings.seedDemo,
    TRUST_PROXY: settings.trustProxy,
  };
}

/** Local settings from an environment (DATABASE_URL, REDIS_URL, REDIS_PREFIX, LOG_LEVEL, SEED_DEMO, TRUST_PROXY, HOST), else the defaults. */
export function localSettingsFrom(env: Readonly<Record<string, string | undefined>>): LocalClusterSettings {
  const pick = (name: string, fallback: string): string => {
    const value = env[name];
    return value === undefined || value === '' ? fallback : value;
  };
  return {
    databaseUrl: pick('DATABASE_URL', LOCAL_DEFAULTS.databaseUrl),
    redisUrl: pick('REDIS_URL', LOCAL_DEFAULTS.redisUrl),
    redisPrefix: pick('REDIS_PREFIX', LOCAL_DEFAULTS.redisPrefix),
    logLevel: pick('LOG_LEVEL', LOCAL_DEFAULTS.logLevel),
    seedDemo: pick('SEED_DEMO', LOCAL_DEFAULTS.seedDemo),
    trustProxy: pick('TRUST_PROXY', LOCAL_DEFAULTS.trustProxy),
    host: pick('HOST', LOCAL_DEFAULTS.host),
  };
}

/**
 * Host ports of the local instances: CLUSTER_PORTS (comma list, `0` for any free port, as tests
 * use), else the compose file's host ports.
 */
export function localPorts(env: Readonly<Record<string, string | undefined>>): number[] {
  const raw = env.CLUSTER_PORTS;
  if (raw === undefined || raw === '') return CLUSTER.instances.map((i) => i.hostPort);
  const ports = raw.split(',').map((p) => p.trim());
  if (ports.length !== CLUSTER.instances.length || ports.some((p) => !/^\d{1,5}$/.test(p) || Number(p) > 65535)) {
    throw new Error(`CLUSTER_PORTS must list ${CLUSTER.instances.length} ports (0 for any free port), got "${raw}"`);
  }
  return ports.map(Number);
}

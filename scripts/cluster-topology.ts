/**
 * The deployment topologies, defined once: docker-compose.yml declares them for containers and
 * `npm run cluster` (scripts/cluster.ts) brings them up from local processes. A test
 * (tests/integration/compose-drift.test.ts) checks that the compose file declares exactly these
 * services, ports, profiles and environment names, so the two cannot drift apart.
 *
 * - `cluster` (the compose default): app1 and app2 on PostgreSQL and Redis, behind the balancer.
 * - `single` (the compose service `single`, profile `single`): one instance on a SQLite file.
 *
 * Every app service reads the site's settings (ADMIN_TOKEN, ALLOWED_ORIGINS, SECRET_KEY, TRUST_PROXY, …)
 * from one env file (`.env`, documented by .env.example); the names below are the topology's own, set
 * per service, and win over the file.
 */

export type ProfileName = 'cluster' | 'single';
export const PROFILE_NAMES: readonly ProfileName[] = ['cluster', 'single'];

/** One app instance: its compose service name (also its INSTANCE_ID) and the port `npm run cluster` gives it. */
export interface TopologyInstance {
  readonly service: string;
  readonly localPort: number;
}

/** The port every app listens on inside its container. */
export const CONTAINER_PORT = 3000;

export const CLUSTER = {
  /** App instances; both run the same image with the same environment names. No host port is published. */
  instances: [
    { service: 'app1', localPort: 3001 },
    { service: 'app2', localPort: 3002 },
  ] as readonly TopologyInstance[],
  /** The nginx balancer in front of the instances, the one published port (compose only; locally, clients pick an instance). */
  balancer: { service: 'balancer', hostPort: 8080, containerPort: 80 },
  redis: { service: 'redis' },
  postgres: { service: 'postgres', database: 'live_comments' },
} as const;

export const SINGLE = {
  /** Published on the host's loopback only, for a TLS-terminating proxy on the same host. */
  instance: { service: 'single', localPort: 3000 } as TopologyInstance,
  hostBinding: '127.0.0.1',
  hostPort: 3000,
  /** Where the SQLite file lives in the container: a volume is mounted on its folder. */
  sqlitePath: '/app/data/comments.db',
  volume: 'sqlite-data',
} as const;

/** The instances of a profile. */
export function profileInstances(profile: ProfileName): readonly TopologyInstance[] {
  return profile === 'single' ? [SINGLE.instance] : CLUSTER.instances;
}

/**
 * The environment names the topology sets on each app service, in the compose file and by the local
 * script alike. Everything else comes from the env file (or, locally, the script's environment).
 */
export const TOPOLOGY_ENVIRONMENT_NAMES = {
  cluster: ['PORT', 'HOST', 'DATABASE_URL', 'REDIS_URL', 'REDIS_PREFIX', 'INSTANCE_ID'],
  single: ['PORT', 'HOST', 'SQLITE_PATH', 'INSTANCE_ID'],
} as const satisfies Record<ProfileName, readonly string[]>;

/**
 * Compose only: the cluster instances also get PGPASSWORD (the PostgreSQL client's standard variable,
 * read when DATABASE_URL names no password) from the env file's POSTGRES_PASSWORD, so the password is
 * in one place and may hold any character. The machine's PostgreSQL that `npm run cluster` uses needs none.
 */
export const COMPOSE_ONLY_ENVIRONMENT_NAMES = ['PGPASSWORD'] as const;

/** Settings of a local topology; each may be overridden from the script's environment. */
export interface LocalSettings {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  sqlitePath: string;
  host: string;
}

/** What `npm run cluster` uses when its environment says nothing: the machine's PostgreSQL and Redis. */
export const LOCAL_DEFAULTS: LocalSettings = {
  databaseUrl: `postgres://postgres@127.0.0.1:5432/${CLUSTER.postgres.database}`,
  redisUrl: 'redis://127.0.0.1:6379',
  redisPrefix: 'lc:',
  sqlitePath: './data/comments.db',
  host: '127.0.0.1',
};

/** The topology's environment for one local instance, listening on `port` (0: any free port). */
export function localInstanceEnvironment(
  profile: ProfileName,
  instance: TopologyInstance,
  port: number,
  settings: LocalSettings,
): Record<string, string> {
  if (profile === 'single') {
    return { PORT: String(port), HOST: settings.host, SQLITE_PATH: settings.sqlitePath, INSTANCE_ID: instance.service };
  }
  return {
    PORT: String(port),
    HOST: settings.host,
    DATABASE_URL: settings.databaseUrl,
    REDIS_URL: settings.redisUrl,
    REDIS_PREFIX: settings.redisPrefix,
    INSTANCE_ID: instance.service,
  };
}

/** Local settings from an environment (DATABASE_URL, REDIS_URL, REDIS_PREFIX, SQLITE_PATH, HOST), else the defaults. */
export function localSettingsFrom(env: Readonly<Record<string, string | undefined>>): LocalSettings {
  const pick = (name: string, fallback: string): string => {
    const value = env[name];
    return value === undefined || value === '' ? fallback : value;
  };
  return {
    databaseUrl: pick('DATABASE_URL', LOCAL_DEFAULTS.databaseUrl),
    redisUrl: pick('REDIS_URL', LOCAL_DEFAULTS.redisUrl),
    redisPrefix: pick('REDIS_PREFIX', LOCAL_DEFAULTS.redisPrefix),
    sqlitePath: pick('SQLITE_PATH', LOCAL_DEFAULTS.sqlitePath),
    host: pick('HOST', LOCAL_DEFAULTS.host),
  };
}

/**
 * Ports of a profile's local instances: CLUSTER_PORTS (comma list, `0` for any free port, as tests
 * use), else the topology's local ports.
 */
export function localPorts(profile: ProfileName, env: Readonly<Record<string, string | undefined>>): number[] {
  const instances = profileInstances(profile);
  const raw = env.CLUSTER_PORTS;
  if (raw === undefined || raw === '') return instances.map((i) => i.localPort);
  const ports = raw.split(',').map((p) => p.trim());
  if (ports.length !== instances.length || ports.some((p) => !/^\d{1,5}$/.test(p) || Number(p) > 65535)) {
    throw new Error(`CLUSTER_PORTS must list ${instances.length} port(s) (0 for any free port), got "${raw}"`);
  }
  return ports.map(Number);
}

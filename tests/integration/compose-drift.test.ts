import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { parse } from 'yaml';
import * as z from 'zod/mini';
import { CONFIG_VARIABLES, loadConfig } from '../../server/config.ts';
import {
  CLUSTER,
  COMPOSE_ONLY_ENVIRONMENT_NAMES,
  CONTAINER_PORT,
  LOCAL_DEFAULTS,
  localInstanceEnvironment,
  SINGLE,
  TOPOLOGY_ENVIRONMENT_NAMES,
  type ProfileName,
  type TopologyInstance,
} from '../../scripts/cluster-topology.ts';
import { REPO_ROOT } from '../helpers/logged-process.ts';

/**
 * There is no Docker engine on our machines, so the compose file is checked by reading it: it must
 * declare the topologies that `npm run cluster` runs (scripts/cluster-topology.ts; the cluster test
 * brings them up from local processes), wire every setting through `.env`, publish only the
 * balancer, and the image must be multi-stage, non-root, read-only to its user and production-only.
 * The balancer's start script runs here for real, against local servers.
 */
const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');

const ServiceSchema = z.looseObject({
  image: z.optional(z.string()),
  build: z.optional(z.unknown()),
  command: z.optional(z.array(z.string())),
  env_file: z.optional(z.unknown()),
  environment: z.optional(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))),
  ports: z.optional(z.array(z.string())),
  profiles: z.optional(z.array(z.string())),
  depends_on: z.optional(z.record(z.string(), z.object({ condition: z.string() }))),
  healthcheck: z.optional(z.looseObject({ test: z.array(z.string()) })),
  volumes: z.optional(z.array(z.string())),
  stop_grace_period: z.optional(z.string()),
});
const ComposeSchema = z.looseObject({
  services: z.record(z.string(), ServiceSchema),
  volumes: z.optional(z.record(z.string(), z.unknown())),
});

const composeText = read('docker-compose.yml');
// `<<: *app` merges the shared app settings, as Docker Compose does.
const compose = ComposeSchema.parse(parse(composeText, { merge: true }));
const services = compose.services;
const service = (name: string): z.infer<typeof ServiceSchema> => {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};
const stringEnvironment = (app: z.infer<typeof ServiceSchema>): Record<string, string> =>
  Object.fromEntries(Object.entries(app.environment ?? {}).map(([k, v]) => [k, String(v)]));

const nginx = read('deploy/nginx.conf');
/** nginx.conf without comments: directives only. */
const directives = nginx
  .split('\n')
  .map((line) => line.replace(/#.*$/, '').trim())
  .filter(Boolean)
  .join('\n');
const dockerfile = read('Dockerfile');
const envExample = read('.env.example');
/** Every NAME the example sets or shows commented out (`# NAME=default`). */
const envExampleNames = [...envExample.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);

const appServices: Array<[ProfileName, TopologyInstance]> = [
  ...CLUSTER.instances.map((i) => ['cluster', i] as [ProfileName, TopologyInstance]),
  ['single', SINGLE.instance],
];

describe('docker-compose.yml matches the topologies of npm run cluster (scripts/cluster-topology.ts)', () => {
  it('declares exactly the services of the topologies; the cluster by default, the single node by its profile', () => {
    const cluster = [
      CLUSTER.redis.service,
      CLUSTER.postgres.service,
      ...CLUSTER.instances.map((i) => i.service),
      CLUSTER.balancer.service,
    ];
    expect(Object.keys(services).sort()).toEqual([...cluster, SINGLE.instance.service].sort());
    for (const name of cluster) expect(service(name).profiles, name).toBeUndefined();
    expect(service(SINGLE.instance.service).profiles).toEqual(['single']);
  });

  it.each(appServices.map(([profile, instance]) => [instance.service, profile, instance] as const))(
    '%s: the topology sets exactly its own names, as npm run cluster does; the rest comes from .env',
    (name, profile, instance) => {
      const app = service(name);
      const environment = stringEnvironment(app);
      const topology = [...TOPOLOGY_ENVIRONMENT_NAMES[profile]];
      const composeOnly = profile === 'cluster' ? [...COMPOSE_ONLY_ENVIRONMENT_NAMES] : [];
      expect(Object.keys(environment).sort()).toEqual([...topology, ...composeOnly].sort());
      const local = localInstanceEnvironment(profile, instance, instance.localPort, LOCAL_DEFAULTS);
      expect(Object.keys(local).sort()).toEqual([...topology].sort());
      expect(environment.INSTANCE_ID).toBe(local.INSTANCE_ID);
      expect(environment.PORT).toBe(String(CONTAINER_PORT));
      expect(app.env_file).toBe('.env');
      // The app accepts the compose environment together with the example settings.
      expect(() => loadConfig({ ...parseEnv(envExample), ...environment })).not.toThrow();
      expect(app.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${CONTAINER_PORT}/readyz`);
      expect(app.build !== undefined || app.image === service(CLUSTER.instances[0]!.service).image).toBe(true);
      // Longer than the app's own 10 s drain, so Docker never SIGKILLs a draining instance.
      expect(Number.parseInt(app.stop_grace_period ?? '10s', 10)).toBeGreaterThan(10);
    },
  );

  it('cluster instances: PostgreSQL and Redis of the compose network, after they are healthy, and no published port', () => {
    for (const instance of CLUSTER.instances) {
      const app = service(instance.service);
      const environment = stringEnvironment(app);
      expect(app.ports, instance.service).toBeUndefined();
      expect(environment.DATABASE_URL).toBe(
        `postgres://postgres@${CLUSTER.postgres.service}:5432/${CLUSTER.postgres.database}`,
      );
      expect(environment.REDIS_URL).toBe(`redis://${CLUSTER.redis.service}:6379`);
      expect(environment.REDIS_PREFIX).toBe(LOCAL_DEFAULTS.redisPrefix);
      expect(environment.PGPASSWORD).toBe('${POSTGRES_PASSWORD:-}');
      expect(app.depends_on?.[CLUSTER.redis.service]?.condition).toBe('service_healthy');
      expect(app.depends_on?.[CLUSTER.postgres.service]?.condition).toBe('service_healthy');
    }
    expect(LOCAL_DEFAULTS.databaseUrl.endsWith(`/${CLUSTER.postgres.database}`)).toBe(true);
  });

  it('single: SQLite on a named volume, published on the loopback only, no Redis or PostgreSQL', () => {
    const single = service(SINGLE.instance.service);
    const environment = stringEnvironment(single);
    expect(environment.SQLITE_PATH).toBe(SINGLE.sqlitePath);
    expect(single.volumes).toEqual([
      `${SINGLE.volume}:${SINGLE.sqlitePath.slice(0, SINGLE.sqlitePath.lastIndexOf('/'))}`,
    ]);
    expect(Object.keys(compose.volumes ?? {})).toContain(SINGLE.volume);
    expect(single.ports).toEqual([`${SINGLE.hostBinding}:${SINGLE.hostPort}:${CONTAINER_PORT}`]);
    expect(single.depends_on).toBeUndefined();
    const config = loadConfig({ ...parseEnv(envExample), ...environment });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
  });

  it('gives Redis and PostgreSQL health checks; the PostgreSQL password comes from .env, never the file', () => {
    expect(service(CLUSTER.redis.service).healthcheck?.test.join(' ')).toContain('redis-cli');
    const postgres = service(CLUSTER.postgres.service);
    expect(postgres.healthcheck?.test.join(' ')).toContain('pg_isready');
    expect(postgres.environment?.POSTGRES_DB).toBe(CLUSTER.postgres.database);
    expect(postgres.environment?.POSTGRES_PASSWORD).toBe('${POSTGRES_PASSWORD:-}');
    // No password written anywhere in the file.
    expect(composeText).not.toMatch(/postgres:\/\/[^@\s]*:[^@\s]*@/);
    expect(composeText).not.toMatch(/^\s*\w*PASSWORD:\s*(?!\$\{)\S/m);
  });

  it('publishes only the balancer, which starts serving once any instance is ready', () => {
    const published = Object.entries(services).filter(([, s]) => s.ports !== undefined && s.profiles === undefined);
    expect(published.map(([name]) => name)).toEqual([CLUSTER.balancer.service]);
    const balancer = service(CLUSTER.balancer.service);
    expect(balancer.ports).toEqual([`${CLUSTER.balancer.hostPort}:${CLUSTER.balancer.containerPort}`]);
    expect(balancer.volumes).toContain('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro');
    expect(balancer.volumes).toContain('./deploy/wait-for-an-instance.sh:/usr/local/bin/wait-for-an-instance.sh:ro');
    expect(balancer.command).toEqual([
      '/bin/sh',
      '/usr/local/bin/wait-for-an-instance.sh',
      ...CLUSTER.instances.map((i) => `${i.service}:${CONTAINER_PORT}`),
    ]);
    for (const instance of CLUSTER.instances)
      expect(balancer.depends_on?.[instance.service]?.condition).toBe('service_started');
    expect(balancer.healthcheck?.test.join(' ')).toContain('/nginx-health');
  });

  it('keeps every health check cheap: no Node process per probe', () => {
    for (const [name, s] of Object.entries(services)) {
      const probe = s.healthcheck?.test.join(' ') ?? '';
      expect(probe, name).not.toMatch(/\bnode\b/);
    }
  });
});

describe('.env.example and the settings', () => {
  it('documents every setting the server reads that the topology does not set, and names nothing else', () => {
    const topology = new Set<string>([...TOPOLOGY_ENVIRONMENT_NAMES.cluster, ...TOPOLOGY_ENVIRONMENT_NAMES.single]);
    const composeOnly = ['POSTGRES_PASSWORD'];
    const missing = CONFIG_VARIABLES.filter((name) => !topology.has(name) && !envExampleNames.includes(name));
    expect(missing, 'add a line for each new setting to .env.example').toEqual([]);
    const unknown = envExampleNames.filter(
      (name) => !(CONFIG_VARIABLES as readonly string[]).includes(name) && !composeOnly.includes(name),
    );
    expect(unknown).toEqual([]);
    for (const name of ['ADMIN_TOKEN', 'ALLOWED_ORIGINS', 'TRUST_PROXY', 'SECRET_KEY', 'POSTGRES_PASSWORD'])
      expect(parseEnv(envExample), name).toHaveProperty(name);
    expect(parseEnv(envExample).POSTGRES_PASSWORD).toBe('');
  });

  it('has a row in the configuration table (docs/configuration.md) for every setting', () => {
    const table = read('docs/configuration.md');
    for (const name of CONFIG_VARIABLES) expect(table, name).toContain(`| \`${name}\` |`);
  });

  it('keeps .env out of git and out of the image', () => {
    const lines = (path: string) =>
      read(path)
        .split('\n')
        .map((line) => line.trim());
    expect(lines('.gitignore')).toContain('.env');
    for (const entry of ['.git', 'node_modules', 'data', '.env', '*.db'])
      expect(lines('.dockerignore')).toContain(entry);
  });
});

describe('deploy/nginx.conf', () => {
  it('balances over every instance with sticky sessions (polling stays enabled), re-resolving their names', () => {
    const upstream = /upstream\s+(\S+)\s*\{([^}]*)\}/.exec(directives);
    expect(upstream).not.toBeNull();
    const [, name, body] = upstream!;
    expect(body).toMatch(/^ip_hash;$/m);
    expect(body).toMatch(/^zone \S+ \d+k;$/m);
    const servers = [...body!.matchAll(/^server\s+(\S+)\s+resolve\b/gm)].map((m) => m[1]);
    expect(servers).toEqual(CLUSTER.instances.map((i) => `${i.service}:${CONTAINER_PORT}`));
    expect(directives).toMatch(/^resolver 127\.0\.0\.11\b/m);
    expect(directives).toContain(`proxy_pass http://${name};`);
    expect(directives).toMatch(new RegExp(`listen ${CLUSTER.balancer.containerPort};`));
    // `resolve` in open-source nginx needs 1.27.3 or later.
    const [major, minor] = (/nginx:(\d+)\.(\d+)/.exec(service(CLUSTER.balancer.service).image ?? '') ?? [])
      .slice(1)
      .map(Number);
    expect(major! * 100 + minor!).toBeGreaterThanOrEqual(128);
  });

  it('carries WebSockets: HTTP/1.1 upstream with the Upgrade and Connection headers', () => {
    expect(directives).toContain('proxy_http_version 1.1;');
    expect(directives).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(directives).toMatch(/map \$http_upgrade \$connection_upgrade \{\s*default upgrade;/);
    expect(directives).toContain('proxy_set_header Connection $connection_upgrade;');
    // Longer than Socket.IO's 25 s ping interval, so idle sockets are not cut.
    const timeout = /proxy_read_timeout (\d+)s;/.exec(directives);
    expect(Number(timeout?.[1])).toBeGreaterThan(25);
  });

  it('overwrites X-Forwarded-For (one trusted hop) and keeps /metrics internal', () => {
    expect(directives).toContain('proxy_set_header X-Forwarded-For $remote_addr;');
    expect(directives).not.toContain('$proxy_add_x_forwarded_for');
    expect(directives).toMatch(/location = \/metrics \{\s*return 404;/);
  });
});

describe('deploy/wait-for-an-instance.sh (the balancer start), run here with wget', () => {
  /** A server answering /readyz with `status` (changeable). */
  async function readiness(status: number): Promise<{ server: Server; port: number; set(code: number): void }> {
    let current = status;
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/readyz' ? current : 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, port: (server.address() as AddressInfo).port, set: (code) => void (current = code) };
  }

  it('waits while no instance is ready and starts nginx as soon as one is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'balancer-'));
    // A stand-in nginx on PATH that reports its arguments.
    writeFileSync(join(dir, 'nginx'), '#!/bin/sh\necho "nginx started: $*"\n');
    chmodSync(join(dir, 'nginx'), 0o755);
    const down = await readiness(503);
    const later = await readiness(503);
    try {
      const started = Date.now();
      const run = new Promise<{ stdout: string; code: number }>((resolve) => {
        execFile(
          '/bin/sh',
          [join(REPO_ROOT, 'deploy/wait-for-an-instance.sh'), `127.0.0.1:${down.port}`, `127.0.0.1:${later.port}`],
          { env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` }, timeout: 20_000 },
          (error, stdout) => resolve({ stdout, code: error ? Number(error.code ?? 1) : 0 }),
        );
      });
      setTimeout(() => later.set(200), 2500);
      const { stdout, code } = await run;
      expect(code).toBe(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2500);
      expect(stdout).toContain('none of');
      expect(stdout).toContain(`127.0.0.1:${later.port} is ready`);
      expect(stdout.trim().split('\n').at(-1)).toBe('nginx started: -g daemon off;');
    } finally {
      down.server.close();
      later.server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('Dockerfile', () => {
  const stages = dockerfile.split('\n').filter((line) => /^FROM\s/i.test(line));
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

  it('is multi-stage and runs the compiled server as a non-root user with production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/^USER (?!root)\S+/m);
    expect(runtime).toContain('CMD ["node", "dist/server/main.js"]');
    expect(runtime).not.toMatch(/npm ci(?! --omit=dev)/);
    expect(runtime).not.toContain('tsx');
    expect(runtime).toMatch(/^EXPOSE 3000$/m);
  });

  it('leaves the application owned by root (read-only to the runtime user); only the data folder is its own', () => {
    const copies = runtime.split('\n').filter((line) => /^COPY\s/.test(line));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) expect(copy).not.toContain('--chown');
    expect(runtime).not.toMatch(/chmod/);
    const chowns = [...runtime.matchAll(/chown\s+(?:-R\s+)?\S+\s+(\S+)/g)].map((m) => m[1]);
    expect(chowns).toEqual(['/app/data']);
    expect(runtime.indexOf('USER ')).toBeGreaterThan(runtime.lastIndexOf('chown'));
  });

  it('checks its health with wget, not a second Node process', () => {
    const healthcheck = /HEALTHCHECK[^\n]*\n\s*CMD ([^\n]*)/.exec(runtime)?.[1] ?? '';
    expect(healthcheck).toContain('/readyz');
    expect(healthcheck).toMatch(/^wget /);
  });
});

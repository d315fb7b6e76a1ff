import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import * as z from 'zod/mini';
import { loadConfig } from '../../server/config.ts';
import {
  APP_ENVIRONMENT_NAMES,
  CLUSTER,
  LOCAL_DEFAULTS,
  localInstanceEnvironment,
} from '../../scripts/cluster-topology.ts';
import { REPO_ROOT } from '../helpers/logged-process.ts';

/**
 * There is no Docker engine on our machines, so the compose file is checked by reading it: it must
 * declare the topology that `npm run cluster` runs (scripts/cluster-topology.ts), the balancer must
 * carry WebSockets, and the image must be multi-stage, non-root and production-only.
 */
const read = (path: string): string => readFileSync(new URL(path, `file://${REPO_ROOT}/`), 'utf8');

const ServiceSchema = z.looseObject({
  image: z.optional(z.string()),
  build: z.optional(z.unknown()),
  environment: z.optional(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))),
  ports: z.optional(z.array(z.string())),
  depends_on: z.optional(z.record(z.string(), z.object({ condition: z.string() }))),
  healthcheck: z.optional(z.looseObject({ test: z.array(z.string()) })),
  volumes: z.optional(z.array(z.string())),
  stop_grace_period: z.optional(z.string()),
});
const ComposeSchema = z.looseObject({ services: z.record(z.string(), ServiceSchema) });

const compose = ComposeSchema.parse(parse(read('docker-compose.yml')));
const services = compose.services;
const service = (name: string): z.infer<typeof ServiceSchema> => {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};
const nginx = read('deploy/nginx.conf');
/** nginx.conf without comments: directives only. */
const directives = nginx
  .split('\n')
  .map((line) => line.replace(/#.*$/, '').trim())
  .filter(Boolean)
  .join('\n');
const dockerfile = read('Dockerfile');

describe('docker-compose.yml matches the local cluster (scripts/cluster-topology.ts)', () => {
  it('declares exactly the services of the topology', () => {
    const expected = [
      CLUSTER.redis.service,
      CLUSTER.postgres.service,
      ...CLUSTER.instances.map((i) => i.service),
      CLUSTER.balancer.service,
    ];
    expect(Object.keys(services).sort()).toEqual([...expected].sort());
  });

  it.each(CLUSTER.instances.map((i) => [i.service, i] as const))(
    '%s: same environment names as npm run cluster, its id, port and dependencies',
    (name, instance) => {
      const app = service(name);
      const environment = Object.fromEntries(Object.entries(app.environment ?? {}).map(([k, v]) => [k, String(v)]));
      const local = localInstanceEnvironment(instance, instance.hostPort, LOCAL_DEFAULTS);
      expect(Object.keys(environment).sort()).toEqual([...APP_ENVIRONMENT_NAMES].sort());
      expect(Object.keys(local).sort()).toEqual([...APP_ENVIRONMENT_NAMES].sort());
      expect(environment.INSTANCE_ID).toBe(local.INSTANCE_ID);
      expect(environment.PORT).toBe(String(CLUSTER.containerPort));
      expect(environment.REDIS_PREFIX).toBe(local.REDIS_PREFIX);
      expect(environment.DATABASE_URL).toMatch(
        new RegExp(`^postgres://[^@]+@${CLUSTER.postgres.service}:5432/${CLUSTER.postgres.database}$`),
      );
      expect(environment.REDIS_URL).toBe(`redis://${CLUSTER.redis.service}:6379`);
      expect(LOCAL_DEFAULTS.databaseUrl.endsWith(`/${CLUSTER.postgres.database}`)).toBe(true);
      // The app itself accepts the compose environment.
      expect(() => loadConfig(environment)).not.toThrow();
      expect(app.ports).toEqual([`${instance.hostPort}:${CLUSTER.containerPort}`]);
      expect(app.depends_on?.[CLUSTER.redis.service]?.condition).toBe('service_healthy');
      expect(app.depends_on?.[CLUSTER.postgres.service]?.condition).toBe('service_healthy');
      expect(app.healthcheck?.test.join(' ')).toContain('/readyz');
      expect(app.build !== undefined || app.image === service(CLUSTER.instances[0]!.service).image).toBe(true);
      // Longer than the app's own 10 s drain, so Docker never SIGKILLs a draining instance.
      expect(Number.parseInt(app.stop_grace_period ?? '10s', 10)).toBeGreaterThan(10);
    },
  );

  it('gives Redis and PostgreSQL health checks and the database the topology names', () => {
    expect(service(CLUSTER.redis.service).healthcheck?.test.join(' ')).toContain('redis-cli');
    const postgres = service(CLUSTER.postgres.service);
    expect(postgres.healthcheck?.test.join(' ')).toContain('pg_isready');
    expect(postgres.environment?.POSTGRES_DB).toBe(CLUSTER.postgres.database);
  });

  it('puts the balancer on its port, with the nginx config mounted, after healthy instances', () => {
    const balancer = service(CLUSTER.balancer.service);
    expect(balancer.ports).toEqual([`${CLUSTER.balancer.hostPort}:${CLUSTER.balancer.containerPort}`]);
    expect(balancer.volumes).toContain('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro');
    for (const instance of CLUSTER.instances)
      expect(balancer.depends_on?.[instance.service]?.condition).toBe('service_healthy');
    expect(balancer.healthcheck).toBeDefined();
  });
});

describe('deploy/nginx.conf', () => {
  it('balances over every instance with sticky sessions (polling stays enabled)', () => {
    const upstream = /upstream\s+(\S+)\s*\{([^}]*)\}/.exec(directives);
    expect(upstream).not.toBeNull();
    const [, name, body] = upstream!;
    expect(body).toMatch(/^ip_hash;$/m);
    const servers = [...body!.matchAll(/^server\s+(\S+)/gm)].map((m) => m[1]);
    expect(servers).toEqual(CLUSTER.instances.map((i) => `${i.service}:${CLUSTER.containerPort}`));
    expect(directives).toContain(`proxy_pass http://${name};`);
    expect(directives).toMatch(new RegExp(`listen ${CLUSTER.balancer.containerPort};`));
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

  it('keeps local data, secrets and build output out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim());
    for (const entry of ['.git', 'node_modules', 'data', '.env', '*.db']) expect(ignored).toContain(entry);
  });
});

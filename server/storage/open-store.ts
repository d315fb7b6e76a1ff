import type { Config } from '../config.ts';
import type { CommentStore } from './port.ts';
import { openPostgresStore, type PostgresStoreLogger } from './postgres.ts';
import { openSqliteStore } from './sqlite.ts';

export type StoreKind = 'postgres' | 'sqlite';

/** Which store a configuration selects: a `postgres://` DATABASE_URL wins; otherwise the SQLite file. */
export function storeKind(config: Pick<Config, 'databaseUrl'>): StoreKind {
  return config.databaseUrl === undefined ? 'sqlite' : 'postgres';
}

/**
 * Opens and migrates the store the configuration selects. An unreachable database rejects with
 * StoreUnavailableError: an instance does not start without its record of truth.
 */
export async function openStore(
  config: Pick<Config, 'databaseUrl' | 'sqlitePath' | 'instanceId'>,
  logger?: PostgresStoreLogger,
): Promise<CommentStore> {
  if (config.databaseUrl === undefined) return openSqliteStore(config.sqlitePath);
  return openPostgresStore({
    connectionString: config.databaseUrl,
    applicationName: `live-comments:${config.instanceId}`,
    ...(logger ? { logger } : {}),
  });
}

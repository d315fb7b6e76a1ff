import pg from 'pg';

/** The PostgreSQL the write path is also measured on (BENCH_DATABASE_URL; the test database by default). */
export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A fresh schema on BENCH_DATABASE_URL for one product instance: `url` selects it (search_path), `drop`
 * removes it. Rejects when the database cannot be reached; the caller skips its PostgreSQL figures then.
 */
export async function benchSchema(runId: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `bench_${runId.toLowerCase().replace(/[^a-z0-9]/g, '')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: BENCH_DATABASE_URL, connectionTimeoutMillis: 3000 });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE SCHEMA ${schema}`);
  const url = new URL(BENCH_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { url: url.toString(), drop: () => admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`) };
}

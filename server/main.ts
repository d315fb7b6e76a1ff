import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { storeKind } from './storage/open-store.ts';

/** Entry point: load config, build the app, listen, shut down cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const app = await createApp(config);
  const port = await app.listen();
  app.logger.info(
    {
      port,
      host: config.host,
      storage: storeKind(config),
      fanout: config.redisClusterNodes ? 'redis-cluster' : config.redisUrl ? 'redis' : 'memory',
    },
    `live comments listening on http://localhost:${port}`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      app.logger.error('shutdown took longer than 10 s; exiting');
      process.exit(1);
    }, 10_000);
    deadline.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.logger.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('unhandledRejection', (reason) => app.logger.error({ err: reason }, 'unhandled rejection'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

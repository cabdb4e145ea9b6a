import 'reflect-metadata';
import pino from 'pino';
import { ConfigError, loadConfig } from './config';
import { startServer } from './server';
import { StartupError } from '../core/startup-error';

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // Synchronous, so the last lines before process.exit are not lost.
  const log = pino({ level: config.logLevel }, pino.destination({ dest: 1, sync: true }));
  const server = await startServer(config, { log });
  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) return;
    signalled = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    server.stop().then(
      () => { log.info('stopped'); process.exit(0); },
      (err) => { log.error({ err }, 'shutdown failed'); process.exit(1); },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  // A cause the operator fixes is said in one line; for anything else the stack is the clue.
  const why = err instanceof StartupError ? err.message : err instanceof Error ? err.stack : `${String(err)} (thrown without an Error)`;
  process.stderr.write(`ModelGraph failed to start: ${why}\n`);
  process.exit(1);
});

// First: tracing, when on, must patch http, express, graphql and pg before they are loaded.
import { stopTracing } from './tracing';
import 'reflect-metadata';
import pino from 'pino';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logging';
import { RunningServer, startServer } from './server';
import { takeOverShutdownSignals } from '../core/db/embedded-postgres';
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
  const log = createLogger(config.logLevel, pino.destination({ dest: 1, sync: true }));
  // The origin only: a URL may carry credentials.
  if (config.tracing.endpoint) log.info({ endpoint: new URL(config.tracing.endpoint).origin }, 'sending OpenTelemetry traces over OTLP');
  // The signals are ours from before the start: one that comes while the server starts stops
  // it as soon as it is up, database included, instead of killing the process halfway.
  let server: RunningServer | null = null;
  let signalled = false;
  const stop = (running: RunningServer) => {
    // The spans still buffered are sent once the server has stopped, before the process exits.
    running.stop().then(stopTracing).then(
      () => { log.info('stopped'); process.exit(0); },
      (err) => { log.error({ err }, 'shutdown failed'); process.exit(1); },
    );
  };
  const shutdown = (signal: string) => {
    if (signalled) return;
    signalled = true;
    log.info({ signal }, server ? 'shutting down: finishing in-flight requests' : 'shutting down once the start completes');
    if (server) stop(server);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // The embedded database must outlive the requests it serves: the server stops it last.
  if (!config.databaseUrl) await takeOverShutdownSignals();
  server = await startServer(config, { log });
  if (signalled) stop(server);
}

main().catch((err) => {
  // A cause the operator fixes is said in one line; for anything else the stack is the clue.
  const why = err instanceof StartupError ? err.message : err instanceof Error ? err.stack : `${String(err)} (thrown without an Error)`;
  process.stderr.write(`ModelGraph failed to start: ${why}\n`);
  process.exit(1);
});

/**
 * The DataSource for the TypeORM CLI (`npm run migration:run`, `migration:revert`,
 * `migration:generate`). With DATABASE_URL unset it starts the embedded PostgreSQL, like the
 * server does, so the CLI acts on the same database `npm start` uses.
 */
import 'reflect-metadata';
import { loadConfig } from './src/app/config';
import { createDataSource } from './src/app/database';
import { startEmbeddedPostgres } from './src/core/db/embedded-postgres';

export const dataSource = (async () => {
  const config = loadConfig();
  const url = config.databaseUrl ?? (await startEmbeddedPostgres(config.dataDir, () => undefined)).url;
  return createDataSource(url, 2);
})();

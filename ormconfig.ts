/**
 * The DataSource for the TypeORM CLI (`npm run migration:run`, `migration:revert`,
 * `migration:generate`). With DATABASE_URL unset it starts the embedded PostgreSQL, like the
 * server does, so the CLI acts on the same database `npm start` uses.
 */
import 'reflect-metadata';
import { loadConfig } from './src/config';
import { createDataSource } from './src/db/data-source';
import { startEmbeddedPostgres } from './src/db/embedded-postgres';

export const dataSource = (async () => {
  const config = loadConfig();
  const url = config.databaseUrl ?? (await startEmbeddedPostgres(config.dataDir, () => undefined)).url;
  return createDataSource(url, 2);
})();

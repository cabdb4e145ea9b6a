import { DataSource, Logger as TypeOrmLogger } from 'typeorm';
import type { Logger } from 'pino';

/** Counts SQL statements; tests assert on it to prove nested reads are batched. */
export class SqlStatementCounter implements TypeOrmLogger {
  count = 0;
  constructor(private readonly out?: Logger) {}
  logQuery(query: string, parameters?: unknown[]) {
    this.count++;
    this.out?.debug({ query, parameters }, 'sql');
  }
  logQueryError(error: string | Error, query: string) {
    this.out?.debug({ err: error, query }, 'sql failed');
  }
  logQuerySlow(time: number, query: string) {
    this.out?.warn({ time, query }, 'slow sql');
  }
  logSchemaBuild() {}
  logMigration(message: string) {
    this.out?.info(message);
  }
  log(level: 'log' | 'info' | 'warn', message: unknown) {
    if (level === 'warn') this.out?.warn(String(message));
  }
}

/** A class, as TypeORM takes entities and migrations: by their constructors. */
export type Class = abstract new (...args: never[]) => object;

export interface DataSourceOptions {
  url: string;
  poolSize: number;
  /** The entities of every module, as the composition root lists them. */
  entities: Class[];
  migrations: Class[];
  logger?: TypeOrmLogger;
}

export function openDataSource({ url, poolSize, entities, migrations, logger }: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities,
    migrations,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logger,
    // Our logger counts statements, so it must see every one; without it, stay quiet.
    logging: logger !== undefined,
    maxQueryExecutionTime: 1000,
    extra: { max: poolSize },
  });
}

/**
 * Runs pending migrations under an advisory lock, so that several servers (or test workers)
 * starting at once against one database apply each migration exactly once.
 */
export async function migrate(ds: DataSource): Promise<void> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query(`SELECT pg_advisory_lock(hashtext('modelgraph.migrations'))`);
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await runner.query(`SELECT pg_advisory_unlock(hashtext('modelgraph.migrations'))`).catch(() => undefined);
    await runner.release();
  }
}

/** True when every migration this build knows has been applied. */
export async function migrationsApplied(ds: DataSource): Promise<boolean> {
  return !(await ds.showMigrations());
}

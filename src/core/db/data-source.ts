import { DataSource, EntityManager, Logger as TypeOrmLogger, MigrationExecutor, QueryRunner } from 'typeorm';
import type { Logger } from 'pino';
import { AfterCommitSubscriber } from './after-commit';

/** Counts SQL statements; tests assert on it to prove nested reads are batched. */
export class SqlStatementCounter implements TypeOrmLogger {
  /** Every statement sent. */
  count = 0;
  /**
   * Of `count`, the statements sent to authenticate callers (`authenticating`). Whether a
   * request sends any depends on the key cache (a 30 s TTL, off while the LISTEN connection
   * is down) and on when the key's lastUsedAt was last written, not on the operation: a
   * measurement of what an operation costs leaves them out.
   */
  authentication = 0;
  /**
   * Of `count`, the statements of work no request waits for (`inBackground`): the monitor timer,
   * tasks run after a commit. When they run depends on the clock, not on the operation measured.
   */
  background = 0;
  /** Of `count`, the statements of stream horizons (EventHub): one per channel and round, whatever the subscribers. */
  horizon = 0;
  constructor(private readonly out?: Logger) {}
  logQuery(query: string, parameters?: unknown[], queryRunner?: QueryRunner) {
    this.count++;
    if (queryRunner?.data?.purpose === AUTHENTICATION) this.authentication++;
    else if (queryRunner?.data?.purpose === BACKGROUND) this.background++;
    else if (queryRunner?.data?.purpose === 'horizon') this.horizon++;
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

const AUTHENTICATION = 'authentication';
const BACKGROUND = 'background';

/**
 * Runs `fn` (a caller's key lookup) on a query runner of its own, marked so that
 * SqlStatementCounter counts its statements as `authentication`. The runner takes a pooled
 * connection only if `fn` sends a statement.
 */
export async function authenticating<T>(db: DataSource, fn: (m: EntityManager) => Promise<T>): Promise<T> {
  const runner = db.createQueryRunner();
  runner.data = { purpose: AUTHENTICATION };
  try {
    return await fn(runner.manager);
  } finally {
    await runner.release();
  }
}

/**
 * Runs `fn` in a transaction on a query runner of its own, marked so that SqlStatementCounter
 * counts its statements as `background`: work on a timer or after a commit, which a measurement
 * of what a request costs leaves out.
 */
export async function inBackground<T>(db: DataSource, fn: (m: EntityManager) => Promise<T>): Promise<T> {
  const runner = db.createQueryRunner();
  runner.data = { purpose: BACKGROUND };
  try {
    return await runner.manager.transaction(fn);
  } finally {
    await runner.release();
  }
}

/**
 * One statement outside any transaction, its count `background` like inBackground's: for
 * work that follows a request without the request waiting for it (the points announcement
 * after a commit), which would otherwise land in whichever measurement is running when it goes.
 */
export async function backgroundQuery<T = unknown>(db: DataSource, sql: string, params: unknown[]): Promise<T> {
  const runner = db.createQueryRunner();
  runner.data = { purpose: BACKGROUND };
  try {
    return await runner.query(sql, params);
  } finally {
    await runner.release();
  }
}

/** Bounds on every pooled session's work, so one caller cannot hold a connection or a lock for long. */
export interface SessionLimits {
  /** Longest a statement may run (`statement_timeout`); 0: no bound. */
  statementTimeoutMs: number;
  /** Longest a statement waits for a lock (`lock_timeout`); 0: no bound. */
  lockTimeoutMs: number;
  /** Longest a transaction may sit idle (`idle_in_transaction_session_timeout`); 0: no bound. */
  idleInTransactionTimeoutMs: number;
}

/**
 * Settings every session of the pool starts with, sent in the startup packet so no extra
 * statement is spent. TimeZone=UTC always: day-wide buckets and dates are computed in UTC
 * whatever the database's own zone (the embedded one takes the OS zone at initdb), so bucket
 * labels never shift across a daylight-saving change.
 */
export function sessionOptions(limits?: SessionLimits): string {
  const settings = ['-c TimeZone=UTC'];
  if (limits) {
    settings.push(`-c statement_timeout=${limits.statementTimeoutMs}`, `-c lock_timeout=${limits.lockTimeoutMs}`);
    settings.push(`-c idle_in_transaction_session_timeout=${limits.idleInTransactionTimeoutMs}`);
  }
  return settings.join(' ');
}

/** A class, as TypeORM takes entities and migrations: by their constructors. */
export type Class = abstract new (...args: never[]) => object;

export interface DataSourceOptions {
  url: string;
  poolSize: number;
  /** Timeouts of the pool's sessions; none for tools (migrations from the CLI, benchmarks' seeding). */
  session?: SessionLimits;
  /** The entities of every module, as the composition root lists them. */
  entities: Class[];
  migrations: Class[];
  logger?: TypeOrmLogger;
}

export function openDataSource({ url, poolSize, entities, migrations, logger, session }: DataSourceOptions): DataSource {
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
    // Runs the tasks queued with afterCommit() once their transaction commits.
    subscribers: [AfterCommitSubscriber],
    extra: { max: poolSize, options: sessionOptions(session) },
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
    // Migrations may rewrite large tables: on this session only, the request timeouts do not apply.
    await runner.query(`SET statement_timeout = 0; SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0`);
    const executor = new MigrationExecutor(ds, runner);
    executor.transaction = 'each';
    await executor.executePendingMigrations();
  } finally {
    // Back to the pool's own timeouts (those of the startup packet) before the connection is reused.
    await runner.query(`RESET statement_timeout; RESET lock_timeout; RESET idle_in_transaction_session_timeout`).catch(() => undefined);
    await runner.query(`SELECT pg_advisory_unlock(hashtext('modelgraph.migrations'))`).catch(() => undefined);
    await runner.release();
  }
}

/** True when every migration this build knows has been applied. */
export async function migrationsApplied(ds: DataSource): Promise<boolean> {
  return !(await ds.showMigrations());
}

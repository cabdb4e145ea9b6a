import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { SqlStatementCounter, migrate } from '../src/core/db/data-source';
import { createDataSource } from '../src/app/database';
import { EmbeddedDatabase, startEmbeddedPostgres } from '../src/core/db/embedded-postgres';

/** The database a bench run works in: created for the run, dropped after it. */
export interface BenchDatabase {
  /** URL of the run's own database. */
  url: string;
  /** URL of the server's maintenance database, for reading statistics without adding to them. */
  adminUrl: string;
  name: string;
  /** `SELECT version()` of the server. */
  serverVersion: string;
  /** 'DATABASE_URL' or 'embedded'. */
  origin: string;
  /** Drops the database and stops the embedded server, if one was started. Safe to call twice. */
  dispose(): Promise<void>;
}

/**
 * Creates `modelgraph_bench_<timestamp>` on DATABASE_URL's server, or on an embedded
 * PostgreSQL in a temporary directory when that is unset, and builds the schema with
 * ModelGraph's own migrations.
 */
export async function createBenchDatabase(databaseUrl: string | null, log: (msg: string) => void): Promise<BenchDatabase> {
  let embedded: EmbeddedDatabase | null = null;
  let tmpDir: string | null = null;
  let adminUrl = databaseUrl;
  if (!adminUrl) {
    tmpDir = await mkdtemp(path.join(os.tmpdir(), 'modelgraph-bench-'));
    log(`DATABASE_URL is unset: starting the embedded PostgreSQL in ${tmpDir}`);
    embedded = await startEmbeddedPostgres(tmpDir, () => undefined);
    adminUrl = embedded.url;
  }
  const name = `modelgraph_bench_${Date.now()}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;

  let created = false;
  let disposed: Promise<void> | null = null;
  const dispose = () => {
    disposed ??= (async () => {
      try {
        if (created) await adminQuery(adminUrl!, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await embedded?.stop();
        if (tmpDir) await rm(tmpDir, { recursive: true, force: true });
      }
    })();
    return disposed;
  };

  try {
    await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
    created = true;
    // A counter with no log: TypeORM would otherwise print every migration statement.
    const ds = createDataSource(url.toString(), 2, new SqlStatementCounter());
    await ds.initialize();
    try {
      await migrate(ds);
      const [{ version }] = await ds.query('SELECT version()');
      return { url: url.toString(), adminUrl, name, serverVersion: version, origin: embedded ? 'embedded' : 'DATABASE_URL', dispose };
    } finally {
      await ds.destroy();
    }
  } catch (err) {
    await dispose().catch(() => undefined);
    throw err;
  }
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

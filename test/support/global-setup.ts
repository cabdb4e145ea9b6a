import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { loadConfig } from '../../src/app/config';
import { startEmbeddedPostgres } from '../../src/core/db/embedded-postgres';

/**
 * Creates the database this test run uses, on DATABASE_URL's server when it is set, else on an
 * embedded PostgreSQL started in a temporary directory. Test files learn the URL from
 * MODELGRAPH_TEST_DATABASE_URL; the database is dropped (and the embedded server stopped) in
 * global-teardown. Nothing an earlier run left is relied on.
 */
export default async function globalSetup() {
  const config = loadConfig();
  let adminUrl = config.databaseUrl;
  if (!adminUrl) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'modelgraph-test-'));
    const embedded = await startEmbeddedPostgres(dir, () => undefined);
    (globalThis as Record<string, unknown>).__modelgraphEmbedded = { ...embedded, dir };
    adminUrl = embedded.url;
  }
  const name = `modelgraph_test_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  process.env.MODELGRAPH_TEST_DATABASE_URL = url.toString();
  (globalThis as Record<string, unknown>).__modelgraphTestDb = { adminUrl, name };
}

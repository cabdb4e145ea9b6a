import { rmSync } from 'node:fs';
import { Client } from 'pg';
import type { EmbeddedDatabase } from '../../src/core/db/embedded-postgres';

export default async function globalTeardown() {
  const g = globalThis as Record<string, unknown>;
  const db = g.__modelgraphTestDb as { adminUrl: string; name: string } | undefined;
  if (db) {
    const admin = new Client({ connectionString: db.adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`);
    await admin.end();
  }
  const embedded = g.__modelgraphEmbedded as (EmbeddedDatabase & { dir: string }) | undefined;
  if (embedded) {
    await embedded.stop();
    rmSync(embedded.dir, { recursive: true, force: true });
  }
}

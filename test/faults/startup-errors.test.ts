import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { freePort } from '../../src/core/db/embedded-postgres';
import { scratchDatabase, startTestServer } from '../support/harness';
import { ServerProcess, spawnServer, tempDir, until } from './support';

/**
 * The two ways a start most often fails on a workstation, as an operator meets them: the built
 * server run as a child process (as `npm start` runs it), its exit code and its whole stderr.
 * Each failure is one line that says what to do, and the failed start leaves nothing behind.
 */

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'src', 'app', 'main.js');

/** Runs the built server to its exit (it is expected to fail at once) and returns what it said. */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** SIGTERM, as an operator stops it, so the server stops its embedded PostgreSQL too (SIGKILL would orphan it). */
async function stopGracefully(s: ServerProcess | null): Promise<void> {
  if (!s?.running()) return;
  s.child.kill('SIGTERM');
  await s.exited;
}

describe('a start that cannot serve', () => {
  test('a busy port: one line, exit 1, and nothing created (no data directory, no migrations, no admin key)', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const data = tempDir('modelgraph-busy-port-');
    const dataDir = path.join(data.dir, 'never-made');
    // An empty database: a start that got as far as the database would migrate it and make the first admin key there.
    const db = await scratchDatabase();
    try {
      const run = await runToExit({ PORT: String(port), DATABASE_URL: db.url, MODELGRAPH_DATA_DIR: dataDir });
      expect(run.stderr).toBe(
        `ModelGraph failed to start: The port ${port} on 127.0.0.1 is already in use (by another ModelGraph or another program): stop it, or set PORT to a free port (PORT=0 takes any)\n`,
      );
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(existsSync(dataDir)).toBe(false);
      const pg = new PgClient({ connectionString: db.url });
      await pg.connect();
      try {
        const { rows } = await pg.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`);
        expect(rows[0].n).toBe(0);
      } finally {
        await pg.end();
      }
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
      await db.drop();
      data.remove();
    }
  });

  test('a data directory in use by another running ModelGraph: one line naming it, exit 1, the first server untouched', async () => {
    const data = tempDir('modelgraph-in-use-');
    let first: ServerProcess | null = null;
    try {
      // The first server: the embedded PostgreSQL on this data directory, and the first admin key it made.
      first = await spawnServer({ LOG_LEVEL: 'warn' }, await freePort(), data.dir);
      const keyFile = path.join(data.dir, 'admin-key');
      const key = readFileSync(keyFile, 'utf8');
      const pid = Number(readFileSync(path.join(data.dir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);

      const run = await runToExit({ PORT: String(await freePort()), MODELGRAPH_DATA_DIR: data.dir });
      expect(run.stderr).toBe(
        `ModelGraph failed to start: The data directory ${data.dir} is in use by another ModelGraph (its PostgreSQL, pid ${pid}, is running): stop that server (or that process, if its server was killed), or set MODELGRAPH_DATA_DIR to another directory\n`,
      );
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(readFileSync(keyFile, 'utf8')).toBe(key);
      // The first server still serves on its database.
      const res = await fetch(`${first.base}/readyz`);
      expect(res.status).toBe(200);
    } finally {
      await stopGracefully(first);
      data.remove();
    }
  });
});

test('while the server starts, its bound port answers 503 with a retryable UNAVAILABLE, and serves once started', async () => {
  const db = await scratchDatabase();
  // The first start's admin key waits for this lock (bootstrapAdminKey), so the start stays at
  // that step, after the port is bound, for as long as the test holds it.
  const holder = new PgClient({ connectionString: db.url });
  await holder.connect();
  const port = await freePort();
  let starting: ReturnType<typeof startTestServer> | null = null;
  try {
    await holder.query('BEGIN');
    await holder.query(`SELECT pg_advisory_xact_lock(hashtext('modelgraph.bootstrap'))`);
    starting = startTestServer({ DATABASE_URL: db.url, PORT: String(port) });
    const base = `http://127.0.0.1:${port}`;
    const graphql = await until('the port to answer', async () => {
      try {
        return await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ viewer { name } }"}' });
      } catch {
        return null;
      }
    });
    expect(graphql.status).toBe(503);
    expect(graphql.headers.get('retry-after')).toBe('1');
    expect(await graphql.json()).toEqual({ errors: [{ message: 'The server is starting; retry', extensions: { code: 'UNAVAILABLE', retryable: true } }] });
    const ready = await fetch(`${base}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([503, { status: 'starting' }]);

    await holder.query('COMMIT');
    const t = await starting;
    expect((await t.ok('{ viewer { role } }')).viewer.role).toBe('ADMIN');
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  } finally {
    // Ends the lock's transaction if a failure left it open, so the start can finish and be stopped.
    await holder.end();
    const t = await starting?.catch(() => null);
    await t?.stop();
    await db.drop();
  }
});

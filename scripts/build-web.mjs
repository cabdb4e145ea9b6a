// Bundles the browser apps: every web/<app>/index.ts(x) becomes dist/web/<app>/ (index.js,
// index.css when the app imports CSS, index.html copied from web/<app>/index.html), which the
// server serves from disk. Everything the page loads is bundled here from npm packages, so a
// page needs nothing from outside hosts.
//
//   node scripts/build-web.mjs            every app under web/
//   node scripts/build-web.mjs dashboard  only the apps named
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const webDir = path.join(root, 'web');
const outRoot = path.join(root, 'dist', 'web');

/** The apps under web/: the folders with an index.ts or index.tsx, and that entry. */
function apps() {
  return readdirSync(webDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      const entry = ['index.ts', 'index.tsx'].map((f) => path.join(webDir, d.name, f)).find((f) => existsSync(f));
      return entry ? { name: d.name, entry } : null;
    })
    .filter(Boolean);
}

const all = apps();
const asked = process.argv.slice(2);
const unknown = asked.filter((a) => !all.some((app) => app.name === a));
if (unknown.length) {
  console.error(`build-web: no app ${unknown.join(', ')} under web/ (apps: ${all.map((a) => a.name).join(', ')})`);
  process.exit(2);
}
const chosen = asked.length ? all.filter((a) => asked.includes(a.name)) : all;

for (const app of chosen) {
  const out = path.join(outRoot, app.name);
  // A file left from an earlier build (a renamed chunk) must not be served.
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: { index: app.entry },
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const html = path.join(webDir, app.name, 'index.html');
  if (!existsSync(html)) {
    console.error(`build-web: web/${app.name}/index.html is missing`);
    process.exit(1);
  }
  copyFileSync(html, path.join(out, 'index.html'));
}

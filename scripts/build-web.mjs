// Bundles the browser apps in web/ at build time, so the server serves them from its own files
// and a browser loads nothing from another host (no CDN, works offline).
//
// Every folder web/<app>/ with an index.ts or index.tsx is one app, written to dist/web/<app>/:
//   index.js, index.css   the entry and the CSS it imports (fonts and images next to them)
//   <name>.worker.js      one per web/<app>/<name>.worker.ts: Web Workers are separate scripts
//   *.js.gz, *.css.gz     gzip copies, for browsers that accept them
//   index.html            web/<app>/index.html, which loads /assets/<app>/index.css and index.js
// The server serves dist/web/<app>/ at /assets/<app>/ (src/app/web.ts), so pages name their
// files /assets/<app>/...: the page of an app is served at paths of its own (/graphql, /dashboard).
//
//   node scripts/build-web.mjs            every app under web/
//   node scripts/build-web.mjs dashboard  only the apps named (a test builds the one it drives)
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const webDir = join(root, 'web');
const outRoot = join(root, 'dist', 'web');
/** The URL path the server serves dist/web/ under (src/app/web.ts ASSETS_PATH). */
const ASSETS_PATH = '/assets';

/** The apps: folders of web/ with an index.ts(x) entry. */
function apps() {
  if (!existsSync(webDir)) return [];
  return readdirSync(webDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      const dir = join(webDir, d.name);
      const entry = ['index.tsx', 'index.ts'].map((f) => join(dir, f)).find((f) => existsSync(f));
      const workers = readdirSync(dir).filter((f) => f.endsWith('.worker.ts')).map((f) => join(dir, f));
      if (!entry) return null;
      const html = join(dir, 'index.html');
      if (!existsSync(html)) throw new Error(`web/${d.name}/ has no index.html: the page that loads ${ASSETS_PATH}/${d.name}/index.css and index.js`);
      return { name: d.name, dir, entry, workers, html };
    })
    .filter(Boolean);
}

async function buildApp(app) {
  const outdir = join(outRoot, app.name);
  // A file left from an earlier build (a renamed asset) must not be served.
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const common = {
    bundle: true,
    minify: true,
    target: ['es2022'],
    platform: 'browser',
    // React and the libraries read NODE_ENV to drop their development checks.
    define: { 'process.env.NODE_ENV': '"production"' },
    // Fonts and images travel with the CSS that names them, served from the same folder.
    loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file', '.png': 'file' },
    assetNames: '[name]-[hash]',
    outdir,
    logLevel: 'warning',
  };
  // Classic scripts (IIFE): the page's and each worker's is one file that needs no module loading.
  const entries = [['index', app.entry], ...app.workers.map((w) => [w.slice(app.dir.length + 1).replace(/\.ts$/, ''), w])];
  await Promise.all(entries.map(([name, file]) => build({ ...common, entryPoints: { [name]: file }, format: 'iife' })));
  // A gzip copy of each script and style sheet, which the server sends to browsers that accept
  // it (the explorer's script is 5.2 MB, 1.4 MB gzipped): compressed once here, not per request.
  for (const file of readdirSync(outdir).filter((f) => /\.(js|css)$/.test(f))) {
    writeFileSync(join(outdir, `${file}.gz`), gzipSync(readFileSync(join(outdir, file)), { level: 9 }));
  }
  copyFileSync(app.html, join(outdir, 'index.html'));
}

const all = apps();
const asked = process.argv.slice(2);
const unknown = asked.filter((a) => !all.some((app) => app.name === a));
if (unknown.length) {
  console.error(`build-web: no app ${unknown.join(', ')} under web/ (apps: ${all.map((a) => a.name).join(', ')})`);
  process.exit(2);
}
await Promise.all((asked.length ? all.filter((a) => asked.includes(a.name)) : all).map(buildApp));

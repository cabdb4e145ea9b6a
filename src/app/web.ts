import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express, { Express, NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

/** The URL path of dist/web/: scripts/build-web.mjs writes pages that name their files under it. */
export const ASSETS_PATH = '/assets';

/**
 * The policy of every page and file this server sends to browsers: scripts, styles, workers and
 * connections from this origin only ('self' covers ws:// and wss:// to it), so nothing loads from
 * another host. Fonts and images may also be data: URLs (GraphiQL's CSS inlines its fonts).
 * Inline styles are allowed: GraphiQL's editor (Monaco) and its components set style
 * attributes and write <style> elements (without it, Chromium reports hundreds of violations).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function browserHeaders(res: Response): void {
  res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
}

/**
 * The folder holding package.json: src/app/ when run from sources (tests), dist/src/app/ when
 * run from the build (npm start); dist/ has no package.json of its own.
 */
function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
  return dir;
}

const ROOT = projectRoot();
/** What scripts/build-web.mjs built: one folder per app of web/. */
export const WEB_BUILD_DIR = path.join(ROOT, 'dist', 'web');
export const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** A browser app of web/ as built into dist/web/<name>/. */
export class WebApp {
  readonly dir: string;

  constructor(readonly name: string) {
    this.dir = path.join(WEB_BUILD_DIR, name);
  }

  /** False until `npm run build` has bundled it. */
  get built(): boolean {
    return existsSync(path.join(this.dir, 'index.html'));
  }

  /** Serves the app's files at /assets/<name>/. */
  serveAssets(app: Express): void {
    app.use(
      `${ASSETS_PATH}/${this.name}`,
      (_req: Request, res: Response, next: NextFunction) => { browserHeaders(res); next(); },
      (req: Request, res: Response, next: NextFunction) => this.sendGzipped(req, res, next),
      // Names carry no hash: a browser revalidates (ETag) instead of keeping an old build.
      express.static(this.dir, { index: false, cacheControl: true, maxAge: 0, fallthrough: false }),
    );
  }

  /** A script or style sheet as the gzip copy the build made of it, to a browser that accepts gzip. */
  private sendGzipped(req: Request, res: Response, next: NextFunction): void {
    if (!/\.(js|css)$/.test(req.path)) { next(); return; }
    res.vary('Accept-Encoding');
    if (!/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) { next(); return; }
    let file: string;
    try {
      file = path.join(this.dir, decodeURIComponent(req.path));
    } catch {
      next();
      return;
    }
    if (!file.startsWith(this.dir + path.sep) || !existsSync(`${file}.gz`)) { next(); return; }
    // The type of the file, not of .gz (send keeps a content-type already set).
    res.type(path.extname(file));
    res.setHeader('content-encoding', 'gzip');
    res.sendFile(`${file}.gz`, { cacheControl: true, maxAge: 0 }, (err) => { if (err) next(err); });
  }

  /** Sends the app's page, or a 503 that says to build it. */
  sendPage(res: Response): void {
    browserHeaders(res);
    res.setHeader('cache-control', 'no-cache');
    if (!this.built) {
      res.status(503).type('text/plain').send(`The ${this.name} is not built: run \`npm run build\` (it bundles web/${this.name}/ into dist/web/${this.name}/).\n`);
      return;
    }
    res.sendFile(path.join(this.dir, 'index.html'));
  }
}

/**
 * A browser opening the URL: a GET (or HEAD) that accepts HTML by name and carries no GraphQL
 * `query` parameter. GraphQL clients send Accept: application/json or
 * application/graphql-response+json (or none), and a GET with a query is an operation.
 */
export function wantsPage(req: Request): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (req.query && typeof req.query === 'object' && 'query' in req.query) return false;
  return /(^|,)\s*text\/html\s*(;|,|$)/i.test(String(req.headers.accept ?? ''));
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function landingPage(explorer: WebApp | null, dashboard: WebApp): string {
  const item = (href: string, title: string, text: string) =>
    `<li><a href="${href}">${escapeHtml(title)}</a>: ${escapeHtml(text)}</li>`;
  const explorerItem = !explorer
    ? '<li>Explorer: turned off on this server (<code>MODELGRAPH_EXPLORER=false</code>).</li>'
    : item('/graphql', 'Explorer', 'GraphiQL on this server: run queries, mutations and subscriptions with your API key, and read the schema in its Docs pane.');
  const dashboardItem = dashboard.built
    ? item('/dashboard', 'Dashboard', 'live charts of metric series, alias history, open alerts.')
    : '<li>Dashboard (<code>/dashboard</code>): not part of this build.</li>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ModelGraph ${escapeHtml(VERSION)}</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 3rem auto; padding: 0 1rem; color: #1b1f24; }
code { font-size: 0.9em; background: #f2f4f7; padding: 0 0.25em; border-radius: 3px; }
li { margin: 0.4rem 0; }
</style>
</head>
<body>
<h1>ModelGraph</h1>
<p>The GraphQL system of record for models, datasets, evaluations and live monitoring. Version <strong id="version">${escapeHtml(VERSION)}</strong>.</p>
<ul>
${explorerItem}
${dashboardItem}
<li>API: <code>POST /graphql</code> with <code>Authorization: Bearer &lt;key&gt;</code>; subscriptions over graphql-ws (WebSocket) on the same path.</li>
<li>Docs: the README and <code>docs/</code> of the repository (running, configuration, the API in brief); every type and field is described in the schema (<code>schema/schema.graphql</code>, and the explorer's Docs pane).</li>
<li>Health: <a href="/healthz">/healthz</a>, readiness: <a href="/readyz">/readyz</a>.</li>
</ul>
</body>
</html>
`;
}

/**
 * The pages for browsers: the landing page at /, and the explorer (GraphiQL) at GET /graphql
 * when a browser asks for HTML, with its files under /assets/explorer/. Registered before the
 * GraphQL routes; any request that is not a browser's page view goes on to them unchanged.
 */
export function mountWeb(app: Express, opts: { explorer: boolean; log: Logger }): void {
  const explorer = opts.explorer ? new WebApp('explorer') : null;
  const dashboard = new WebApp('dashboard');
  if (explorer && !explorer.built) opts.log.warn({ dir: explorer.dir }, 'the explorer is not built (npm run build): GET /graphql from a browser answers 503');
  app.get('/', (_req, res) => {
    browserHeaders(res);
    res.setHeader('cache-control', 'no-cache');
    res.type('html').send(landingPage(explorer, dashboard));
  });
  if (!explorer) return;
  explorer.serveAssets(app);
  app.get('/graphql', (req, res, next) => {
    if (!wantsPage(req)) { next(); return; }
    res.vary('Accept');
    explorer.sendPage(res);
  });
}

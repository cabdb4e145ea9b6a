import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express, { Express, NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Config } from './config';

/** The URL path of dist/web/: scripts/build-web.mjs writes pages that name their files under it. */
export const ASSETS_PATH = '/assets';

/** A Host header that can go into a policy as it is: a name or address, and a port. */
const HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/** What a page needs beyond this origin's own files, named in its policy. */
export interface PolicyExtras {
  /** Sources of styles besides 'self': 'unsafe-inline', or the hash of an inline <style>. */
  styles?: string[];
  /** Sources of fonts besides 'self' (data: for fonts a style sheet inlines). */
  fonts?: string[];
}

/**
 * The policy of a page or file this server sends to browsers: scripts, styles, workers and
 * connections from this origin only, so nothing loads from another host, plus what `extras`
 * names for the one page that needs it (each app states its own in WEB_APPS: no page gets
 * another's allowances). 'self' covers ws: and wss: to this host in CSP 3; the host is named
 * too for browsers that predate it.
 */
export function contentSecurityPolicy(host: string | undefined, extras: PolicyExtras = {}): string {
  const sockets = host && HOST.test(host) ? ` ws://${host} wss://${host}` : '';
  const also = (sources?: string[]) => (sources?.length ? ` ${sources.join(' ')}` : '');
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self'${also(extras.styles)}`,
    "img-src 'self' data:",
    `font-src 'self'${also(extras.fonts)}`,
    `connect-src 'self'${sockets}`,
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function browserHeaders(req: Request, res: Response, extras?: PolicyExtras): void {
  res.setHeader('content-security-policy', contentSecurityPolicy(req.headers.host, extras));
  res.setHeader('x-content-type-options', 'nosniff');
  // The dashboard's URL holds the project, model and alias chosen: no other site learns them.
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

/** The settings that turn the apps on and off. */
type WebAppSwitch = 'explorer' | 'dashboard';

/** A browser app of web/<name>/, as the server serves it. */
export interface WebAppSpec {
  name: string;
  /** How the landing page names and describes it. */
  title: string;
  description: string;
  /** The setting that turns it off, and its name in Config. */
  setting: string;
  configKey: WebAppSwitch;
  /** Where its page is served (its files are under /assets/<name>/). */
  pagePath: string;
  /**
   * The page's path is the API's too (/graphql): only a browser's page view (wantsPage) gets the
   * page, every other request goes on to the API unchanged.
   */
  sharesApiPath: boolean;
  /** What its page needs beyond the strict policy, and nothing more. */
  policy: PolicyExtras;
}

/**
 * GraphiQL. Its editor (Monaco) and its components set style attributes and write <style>
 * elements (without 'unsafe-inline', Chromium reports hundreds of violations), and its CSS
 * inlines its fonts as data: URLs.
 */
export const EXPLORER: WebAppSpec = {
  name: 'explorer',
  title: 'Explorer',
  description: 'GraphiQL on this server: run queries, mutations and subscriptions with your API key, and read the schema in its Docs pane.',
  setting: 'MODELGRAPH_EXPLORER',
  configKey: 'explorer',
  pagePath: '/graphql',
  sharesApiPath: true,
  policy: { styles: ["'unsafe-inline'"], fonts: ['data:'] },
};

/**
 * The live dashboard: its styles are its own style sheet, and uPlot sizes its canvas through
 * the CSSOM (element.style), which a policy does not govern; so it needs nothing beyond 'self'.
 */
export const DASHBOARD: WebAppSpec = {
  name: 'dashboard',
  title: 'Dashboard',
  description: 'live charts of the metric series of the version an alias points to, open alerts, alias history, versions side by side.',
  setting: 'MODELGRAPH_DASHBOARD',
  configKey: 'dashboard',
  pagePath: '/dashboard',
  sharesApiPath: false,
  policy: {},
};

/** The apps of web/ this server knows, in the landing page's order. */
export const WEB_APPS: readonly WebAppSpec[] = [EXPLORER, DASHBOARD];

/** A browser app of web/ as built into dist/web/<name>/ (or `dir`). */
export class WebApp {
  constructor(readonly spec: WebAppSpec, readonly dir = path.join(WEB_BUILD_DIR, spec.name)) {}

  get name(): string {
    return this.spec.name;
  }

  /** False until `npm run build` has bundled it. */
  get built(): boolean {
    return existsSync(path.join(this.dir, 'index.html'));
  }

  /** Serves the app's files at /assets/<name>/ and its page at its path. */
  mount(app: Express): void {
    app.use(
      `${ASSETS_PATH}/${this.name}`,
      (req: Request, res: Response, next: NextFunction) => { browserHeaders(req, res, this.spec.policy); next(); },
      (req: Request, res: Response, next: NextFunction) => this.sendGzipped(req, res, next),
      // Names carry no hash: a browser revalidates (ETag) instead of keeping an old build.
      express.static(this.dir, { index: false, cacheControl: true, maxAge: 0, fallthrough: false }),
    );
    // Express matches the path with and without a trailing slash (/dashboard/?project=...).
    app.get(this.spec.pagePath, (req, res, next) => {
      if (this.spec.sharesApiPath) {
        if (!wantsPage(req)) { next(); return; }
        res.vary('Accept');
      }
      this.sendPage(req, res);
    });
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
  private sendPage(req: Request, res: Response): void {
    browserHeaders(req, res, this.spec.policy);
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

const LANDING_STYLE = `
body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 3rem auto; padding: 0 1rem; color: #1b1f24; }
code { font-size: 0.9em; background: #f2f4f7; padding: 0 0.25em; border-radius: 3px; }
li { margin: 0.4rem 0; }
`;
/** The landing page's policy allows its one inline <style> by hash, and no other. */
export const LANDING_POLICY: PolicyExtras = { styles: [`'sha256-${createHash('sha256').update(LANDING_STYLE).digest('base64')}'`] };

/** The landing page's line for an app: a link, or why there is none to follow. */
function landingItem(spec: WebAppSpec, app: WebApp | undefined): string {
  if (!app) return `<li>${escapeHtml(spec.title)}: turned off on this server (<code>${spec.setting}=false</code>).</li>`;
  const link = `<a href="${spec.pagePath}">${escapeHtml(spec.title)}</a>`;
  if (!app.built) return `<li>${link}: not built on this server (<code>npm run build</code>).</li>`;
  return `<li>${link}: ${escapeHtml(spec.description)}</li>`;
}

function landingPage(apps: Map<WebAppSpec, WebApp>): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ModelGraph ${escapeHtml(VERSION)}</title>
<style>${LANDING_STYLE}</style>
</head>
<body>
<h1>ModelGraph</h1>
<p>The GraphQL system of record for models, datasets, evaluations and live monitoring. Version <strong id="version">${escapeHtml(VERSION)}</strong>.</p>
<ul>
${WEB_APPS.map((spec) => landingItem(spec, apps.get(spec))).join('\n')}
<li>API: <code>POST /graphql</code> with <code>Authorization: Bearer &lt;key&gt;</code>; subscriptions over graphql-ws (WebSocket) on the same path.</li>
<li>Docs: the README and <code>docs/</code> of the repository (running, configuration, the API in brief); every type and field is described in the schema (<code>schema/schema.graphql</code>, and the explorer's Docs pane).</li>
<li>Health: <a href="/healthz">/healthz</a>, readiness: <a href="/readyz">/readyz</a>.</li>
</ul>
</body>
</html>
`;
}

/**
 * The pages for browsers: the landing page at /, the explorer (GraphiQL) at GET /graphql when a
 * browser asks for HTML, the dashboard at /dashboard, each app's files under /assets/<app>/.
 * Registered before the GraphQL routes; any request that is not a browser's page view goes on to
 * them unchanged. An app turned off serves nothing at all.
 */
export function mountWeb(app: Express, opts: Pick<Config, WebAppSwitch> & { log: Logger }): void {
  const apps = new Map(WEB_APPS.filter((spec) => opts[spec.configKey]).map((spec) => [spec, new WebApp(spec)]));
  for (const web of apps.values()) {
    if (!web.built) opts.log.warn({ dir: web.dir }, `the ${web.name} is not built (npm run build): its page ${web.spec.pagePath} answers 503`);
  }
  app.get('/', (req, res) => {
    browserHeaders(req, res, LANDING_POLICY);
    res.setHeader('cache-control', 'no-cache');
    res.type('html').send(landingPage(apps));
  });
  for (const web of apps.values()) web.mount(app);
}

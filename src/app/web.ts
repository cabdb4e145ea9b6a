import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { NextFunction, Request, Response, Router } from 'express';

/** The package's folder (the one with package.json), found the same from src/app and from dist/src/app. */
function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
  return dir;
}

/** Where scripts/build-web.mjs puts the bundle of web/<app>. */
export function builtWebApp(app: string): string {
  return path.join(packageRoot(), 'dist', 'web', app);
}

/** A Host header that can go into a policy as it is: a name or address, and a port. */
const HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * The page may load and connect to nothing but this server: its scripts and styles are its own
 * files (no inline code), and its only connections are /graphql over HTTP and WebSocket.
 * 'self' covers ws: and wss: of the same host in CSP 3; the host is named too for browsers
 * that predate it.
 */
function contentSecurityPolicy(host: string | undefined): string {
  const sockets = host && HOST.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
    `connect-src 'self'${sockets}`, "object-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Serves a browser app built into dist/web/<app> (index.html, index.js, index.css), under the
 * policy above. When the build has not run, says how to make it instead of answering 404.
 */
export function webAppRoutes(app: string, dir = builtWebApp(app)): Router {
  const router = Router();
  router.use((req: Request, res: Response, next: NextFunction) => {
    res.setHeader('content-security-policy', contentSecurityPolicy(req.headers.host));
    res.setHeader('x-content-type-options', 'nosniff');
    // The URL holds the project, model and alias chosen: no other site learns them.
    res.setHeader('referrer-policy', 'no-referrer');
    if (existsSync(path.join(dir, 'index.html'))) { next(); return; }
    res.status(503).type('text/plain').send(`The ${app} is not built: run \`npm run build\` (it bundles web/${app} into dist/web/${app}).\n`);
  });
  // Not fingerprinted file names: the browser revalidates (ETag) instead of keeping an old bundle.
  router.use(express.static(dir, { index: 'index.html', cacheControl: false, setHeaders: (res) => res.setHeader('cache-control', 'no-cache') }));
  return router;
}

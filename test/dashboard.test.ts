import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import type { Page, WebSocketRoute } from 'playwright-core';
import { TestServer, createKey, createModel, createProject, createVersion, startTestServer, unique } from './support/harness';
import { BrowserSession, buildWebApp, describeWithBrowser, launchBrowser } from './support/browser';
import { WAIT_MS, until } from './support/subscription';
import { EVENTS_CHANNEL, POINTS_CHANNEL } from '../src/core/events/channels';
import { DASHBOARD, WebApp, contentSecurityPolicy } from '../src/app/web';

const ROOT = path.resolve(__dirname, '..');
const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');

const RECORD = `mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`;
const SET_ALIAS = `mutation($input: SetModelAliasInput!) { setModelAlias(input: $input) { alias { revision } } }`;
const CREATE_MONITOR = `mutation($input: CreateMonitorInput!) { createMonitor(input: $input) { monitor { id name status } } }`;
const CREATE_EVALUATION = `mutation($input: CreateEvaluationInput!) { createEvaluation(input: $input) { evaluation { id } } }`;
const COMPLETE_EVALUATION = `mutation($input: CompleteEvaluationInput!) { completeEvaluation(input: $input) { evaluation { status } } }`;

const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();

let t: TestServer;
let origin: string;

beforeAll(async () => {
  await buildWebApp('dashboard');
  t = await startTestServer();
  origin = new URL(t.server.url).origin;
});
afterAll(async () => { await t?.stop(); });

describe('/dashboard over HTTP', () => {
  test('serves the page under a policy that allows only this server, its WebSocket included', async () => {
    const res = await fetch(`${origin}/dashboard/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    // The strict policy, with none of the explorer's allowances (inline styles, data: fonts).
    expect(csp).toBe(contentSecurityPolicy(new URL(origin).host));
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toContain("font-src 'self';");
    expect(csp).toContain(`connect-src 'self' ws://${new URL(origin).host} wss://${new URL(origin).host}`);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    expect(html).toContain('<script defer src="/assets/dashboard/index.js">');
    // Nothing the page names is on another host.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    // The same page without the trailing slash.
    expect(await (await fetch(`${origin}/dashboard`)).text()).toBe(html);

    const js = await fetch(`${origin}/assets/dashboard/index.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(js.headers.get('content-security-policy')).toBe(csp);
  });

  test('an app that was not built answers 503 saying how to build it', async () => {
    const app = express();
    new WebApp(DASHBOARD, path.join(ROOT, 'dist', 'web', unique('absent'))).mount(app);
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/dashboard/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toBe('The dashboard is not built: run `npm run build` (it bundles web/dashboard/ into dist/web/dashboard/).\n');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('MODELGRAPH_DASHBOARD=false turns it off', async () => {
    const off = await startTestServer({ MODELGRAPH_DASHBOARD: 'false' });
    try {
      const offOrigin = new URL(off.server.url).origin;
      expect((await fetch(`${offOrigin}/dashboard/`)).status).toBe(404);
      expect((await fetch(`${offOrigin}/assets/dashboard/index.js`)).status).toBe(404);
      expect(await (await fetch(`${offOrigin}/`)).text()).toContain('MODELGRAPH_DASHBOARD=false');
    } finally {
      await off.stop();
    }
  });
});

/** A project with a model, two versions with evaluations, an alias on v1 with history points, and a monitor following the alias. */
async function fixture() {
  const { slug } = await createProject(t, 'dash');
  const model = await createModel(t, slug, unique('ranker'));
  const v1 = await createVersion(t, model.id);
  const v2 = await createVersion(t, model.id);
  for (const [v, accuracy] of [[v1, 0.91], [v2, 0.935]] as const) {
    const e = await t.ok(CREATE_EVALUATION, { input: { modelVersionId: v.id, name: 'offline', metrics: [{ name: 'accuracy', value: accuracy, higherIsBetter: true }] } });
    await t.ok(COMPLETE_EVALUATION, { input: { evaluationId: e.createEvaluation.evaluation.id, status: 'COMPLETED' } });
  }
  await t.ok(SET_ALIAS, { input: { modelId: model.id, alias: 'production', versionNumber: 1, reason: 'first release' } });
  const monitor = (await t.ok(CREATE_MONITOR, { input: {
    projectSlug: slug, name: unique('latency-slo'), metric: 'latency_ms', modelId: model.id, alias: 'production',
    aggregation: 'LAST', windowSeconds: 3600, comparator: 'GT', threshold: 500,
  } })).createMonitor.monitor;
  const record = (points: Record<string, unknown>[]) => t.ok(RECORD, { input: { projectSlug: slug, points } });
  // Five minutes of latency, a point every 10 s, before the page opens.
  const history = Array.from({ length: 30 }, (_, i) => Math.round(110 + 25 * Math.sin(i / 2.5)));
  await record(history.map((value, i) => ({ modelVersionId: v1.id, name: 'latency_ms', timestamp: ago(300 - i * 10), value })));
  const [{ id: projectId }] = await t.server.db.query(`SELECT id FROM project WHERE slug = $1`, [slug]);
  return { slug, model, v1, v2, monitor, record, history, projectId: String(projectId) };
}

/** The chart of a metric, once it draws `points` points whose newest is `last`. */
async function chart(page: Page, metric: string, points: number, last: number) {
  await page.waitForSelector(`#charts figure[data-metric="${metric}"][data-points="${points}"][data-last-value="${last}"]`, { timeout: WAIT_MS });
}

/** What the page keeps in sessionStorage as the key (the expression runs in the page). */
const savedKey = (page: Page) => page.evaluate('sessionStorage.getItem("modelgraph.apiKey")');

type Fixture = Awaited<ReturnType<typeof fixture>>;

/** Opens the page, pastes the key and picks the fixture's project, model and alias, as a user does. */
async function pick(page: Page, f: Fixture, key: string) {
  await page.goto(`${origin}/dashboard`);
  await page.fill('#key', key);
  await page.click('#use-key');
  await page.waitForSelector(`#project option[value="${f.slug}"]`, { state: 'attached', timeout: WAIT_MS });
  await page.selectOption('#project', f.slug);
  await page.waitForSelector(`#model option[value="${f.model.name}"]`, { state: 'attached', timeout: WAIT_MS });
  await page.selectOption('#model', f.model.name);
  await page.waitForSelector('#alias option[value="production"]', { state: 'attached', timeout: WAIT_MS });
  await page.selectOption('#alias', 'production');
  await page.waitForSelector('#view[data-state="ready"]', { timeout: WAIT_MS });
}

/** Waits until the page's subscriptions (points; alerts and registry changes) are being served. */
const subscribed = (f: Fixture) => until(
  () => t.server.events.liveStreams(POINTS_CHANNEL, f.projectId) >= 1 && t.server.events.liveStreams(EVENTS_CHANNEL, f.projectId) >= 2,
  'the dashboard subscribed');

const cells = (page: Page, selector: string) =>
  page.$$eval(selector, (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? '')));

describeWithBrowser('the dashboard in chromium', () => {
  let b: BrowserSession;
  let page: Page;
  beforeAll(async () => {
    b = await launchBrowser();
    page = await b.newPage();
  });
  afterAll(async () => { await b?.close(); });

  test('paste a key, pick project, model and alias; charts, alerts, alias history and versions follow the API live', async () => {
    const f = await fixture();
    const key = await createKey(t, 'VIEWER', f.slug);
    await pick(page, f, key);

    // History first: the points recorded before the page opened.
    await chart(page, 'latency_ms', 30, f.history[29]);
    expect(await page.textContent('#title')).toContain('→ v1');
    expect(await cells(page, '#alias-history tbody tr')).toEqual([[expect.any(String), '∅ → v1', expect.any(String), 'first release']]);
    expect(await cells(page, '#comparison tbody tr')).toEqual([
      ['v2', 'READY', '', '0.935'],
      ['v1', 'READY', 'production', '0.91'],
    ]);
    expect(await page.getAttribute('#comparison tr[data-version="1"]', 'class')).toBe('current');
    expect(await cells(page, '#alerts tbody tr')).toEqual([['No open alerts in this project.']]);

    // The key is the session's, never the URL's; the URL holds the choice, for sharing.
    expect(await savedKey(page)).toBe(key);
    expect(await page.evaluate('JSON.stringify(localStorage)')).not.toContain(key);
    const url = new URL(page.url());
    expect(page.url()).not.toContain(key);
    expect(Object.fromEntries(url.searchParams)).toEqual({ project: f.slug, model: f.model.name, alias: 'production' });

    // Live from here: the page's subscriptions (points; alerts and registry changes) are being served.
    await subscribed(f);
    expect(await page.textContent('#live.connected')).toBe('live');

    await f.record([{ modelVersionId: f.v1.id, name: 'latency_ms', value: 130 }]);
    await chart(page, 'latency_ms', 31, 130);
    // A new series of the version gets its own chart as its first point arrives.
    await f.record([{ modelVersionId: f.v1.id, name: 'error_rate', labels: { region: 'eu' }, value: 0.02 }]);
    await chart(page, 'error_rate', 1, 0.02);
    expect(await page.textContent('#charts figure[data-metric="error_rate"] .labels')).toBe('region=eu');

    // A point past the monitor's threshold opens an alert, which the page shows as it opens.
    await f.record([{ modelVersionId: f.v1.id, name: 'latency_ms', value: 900 }]);
    await chart(page, 'latency_ms', 32, 900);
    await page.waitForSelector('#alerts tr[data-status="ALERT"]', { timeout: WAIT_MS });
    const [alertRow] = await cells(page, '#alerts tbody tr');
    expect(alertRow.slice(0, 4)).toEqual(['ALERT', f.monitor.name, 'latency_ms', '900']);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator('body').screenshot({ path: path.join(ARTIFACTS, 'dashboard.png') });

    // The alias moves: the charts follow it to v2, its history and the table say so, and the
    // monitor (which follows the alias too) resolves the alert on v2's first point.
    await t.ok(SET_ALIAS, { input: { modelId: f.model.id, alias: 'production', versionNumber: 2, reason: 'better accuracy' } });
    await page.waitForSelector('#view[data-version="2"]', { timeout: WAIT_MS });
    await page.waitForSelector('#alias-history tbody tr:nth-child(2)', { timeout: WAIT_MS });
    expect((await cells(page, '#alias-history tbody tr')).map((r) => [r[1], r[3]])).toEqual([['v1 → v2', 'better accuracy'], ['∅ → v1', 'first release']]);
    await f.record([{ modelVersionId: f.v1.id, name: 'latency_ms', value: 7 }, { modelVersionId: f.v2.id, name: 'latency_ms', value: 42 }]);
    await chart(page, 'latency_ms', 1, 42);
    expect(await page.$$eval('#charts figure', (fs) => fs.map((x) => x.getAttribute('data-metric')))).toEqual(['latency_ms']);
    await page.waitForSelector('#alerts tr.empty', { timeout: WAIT_MS });
    await page.waitForSelector('#comparison tr.current[data-version="2"]', { timeout: WAIT_MS });

    // A reload opens the same view from the URL and the session's key.
    await page.reload();
    await page.waitForSelector('#view[data-state="ready"]', { timeout: WAIT_MS });
    await chart(page, 'latency_ms', 1, 42);

    // Nothing left this machine, the key was in no URL, and the page met no error (a CSP violation would be one).
    expect(b.offHost()).toEqual([]);
    expect(b.refused).toEqual([]);
    expect(b.urls().filter((u) => u.includes(key))).toEqual([]);
    expect(b.webSockets.some((u) => u.startsWith(`ws://${new URL(origin).host}/graphql`))).toBe(true);
    expect(b.consoleErrors).toEqual([]);
  });

  test('after the connection drops, the page reconnects and reads what it missed meanwhile', async () => {
    const f = await fixture();
    const key = await createKey(t, 'VIEWER', f.slug);
    // A tab of its own, whose WebSockets go through the test: the first is passed on as it is;
    // the next (the page reconnecting) is held, its messages queued, until the test lets it through.
    const tab = await b.newPage();
    const sockets: { page: WebSocketRoute; server: WebSocketRoute | null }[] = [];
    let letThrough: () => void = () => undefined;
    await tab.routeWebSocket(/\/graphql$/, (ws) => {
      const socket: (typeof sockets)[number] = { page: ws, server: null };
      sockets.push(socket);
      if (sockets.length === 1) { socket.server = ws.connectToServer(); return; }
      const queued: (string | Buffer)[] = [];
      ws.onMessage((m) => (socket.server ? socket.server.send(m) : queued.push(m)));
      letThrough = () => {
        const server = ws.connectToServer();
        server.onMessage((m) => ws.send(m));
        socket.server = server;
        for (const m of queued) server.send(m);
      };
    });
    try {
      await pick(tab, f, key);
      await subscribed(f);
      await chart(tab, 'latency_ms', 30, f.history[29]);

      // As a server restart does (1001, going away).
      // (The browser's end of the test's connection to the server may close only with 1000 or 3000-4999.)
      await sockets[0].server?.close({ code: 1000, reason: 'test' });
      await sockets[0].page.close({ code: 1001, reason: 'test' });
      await tab.waitForSelector('#live.closed', { timeout: WAIT_MS });
      await until(() => t.server.events.liveStreams(POINTS_CHANNEL, f.projectId) === 0 && t.server.events.liveStreams(EVENTS_CHANNEL, f.projectId) === 0,
        'the server ended the dropped subscriptions');
      // Recorded while the page is offline: no stream delivers it to the page.
      await f.record([{ modelVersionId: f.v1.id, name: 'latency_ms', value: 999 }]);
      await until(() => sockets.length === 2, 'the page reconnecting');
      letThrough();
      await tab.waitForSelector('#live.connected', { timeout: WAIT_MS });
      // Read again from the history, which holds the point, and the alert it opened.
      await chart(tab, 'latency_ms', 31, 999);
      await tab.waitForSelector('#alerts tr[data-status="ALERT"]', { timeout: WAIT_MS });
      // And live again.
      await subscribed(f);
      await f.record([{ modelVersionId: f.v1.id, name: 'latency_ms', value: 5 }]);
      await chart(tab, 'latency_ms', 32, 5);
    } finally {
      await tab.close();
    }
  });

  test('a key the server does not accept is not kept, and says so', async () => {
    // A tab of its own: sessionStorage is per tab, so it starts without the key the first test
    // kept. (Clearing the first tab's storage raced with the check of that saved key, which put
    // it back when it answered after the clear.)
    const tab = await b.newPage();
    try {
      await tab.goto(`${origin}/dashboard/`);
      await tab.fill('#key', 'mg_not-a-real-key');
      await tab.click('#use-key');
      await tab.waitForSelector('#status.error', { timeout: WAIT_MS });
      expect(await tab.textContent('#status')).toBe('The server does not accept this key.');
      expect(await savedKey(tab)).toBeNull();
      expect(await tab.isHidden('#pickers')).toBe(true);
    } finally {
      await tab.close();
    }
  });

  test('a key typed while the saved key is being checked is left in the field, not wiped by that check', async () => {
    const f = await createProject(t, 'dash');
    const key = await createKey(t, 'VIEWER', f.slug);
    const tab = await b.newPage();
    try {
      await tab.goto(`${origin}/dashboard/`);
      await tab.fill('#key', key);
      await tab.click('#use-key');
      await tab.waitForSelector('#forget-key:not([hidden])', { timeout: WAIT_MS });
      // On reload the page checks the saved key; that request is held until the user has typed.
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => { release = resolve; });
      let reached: () => void = () => undefined;
      const checking = new Promise<void>((resolve) => { reached = resolve; });
      await tab.route('**/graphql', async (route) => {
        reached();
        await held;
        await route.continue();
      });
      await tab.reload();
      await checking;
      await tab.fill('#key', 'mg_typed-meanwhile');
      release();
      await tab.waitForSelector(`#project option[value="${f.slug}"]`, { state: 'attached', timeout: WAIT_MS });
      expect(await tab.inputValue('#key')).toBe('mg_typed-meanwhile');
    } finally {
      await tab.close();
    }
  });
});

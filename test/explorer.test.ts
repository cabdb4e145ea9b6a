import { mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { registryEventCursor } from '../src/modules/live/event-streams';
import { EXPLORER, LANDING_POLICY, VERSION, contentSecurityPolicy } from '../src/app/web';
import { operationNameFor } from '../web/explorer/operation';
import { TestServer, createKey, createModel, createProject, startTestServer, unique } from './support/harness';
import { BrowserSession, buildWebApp, describeWithBrowser, launchBrowser } from './support/browser';
import { HEADERS_EDITOR, QUERY_EDITOR, WAIT_MS, editorText, replaceEditorText, resultIs } from './support/graphiql';

/**
 * The explorer (GraphiQL, bundled from npm by scripts/build-web.mjs) as a browser meets it, and
 * the landing page; the API's answers to GraphQL clients stay as they were.
 */

const ARTIFACTS = path.join(__dirname, 'artifacts');
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

// The page under test is the bundle of the sources as they are now, not an older build's.
beforeAll(() => buildWebApp('explorer'));

const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers });

/** A GET whose body comes as sent (fetch would unpack a gzip body and hide that it was packed). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}
const host = (t: TestServer) => `127.0.0.1:${t.server.port}`;
const origin = (t: TestServer) => `http://${host(t)}`;
/** The explorer's policy: the strict one, plus inline styles and data: fonts. */
const explorerPolicy = (t: TestServer) => contentSecurityPolicy(host(t), EXPLORER.policy);

describe('explorer over HTTP', () => {
  let t: TestServer;
  beforeAll(async () => { t = await startTestServer(); });
  afterAll(async () => { await t?.stop(); });

  it('answers a browser at GET /graphql with the explorer page, under a policy of this origin only', async () => {
    const res = await get(`${origin(t)}/graphql`, { accept: BROWSER_ACCEPT });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toBe(explorerPolicy(t));
    expect(res.headers.get('content-security-policy')).toContain("style-src 'self' 'unsafe-inline';");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('vary')).toMatch(/accept/i);
    const html = await res.text();
    expect(html).toContain('/assets/explorer/index.js');
    // Nothing the page names comes from another host.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    // The script, gzipped for a client that accepts it, the same bytes once unpacked.
    const plain = await rawGet(`${origin(t)}/assets/explorer/index.js`, {});
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toMatch(/javascript/);
    expect(plain.headers['content-encoding']).toBeUndefined();
    const packed = await rawGet(`${origin(t)}/assets/explorer/index.js`, { 'accept-encoding': 'gzip, deflate, br' });
    expect(packed.status).toBe(200);
    expect(packed.headers['content-type']).toMatch(/javascript/);
    expect(packed.headers['content-encoding']).toBe('gzip');
    expect(packed.headers['content-security-policy']).toBe(explorerPolicy(t));
    expect(packed.body.length).toBeLessThan(plain.body.length);
    expect(gunzipSync(packed.body).equals(plain.body)).toBe(true);
    // Nothing outside the app's folder, packed or not.
    const outside = await rawGet(`${origin(t)}/assets/explorer/..%2f..%2fsrc%2fapp%2fweb.js`, { 'accept-encoding': 'gzip' });
    expect([403, 404]).toContain(outside.status);
  });

  it('leaves GraphQL clients as they were: JSON answers, no Apollo landing page, CSRF prevention on', async () => {
    const url = `${origin(t)}/graphql`;
    const auth = { authorization: `Bearer ${t.adminKey}` };
    // POST with JSON.
    const post = await t.gql('{ __typename }');
    expect(post).toEqual({ status: 200, data: { __typename: 'Query' } });
    // GET with a query and the preflight header Apollo's CSRF prevention asks of a GET.
    const okGet = await get(`${url}?query=${encodeURIComponent('{ __typename }')}`, { ...auth, 'apollo-require-preflight': 'true' });
    expect(okGet.status).toBe(200);
    expect(await okGet.json()).toEqual({ data: { __typename: 'Query' } });
    // The same GET as a browser's simple request (what a cross-site form or link could send) is refused.
    const csrf = await get(`${url}?query=${encodeURIComponent('{ __typename }')}`, { ...auth, accept: BROWSER_ACCEPT });
    expect(csrf.status).toBe(400);
    expect(await csrf.text()).toMatch(/CSRF/);
    // A GET without a query from a GraphQL client: Apollo's answer (no landing page), not the explorer.
    const noQuery = await get(url, { ...auth, accept: 'application/graphql-response+json, application/json' });
    expect(noQuery.status).toBe(400);
    expect(noQuery.headers.get('content-type')).toMatch(/json/);
    // Without a key, the API's 401, as before.
    const anonymous = await get(url, { accept: 'application/json' });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('serves a landing page at / that links the explorer and the dashboard and names the version', async () => {
    const res = await get(`${origin(t)}/`, { accept: BROWSER_ACCEPT });
    expect(res.status).toBe(200);
    // Its one inline <style> is allowed by its hash: no 'unsafe-inline'.
    expect(res.headers.get('content-security-policy')).toBe(contentSecurityPolicy(host(t), LANDING_POLICY));
    expect(res.headers.get('content-security-policy')).toMatch(/style-src 'self' 'sha256-[A-Za-z0-9+/]+=*';/);
    const html = await res.text();
    expect(html).toContain('href="/graphql"');
    expect(html).toContain('href="/dashboard"');
    expect(html).toContain(`<strong id="version">${VERSION}</strong>`);
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('the operation name the explorer sends', () => {
  it('is dropped when the document does not define it (GraphiQL sends the name it parsed before the last edit)', () => {
    // The edit that raced: the starting query's name, with the document typed over it.
    expect(operationNameFor('query FirstRun { viewer { role } }', 'Projects')).toBeUndefined();
    expect(operationNameFor('{ viewer { role } }', 'Projects')).toBeUndefined();
    expect(operationNameFor('query A { viewer { role } } query B { viewer { name } }', 'C')).toBeUndefined();
    // A name the document defines, or none, goes as it is.
    expect(operationNameFor('query A { viewer { role } } query B { viewer { name } }', 'B')).toBe('B');
    expect(operationNameFor('subscription Events { registryEvents(projectSlug: "p") { type } }', 'Events')).toBe('Events');
    expect(operationNameFor('{ viewer { role } }', null)).toBeNull();
    expect(operationNameFor('{ viewer { role } }', undefined)).toBeUndefined();
    // A document that does not parse keeps its name: the server's answer says what is wrong.
    expect(operationNameFor('query A { viewer { role }', 'A')).toBe('A');
    expect(operationNameFor('query A { viewer { role }', 'B')).toBe('B');
  });
});

describe('MODELGRAPH_EXPLORER=false', () => {
  let t: TestServer;
  beforeAll(async () => { t = await startTestServer({ MODELGRAPH_EXPLORER: 'false' }); });
  afterAll(async () => { await t?.stop(); });

  it('turns the explorer off: a browser at /graphql gets the API\'s answer, the files are gone, / says so', async () => {
    expect(t.config.explorer).toBe(false);
    const page = await get(`${origin(t)}/graphql`, { accept: BROWSER_ACCEPT });
    expect(page.status).toBe(401);
    expect(page.headers.get('content-type')).toMatch(/json/);
    // With a key, still no page of any kind (Apollo's landing page stays off too).
    const withKey = await get(`${origin(t)}/graphql`, { accept: BROWSER_ACCEPT, authorization: `Bearer ${t.adminKey}` });
    expect(withKey.headers.get('content-type')).toMatch(/json/);
    expect(await withKey.text()).not.toMatch(/<html|sandbox|apollographql/i);
    expect((await get(`${origin(t)}/assets/explorer/index.js`)).status).toBe(404);
    const landing = await (await get(`${origin(t)}/`)).text();
    expect(landing).toContain('MODELGRAPH_EXPLORER=false');
    expect(landing).not.toContain('href="/graphql"');
    // The API itself is unaffected.
    expect(await t.ok('{ __typename }')).toEqual({ __typename: 'Query' });
  });
});

describeWithBrowser('explorer in headless Chromium', () => {
  let t: TestServer;
  let browser: BrowserSession;
  beforeAll(async () => {
    t = await startTestServer();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('runs a query and a subscription with a pasted key, and nothing it loads leaves 127.0.0.1', async () => {
    const project = await createProject(t, 'explorer');
    const key = await createKey(t, 'VIEWER', project.slug);
    const page = await browser.newPage();
    await page.goto(`${origin(t)}/graphql`);
    await page.waitForSelector('.graphiql-container', { timeout: WAIT_MS });
    await page.waitForSelector(`${HEADERS_EDITOR} .view-lines`, { timeout: WAIT_MS });

    // The headers editor holds the template to paste a key into.
    expect(JSON.parse(await editorText(page, HEADERS_EDITOR))).toEqual({ Authorization: 'Bearer <paste your key>' });

    // The starting query, run with a real key typed into the headers: the key's one project.
    await replaceEditorText(page, HEADERS_EDITOR, JSON.stringify({ Authorization: `Bearer ${key}` }));
    await page.click('.graphiql-execute-button');
    await resultIs(page, { data: { projects: { edges: [{ node: { id: project.id, name: project.slug } }] } } });

    // The schema was loaded again with the pasted key: the Docs pane lists the root types.
    await page.click('[aria-label="Show Documentation Explorer"]');
    await page.locator('.graphiql-doc-explorer').getByText('Subscription', { exact: true }).waitFor({ timeout: WAIT_MS });
    await page.click('[aria-label="Hide Documentation Explorer"]');

    // A subscription over graphql-ws, from the start of the project's stream: a model made over
    // HTTP arrives in the result pane (replayed or live, whichever its commit meets).
    const modelName = unique('explorer-model');
    await replaceEditorText(page, QUERY_EDITOR, `subscription Events { registryEvents(projectSlug: "${project.slug}", `
      + `since: "${registryEventCursor('0')}", types: [MODEL_CREATED]) { type subject { ... on Model { name } } } }`);
    await page.click('.graphiql-execute-button');
    // Running: the button turns into the stop button.
    await page.waitForSelector('.graphiql-execute-button[aria-label^="Stop"]', { timeout: WAIT_MS });
    await createModel(t, project.slug, modelName);
    await resultIs(page, { data: { registryEvents: { type: 'MODEL_CREATED', subject: { name: modelName } } } });
    expect(browser.webSockets.filter((u) => u === `ws://127.0.0.1:${t.server.port}/graphql`)).toHaveLength(1);

    // For the screenshot (the README's): the query laid out, the views at their starts.
    await page.click('[aria-label^="Prettify query"]');
    await page.locator(`${HEADERS_EDITOR} .view-lines`).first().click();
    await page.keyboard.press('Control+Home');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'explorer.png') });

    // Everything came from this server: the page, its script and styles, Monaco's workers, the
    // API calls and the WebSocket. A request anywhere else would be listed (and was refused).
    const urls = browser.requests.map((r) => new URL(r.url).pathname);
    expect(urls).toEqual(expect.arrayContaining([
      '/graphql', '/assets/explorer/index.js', '/assets/explorer/index.css', '/assets/explorer/graphql.worker.js',
    ]));
    expect(browser.offHost()).toEqual([]);
    expect(browser.refused).toEqual([]);
    // The policy blocked nothing the page needs (a violation is logged to the console).
    expect(browser.consoleErrors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);

    // The landing page's inline <style> applies under its own policy (allowed by its hash alone).
    await page.goto(`${origin(t)}/`);
    expect(await page.evaluate('getComputedStyle(document.body).maxWidth')).toBe('736px');
    expect(browser.consoleErrors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
  });
});

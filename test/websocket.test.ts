import { randomBytes, randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { Client as WsClient, createClient } from 'graphql-ws';
import { GqlResponse, TestServer, createKey, createModel, createProject, startTestServer, unique, wsRequest } from './support/harness';

let t: TestServer;
let P: { id: string; slug: string };
const open: WsClient[] = [];

beforeAll(async () => {
  t = await startTestServer();
  P = await createProject(t, 'ws');
});
afterAll(async () => {
  await Promise.all(open.map((c) => c.dispose()));
  await t.stop();
});

/** A client that connects at once and stays connected between operations, unlike the harness's lazy one. */
function connected(connectionParams: Record<string, unknown>): WsClient {
  const client = createClient({ url: t.server.wsUrl, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: false });
  open.push(client);
  return client;
}

/** Runs one operation on a client the server should refuse; resolves with the close code it saw. */
async function refusal(client: WsClient): Promise<{ closedEvent: number | undefined; error: number | undefined; result?: GqlResponse }> {
  let closedEvent: number | undefined;
  client.on('closed', (e) => { closedEvent = (e as { code: number }).code; });
  try {
    const result = await wsRequest(client, `{ viewer { name } }`);
    return { closedEvent, error: undefined, result };
  } catch (e) {
    return { closedEvent, error: (e as { code?: number }).code };
  }
}

const codeOf = (res: GqlResponse) => res.errors?.[0]?.extensions.code;

test('WebSocket is served on the HTTP server\'s port and path', () => {
  const http = new URL(t.server.url);
  const ws = new URL(t.server.wsUrl);
  expect(ws.protocol).toBe('ws:');
  expect({ host: ws.host, path: ws.pathname }).toEqual({ host: http.host, path: '/graphql' });
});

test('a query and a mutation run with connectionParams.authorization "Bearer <secret>"', async () => {
  const name = unique('ws-editor');
  const key = (await t.ok(
    `mutation($n: String!, $s: String) { createApiKey(input: { name: $n, role: EDITOR, projectSlug: $s }) { secret } }`,
    { n: name, s: P.slug },
  )).createApiKey.secret;
  const client = t.ws(key);

  const viewer = await wsRequest(client, `{ viewer { name role projects { nodes { slug } } } }`);
  expect(viewer.errors).toBeUndefined();
  expect(viewer.data).toEqual({ viewer: { name, role: 'EDITOR', projects: { nodes: [{ slug: P.slug }] } } });

  const created = await wsRequest(client,
    `mutation($input: CreateModelInput!) { createModel(input: $input) { model { id name } } }`,
    { input: { projectSlug: P.slug, name: 'over-ws', kind: 'OPEN_WEIGHTS' } },
  );
  expect(created.errors).toBeUndefined();
  expect(created.data.createModel.model.name).toBe('over-ws');

  // Stored for real, and done as the key: HTTP sees it, the audit log names the key.
  const read = await t.ok(
    `query($s: String!) { project(slug: $s) { model(name: "over-ws") { id kind } auditEvents(first: 1) { nodes { actor action targetId } } } }`,
    { s: P.slug },
  );
  expect(read.project.model).toEqual({ id: created.data.createModel.model.id, kind: 'OPEN_WEIGHTS' });
  expect(read.project.auditEvents.nodes).toEqual([{ actor: name, action: 'model.create', targetId: created.data.createModel.model.id }]);

  // The same client keeps working across operations.
  const again = await wsRequest(client, `query($s: String!) { project(slug: $s) { model(name: "over-ws") { id } } }`, { s: P.slug });
  expect(again.data.project.model.id).toBe(created.data.createModel.model.id);
});

describe('connectionParams take the authorization under any case of its name, as HTTP headers do', () => {
  test.each(['Authorization', 'authorization', 'AUTHORIZATION'])('%s: "Bearer <secret>" authenticates, a bad secret is refused', async (param) => {
    const name = unique('ws-case');
    const key = (await t.ok(
      `mutation($n: String!, $s: String) { createApiKey(input: { name: $n, role: VIEWER, projectSlug: $s }) { secret } }`,
      { n: name, s: P.slug },
    )).createApiKey.secret;
    const viewer = await wsRequest(connected({ [param]: `Bearer ${key}` }), `{ viewer { name role } }`);
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data).toEqual({ viewer: { name, role: 'VIEWER' } });

    // Read, not ignored: a bad secret under this name is a bad key (4403), not an anonymous socket.
    const bad = createClient({ url: t.server.wsUrl, webSocketImpl: WebSocket, connectionParams: { [param]: `Bearer mg_${randomBytes(16).toString('hex')}` }, retryAttempts: 0, lazy: true });
    open.push(bad);
    expect(await refusal(bad)).toEqual({ closedEvent: 4403, error: 4403 });
  });
});

test('without a key the socket opens, and every operation is UNAUTHENTICATED', async () => {
  for (const client of [t.ws(null), connected({})]) {
    const viewer = await wsRequest(client, `{ viewer { name } }`);
    expect(codeOf(viewer)).toBe('UNAUTHENTICATED');
    expect(viewer.data ?? null).toBeNull();

    const slug = unique('ws-anon');
    const write = await wsRequest(client, `mutation($s: String!) { createProject(input: { slug: $s, name: $s }) { project { id } } }`, { s: slug });
    expect(codeOf(write)).toBe('UNAUTHENTICATED');
    expect((await t.ok(`query($s: String!) { project(slug: $s) { id } }`, { s: slug })).project).toBeNull();
  }
});

describe('a bad key closes the connection with 4403', () => {
  test('an unknown secret', async () => {
    expect(await refusal(t.ws(`mg_${randomBytes(32).toString('base64url')}`))).toEqual({ closedEvent: 4403, error: 4403 });
  });

  test('an authorization that is not "Bearer <secret>"', async () => {
    for (const authorization of [t.adminKey, `Basic ${t.adminKey}`, 'Bearer', 42]) {
      const client = createClient({ url: t.server.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization }, retryAttempts: 0, lazy: true });
      open.push(client);
      expect({ authorization, ...(await refusal(client)) }).toEqual({ authorization, closedEvent: 4403, error: 4403 });
    }
  });

  test('a revoked key', async () => {
    const key = await createKey(t, 'VIEWER', P.slug);
    const { apiKeys } = await t.ok(`query($s: String) { apiKeys(projectSlug: $s) { id prefix } }`, { s: P.slug });
    const id = apiKeys.find((k: { prefix: string }) => key.startsWith(k.prefix)).id;
    await t.ok(`mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } } }`, { id });
    expect(await refusal(t.ws(key))).toEqual({ closedEvent: 4403, error: 4403 });
  });

  test('and the server goes on serving good keys', async () => {
    await refusal(t.ws('mg_nope-nope-nope'));
    expect((await wsRequest(t.ws(), `{ viewer { role } }`)).data).toEqual({ viewer: { role: 'ADMIN' } });
  });
});

test('a key revoked while its socket is open is UNAUTHENTICATED from the next operation on', async () => {
  const name = unique('ws-revoked');
  const made = (await t.ok(
    `mutation($n: String!, $s: String) { createApiKey(input: { name: $n, role: EDITOR, projectSlug: $s }) { secret apiKey { id } } }`,
    { n: name, s: P.slug },
  )).createApiKey;
  const client = connected({ authorization: `Bearer ${made.secret}` });
  expect((await wsRequest(client, `{ viewer { name } }`)).data).toEqual({ viewer: { name } });

  await t.ok(`mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } } }`, { id: made.apiKey.id });

  const after = await wsRequest(client, `{ viewer { name } }`);
  expect(codeOf(after)).toBe('UNAUTHENTICATED');
  const write = await wsRequest(client,
    `mutation($input: CreateModelInput!) { createModel(input: $input) { model { id } } }`,
    { input: { projectSlug: P.slug, name: 'after-revoke', kind: 'INTERNAL' } },
  );
  expect(codeOf(write)).toBe('UNAUTHENTICATED');
  expect((await t.ok(`query($s: String!) { project(slug: $s) { model(name: "after-revoke") { id } } }`, { s: P.slug })).project.model).toBeNull();
});

describe('errors over WebSocket are formatted as over HTTP', () => {
  let viewerKey: string;
  let modelId: string;
  beforeAll(async () => {
    viewerKey = await createKey(t, 'VIEWER', P.slug);
    modelId = (await createModel(t, P.slug)).id;
  });

  const unknownModel = () => Buffer.from(`Model:${randomUUID()}`).toString('base64url');
  const CASES: [string, string, () => Record<string, unknown>, 'admin' | 'viewer', string][] = [
    ['an invalid name', `mutation($input: CreateModelInput!) { createModel(input: $input) { model { id } } }`,
      () => ({ input: { projectSlug: P.slug, name: 'Not Valid', kind: 'INTERNAL' } }), 'admin', 'BAD_USER_INPUT'],
    ['an unknown id', `mutation($id: ID!) { updateModel(input: { id: $id, description: "x" }) { model { id } } }`,
      () => ({ id: unknownModel() }), 'admin', 'NOT_FOUND'],
    ['a malformed id', `query($id: ID!) { node(id: $id) { id } }`, () => ({ id: 'garbage' }), 'admin', 'BAD_USER_INPUT'],
    ['a missing role', `mutation($id: ID!) { archiveModel(input: { id: $id }) { model { id } } }`, () => ({ id: modelId }), 'viewer', 'FORBIDDEN'],
    ['a duplicate', `mutation($s: String!) { createProject(input: { slug: $s, name: "dup" }) { project { id } } }`, () => ({ s: P.slug }), 'admin', 'CONFLICT'],
    ['a page too large', `{ projects(first: 101) { nodes { id } } }`, () => ({}), 'admin', 'BAD_USER_INPUT'],
    ['a bad cursor', `{ projects(after: "garbage!") { nodes { id } } }`, () => ({}), 'admin', 'BAD_USER_INPUT'],
    ['a syntax error', `{ viewer { name `, () => ({}), 'admin', 'BAD_USER_INPUT'],
    ['an unknown field', `{ viewer { name nope } }`, () => ({}), 'admin', 'BAD_USER_INPUT'],
    ['a missing argument', `{ project { id } }`, () => ({}), 'admin', 'BAD_USER_INPUT'],
    ['a variable of the wrong type', `query($n: Int) { projects(first: $n) { nodes { id } } }`, () => ({ n: 'ten' }), 'admin', 'BAD_USER_INPUT'],
    ['a missing variable', `query($s: String!) { project(slug: $s) { id } }`, () => ({}), 'admin', 'BAD_USER_INPUT'],
    ['too many aliases', `{ ${Array.from({ length: 51 }, (_, i) => `a${i}: viewer { name }`).join(' ')} }`, () => ({}), 'admin', 'BAD_USER_INPUT'],
  ];

  test.each(CASES)('%s', async (_label, query, vars, who, code) => {
    const key = who === 'admin' ? t.adminKey : viewerKey;
    const variables = vars();
    const overWs = await wsRequest(t.ws(key), query, variables);
    const overHttp = await t.gql(query, variables, key);
    expect(codeOf(overHttp)).toBe(code);
    expect(codeOf(overWs)).toBe(code);
    const shape = (r: GqlResponse) => ({
      data: r.data ?? null,
      errors: r.errors?.map((e) => ({ message: e.message, path: e.path, extensions: e.extensions })),
    });
    expect(shape(overWs)).toEqual(shape(overHttp));
    expect(JSON.stringify(overWs)).not.toMatch(/stacktrace|"http"|INTERNAL_SERVER_ERROR/);
  });
});

import WebSocket from 'ws';
import { TestServer, createModel, createProject, createVersion, startTestServer } from './support/harness';

/**
 * Inputs the database cannot store, or that nest without bound, are refused at the edge as
 * BAD_USER_INPUT naming the place, before any resolver runs, for every argument alike; and
 * a caller without a valid key gets no parsing at all.
 */
let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(() => t.stop());

const PROJECT = `query($s: String!) { project(slug: $s) { id } }`;
const UPDATE = `mutation($input: UpdateModelInput!) { updateModel(input: $input) { model { id description } } }`;

function expectBadInput(res: { status: number; errors?: { extensions: Record<string, unknown> }[] }, field?: string) {
  expect(res.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  if (field) expect(res.errors?.[0].extensions.field).toBe(field);
  expect(res.status).toBeLessThan(500);
}

describe('text PostgreSQL cannot store', () => {
  test.each([
    ['a NUL in a variable', 'a\u0000b'],
    ['a lone high surrogate', 'a\ud800b'],
    ['a lone low surrogate', '\udc00'],
  ])('%s is BAD_USER_INPUT naming the variable', async (_, s) => {
    expectBadInput(await t.gql(PROJECT, { s }), '$s');
  });

  test('a NUL in a literal is BAD_USER_INPUT', async () => {
    expectBadInput(await t.gql(`{ project(slug: "a\\u0000b") { id } }`));
  });

  test('a NUL deep in an input object or a JSON key changes nothing stored', async () => {
    const { slug } = await createProject(t, 'nul');
    const model = await createModel(t, slug, undefined, { description: 'kept' });
    expectBadInput(await t.gql(UPDATE, { input: { id: model.id, description: 'x\u0000' } }), '$input.description');
    expectBadInput(await t.gql(UPDATE, { input: { id: model.id, tags: [{ key: 'k', value: 'v\u0000' }] } }), '$input.tags.0.value');
    const v = await t.gql(`mutation($input: CreateModelVersionInput!) { createModelVersion(input: $input) { modelVersion { id } } }`,
      { input: { modelId: model.id, artifact: { uri: 's3://x' }, config: { 'bad\u0000key': 1 } } });
    expectBadInput(v, '$input.config.bad\u0000key');
    const after = await t.ok(`query($id: ID!) { node(id: $id) { ... on Model { description versions { nodes { id } } } } }`, { id: model.id });
    expect(after.node).toEqual({ description: 'kept', versions: { nodes: [] } });
  });
});

test('a float literal beyond a double (1e400) is BAD_USER_INPUT', async () => {
  expectBadInput(await t.gql(`{ project(slug: "x") { searchModelVersions(filter: { metric: { name: "a", gte: 1e400 } }) { nodes { id } } } }`));
});

describe('dates out of PostgreSQL\'s range', () => {
  test('year 0000 is BAD_USER_INPUT, as a variable and as a literal', async () => {
    const { slug } = await createProject(t, 'date');
    const model = await createModel(t, slug);
    const v = await createVersion(t, model.id);
    const RECORD = `mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`;
    expectBadInput(await t.gql(RECORD, { input: { projectSlug: slug, points: [{ modelVersionId: v.id, name: 'm', value: 1, timestamp: '0000-01-01T00:00:00Z' }] } }));
    expectBadInput(await t.gql(`query($s: String!) { project(slug: $s) { auditEvents(filter: { after: "0000-06-01T00:00:00Z" }) { nodes { id } } } }`, { s: slug }));
  });
});

describe('nesting without bound', () => {
  const deepJson = (n: number) => { let v: unknown = 1; for (let i = 0; i < n; i++) v = { a: v }; return v; };

  test('a JSON variable nested 2,000 deep is BAD_USER_INPUT, not a crash', async () => {
    const { slug } = await createProject(t, 'deep');
    const model = await createModel(t, slug);
    const res = await t.gql(`mutation($input: CreateModelVersionInput!) { createModelVersion(input: $input) { modelVersion { id } } }`,
      { input: { modelId: model.id, artifact: { uri: 's3://x' }, config: deepJson(2000) } });
    expectBadInput(res);
    expect(res.errors?.[0].extensions.limit).toBe('maxInputDepth');
  });

  test('a filter nested 2,000 levels deep in a variable is BAD_USER_INPUT', async () => {
    let f: Record<string, unknown> = { status: 'READY' };
    for (let i = 0; i < 2000; i++) f = { or: [f] };
    const res = await t.gql(`query($s: String!, $f: ModelVersionFilter!) { project(slug: $s) { searchModelVersions(filter: $f) { nodes { id } } } }`, { s: 'x', f });
    expectBadInput(res);
  });

  test('a literal nested 2,000 deep is refused without a 5xx', async () => {
    const literal = '{ or: ['.repeat(2000) + '{ status: READY }' + '] }'.repeat(2000);
    const res = await t.gql(`{ project(slug: "x") { searchModelVersions(filter: ${literal}) { nodes { id } } } }`);
    expectBadInput(res);
  });

  test('over WebSocket, variables nested 100,000 deep fail the operation and leave the socket open', async () => {
    // Sent as raw text: no client library can even serialize such a value.
    const ws = new WebSocket(t.server.wsUrl, 'graphql-transport-ws');
    const messages: { id?: string; type: string; payload?: any }[] = [];
    let closed: number | null = null;
    ws.on('message', (m) => messages.push(JSON.parse(String(m))));
    ws.on('close', (code) => { closed = code; });
    const until = async (pred: () => boolean) => { while (!pred()) await new Promise((r) => setImmediate(r)); };
    try {
      await new Promise((r) => ws.once('open', r));
      ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${t.adminKey}` } }));
      await until(() => messages.some((m) => m.type === 'connection_ack'));
      const deep = '{"a":'.repeat(100000) + '1' + '}'.repeat(100000);
      ws.send(`{"id":"deep","type":"subscribe","payload":{"query":"query($s: String!) { project(slug: $s) { id } }","variables":{"s":${deep}}}}`);
      await until(() => messages.some((m) => m.id === 'deep'));
      const bad = messages.find((m) => m.id === 'deep')!;
      expect(bad.type).toBe('error');
      expect(bad.payload[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'maxInputDepth' });
      ws.send(JSON.stringify({ id: 'after', type: 'subscribe', payload: { query: '{ viewer { role } }' } }));
      await until(() => messages.some((m) => m.id === 'after' && m.type === 'next') || closed !== null);
      expect(closed).toBeNull();
      expect(messages.find((m) => m.id === 'after' && m.type === 'next')!.payload).toEqual({ data: { viewer: { role: 'ADMIN' } } });
    } finally {
      ws.close();
    }
  });
});

describe('work before authentication', () => {
  const manyOps = Array.from({ length: 30000 }, (_, i) => `query q${i} { viewer { name } }`).join('\n');

  test('a request without a key is refused before its document is parsed', async () => {
    const res = await t.gql(manyOps, undefined, null);
    expect(res.status).toBe(401);
    expect(res.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    // Even an unparseable document gets the same answer: nothing was parsed.
    const garbage = await t.gql('{{{{', undefined, null);
    expect(garbage.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    // Nor was the body: a body that is not JSON at all, sent with a bad key, is 401, not 400.
    for (const authorization of [undefined, 'Bearer not-a-key']) {
      const raw = await fetch(t.server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: '{"query": ' + 'x'.repeat(100_000) });
      expect(raw.status).toBe(401);
      expect(((await raw.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
  });

  test('with a key, a document over the token limit is BAD_USER_INPUT', async () => {
    const res = await t.gql(manyOps);
    expectBadInput(res);
    expect(res.errors?.[0]).toMatchObject({ message: expect.stringMatching(/tokens/) });
  });
});

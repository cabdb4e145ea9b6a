import { TestServer, startTestServer } from './support/harness';
import { createLogger } from '../src/app/logging';
import { defineNodeType, registerNodeType, toGlobalId } from '../src/core/graphql/ids';

class Exploding {}

/** The JSON lines the server logged, parsed. */
const lines: Record<string, unknown>[] = [];
let t: TestServer;

beforeAll(async () => {
  // A resolver fault, as a bug would be: a node type whose loader throws a plain Error.
  registerNodeType(defineNodeType({ name: 'Exploding', cls: Exploding, key: 'uuid', load: async () => { throw new Error('boom'); }, projectOf: () => null }));
  const log = createLogger('debug', { write: (line: string) => { lines.push(JSON.parse(line)); } });
  t = await startTestServer({ LOG_LEVEL: 'debug' }, log);
});
afterAll(async () => { await t.stop(); });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function post(headers: Record<string, string>, query = '{ __typename }', key: string | null = t.adminKey) {
  return fetch(t.server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: JSON.stringify({ query }),
  });
}

test('a safe x-request-id is kept and sent back; every log line of the request carries it', async () => {
  const id = 'client-7f3a.retry:2_x';
  const from = lines.length;
  const res = await post({ 'x-request-id': id }, `{ projects(first: 1) { nodes { id } } }`);
  expect(res.status).toBe(200);
  expect(res.headers.get('x-request-id')).toBe(id);
  await res.json();
  const mine = lines.slice(from).filter((l) => l.requestId === id);
  // The SQL logger holds no request context: the id comes from the request's scope.
  expect(mine.some((l) => l.component === 'sql' && l.msg === 'sql')).toBe(true);
  expect(mine.some((l) => l.msg === 'request answered' && l.status === 200 && l.path === '/graphql')).toBe(true);
  // The id is written once per line, not once by the scope and again by a child logger.
  for (const l of lines.slice(from)) expect(JSON.stringify(l).split('"requestId"').length).toBeLessThanOrEqual(2);
});

test('a request without an id, or with one that is unsafe or too long, gets a new UUID', async () => {
  for (const header of [undefined, 'a'.repeat(129), 'has space', 'quote"s', 'line\u00e9', '']) {
    const res = await post(header === undefined ? {} : { 'x-request-id': header });
    expect(res.status).toBe(200);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(UUID);
  }
  const ids = await Promise.all([post({}), post({})]).then((rs) => rs.map((r) => r.headers.get('x-request-id')));
  expect(ids[0]).not.toBe(ids[1]);
});

test('answers refused before GraphQL runs carry the id too, and the health probes', async () => {
  const id = 'no-key-request';
  const from = lines.length;
  const res = await post({ 'x-request-id': id }, '{ __typename }', null);
  expect(res.status).toBe(401);
  expect(res.headers.get('x-request-id')).toBe(id);
  expect(lines.slice(from).some((l) => l.requestId === id && l.msg === 'request answered' && l.status === 401)).toBe(true);
  const health = await fetch(t.server.url.replace(/\/graphql$/, '/healthz'), { headers: { 'x-request-id': 'probe-1' } });
  expect(health.headers.get('x-request-id')).toBe('probe-1');
});

test('an error masked as INTERNAL_SERVER_ERROR names the id the caller sent, and its cause is logged under it', async () => {
  const id = 'masked-error-1';
  const res = await post({ 'x-request-id': id }, `{ node(id: "${toGlobalId('Exploding', '0b0e7f3a-5a1d-4c8e-9f00-1234567890ab')}") { id } }`);
  expect(res.headers.get('x-request-id')).toBe(id);
  const body = (await res.json()) as { errors: { extensions: Record<string, unknown> }[] };
  expect(body.errors[0].extensions).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', requestId: id });
  expect(lines.filter((l) => l.requestId === id && l.msg === 'unexpected error')).toHaveLength(1);
});

import { Writable } from 'node:stream';
import pino from 'pino';
import { defineNodeType, registerNodeType, toGlobalId } from '../src/core/graphql/ids';
import { TestServer, startTestServer } from './support/harness';

/**
 * One error path that always logs: a resolver fault injected on each executor path (graphql-jit
 * and graphql-js over HTTP, graphql-ws) answers INTERNAL_SERVER_ERROR with the request id, and
 * the server logs the cause under that same id.
 */
class Exploding {}
const BOOM = 'boom: the injected resolver fault';

let t: TestServer;
const lines: { msg?: string; requestId?: string; err?: { message?: string } }[] = [];
beforeAll(async () => {
  // The fault: a node type whose loader throws a plain Error, as a bug in a resolver would.
  registerNodeType(defineNodeType({ name: 'Exploding', cls: Exploding, key: 'uuid', load: async () => { throw new Error(BOOM); }, projectOf: () => null }));
  const sink = new Writable({ write(chunk, _enc, done) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l)); done(); } });
  t = await startTestServer({}, pino({ level: 'error' }, sink));
});
afterAll(() => t?.stop());

const id = toGlobalId('Exploding', '0b0e7f3a-5a1d-4c8e-9f00-1234567890ab');

function expectMaskedAndLogged(errors: { message: string; path?: unknown; extensions: Record<string, unknown> }[] | undefined) {
  expect(errors).toHaveLength(1);
  const [e] = errors!;
  expect(e.extensions.code).toBe('INTERNAL_SERVER_ERROR');
  expect(e.message).not.toContain(BOOM);
  expect(e.path).toEqual(['node']);
  const requestId = e.extensions.requestId as string;
  expect(typeof requestId).toBe('string');
  expect(e.message).toContain(requestId);
  const logged = lines.filter((l) => l.requestId === requestId);
  expect(logged).toHaveLength(1);
  expect(logged[0]).toMatchObject({ msg: 'unexpected error', err: { message: BOOM } });
}

test('over HTTP, run by graphql-jit', async () => {
  const res = await t.gql(`query ($id: ID!) { node(id: $id) { id } }`, { id });
  expectMaskedAndLogged(res.errors);
  expect(res.data).toEqual({ node: null });
});

test('over HTTP, run by graphql-js (a variable of a recursive input type)', async () => {
  // ModelVersionFilter contains itself (`or`): such operations run on graphql-js (graphql-jit#81).
  const res = await t.gql(
    `query ($id: ID!, $f: ModelVersionFilter!) { node(id: $id) { id } project(slug: "no-such-project") { searchModelVersions(filter: $f) { nodes { id } } } }`,
    { id, f: { or: [{ status: 'READY' }] } },
  );
  expectMaskedAndLogged(res.errors);
});

test('over WebSocket (graphql-ws)', async () => {
  const client = t.ws();
  try {
    const result = await new Promise<{ errors?: never }>((resolve, reject) => {
      client.subscribe({ query: `query ($id: ID!) { node(id: $id) { id } }`, variables: { id } }, { next: resolve as never, error: reject, complete: () => undefined });
    });
    expectMaskedAndLogged(result.errors);
  } finally {
    await client.dispose();
  }
});

test('a client mistake is not logged as unexpected', async () => {
  const before = lines.length;
  const res = await t.gql(`query ($id: ID!) { node(id: $id) { id } }`, { id: 'not-an-id' });
  expect(res.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  expect(lines.length).toBe(before);
});

import { TestServer, createModel, createProject, startTestServer } from './support/harness';

/**
 * A corpus of known attacks on GraphQL servers. For every one: no crash, no 5xx, no stack trace
 * or SQL in the answer, the right error code, and the database unchanged. (How much each attack
 * slows other callers is measured by `bench/attacks.ts`, not here: timings live in benchmarks.)
 */
let t: TestServer;
let slug: string;
let modelId: string;
beforeAll(async () => {
  // Thousands of requests from one key: the rate limit (tested on its own) would cut the run short.
  t = await startTestServer({ MODELGRAPH_RATE_LIMIT_PER_MINUTE: '0' });
  ({ slug } = await createProject(t, 'attack'));
  modelId = (await createModel(t, slug)).id;
  actor = (await t.ok('{ viewer { name } }')).viewer.name;
});
afterAll(() => t.stop());

const LEAKS = /\.ts:\d+|\bat [\w.<>]+ \(|\bSELECT\b|\bINSERT INTO\b|relation "|QueryFailedError/;

/**
 * Rows that any successful write by this file's key would add, in any project: its audit
 * records, registry events and versions (other test files write the same tables meanwhile).
 */
let actor: string;
const footprint = async () => (await t.server.db.query(
  `SELECT (SELECT count(*) FROM audit_event WHERE actor = $1)::int AS audit, (SELECT count(*) FROM registry_event WHERE actor = $1)::int AS events,
          (SELECT count(*) FROM model_version WHERE created_by = $1)::int AS versions`, [actor],
))[0];

async function post(body: string, headers: Record<string, string> = {}) {
  const res = await fetch(t.server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminKey}`, ...headers }, body });
  const text = await res.text();
  let json: { errors?: { message: string; extensions?: { code?: string; limit?: string } }[] } = {};
  try { json = JSON.parse(text); } catch { /* a non-JSON answer is checked by the caller */ }
  return { status: res.status, text, json };
}

const ATTACKS: [string, () => Promise<{ status: number; text: string; json: { errors?: { message: string; extensions?: { code?: string; limit?: string } }[] } }>, string, string?][] = [
  ['an alias bomb (1,000 aliases of one field)', () => post(JSON.stringify({ query: `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: viewer { name }`).join(' ')} }` })), 'BAD_USER_INPUT', 'maxAliases'],
  ['a fragment bomb (10 fragments, each spreading the next twice)', () => {
    const frags = Array.from({ length: 10 }, (_, i) => `fragment F${i} on Project { ${i === 9 ? 'id' : `...F${i + 1} ...F${i + 1}`} models(first: 100) { nodes { id } } }`).join('\n');
    return post(JSON.stringify({ query: `query($s: String!) { project(slug: $s) { ...F0 } } ${frags}`, variables: { s: slug } }));
  }, 'BAD_USER_INPUT'],
  ['a cyclic fragment', () => post(JSON.stringify({ query: `{ viewer { ...A } } fragment A on Viewer { ...B } fragment B on Viewer { ...A }` })), 'BAD_USER_INPUT'],
  ['1,000 repeated directives', () => post(JSON.stringify({ query: `{ viewer { name ${'@include(if: true) '.repeat(1000)} } }` })), 'BAD_USER_INPUT'],
  ['a page size of a million', () => post(JSON.stringify({ query: `query($s: String!) { project(slug: $s) { models(first: 1000000) { nodes { id } } } }`, variables: { s: slug } })), 'BAD_USER_INPUT'],
  ['a 5 MiB body', () => post(JSON.stringify({ query: '{ viewer { name } }', variables: { pad: 'x'.repeat(5 * 1024 * 1024) } })), 'BAD_USER_INPUT', 'maxBodyBytes'],
  ['a 900 KiB description', () => post(JSON.stringify({ query: `mutation($i: UpdateModelInput!) { updateModel(input: $i) { model { id } } }`, variables: { i: { id: modelId, description: 'x'.repeat(900 * 1024) } } })), 'BAD_USER_INPUT'],
  ['an oversized JSON config (900 KiB, over maxJsonBytes)', () => post(JSON.stringify({
    query: `mutation($i: CreateModelVersionInput!) { createModelVersion(input: $i) { modelVersion { id } } }`,
    variables: { i: { modelId, artifact: { uri: 's3://x' }, config: Object.fromEntries(Array.from({ length: 30000 }, (_, i) => [`k${i}`, 'v'.repeat(20)])) } },
  })), 'BAD_USER_INPUT', 'maxJsonBytes'],
  ['__proto__ in a JSON scalar', () => post(`{"query":"mutation($i: CreateModelVersionInput!) { createModelVersion(input: $i) { modelVersion { config } } }","variables":{"i":{"modelId":"${'M'}","artifact":{"uri":"s3://x"},"config":{"__proto__":{"polluted":true}}}}}`.replace('"M"', JSON.stringify(modelIdRef()))), 'ANY'],
  ['a forged id', () => post(JSON.stringify({ query: `query($id: ID!) { node(id: $id) { id } }`, variables: { id: Buffer.from("Model:' OR 1=1 --").toString('base64url') } })), 'BAD_USER_INPUT'],
  ['a forged cursor', () => post(JSON.stringify({ query: `query($s: String!, $a: String) { project(slug: $s) { models(after: $a) { nodes { id } } } }`, variables: { s: slug, a: Buffer.from('["x\'; DROP TABLE model; --", 1]').toString('base64url') } })), 'BAD_USER_INPUT'],
  ['a batched request (an array of 100 operations)', () => post(JSON.stringify(Array.from({ length: 100 }, () => ({ query: '{ viewer { name } }' })))), 'BAD_USER_INPUT'],
  ['a CSRF-shaped request (text/plain, no preflight)', () => post(JSON.stringify({ query: `mutation { createProject(input: { slug: "csrf-x", name: "x" }) { project { id } } }` }), { 'content-type': 'text/plain' }), 'NONE'],
  ['a mutation over GET', async () => {
    const url = `${t.server.url}?query=${encodeURIComponent('mutation { createProject(input: { slug: "get-x", name: "x" }) { project { id } } }')}`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${t.adminKey}`, 'apollo-require-preflight': 'true' } });
    const text = await res.text();
    return { status: res.status, text, json: JSON.parse(text) };
  }, 'BAD_USER_INPUT'],
  ['SQL in a slug', () => post(JSON.stringify({ query: `query($s: String!) { project(slug: $s) { id } }`, variables: { s: "x' OR '1'='1" } })), 'NULL'],
];
function modelIdRef() { return modelId; }

// One object per row: with array rows shorter than the callback's arity, jest would pass `done`.
test.each(ATTACKS.map(([name, attack, code, limit]) => ({ name, attack, code, limit })))('$name: no 5xx, no leak, the right code, nothing stored', async ({ attack, code, limit }) => {
  const before = await footprint();
  const { status, text, json } = await attack();
  expect(status).toBeLessThan(500);
  expect(text).not.toMatch(LEAKS);
  if (code === 'NONE') {
    // Refused before GraphQL runs (Apollo's CSRF prevention): a 400 with no result.
    expect(status).toBe(400);
  } else if (code === 'NULL') {
    expect(json.errors).toBeUndefined();
  } else if (code !== 'ANY') {
    expect(json.errors?.[0]?.extensions?.code).toBe(code);
    if (limit) expect(json.errors?.[0]?.extensions?.limit).toBe(limit);
    // An error never echoes a huge input back (1,000 directives earn 1,000 short errors, no more).
    expect(text.length).toBeLessThan(64 * 1024);
  }
  if (code === 'ANY') {
    // `__proto__` is data, not a prototype: nothing was polluted.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    return;
  }
  expect(await footprint()).toEqual(before);
});

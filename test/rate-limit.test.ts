import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { GqlResponse, TestServer, createKey, createProject, startTestServer, unique, wsRequest } from './support/harness';

/**
 * The per-key token bucket. Projects and keys are made through `t` (default limits); the
 * requests under test go to servers on the same database with small buckets, sent with keys
 * that `t` never uses, so each key's bucket is spent only by what a test sends.
 */
let t: TestServer;
/** Five tokens, one more a minute: nothing refills within a test. */
let slow: TestServer;
let slow2: TestServer;
/** Two tokens, one more a second: a refusal is followed by an admission within seconds. */
let fast: TestServer;
let slug: string;

const SLOW = { MODELGRAPH_RATE_LIMIT_PER_MINUTE: '1', MODELGRAPH_RATE_LIMIT_BURST: '5' };
const VIEWER = '{ viewer { name } }';

beforeAll(async () => {
  t = await startTestServer();
  [slow, slow2, fast] = await Promise.all([
    startTestServer(SLOW), startTestServer(SLOW),
    startTestServer({ MODELGRAPH_RATE_LIMIT_PER_MINUTE: '60', MODELGRAPH_RATE_LIMIT_BURST: '2' }),
  ]);
  slug = (await createProject(t, 'rate')).slug;
});
afterAll(async () => { await Promise.all([t, slow, slow2, fast].map((s) => s?.stop())); });

/** A POST that also returns the headers, which `gql` drops. */
async function post(s: TestServer, key: string, query: string, variables?: Record<string, unknown>): Promise<GqlResponse & { retryAfterHeader: string | null }> {
  const res = await fetch(s.server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return { ...((await res.json()) as GqlResponse), status: res.status, retryAfterHeader: res.headers.get('retry-after') };
}

const code = (res: GqlResponse) => res.errors?.[0]?.extensions.code;

/** Sends the cheapest query until one is refused; returns how many were admitted, and the refusal. */
async function spendUntilRefused(send: () => Promise<GqlResponse>, max = 50): Promise<{ admitted: number; refused: GqlResponse }> {
  for (let admitted = 0; admitted < max; admitted++) {
    const res = await send();
    if (code(res) === 'RATE_LIMITED') return { admitted, refused: res };
    expect(res.errors).toBeUndefined();
  }
  throw new Error(`${max} requests were all admitted`);
}
const spendAll = async (s: TestServer, key: string) => (await spendUntilRefused(() => s.gql(VIEWER, {}, key))).admitted;

test('a key that spends its bucket is refused with RATE_LIMITED, 429 and Retry-After; another key of the same project is not', async () => {
  const [a, b] = [await createKey(t, 'EDITOR', slug), await createKey(t, 'EDITOR', slug)];
  const statements = slow.server.rateLimiter!.statements;
  for (let i = 0; i < 5; i++) expect((await slow.gql(VIEWER, {}, a)).data.viewer).toBeTruthy();
  // One statement per admitted operation, on the limiter's own connection.
  expect(slow.server.rateLimiter!.statements - statements).toBe(5);

  const refused = await post(slow, a, VIEWER);
  expect(refused.status).toBe(429);
  expect(code(refused)).toBe('RATE_LIMITED');
  expect(refused.data).toBeUndefined();
  const retryAfter = refused.errors![0].extensions.retryAfter as number;
  // The bucket is empty and regains one token a minute.
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(refused.retryAfterHeader).toBe(String(retryAfter));
  expect(refused.errors![0].extensions).not.toHaveProperty('http');

  // The other key, same project, same server: its own full bucket.
  expect(await spendAll(slow, b)).toBe(5);
  // And A stays refused.
  expect(code(await slow.gql(VIEWER, {}, a))).toBe('RATE_LIMITED');
});

test('a refused key costs no statement and no parsing while the server knows it cannot pay', async () => {
  const key = await createKey(t, 'VIEWER', slug);
  expect(await spendAll(slow, key)).toBe(5);
  const statements = slow.server.rateLimiter!.statements;
  expect(code(await slow.gql(VIEWER, {}, key))).toBe('RATE_LIMITED');
  // Not even parsed: a document that does not parse is still RATE_LIMITED, not BAD_USER_INPUT.
  const broken = await post(slow, key, '{ viewer { name ');
  expect(code(broken)).toBe('RATE_LIMITED');
  expect(broken.status).toBe(429);
  expect(slow.server.rateLimiter!.statements).toBe(statements);
});

test('an operation pays by its estimated cost: one large read spends what four small ones do', async () => {
  const key = await createKey(t, 'VIEWER', slug);
  // Estimated cost 301 (1 + 75 projects of 4): 1 + 3 tokens at 100 cost per token, of the 5.
  const large = await slow.gql('{ projects(first: 75) { nodes { id name slug } } }', {}, key);
  expect(large.errors).toBeUndefined();
  expect(await spendAll(slow, key)).toBe(1);
});

test('a refused mutation changes nothing', async () => {
  const key = await createKey(t, 'EDITOR', slug);
  expect(await spendAll(slow, key)).toBe(5);
  const name = unique('refused');
  const res = await slow.gql(
    `mutation($input: CreateModelInput!) { createModel(input: $input) { model { id } } }`,
    { input: { projectSlug: slug, name, kind: 'INTERNAL' } }, key,
  );
  expect(code(res)).toBe('RATE_LIMITED');
  expect(res.status).toBe(429);
  const stored = async (model: string) => ({
    model: (await t.ok(`query($s: String!, $n: String!) { project(slug: $s) { model(name: $n) { id } } }`, { s: slug, n: model })).project.model !== null,
    audit: (await t.server.db.query(`SELECT count(*)::int AS n FROM audit_event WHERE details::text LIKE $1`, [`%${model}%`]))[0].n,
  });
  expect(await stored(name)).toEqual({ model: false, audit: 0 });
  // The same mutation admitted leaves both behind: the check above can see them.
  const admitted = unique('admitted');
  await t.ok(`mutation($input: CreateModelInput!) { createModel(input: $input) { model { id } } }`, { input: { projectSlug: slug, name: admitted, kind: 'INTERNAL' } });
  expect(await stored(admitted)).toEqual({ model: true, audit: 1 });
});

test('servers on one database share each key\'s bucket', async () => {
  const key = await createKey(t, 'VIEWER', slug);
  // Twenty at once, ten to each server: five tokens in all, not five per server.
  const started = Date.now();
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? slow : slow2).gql(VIEWER, {}, key)));
  const minutes = (Date.now() - started) / 60_000;
  const admitted = answers.filter((r) => !r.errors).length;
  expect(answers.filter((r) => r.errors).map(code)).toEqual(Array(20 - admitted).fill('RATE_LIMITED'));
  // Whatever refilled meanwhile (one token a minute) may also be spent.
  expect(admitted).toBeGreaterThanOrEqual(5);
  expect(admitted).toBeLessThanOrEqual(5 + Math.ceil(minutes));

  // Spent on one server, refused on the other.
  const other = await createKey(t, 'VIEWER', slug);
  expect(await spendAll(slow, other)).toBe(5);
  expect(code(await slow2.gql(VIEWER, {}, other))).toBe('RATE_LIMITED');
});

test('tokens refill over time', async () => {
  const key = await createKey(t, 'VIEWER', slug);
  // At one token a second a refusal of a one-token query always says: retry in 1 s.
  const { refused } = await spendUntilRefused(() => fast.gql(VIEWER, {}, key));
  expect(refused.errors![0].extensions.retryAfter).toBe(1);
  expect(await admittedWithin(() => fast.gql(VIEWER, {}, key), 15_000)).toBe(true);
});

test('over WebSocket the refused operation gets RATE_LIMITED and the socket stays open', async () => {
  const key = await createKey(t, 'VIEWER', slug);
  // Not lazy, unlike the harness's clients: one socket for the whole test, which must stay open.
  const client = createClient({ url: fast.server.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` }, lazy: false, retryAttempts: 0 });
  let [connected, closed] = [0, false];
  client.on('connected', () => { connected++; });
  client.on('closed', () => { closed = true; });
  try {
    const { admitted, refused } = await spendUntilRefused(() => wsRequest(client, VIEWER));
    expect(admitted).toBeGreaterThanOrEqual(2);
    expect(refused.errors![0].extensions.retryAfter).toBe(1);
    expect(refused.errors![0].extensions).not.toHaveProperty('http');
    // The same socket serves the key again once its bucket has refilled.
    expect(await admittedWithin(() => wsRequest(client, VIEWER), 15_000)).toBe(true);
    expect({ connected, closed }).toEqual({ connected: 1, closed: false });
  } finally {
    await client.dispose();
  }
});

test('subscriptions pay when they start', async () => {
  const key = await createKey(t, 'VIEWER', slug);
  expect(await spendAll(slow, key)).toBe(5);
  const res = await new Promise<GqlResponse>((resolve, reject) => {
    slow.ws(key).subscribe(
      { query: 'subscription($s: String!) { registryEvents(projectSlug: $s) { cursor } }', variables: { s: slug } },
      { next: () => reject(new Error('an event arrived')), error: (e) => resolve({ status: 0, errors: e as GqlResponse['errors'] }), complete: () => reject(new Error('completed')) },
    );
  });
  expect(code(res)).toBe('RATE_LIMITED');
});

test('MODELGRAPH_RATE_LIMIT_PER_MINUTE=0 turns the limit off', async () => {
  const off = await startTestServer({ MODELGRAPH_RATE_LIMIT_PER_MINUTE: '0', MODELGRAPH_RATE_LIMIT_BURST: '1' });
  try {
    expect(off.server.rateLimiter).toBeNull();
    const key = await createKey(t, 'VIEWER', slug);
    for (let i = 0; i < 3; i++) expect((await off.gql(VIEWER, {}, key)).errors).toBeUndefined();
  } finally {
    await off.stop();
  }
});

/** Polls `send` until it is admitted, up to `ms`; every answer meanwhile must be RATE_LIMITED. */
async function admittedWithin(send: () => Promise<GqlResponse>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const res = await send();
    if (!res.errors) return true;
    expect(code(res)).toBe('RATE_LIMITED');
    await sleep(100);
  }
  return false;
}

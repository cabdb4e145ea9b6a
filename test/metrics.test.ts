import { setTimeout as sleep } from 'node:timers/promises';
import { TestServer, createProject, startTestServer, unique, wsRequest } from './support/harness';

/** One sample of the Prometheus text format: a metric name, its labels and its value. */
interface Sample { name: string; labels: Record<string, string>; value: number }

function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

const requests = (labels: Record<string, string>) => ['modelgraph_graphql_requests_total', labels] as const;

async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

/** The value of the sample with exactly these labels (among its own), 0 when there is none yet. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
    && Object.keys(s.labels).length === Object.keys(labels).length);
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value ?? 0;
}

/** Polls the scrape until `check` holds, for state another process side settles (a socket closed). */
async function scrapeUntil(url: string, what: string, check: (s: Sample[]) => boolean): Promise<Sample[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const s = await scrape(url);
    if (check(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('GET /metrics', () => {
  let t: TestServer;
  let url: string;
  beforeAll(async () => {
    t = await startTestServer();
    url = t.server.metricsUrl!;
  });
  afterAll(async () => { await t.stop(); });

  test('is served without a key, with the process metrics, event loop lag and the pool', async () => {
    expect(url).toBe(t.server.url.replace(/\/graphql$/, '/metrics'));
    const s = await scrape(url);
    const names = new Set(s.map((x) => x.name));
    for (const n of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes', 'modelgraph_websocket_connections', 'modelgraph_subscriptions_active']) {
      expect(names).toContain(n);
    }
    // The harness made a key through the pool before this test: it has opened connections.
    expect(value(s, 'modelgraph_db_pool_connections', { pool: 'requests' })).toBeGreaterThan(0);
    expect(value(s, 'modelgraph_db_pool_connections', { pool: 'requests' }))
      .toBeGreaterThanOrEqual(value(s, 'modelgraph_db_pool_idle_connections', { pool: 'requests' }));
    expect(value(s, 'modelgraph_db_pool_waiting_requests', { pool: 'requests' })).toBe(0);
    expect(s.some((x) => x.name === 'modelgraph_db_pool_connections' && x.labels.pool === 'background')).toBe(true);
  });

  test('counts requests by operation name and outcome, and times them', async () => {
    const name = `Probe_${unique('q').replace('-', '_')}`;
    const before = await scrape(url);
    const ok = requests({ transport: 'http', operation: name, type: 'query', outcome: 'ok' });
    const count = ['modelgraph_graphql_request_duration_seconds_count', { operation: name, type: 'query' }] as const;
    const inf = ['modelgraph_graphql_request_duration_seconds_bucket', { operation: name, type: 'query', le: '+Inf' }] as const;
    expect(value(before, ...ok)).toBe(0);

    await t.ok(`query ${name} { __typename }`);
    await t.ok(`query ${name} { __typename }`);
    // A known operation that fails: BAD_USER_INPUT from the resolver's validation.
    const bad = await t.gql(`mutation Bad${name}($slug: String!) { createProject(input: { slug: $slug, name: "x" }) { project { id } } }`, { slug: 'Not A Slug!' });
    expect(bad.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    // Unnamed, unparsable, and unauthenticated requests collapse into one label each.
    await t.ok(`{ __typename }`);
    expect((await t.gql(`query {`)).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect((await t.gql(`query ${name} { __typename }`, {}, null)).status).toBe(401);

    const after = await scrape(url);
    const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels);
    expect(value(after, ...ok)).toBe(2);
    expect(value(after, ...count)).toBe(2);
    expect(value(after, ...inf)).toBe(2);
    expect(value(after, 'modelgraph_graphql_request_duration_seconds_sum', { operation: name, type: 'query' })).toBeGreaterThan(0);
    expect(delta(...requests({ transport: 'http', operation: `Bad${name}`, type: 'mutation', outcome: 'BAD_USER_INPUT' }))).toBe(1);
    expect(delta(...requests({ transport: 'http', operation: '__anonymous', type: 'query', outcome: 'ok' }))).toBe(1);
    expect(delta(...requests({ transport: 'http', operation: '__unknown', type: 'unknown', outcome: 'BAD_USER_INPUT' }))).toBe(1);
    expect(delta(...requests({ transport: 'http', operation: '__unknown', type: 'unknown', outcome: 'UNAUTHENTICATED' }))).toBe(1);
  });

  test('counts points once they are committed, not a repeated batch', async () => {
    const { slug } = await createProject(t);
    const record = `mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted duplicate } }`;
    const points = [1, 2, 3].map((v) => ({ name: 'latency_ms', value: v }));
    const before = value(await scrape(url), 'modelgraph_points_ingested_total');
    await t.ok(record, { input: { projectSlug: slug, points, idempotencyKey: 'once' } });
    await t.ok(record, { input: { projectSlug: slug, points, idempotencyKey: 'once' } });
    const cols = `mutation($input: RecordMetricColumnsInput!) { recordMetricColumns(input: $input) { accepted } }`;
    const now = Date.now();
    await t.ok(cols, { input: { projectSlug: slug, series: [{ name: 'qps', timestamps: [now - 2, now - 1].map((x) => new Date(x).toISOString()), values: [4, 5] }] } });
    // Refused whole: nothing is stored, nothing counted.
    expect((await t.gql(record, { input: { projectSlug: slug, points: [{ name: 'bad name!', value: 1 }] } })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(value(await scrape(url), 'modelgraph_points_ingested_total') - before).toBe(5);
  });

  test('gauges WebSocket connections and subscriptions, and counts operations over WebSocket', async () => {
    const { slug } = await createProject(t);
    const name = `Alerts_${unique('s').replace('-', '_')}`;
    const client = t.ws();
    const received: unknown[] = [];
    const done = new Promise<void>((resolve) => {
      client.subscribe({ query: `subscription ${name}($s: String!) { alerts(projectSlug: $s) { id } }`, variables: { s: slug } },
        { next: (r) => received.push(r), error: () => resolve(), complete: () => resolve() });
    });
    // Counted once its stream has started, which is after it took its slot.
    const started = requests({ transport: 'ws', operation: name, type: 'subscription', outcome: 'ok' });
    const live = await scrapeUntil(url, 'the subscription to be live', (s) => value(s, ...started) === 1);
    expect(value(live, 'modelgraph_subscriptions_active')).toBe(1);
    expect(value(live, 'modelgraph_websocket_connections')).toBe(1);

    // Its subscribe resolver fails (no such project visible): counted with the code, under its name.
    const failed = await new Promise<any>((resolve, reject) => {
      let result: unknown;
      client.subscribe({ query: `subscription ${name}($s: String!) { alerts(projectSlug: $s) { id } }`, variables: { s: unique('nope') } },
        { next: (r) => { result = r; }, error: reject, complete: () => resolve(result) });
    });
    expect(failed.errors[0].extensions.code).toBe('NOT_FOUND');
    // Refused before it runs (it does not parse): counted, without a name.
    const refused = await new Promise<any>((resolve) => {
      client.subscribe({ query: `subscription ${name} {` }, { next: () => undefined, error: resolve, complete: () => resolve(null) });
    });
    expect(refused[0].extensions.code).toBe('BAD_USER_INPUT');
    const s2 = await scrape(url);
    const codes = s2.filter((x) => x.name === 'modelgraph_graphql_requests_total' && x.labels.operation === name && x.labels.outcome !== 'ok');
    expect(codes.map((x) => [x.labels.outcome, x.value])).toEqual([['NOT_FOUND', 1]]);
    expect(value(s2, ...requests({ transport: 'ws', operation: '__unknown', type: 'unknown', outcome: 'BAD_USER_INPUT' }))).toBe(1);

    // A query over WebSocket is counted with its answer.
    expect((await wsRequest(client, `query ${name}Q { __typename }`)).data).toEqual({ __typename: 'Query' });
    expect((await wsRequest(client, `query ${name}Q { node(id: "not-an-id") { id } }`)).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    const s3 = await scrape(url);
    expect(value(s3, ...requests({ transport: 'ws', operation: `${name}Q`, type: 'query', outcome: 'ok' }))).toBe(1);
    expect(value(s3, ...requests({ transport: 'ws', operation: `${name}Q`, type: 'query', outcome: 'BAD_USER_INPUT' }))).toBe(1);

    await client.dispose();
    await done;
    const closed = await scrapeUntil(url, 'the socket to close', (s) => value(s, 'modelgraph_websocket_connections') === 0);
    expect(value(closed, 'modelgraph_subscriptions_active')).toBe(0);
    expect(received).toEqual([]);
  });

  test('1,000 distinct operation names from a hostile caller make at most the capped number of series', async () => {
    const max = t.config.metrics.maxOperationNames;
    const prefix = `Hostile_${unique('h').replace('-', '_')}_`;
    for (let i = 0; i < 1000; i += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, j) => t.ok(`query ${prefix}${i + j} { __typename }`)));
    }
    // A name longer than a label may be is never kept, even under the cap.
    await t.ok(`query ${'L'.repeat(200)} { __typename }`);
    const s = await scrape(url);
    const series = s.filter((x) => x.name === 'modelgraph_graphql_requests_total');
    const operations = new Set(series.map((x) => x.labels.operation));
    const named = [...operations].filter((o) => !o.startsWith('__'));
    expect(named.length).toBeLessThanOrEqual(max);
    expect(operations.size).toBeLessThanOrEqual(max + 3);
    expect(named.filter((o) => o.startsWith(prefix)).length).toBeLessThan(1000);
    expect(value(s, ...requests({ transport: 'http', operation: '__other', type: 'query', outcome: 'ok' }))).toBeGreaterThanOrEqual(1000 - max + 1);
    // The histogram is capped by the same labels.
    const timed = new Set(s.filter((x) => x.name === 'modelgraph_graphql_request_duration_seconds_count').map((x) => x.labels.operation));
    expect(timed.size).toBeLessThanOrEqual(max + 3);
  });
});

describe('metrics settings', () => {
  test('MODELGRAPH_METRICS=false serves no /metrics', async () => {
    const t = await startTestServer({ MODELGRAPH_METRICS: 'false' });
    try {
      expect(t.server.metricsUrl).toBeNull();
      expect((await fetch(t.server.url.replace(/\/graphql$/, '/metrics'))).status).toBe(404);
    } finally {
      await t.stop();
    }
  });

  test('requests refused by the rate limit are counted as RATE_LIMITED, at either step that refuses them', async () => {
    // Two tokens, one more a minute; an operation costs a token, plus one per 100 of its estimated cost.
    const t = await startTestServer({ MODELGRAPH_RATE_LIMIT_PER_MINUTE: '1', MODELGRAPH_RATE_LIMIT_BURST: '2' });
    try {
      const cheap = `query Limited { __typename }`;
      const dear = `query Limited { projects(first: 100) { nodes { id } } }`;
      const codes = [];
      // 1 token spent; the dear one is refused when its cost is charged (its operation known); 1
      // more spent; then the key is known empty, and the last is refused before its document is read.
      for (const q of [cheap, dear, cheap, cheap]) codes.push((await t.gql(q)).errors?.[0].extensions.code ?? 'ok');
      expect(codes).toEqual(['ok', 'RATE_LIMITED', 'ok', 'RATE_LIMITED']);
      const s = await scrape(t.server.metricsUrl!);
      expect(value(s, ...requests({ transport: 'http', operation: 'Limited', type: 'query', outcome: 'ok' }))).toBe(2);
      expect(value(s, ...requests({ transport: 'http', operation: 'Limited', type: 'query', outcome: 'RATE_LIMITED' }))).toBe(1);
      expect(value(s, ...requests({ transport: 'http', operation: '__unknown', type: 'unknown', outcome: 'RATE_LIMITED' }))).toBe(1);
    } finally {
      await t.stop();
    }
  });

  test('MODELGRAPH_METRICS_PORT serves /metrics on a port of its own, and not on the API port', async () => {
    const t = await startTestServer({ MODELGRAPH_METRICS_PORT: '0' });
    try {
      const own = new URL(t.server.metricsUrl!);
      expect(Number(own.port)).not.toBe(t.server.port);
      await t.ok(`query OwnPort { __typename }`);
      expect(value(await scrape(own.toString()), 'modelgraph_graphql_requests_total', { transport: 'http', operation: 'OwnPort', type: 'query', outcome: 'ok' })).toBe(1);
      expect((await fetch(t.server.url.replace(/\/graphql$/, '/metrics'))).status).toBe(404);
    } finally {
      await t.stop();
    }
  });
});

import {
  AliasHistoryDocument, CreateEvaluationDocument, CreateModelDocument, CreateModelVersionDocument, CreateMonitorDocument, CreateProjectDocument,
  LogEvaluationMetricsDocument, MetricHistoryDocument, MetricSeriesDocument, ModelDocument, ModelGraphError, RecordMetricColumnsDocument,
  SetModelAliasDocument, createModelGraphClient, type LiveStream, type ModelGraphClient,
} from '../../clients/typescript/src';
import { TestServer, createKey, createProject, startTestServer, unique } from '../support/harness';
import { startProxy } from '../support/tcp-proxy';
import { WAIT_MS, until } from '../support/subscription';

let t: TestServer;
let proxy: Awaited<ReturnType<typeof startProxy>>;
const clients: ModelGraphClient[] = [];
beforeAll(async () => {
  t = await startTestServer();
  proxy = await startProxy(t.server.port);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await proxy.close();
  await t.stop();
});

/** A client of the test server (through the proxy unless told otherwise). */
function client(apiKey: string | null = t.adminKey, url = proxy.url) {
  const c = createModelGraphClient({ url, apiKey });
  clients.push(c);
  return c;
}

const RECORD = `mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`;
const record = (slug: string, values: number[], name = 'loss') =>
  t.ok(RECORD, { input: { projectSlug: slug, points: values.map((value) => ({ name, value })) } });
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** Takes items from a stream until `enough` says so, each wait bounded. */
async function takeUntil<T>(stream: LiveStream<T>, enough: (items: T[]) => boolean): Promise<T[]> {
  const items: T[] = [];
  const it = stream[Symbol.asyncIterator]();
  while (!enough(items)) {
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([
      it.next(),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`waited for more items; have ${JSON.stringify(items).slice(0, 400)}`)), WAIT_MS); }),
    ]).finally(() => clearTimeout(timer));
    if (next.done) throw new Error('stream ended');
    items.push(next.value);
  }
  return items;
}
/** Waits until the server holds `n` more subscriptions than `before`: the stream's socket is up and subscribed. */
const subscribed = (before: number, n: number) => until(() => t.server.subscriptions.active().total >= before + n, 'the server holds the subscriptions');
const pointValues = (events: { points: { value: number }[] }[]) => events.flatMap((e) => e.points.map((p) => p.value));
const countOf = (n: number) => (events: { points: unknown[] }[]) => events.reduce((k, e) => k + e.points.length, 0) >= n;

test('typed operations over HTTP: a pipeline registers a model, a version, an alias, an evaluation and metrics, and reads them back', async () => {
  const c = client(t.adminKey, t.server.url);
  const slug = unique('client');
  const { createProject } = await c.request(CreateProjectDocument, { input: { slug, name: 'Client test' } });
  expect(createProject.project.slug).toBe(slug);
  const { createModel } = await c.request(CreateModelDocument, { input: { projectSlug: slug, name: 'ranker', kind: 'INTERNAL', tags: [{ key: 'team', value: 'search' }] } });
  const model = createModel.model;
  const { createModelVersion } = await c.request(CreateModelVersionDocument, {
    input: { modelId: model.id, artifact: { uri: 's3://m/ranker/1', sizeBytes: 2 ** 40 }, parameterCount: 7_000_000_000, config: { lr: 0.1 } },
  });
  const version = createModelVersion.modelVersion;
  // The scalar mappings at work: SafeInt is a number, DateTime a string.
  const params: number | null | undefined = version.parameterCount;
  const created: string = version.createdAt;
  expect(params).toBe(7_000_000_000);
  expect(new Date(created).toISOString()).toBe(created);
  expect(version.source).toEqual({ __typename: 'ArtifactSource', uri: 's3://m/ranker/1', digest: null, format: null, sizeBytes: 2 ** 40 });

  await c.request(SetModelAliasDocument, { input: { modelId: model.id, alias: 'production', versionNumber: version.number, reason: 'first' } });
  const shown = (await c.request(ModelDocument, { projectSlug: slug, name: 'ranker' })).project!.model!;
  expect(shown.aliases.map((a) => [a.name, a.version.number, a.revision])).toEqual([['production', 1, 1]]);
  const history = (await c.request(AliasHistoryDocument, { projectSlug: slug, name: 'ranker' })).project!.model!.aliasHistory.nodes;
  expect(history.map((e) => [e.alias, e.fromVersion, e.toVersion?.number, e.reason])).toEqual([['production', null, 1, 'first']]);

  const evaluation = (await c.request(CreateEvaluationDocument, { input: { modelVersionId: version.id, name: 'nightly', metrics: [{ name: 'ndcg', value: 0.5 }] } }))
    .createEvaluation.evaluation;
  const logged = (await c.request(LogEvaluationMetricsDocument, { input: { evaluationId: evaluation.id, metrics: [{ name: 'mrr', value: 0.25, slice: 'en' }] } }))
    .logEvaluationMetrics.evaluation;
  expect(logged.metrics.map((m) => [m.name, m.slice, m.value]).sort()).toEqual([['mrr', 'en', 0.25], ['ndcg', null, 0.5]]);

  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const stored = await c.request(RecordMetricColumnsDocument, {
    input: { projectSlug: slug, series: [{ name: 'latency_ms', modelVersionId: version.id, labels: { region: 'eu' }, timestamps: [0, 1, 2].map((i) => new Date(t0 + i * 1000).toISOString()), values: [3, 1, 2] }] },
  });
  expect(stored.recordMetricColumns).toEqual({ accepted: 3, duplicate: false });
  const series = (await c.request(MetricSeriesDocument, { projectSlug: slug, name: 'latency_ms' })).project!.metricSeries.nodes;
  expect(series.map((s) => [s.name, s.labels, s.lastValue, s.modelVersion?.number])).toEqual([['latency_ms', { region: 'eu' }, 2, 1]]);
  const node = (await c.request(MetricHistoryDocument, { id: series[0].id, from: new Date(t0).toISOString(), aggregation: 'MAX', maxPoints: 10 })).node;
  expect(node && 'points' in node ? node.points.map((p) => p.value) : null).toEqual([3, 1, 2]);
});

test('errors carry the server\'s code: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT; an unreachable server is NETWORK_ERROR', async () => {
  const { slug } = await createProject(t, 'client');
  const codeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (e instanceof ModelGraphError ? e.code : String(e)));
  const viewer = await createKey(t, 'VIEWER', slug);
  expect(await codeOf(client('mg_not_a_key').request(ModelDocument, { projectSlug: slug, name: 'x' }))).toBe('UNAUTHENTICATED');
  expect(await codeOf(client(viewer).request(CreateModelDocument, { input: { projectSlug: slug, name: 'x', kind: 'INTERNAL' } }))).toBe('FORBIDDEN');
  expect(await codeOf(client().request(CreateModelDocument, { input: { projectSlug: unique('none'), name: 'x', kind: 'INTERNAL' } }))).toBe('NOT_FOUND');
  expect(await codeOf(client().request(CreateMonitorDocument, {
    input: { projectSlug: slug, name: 'm', metric: 'BAD NAME', aggregation: 'AVG', windowSeconds: 60, comparator: 'GT', threshold: 1 },
  }))).toBe('BAD_USER_INPUT');
  expect(await codeOf(client(t.adminKey, 'http://127.0.0.1:1/graphql').request(ModelDocument, { projectSlug: slug, name: 'x' }))).toBe('NETWORK_ERROR');
});

describe('live streams resume across dropped connections: nothing missed, nothing twice', () => {
  test('metricPoints: dropped before its first event, and again and again while points arrive', async () => {
    const { slug } = await createProject(t, 'client');
    await record(slug, [-1]); // before the stream: never delivered
    const reconnects: string[] = [];
    const before = t.server.subscriptions.active().total;
    const stream = client().metricPoints({ projectSlug: slug, filter: { names: ['loss'] } }, {
      reconnect: { initialDelayMs: 10 }, onReconnect: ({ cursor }) => reconnects.push(cursor),
    });
    const start = await stream.started;
    await subscribed(before, 1);
    // The socket is lost before any event: the stream must come back from where it started.
    proxy.cut();
    await record(slug, range(0, 5));
    let events = await takeUntil(stream, countOf(5));
    for (let round = 1; round <= 4; round++) {
      await record(slug, range(round * 10, round * 10 + 3));
      events = events.concat(await takeUntil(stream, countOf(3)));
      proxy.cut();
      await record(slug, range(round * 10 + 3, round * 10 + 6)); // while disconnected
      events = events.concat(await takeUntil(stream, countOf(3)));
    }
    await record(slug, [999]);
    events = events.concat(await takeUntil(stream, countOf(1)));
    stream.stop();

    expect(pointValues(events)).toEqual([...range(0, 5), ...[1, 2, 3, 4].flatMap((r) => range(r * 10, r * 10 + 6)), 999]);
    expect(reconnects.length).toBeGreaterThanOrEqual(5);
    // The first reconnect resumed from the start cursor, each later one from the last event it had.
    expect(reconnects[0]).toBe(start);
    expect(stream.cursor).toBe(events[events.length - 1].cursor);
  });

  test('registryEvents and alerts resume the same way', async () => {
    const { slug } = await createProject(t, 'client');
    const c = client();
    // Writes go straight to the server: a cut also drops the HTTP client's kept-alive connection.
    const writer = client(t.adminKey, t.server.url);
    const before = t.server.subscriptions.active().total;
    const events = c.registryEvents({ projectSlug: slug, types: ['MODEL_CREATED'] }, { reconnect: { initialDelayMs: 10 } });
    const alerts = c.alerts({ projectSlug: slug }, { reconnect: { initialDelayMs: 10 } });
    await Promise.all([events.started, alerts.started]);
    await subscribed(before, 2);
    proxy.cut();
    const names = [unique('m'), unique('m')];
    for (const name of names) await writer.request(CreateModelDocument, { input: { projectSlug: slug, name, kind: 'INTERNAL' } });
    await writer.request(CreateMonitorDocument, {
      input: { projectSlug: slug, name: 'lat', metric: 'lat', aggregation: 'LAST', windowSeconds: 3600, comparator: 'GT', threshold: 100 },
    });
    await record(slug, [500], 'lat');
    const opened = await takeUntil(alerts, (a) => a.length === 1);
    proxy.cut();
    const later = unique('m');
    await writer.request(CreateModelDocument, { input: { projectSlug: slug, name: later, kind: 'INTERNAL' } });
    await record(slug, [1], 'lat');
    const got = await takeUntil(events, (e) => e.length === 3);
    const resolved = await takeUntil(alerts, (a) => a.length === 1);
    events.stop();
    alerts.stop();
    expect(got.map((e) => [e.type, e.subject.__typename === 'Model' ? e.subject.name : null])).toEqual([...names, later].map((n) => ['MODEL_CREATED', n]));
    const [o, r] = [...opened, ...resolved].map((a) => ({ type: a.type, alert: a.subject.__typename === 'Alert' ? a.subject : null }));
    expect(o).toMatchObject({ type: 'ALERT_OPENED', alert: { status: 'ALERT', value: 500, resolvedAt: null, monitor: { name: 'lat' } } });
    expect(r).toMatchObject({ type: 'ALERT_RESOLVED', alert: { id: o.alert!.id } });
    expect(r.alert!.resolvedAt).not.toBeNull();
  });

  test('a refusal is not a lost connection: a key of another project ends the stream with NOT_FOUND, no reconnect', async () => {
    const { slug } = await createProject(t, 'client');
    const other = await createProject(t, 'client');
    let reconnects = 0;
    const stream = client(await createKey(t, 'VIEWER', other.slug)).metricPoints({ projectSlug: slug, filter: {} }, { onReconnect: () => { reconnects++; } });
    await expect(stream.started).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(stream[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(reconnects).toBe(0);
  });

  test('a key revoked while streaming ends the stream with UNAUTHENTICATED, no reconnect', async () => {
    const { slug } = await createProject(t, 'client');
    const keyId = (await t.ok(`mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { id } } }`,
      { i: { name: unique('k'), role: 'VIEWER', projectSlug: slug } })).createApiKey;
    let reconnects = 0;
    const stream = client(keyId.secret).metricPoints({ projectSlug: slug, filter: {} }, { onReconnect: () => { reconnects++; } });
    await stream.started;
    await record(slug, [1]);
    expect(pointValues(await takeUntil(stream, countOf(1)))).toEqual([1]);
    await t.ok(`mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { apiKey { id } } }`, { i: { id: keyId.apiKey.id } });
    await record(slug, [2]);
    await expect(takeUntil(stream, countOf(1))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(reconnects).toBe(0);
  });
});

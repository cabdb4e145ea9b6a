import { TestServer, createKey, createModel, createProject, createVersion, startTestServer, unique } from './support/harness';

let t: TestServer;
beforeAll(async () => { t = await startTestServer({ MODELGRAPH_RATE_LIMIT_PER_MINUTE: '0' }); });
afterAll(async () => { await t.stop(); });

const COLUMNS = `mutation($input: RecordMetricColumnsInput!) { recordMetricColumns(input: $input) { accepted duplicate } }`;
const RECORD = `mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted duplicate } }`;
const SERIES = `query($s: String!) { project(slug: $s) { metricSeries(first: 100) { nodes { id name labels lastValue lastTimestamp modelVersion { id } } } } }`;

const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();

async function setup() {
  const { slug } = await createProject(t, 'cols');
  const model = await createModel(t, slug);
  const v1 = await createVersion(t, model.id);
  return { slug, model, v1 };
}
const columns = (slug: string, series: Record<string, unknown>[], extra: Record<string, unknown> = {}) =>
  t.gql(COLUMNS, { input: { projectSlug: slug, series, ...extra } });
const columnsOk = async (slug: string, series: Record<string, unknown>[], extra: Record<string, unknown> = {}) =>
  (await t.ok(COLUMNS, { input: { projectSlug: slug, series, ...extra } })).recordMetricColumns as { accepted: number; duplicate: boolean };

/** Every stored point of the project, in storage order, as written (ms and the exact double). */
async function stored(slug: string): Promise<{ name: string; labels: Record<string, string>; ts: string; value: number }[]> {
  const rows: { name: string; labels: Record<string, string>; ts: Date; value: number }[] = await t.server.db.query(
    `SELECT s.name, s.labels, p.ts, p.value FROM metric_point p JOIN metric_series s ON s.id = p.series_id
       JOIN project pr ON pr.id = s.project_id WHERE pr.slug = $1 ORDER BY p.id`, [slug]);
  return rows.map((r) => ({ name: r.name, labels: r.labels, ts: r.ts.toISOString(), value: r.value }));
}

describe('recordMetricColumns', () => {
  test('stores every point of every block, exactly, with the newest of each series as its last', async () => {
    const { slug, v1 } = await setup();
    // Doubles that do not survive a careless text round trip, and timestamps out of order with a tie.
    const values = [0.1, Math.PI, -1e300, 1e-300, 123456.789012345, 2 ** 53 + 2];
    const ts = [ago(50), ago(10), ago(30), ago(10), ago(40), ago(20)];
    const res = await columnsOk(slug, [
      { modelVersionId: v1.id, name: 'latency_ms', labels: { region: 'eu', pod: 'a' }, timestamps: ts, values },
      { name: 'queue_depth', timestamps: [ago(5), ago(6)], values: [7, 8] },
    ]);
    expect(res).toEqual({ accepted: 8, duplicate: false });
    expect(await stored(slug)).toEqual([
      ...ts.map((x, i) => ({ name: 'latency_ms', labels: { pod: 'a', region: 'eu' }, ts: x, value: values[i] })),
      { name: 'queue_depth', labels: {}, ts: expect.any(String), value: 7 },
      { name: 'queue_depth', labels: {}, ts: expect.any(String), value: 8 },
    ]);
    const series = (await t.ok(SERIES, { s: slug })).project.metricSeries.nodes;
    // Two points share the newest timestamp: the later one of the block wins.
    expect(series).toEqual([
      expect.objectContaining({ name: 'latency_ms', labels: { pod: 'a', region: 'eu' }, lastValue: 1e-300, lastTimestamp: ts[1], modelVersion: { id: v1.id } }),
      expect.objectContaining({ name: 'queue_depth', lastValue: 7, modelVersion: null }),
    ]);

    // The same series written as point objects and as columns is one series, read back alike.
    await t.ok(RECORD, { input: { projectSlug: slug, points: [{ modelVersionId: v1.id, name: 'latency_ms', labels: { pod: 'a', region: 'eu' }, timestamp: ago(1), value: 9 }] } });
    await columnsOk(slug, [{ modelVersionId: v1.id, name: 'latency_ms', labels: { region: 'eu', pod: 'a' }, timestamps: [ago(2)], values: [10] }]);
    const after = (await t.ok(SERIES, { s: slug })).project.metricSeries.nodes;
    expect(after).toHaveLength(2);
    expect(after[0].lastValue).toBe(9);
    expect((await stored(slug)).filter((p) => p.name === 'latency_ms').map((p) => p.value)).toEqual([...values, 9, 10]);

    const audit = await t.ok(`query($s: String!) { project(slug: $s) { auditEvents(filter: { action: "metrics.record" }) { nodes { details } } } }`, { s: slug });
    expect(audit.project.auditEvents.nodes.map((n: { details: { after: unknown } }) => n.details.after)).toEqual([
      { points: 1, series: 1, newSeries: 0 }, { points: 1, series: 1, newSeries: 0 }, { points: 8, series: 2, newSeries: 2 },
    ]);
  });

  test('refuses, storing nothing: lengths that differ, too many points or blocks, and each bad field by name', async () => {
    const { slug, v1 } = await setup();
    const other = await setup();
    const good = { name: 'ok', timestamps: [ago(1), ago(2)], values: [1, 2] };
    const cases: [Record<string, unknown>, string, string][] = [
      [{ name: 'ok', timestamps: [ago(1), ago(2)], values: [1] }, 'BAD_USER_INPUT', 'series.1.values'],
      [{ name: 'ok', timestamps: [ago(1)], values: [1, 2] }, 'BAD_USER_INPUT', 'series.1.values'],
      [{ name: 'ok', timestamps: [], values: [] }, 'BAD_USER_INPUT', 'series.1.timestamps'],
      [{ name: 'Bad Name', timestamps: [ago(1)], values: [1] }, 'BAD_USER_INPUT', 'series.1.name'],
      [{ name: 'ok', labels: { region: 3 }, timestamps: [ago(1)], values: [1] }, 'BAD_USER_INPUT', 'series.1.labels'],
      [{ name: 'ok', timestamps: [ago(1), new Date(Date.now() + 3600_000).toISOString()], values: [1, 2] }, 'BAD_USER_INPUT', 'series.1.timestamps.1'],
      [{ name: 'ok', modelVersionId: 'not-an-id', timestamps: [ago(1)], values: [1] }, 'BAD_USER_INPUT', 'series.1.modelVersionId'],
      [{ name: 'ok', modelVersionId: other.v1.id, timestamps: [ago(1)], values: [1] }, 'NOT_FOUND', 'series.1.modelVersionId'],
      [{ name: 'ok', modelVersionId: other.model.id, timestamps: [ago(1)], values: [1] }, 'BAD_USER_INPUT', 'series.1.modelVersionId'],
    ];
    for (const [bad, code, field] of cases) {
      const res = await columns(slug, [good, bad, { ...good, modelVersionId: v1.id }]);
      expect({ bad, code: res.errors?.[0].extensions.code, field: res.errors?.[0].extensions.field, data: res.data }).toEqual({ bad, code, field, data: null });
    }
    // Values and timestamps the GraphQL types refuse, before the service sees them.
    for (const bad of [{ name: 'ok', timestamps: ['yesterday'], values: [1] }, { name: 'ok', timestamps: [ago(1)], values: ['1'] }, { name: 'ok', timestamps: [ago(1)], values: [null] }]) {
      expect((await columns(slug, [bad])).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    }
    const block = (n: number) => ({ name: 'many', timestamps: Array.from({ length: n }, (_, i) => ago(i % 600)), values: Array.from({ length: n }, (_, i) => i) });
    // 10,000 points in all is the most; split over blocks or in one, one more is refused.
    expect((await columns(slug, [block(5000), block(5001)])).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'series' });
    expect((await columns(slug, [block(10_001)])).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect((await columns(slug, Array.from({ length: 1001 }, () => block(1)))).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'series' });
    expect((await columns(slug, [])).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'series' });
    expect(await stored(slug)).toEqual([]);
    expect((await columnsOk(slug, [block(4000), block(6000)])).accepted).toBe(10_000);
    expect(await stored(slug)).toHaveLength(10_000);
  });

  test('an idempotencyKey makes a retry a no-op, shared with recordMetrics, also when calls race', async () => {
    const { slug } = await setup();
    const series = [{ name: 'rps', timestamps: [ago(2), ago(1)], values: [1, 2] }];
    expect(await columnsOk(slug, series, { idempotencyKey: 'k1' })).toEqual({ accepted: 2, duplicate: false });
    expect(await columnsOk(slug, [...series, ...series], { idempotencyKey: 'k1' })).toEqual({ accepted: 2, duplicate: true });
    // One key names one call of either mutation.
    expect((await t.ok(RECORD, { input: { projectSlug: slug, points: [{ name: 'rps', value: 3 }], idempotencyKey: 'k1' } })).recordMetrics)
      .toEqual({ accepted: 2, duplicate: true });
    expect(await stored(slug)).toHaveLength(2);
    const raced = await Promise.all([1, 2, 3].map(() => columnsOk(slug, series, { idempotencyKey: 'k2' })));
    expect(raced.filter((r) => r.duplicate)).toHaveLength(2);
    expect(await stored(slug)).toHaveLength(4);
    // A refused call does not use up its key.
    expect((await columns(slug, [{ name: 'rps', timestamps: [ago(1)], values: [] }], { idempotencyKey: 'k3' })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(await columnsOk(slug, series, { idempotencyKey: 'k3' })).toEqual({ accepted: 2, duplicate: false });
  });

  test('a series the server remembers but that was deleted behind its back is made again, and the batch is stored once', async () => {
    const { slug, v1 } = await setup();
    const block = (ts: string[], values: number[]) => [{ modelVersionId: v1.id, name: 'gone', labels: { pod: 'a' }, timestamps: ts, values }, { name: 'kept', timestamps: ts, values }];
    await columnsOk(slug, block([ago(30)], [1]));
    // The server now knows both series' ids; a second batch writes through them.
    await columnsOk(slug, block([ago(20)], [2]));
    const [{ id }] = await t.server.db.query(`SELECT s.id FROM metric_series s JOIN project p ON p.id = s.project_id WHERE p.slug = $1 AND s.name = 'gone'`, [slug]);
    await t.server.db.query(`DELETE FROM metric_series WHERE id = $1`, [id]);
    // Both mutations: the remembered id fails the points' foreign key, the write is rolled back to
    // before it and done again with the series looked up (and made anew).
    expect(await columnsOk(slug, block([ago(10)], [3]))).toEqual({ accepted: 2, duplicate: false });
    await t.server.db.query(`DELETE FROM metric_series s USING project p WHERE p.id = s.project_id AND p.slug = $1 AND s.name = 'gone'`, [slug]);
    expect((await t.ok(RECORD, { input: { projectSlug: slug, points: [{ modelVersionId: v1.id, name: 'gone', labels: { pod: 'a' }, timestamp: ago(5), value: 4 }, { name: 'kept', timestamp: ago(5), value: 4 }] } })).recordMetrics)
      .toEqual({ accepted: 2, duplicate: false });
    expect((await stored(slug)).map((p) => `${p.name}=${p.value}`)).toEqual(['kept=1', 'kept=2', 'kept=3', 'gone=4', 'kept=4']);
    const series = (await t.ok(SERIES, { s: slug })).project.metricSeries.nodes;
    expect(series.map((s: { name: string; lastValue: number }) => `${s.name}=${s.lastValue}`).sort()).toEqual(['gone=4', 'kept=4']);
  });

  test('monitors of the metrics written are evaluated before the answer', async () => {
    const { slug, v1 } = await setup();
    const created = await t.ok(`mutation($input: CreateMonitorInput!) { createMonitor(input: $input) { monitor { id status } } }`, {
      input: { projectSlug: slug, name: unique('mon'), metric: 'latency_ms', modelVersionId: v1.id, aggregation: 'LAST', windowSeconds: 600, comparator: 'GT', threshold: 100 },
    });
    const id = created.createMonitor.monitor.id;
    expect(created.createMonitor.monitor.status).toBe('NO_DATA');
    const state = async () => (await t.ok(`query($id: ID!) { node(id: $id) { ... on Monitor { status lastValue alerts { nodes { status value } } } } }`, { id })).node;
    await columnsOk(slug, [{ modelVersionId: v1.id, name: 'latency_ms', timestamps: [ago(30), ago(20)], values: [50, 60] }]);
    expect(await state()).toMatchObject({ status: 'OK', lastValue: 60 });
    await columnsOk(slug, [{ modelVersionId: v1.id, name: 'latency_ms', timestamps: [ago(10), ago(5)], values: [130, 150] }]);
    expect(await state()).toMatchObject({ status: 'ALERT', lastValue: 150, alerts: { nodes: [{ status: 'ALERT', value: 150 }] } });
  });

  test('a bad item deep in a long list is refused before anything runs, as a 400 with a code, on both mutations', async () => {
    const { slug } = await setup();
    const points = Array.from({ length: 3000 }, (_, i) => ({ name: 'x', timestamp: ago(i % 60), value: i }) as Record<string, unknown>);
    const cases: [string, Record<string, unknown>][] = [
      [RECORD, { projectSlug: slug, points: points.map((p, i) => (i === 2999 ? { ...p, timestamp: '2026-02-30T00:00:00.000Z' } : p)) }],
      [RECORD, { projectSlug: slug, points: points.map((p, i) => (i === 1500 ? { ...p, value: 'NaN' } : p)) }],
      [RECORD, { projectSlug: slug, points: points.map((p, i) => (i === 2000 ? { ...p, labels: { big: 'x'.repeat(70_000) } } : p)) }],
      [COLUMNS, { projectSlug: slug, series: [{ name: 'x', timestamps: [ago(1), ago(2), '0000-01-01T00:00:00.000Z'], values: [1, 2, 3] }] }],
      [COLUMNS, { projectSlug: slug, series: [{ name: 'x', timestamps: [ago(1)], values: [1] }, { name: 'x', timestamps: [ago(1)], values: [true] }] }],
    ];
    for (const [query, input] of cases) {
      const res = await t.gql(query, { input });
      expect({ status: res.status, code: res.errors?.[0].extensions.code, data: res.data ?? null }).toEqual({ status: 400, code: 'BAD_USER_INPUT', data: null });
    }
    // The JSON bound names its limit, as it did when the cost estimate refused it.
    expect((await t.gql(RECORD, { input: cases[2][1] })).errors?.[0].extensions.limit).toBe('maxJsonBytes');
    expect(await stored(slug)).toEqual([]);
  });

  test('needs EDITOR on the project', async () => {
    const { slug } = await setup();
    const viewer = await createKey(t, 'VIEWER', slug);
    const res = await t.gql(COLUMNS, { input: { projectSlug: slug, series: [{ name: 'x', timestamps: [ago(1)], values: [1] }] } }, viewer);
    expect(res.errors?.[0].extensions.code).toBe('FORBIDDEN');
    expect(await stored(slug)).toEqual([]);
  });
});

import { TestServer, createKey, createModel, createProject, createVersion, startTestServer, unique } from './support/harness';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const RECORD = `mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted duplicate } }`;
const SERIES = `query($s: String!, $name: String, $labels: JSONObject, $first: Int, $after: String) { project(slug: $s) {
  metricSeries(name: $name, labels: $labels, first: $first, after: $after) {
    nodes { id name labels lastValue lastTimestamp modelVersion { id } } pageInfo { hasNextPage endCursor } } } }`;
const POINTS = `query($id: ID!, $from: DateTime, $to: DateTime, $n: Int, $agg: Aggregation) { node(id: $id) { ... on MetricSeries {
  points(from: $from, to: $to, maxPoints: $n, aggregation: $agg) { timestamp value min max count } } } }`;
const CREATE_MONITOR = `mutation($input: CreateMonitorInput!) { createMonitor(input: $input) { monitor {
  id name status lastValue lastEvaluatedAt labels alias model { id } modelVersion { id } } } }`;
const UPDATE_MONITOR = `mutation($input: UpdateMonitorInput!) { updateMonitor(input: $input) { monitor { id status lastValue threshold warningThreshold windowSeconds } } }`;
const MONITOR = `query($id: ID!) { node(id: $id) { ... on Monitor { id status lastValue
  alerts { nodes { id status value message openedAt resolvedAt monitor { id } } } } } }`;

/** An ISO timestamp `s` seconds before now: monitor windows end now, so tests stamp points near it. */
const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();

async function record(slug: string, points: Record<string, unknown>[], extra: Record<string, unknown> = {}, key?: string) {
  return t.gql(RECORD, { input: { projectSlug: slug, points, ...extra } }, key);
}
async function recordOk(slug: string, points: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  return (await t.ok(RECORD, { input: { projectSlug: slug, points, ...extra } })).recordMetrics as { accepted: number; duplicate: boolean };
}
async function series(slug: string, vars: Record<string, unknown> = {}) {
  return (await t.ok(SERIES, { s: slug, ...vars })).project.metricSeries;
}
async function pointCount(slug: string): Promise<number> {
  const [{ n }] = await t.server.db.query(
    `SELECT count(*)::int AS n FROM metric_point p JOIN metric_series s ON s.id = p.series_id JOIN project pr ON pr.id = s.project_id WHERE pr.slug = $1`, [slug]);
  return n;
}
async function setup() {
  const { slug } = await createProject(t, 'mon');
  const model = await createModel(t, slug);
  const v1 = await createVersion(t, model.id);
  const v2 = await createVersion(t, model.id);
  return { slug, model, v1, v2 };
}

describe('recordMetrics', () => {
  test('creates series on first point, keeps the newest point as last, and lists them per version', async () => {
    const { slug, v1, v2 } = await setup();
    const res = await recordOk(slug, [
      { modelVersionId: v1.id, name: 'latency_ms', labels: { region: 'eu', pod: 'a' }, timestamp: ago(30), value: 12 },
      { modelVersionId: v1.id, name: 'latency_ms', labels: { pod: 'a', region: 'eu' }, timestamp: ago(10), value: 14 },
      { modelVersionId: v1.id, name: 'latency_ms', labels: { region: 'eu', pod: 'a' }, timestamp: ago(20), value: 13 },
      { modelVersionId: v2.id, name: 'latency_ms', labels: { region: 'eu', pod: 'a' }, value: 20 },
      { name: 'queue_depth', value: 3 },
    ]);
    expect(res).toEqual({ accepted: 5, duplicate: false });
    const all = await series(slug);
    expect(all.nodes.map((s: { name: string }) => s.name)).toEqual(['latency_ms', 'latency_ms', 'queue_depth']);
    const v1Series = all.nodes.find((s: { modelVersion: { id: string } | null }) => s.modelVersion?.id === v1.id);
    // Label order does not make another series; the newest timestamp wins, not the last sent.
    expect(v1Series).toMatchObject({ labels: { pod: 'a', region: 'eu' }, lastValue: 14 });
    expect(all.nodes.find((s: { name: string }) => s.name === 'queue_depth')).toMatchObject({ modelVersion: null, labels: {}, lastValue: 3 });

    // An older point later changes nothing of last; a newer one moves it.
    await recordOk(slug, [{ modelVersionId: v1.id, name: 'latency_ms', labels: { region: 'eu', pod: 'a' }, timestamp: ago(60), value: 99 }]);
    expect((await t.ok(SERIES, { s: slug })).project.metricSeries.nodes.find((s: { id: string }) => s.id === v1Series.id).lastValue).toBe(14);
    await recordOk(slug, [{ modelVersionId: v1.id, name: 'latency_ms', labels: { region: 'eu', pod: 'a' }, timestamp: ago(1), value: 15 }]);
    const again = await series(slug, { name: 'latency_ms' });
    expect(again.nodes).toHaveLength(2);
    expect(again.nodes.find((s: { id: string }) => s.id === v1Series.id).lastValue).toBe(15);

    const byVersion = await t.ok(`query($id: ID!) { node(id: $id) { ... on ModelVersion {
      all: metricSeries { name lastValue } some: metricSeries(name: "nope") { name } } } }`, { id: v1.id });
    expect(byVersion.node.all).toEqual([{ name: 'latency_ms', lastValue: 15 }]);
    expect(byVersion.node.some).toEqual([]);
    expect(await pointCount(slug)).toBe(7);
  });

  test('a batch is validated as a whole: one bad point stores nothing', async () => {
    const { slug, v1 } = await setup();
    const other = await setup();
    const good = { modelVersionId: v1.id, name: 'accuracy', value: 0.9 };
    const cases: [Record<string, unknown>, string, string][] = [
      [{ name: 'Bad Name', value: 1 }, 'BAD_USER_INPUT', 'points.1.name'],
      [{ name: '', value: 1 }, 'BAD_USER_INPUT', 'points.1.name'],
      [{ name: 'x'.repeat(129), value: 1 }, 'BAD_USER_INPUT', 'points.1.name'],
      [{ name: 'ok', labels: { region: 3 }, value: 1 }, 'BAD_USER_INPUT', 'points.1.labels'],
      [{ name: 'ok', labels: { region: { nested: 'x' } }, value: 1 }, 'BAD_USER_INPUT', 'points.1.labels'],
      [{ name: 'ok', labels: { 'bad key': 'x' }, value: 1 }, 'BAD_USER_INPUT', 'points.1.labels'],
      [{ name: 'ok', timestamp: new Date(Date.now() + 3600_000).toISOString(), value: 1 }, 'BAD_USER_INPUT', 'points.1.timestamp'],
      [{ name: 'ok', modelVersionId: 'not-an-id', value: 1 }, 'BAD_USER_INPUT', 'points.1.modelVersionId'],
      [{ name: 'ok', modelVersionId: other.v1.id, value: 1 }, 'NOT_FOUND', 'points.1.modelVersionId'],
      [{ name: 'ok', modelVersionId: other.model.id, value: 1 }, 'BAD_USER_INPUT', 'points.1.modelVersionId'],
    ];
    for (const [bad, code, field] of cases) {
      const res = await record(slug, [good, bad, good]);
      expect({ bad, code: res.errors?.[0].extensions.code, field: res.errors?.[0].extensions.field, data: res.data })
        .toEqual({ bad, code, field, data: null });
    }
    expect((await record(slug, [])).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'points' });
    const tooMany = Array.from({ length: 10_001 }, () => ({ name: 'm', value: 1 }));
    expect((await record(slug, tooMany)).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'points' });
    expect((await record('no-such-project', [good])).errors?.[0].extensions.code).toBe('NOT_FOUND');
    expect(await pointCount(slug)).toBe(0);
    expect((await series(slug)).nodes).toEqual([]);
  });

  test('an idempotencyKey makes a retry a no-op that reports the first call, also when two race', async () => {
    const { slug } = await setup();
    const points = [{ name: 'rps', value: 1 }, { name: 'rps', value: 2 }];
    expect(await recordOk(slug, points, { idempotencyKey: 'batch-1' })).toEqual({ accepted: 2, duplicate: false });
    expect(await recordOk(slug, [...points, ...points], { idempotencyKey: 'batch-1' })).toEqual({ accepted: 2, duplicate: true });
    expect(await pointCount(slug)).toBe(2);

    const raced = await Promise.all([1, 2, 3].map(() => recordOk(slug, points, { idempotencyKey: 'batch-2' })));
    expect(raced.filter((r) => r.duplicate)).toHaveLength(2);
    expect(raced.every((r) => r.accepted === 2)).toBe(true);
    expect(await pointCount(slug)).toBe(4);

    // Keys are per project.
    const other = await setup();
    expect(await recordOk(other.slug, points, { idempotencyKey: 'batch-1' })).toEqual({ accepted: 2, duplicate: false });
    // A failed call does not use up its key.
    expect((await record(slug, [{ name: 'BAD', value: 1 }], { idempotencyKey: 'batch-3' })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(await recordOk(slug, points, { idempotencyKey: 'batch-3' })).toEqual({ accepted: 2, duplicate: false });
  });

  test('concurrent first points of the same series make one series with every point', async () => {
    const { slug, v1 } = await setup();
    const batch = (i: number) => [
      { modelVersionId: v1.id, name: 'tokens', labels: { model: 'x' }, timestamp: ago(10 - i), value: i },
      { name: 'tokens', value: i },
    ];
    const results = await Promise.all([0, 1, 2, 3, 4].map((i) => recordOk(slug, batch(i))));
    expect(results.every((r) => r.accepted === 2 && !r.duplicate)).toBe(true);
    const all = await series(slug);
    expect(all.nodes).toHaveLength(2);
    expect(all.nodes.find((s: { modelVersion: unknown }) => s.modelVersion !== null).lastValue).toBe(4);
    expect(await pointCount(slug)).toBe(10);
  });

  test('the number of statements does not grow with the number of points', async () => {
    const { slug, v1 } = await setup();
    await t.ok(CREATE_MONITOR, { input: { projectSlug: slug, name: 'lat', metric: 'lat', aggregation: 'P95', windowSeconds: 600, comparator: 'GT', threshold: 1e9 } });
    const batch = (n: number) => Array.from({ length: n }, (_, i) => ({
      modelVersionId: i % 2 ? v1.id : null, name: 'lat', labels: { shard: String(i % 7) }, timestamp: ago(i % 300), value: i,
    }));
    const count = async (n: number) => {
      const [statements, res] = await t.countStatements(() => recordOk(slug, batch(n)));
      expect(res).toEqual({ accepted: n, duplicate: false });
      return statements;
    };
    // Warm-up: the key's lastUsedAt write happens at most once a minute, and the 14 series are made.
    const first = await count(5000);
    const small = await count(10);
    const large = await count(5000);
    expect(large).toBe(small);
    // auth, project, then BEGIN, the lock of metric_series with a savepoint (one statement,
    // before writing through series ids the server remembers), audit, points (COPY), newest
    // points, COMMIT; the live-points NOTIFY after commit; then the evaluation's BEGIN, lock,
    // evaluate, update, COMMIT.
    expect(small).toBeLessThanOrEqual(14);
    // New series: the lock alone (no savepoint), then the version check and the series lookup.
    expect(first).toBe(small + 2);
    expect(await pointCount(slug)).toBe(10_010);
    const audit = await t.ok(`query($s: String!) { project(slug: $s) { auditEvents(filter: { action: "metrics.record" }) { nodes { details } } } }`, { s: slug });
    expect(audit.project.auditEvents.nodes.map((n: { details: { after: unknown } }) => n.details.after)).toEqual([
      { points: 5000, series: 14, newSeries: 0 }, { points: 10, series: 10, newSeries: 0 }, { points: 5000, series: 14, newSeries: 14 },
    ]);
  });
});

describe('series listing', () => {
  test('pages by name and filters by name and by labels (containment)', async () => {
    const { slug, v1 } = await setup();
    await recordOk(slug, [
      { name: 'a.metric', labels: { region: 'eu', tier: 'gold' }, value: 1 },
      { name: 'a.metric', labels: { region: 'us' }, value: 1 },
      { name: 'b.metric', labels: { region: 'eu' }, value: 1, modelVersionId: v1.id },
      { name: 'c.metric', value: 1 },
    ]);
    const page1 = await series(slug, { first: 2 });
    expect(page1.nodes.map((s: { name: string }) => s.name)).toEqual(['a.metric', 'a.metric']);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = await series(slug, { first: 2, after: page1.pageInfo.endCursor });
    expect(page2.nodes.map((s: { name: string }) => s.name)).toEqual(['b.metric', 'c.metric']);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    expect((await series(slug, { labels: { region: 'eu' } })).nodes.map((s: { name: string }) => s.name)).toEqual(['a.metric', 'b.metric']);
    expect((await series(slug, { name: 'a.metric', labels: { region: 'eu', tier: 'gold' } })).nodes).toHaveLength(1);
    expect((await series(slug, { name: 'a.metric' })).nodes).toHaveLength(2);
    expect((await series(slug, { labels: { region: 'mars' } })).nodes).toEqual([]);
    expect((await t.gql(SERIES, { s: slug, labels: { region: 1 } })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect((await t.gql(SERIES, { s: slug, after: 'garbage!' })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect((await t.gql(SERIES, { s: slug, first: 101 })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});

describe('downsampling', () => {
  const base = Date.UTC(2026, 10, 1, 0, 0, 0);
  const iso = (ms: number) => new Date(ms).toISOString();
  // 100 points one second apart, values in no particular order.
  const values = Array.from({ length: 100 }, (_, i) => ((i * 37) % 101) + (i % 3) / 4);

  const pct = (sorted: number[], p: number) => {
    const pos = p * (sorted.length - 1);
    const lo = Math.floor(pos);
    return lo + 1 < sorted.length ? sorted[lo] + (pos - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
  };
  const AGG: Record<string, (vs: number[]) => number> = {
    AVG: (vs) => vs.reduce((a, b) => a + b, 0) / vs.length,
    MIN: (vs) => Math.min(...vs),
    MAX: (vs) => Math.max(...vs),
    SUM: (vs) => vs.reduce((a, b) => a + b, 0),
    COUNT: (vs) => vs.length,
    LAST: (vs) => vs[vs.length - 1],
    P50: (vs) => pct([...vs].sort((a, b) => a - b), 0.5),
    P95: (vs) => pct([...vs].sort((a, b) => a - b), 0.95),
    P99: (vs) => pct([...vs].sort((a, b) => a - b), 0.99),
  };

  /** Expected buckets of [lo, hi) cut into n: the same arithmetic, done here independently. */
  function expected(lo: number, hi: number, n: number, agg: string) {
    const buckets = new Map<number, number[]>();
    values.forEach((v, i) => {
      const ts = base + i * 1000;
      if (ts < lo || ts >= hi) return;
      const b = Math.min(Math.floor(((ts - lo) * n) / (hi - lo)), n - 1);
      buckets.set(b, [...(buckets.get(b) ?? []), v]);
    });
    return [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([b, vs]) => ({
      timestamp: iso(Math.floor(lo + (b * (hi - lo)) / n)), value: AGG[agg](vs), min: Math.min(...vs), max: Math.max(...vs), count: vs.length,
    }));
  }

  function expectPoints(actual: { timestamp: string; value: number; min: number; max: number; count: number }[], want: ReturnType<typeof expected>) {
    expect(actual.map((p) => [p.timestamp, p.min, p.max, p.count])).toEqual(want.map((p) => [p.timestamp, p.min, p.max, p.count]));
    actual.forEach((p, i) => expect(p.value).toBeCloseTo(want[i].value, 9));
  }

  test('buckets a range into equal widths with each aggregation', async () => {
    const { slug } = await setup();
    // Shuffled on the way in: storage order must not matter.
    const pts = values.map((value, i) => ({ name: 'score', timestamp: iso(base + i * 1000), value })).reverse();
    await recordOk(slug, pts);
    const [{ id }] = (await series(slug)).nodes;
    for (const agg of Object.keys(AGG)) {
      const explicit = await t.ok(POINTS, { id, from: iso(base), to: iso(base + 100_000), n: 10, agg });
      expect(explicit.node.points).toHaveLength(10);
      expectPoints(explicit.node.points, expected(base, base + 100_000, 10, agg));
      // Default range: first point to just past the last.
      const defaults = await t.ok(POINTS, { id, n: 7, agg });
      expectPoints(defaults.node.points, expected(base, base + 99_001, 7, agg));
    }
    // A sub-range, fewer points than buckets, and the AVG default.
    const sub = await t.ok(POINTS, { id, from: iso(base + 10_500), to: iso(base + 15_000) });
    expectPoints(sub.node.points, expected(base + 10_500, base + 15_000, 1000, 'AVG'));
    expect(sub.node.points.map((p: { count: number }) => p.count)).toEqual([1, 1, 1, 1]);
    const one = await t.ok(POINTS, { id, n: 1, agg: 'COUNT' });
    expect(one.node.points).toEqual([{ timestamp: iso(base), value: 100, min: Math.min(...values), max: Math.max(...values), count: 100 }]);
    expect((await t.ok(POINTS, { id, from: iso(base - 60_000), to: iso(base - 1) })).node.points).toEqual([]);

    for (const bad of [{ n: 0 }, { n: 10_001 }, { from: iso(base + 5000), to: iso(base) }]) {
      expect((await t.gql(POINTS, { id, ...bad })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    }
  });

  test('the points of many series cost a fixed number of statements', async () => {
    const { slug } = await setup();
    await recordOk(slug, Array.from({ length: 20 }, (_, s) => Array.from({ length: 5 }, (_, i) => ({
      name: 'dash', labels: { s: String(s).padStart(2, '0') }, timestamp: iso(base + i * 1000), value: s * i,
    }))).flat());
    const q = `query($s: String!, $n: Int!) { project(slug: $s) { metricSeries(first: $n) { nodes {
      name labels modelVersion { id } avg: points(maxPoints: 5) { value } p95: points(maxPoints: 2, aggregation: P95) { value count } } } } }`;
    const count = async (n: number) => {
      const [statements, data] = await t.countStatements(() => t.ok(q, { s: slug, n }));
      expect(data.project.metricSeries.nodes).toHaveLength(n);
      return { statements, data };
    };
    await count(1);
    const a = await count(2);
    const b = await count(20);
    expect(b.statements).toBe(a.statements);
    // Points count towards the query cost: a million of them is refused before anything runs.
    const huge = await t.gql(`query($s: String!) { project(slug: $s) { metricSeries(first: 100) { nodes { points(maxPoints: 10000) { value } } } } }`, { s: slug });
    expect(huge.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'maxCost' });
    const last = b.data.project.metricSeries.nodes.find((n: { labels: { s: string } }) => n.labels.s === '19');
    expect(last.avg.map((p: { value: number }) => p.value)).toEqual([0, 19, 38, 57, 76]);
  });
});

describe('monitors', () => {
  async function monitor(slug: string, input: Record<string, unknown>) {
    const data = await t.ok(CREATE_MONITOR, {
      input: { projectSlug: slug, name: unique('mon'), aggregation: 'LAST', windowSeconds: 600, comparator: 'GT', ...input },
    });
    return data.createMonitor.monitor;
  }
  const state = async (id: string) => (await t.ok(MONITOR, { id })).node;

  test('a monitor on a version moves OK -> WARNING -> ALERT -> OK, opening and resolving alerts', async () => {
    const { slug, v1, v2 } = await setup();
    const mo = await monitor(slug, { metric: 'latency_ms', modelVersionId: v1.id, threshold: 100, warningThreshold: 80 });
    expect(mo).toMatchObject({ status: 'NO_DATA', lastValue: null, modelVersion: { id: v1.id }, model: null, alias: null });
    const point = (value: number, s: number, version = v1.id) => recordOk(slug, [{ modelVersionId: version, name: 'latency_ms', timestamp: ago(s), value }]);

    await point(50, 40);
    expect(await state(mo.id)).toMatchObject({ status: 'OK', lastValue: 50, alerts: { nodes: [] } });
    // Another version's points do not count.
    await point(500, 1, v2.id);
    expect(await state(mo.id)).toMatchObject({ status: 'OK', lastValue: 50 });
    await point(90, 30);
    let s = await state(mo.id);
    expect(s).toMatchObject({ status: 'WARNING', lastValue: 90 });
    expect(s.alerts.nodes).toEqual([expect.objectContaining({ status: 'WARNING', value: 90, resolvedAt: null, monitor: { id: mo.id } })]);
    expect(s.alerts.nodes[0].message).toContain('90 > 80');
    await point(120, 20);
    s = await state(mo.id);
    expect(s.status).toBe('ALERT');
    expect(s.alerts.nodes.map((a: { status: string; resolvedAt: string | null }) => [a.status, a.resolvedAt === null]))
      .toEqual([['ALERT', true], ['WARNING', false]]);
    // Staying in ALERT opens nothing new.
    await point(130, 15);
    expect((await state(mo.id)).alerts.nodes).toHaveLength(2);
    await point(10, 10);
    s = await state(mo.id);
    expect(s).toMatchObject({ status: 'OK', lastValue: 10 });
    expect(s.alerts.nodes.map((a: { status: string }) => a.status)).toEqual(['ALERT', 'WARNING']);
    expect(s.alerts.nodes.every((a: { resolvedAt: string | null; openedAt: string }) => a.resolvedAt !== null && a.resolvedAt >= a.openedAt)).toBe(true);

    const audit = await t.ok(`query($s: String!) { project(slug: $s) { auditEvents(first: 50) { nodes { action targetId } } } }`, { s: slug });
    const actions = audit.project.auditEvents.nodes.map((e: { action: string }) => e.action).filter((a: string) => a.startsWith('alert.') || a.startsWith('monitor.'));
    expect(actions.sort()).toEqual(['alert.open', 'alert.open', 'alert.resolve', 'alert.resolve', 'monitor.create']);

    const listed = await t.ok(`query($s: String!) { project(slug: $s) { ok: monitors(status: OK) { nodes { id } } alerting: monitors(status: ALERT) { nodes { id } } } }`, { s: slug });
    expect(listed.project.ok.nodes).toEqual([{ id: mo.id }]);
    expect(listed.project.alerting.nodes).toEqual([]);
  });

  test('a model + alias monitor follows the version the alias points to now', async () => {
    const { slug, model, v1, v2 } = await setup();
    const setAlias = (versionNumber: number) => t.ok(
      `mutation($m: ID!, $n: Int!) { setModelAlias(input: { modelId: $m, alias: "production", versionNumber: $n }) { alias { revision } } }`,
      { m: model.id, n: versionNumber });
    const mo = await monitor(slug, { metric: 'errors', modelId: model.id, alias: 'production', aggregation: 'MAX', threshold: 100 });
    expect(mo).toMatchObject({ status: 'NO_DATA', model: { id: model.id }, alias: 'production', modelVersion: null });
    // No alias yet: nothing to watch.
    await recordOk(slug, [{ modelVersionId: v1.id, name: 'errors', timestamp: ago(30), value: 10 }]);
    expect((await state(mo.id)).status).toBe('NO_DATA');

    await setAlias(v1.number);
    await recordOk(slug, [{ modelVersionId: v2.id, name: 'errors', timestamp: ago(20), value: 150 }]);
    expect(await state(mo.id)).toMatchObject({ status: 'OK', lastValue: 10 });

    await setAlias(v2.number);
    await recordOk(slug, [{ modelVersionId: v2.id, name: 'errors', timestamp: ago(10), value: 140 }]);
    expect(await state(mo.id)).toMatchObject({ status: 'ALERT', lastValue: 150 });

    // Moving back and re-evaluating (an update with no change) watches v1 again.
    await setAlias(v1.number);
    const updated = (await t.ok(UPDATE_MONITOR, { input: { id: mo.id } })).updateMonitor.monitor;
    expect(updated).toMatchObject({ status: 'OK', lastValue: 10 });
    expect((await state(mo.id)).alerts.nodes.map((a: { resolvedAt: string | null }) => a.resolvedAt !== null)).toEqual([true]);
  });

  test('a project-wide monitor aggregates every series of the metric with the labels', async () => {
    const { slug, v1, v2 } = await setup();
    const mo = await monitor(slug, { metric: 'cost', labels: { region: 'eu' }, aggregation: 'SUM', comparator: 'GTE', threshold: 10, warningThreshold: 8 });
    expect(mo.labels).toEqual({ region: 'eu' });
    await recordOk(slug, [
      { modelVersionId: v1.id, name: 'cost', labels: { region: 'eu', pod: 'a' }, timestamp: ago(30), value: 4 },
      { modelVersionId: v2.id, name: 'cost', labels: { region: 'eu' }, timestamp: ago(20), value: 2 },
      { name: 'cost', labels: { region: 'us' }, timestamp: ago(20), value: 100 },
      { name: 'other', labels: { region: 'eu' }, timestamp: ago(20), value: 100 },
    ]);
    expect(await state(mo.id)).toMatchObject({ status: 'OK', lastValue: 6 });
    await recordOk(slug, [{ name: 'cost', labels: { region: 'eu' }, timestamp: ago(10), value: 2 }]);
    expect(await state(mo.id)).toMatchObject({ status: 'WARNING', lastValue: 8 });
    await recordOk(slug, [{ name: 'cost', labels: { region: 'eu' }, timestamp: ago(5), value: 2 }]);
    expect(await state(mo.id)).toMatchObject({ status: 'ALERT', lastValue: 10 });
    // A narrower window leaves only the last two points: 4, back under the warning.
    const narrowed = (await t.ok(UPDATE_MONITOR, { input: { id: mo.id, windowSeconds: 15 } })).updateMonitor.monitor;
    expect(narrowed).toMatchObject({ status: 'OK', lastValue: 4, windowSeconds: 15 });
  });

  test('NO_DATA when the window holds no points; PAUSED while paused', async () => {
    const { slug, v1 } = await setup();
    const mo = await monitor(slug, { metric: 'drift', modelVersionId: v1.id, windowSeconds: 60, comparator: 'LT', threshold: 0.5, warningThreshold: 0.7 });
    await recordOk(slug, [{ modelVersionId: v1.id, name: 'drift', timestamp: ago(120), value: 0.1 }]);
    expect(await state(mo.id)).toMatchObject({ status: 'NO_DATA', lastValue: null });
    await recordOk(slug, [{ modelVersionId: v1.id, name: 'drift', timestamp: ago(30), value: 0.6 }]);
    expect((await state(mo.id)).status).toBe('WARNING');
    await recordOk(slug, [{ modelVersionId: v1.id, name: 'drift', timestamp: ago(20), value: 0.2 }]);
    expect((await state(mo.id)).status).toBe('ALERT');

    const paused = (await t.ok(UPDATE_MONITOR, { input: { id: mo.id, paused: true } })).updateMonitor.monitor;
    expect(paused).toMatchObject({ status: 'PAUSED', lastValue: 0.2 });
    let s = await state(mo.id);
    expect(s.alerts.nodes.every((a: { resolvedAt: string | null }) => a.resolvedAt !== null)).toBe(true);
    // Points while paused change nothing.
    await recordOk(slug, [{ modelVersionId: v1.id, name: 'drift', timestamp: ago(10), value: 0.0 }]);
    s = await state(mo.id);
    expect(s).toMatchObject({ status: 'PAUSED', lastValue: 0.2 });
    expect(s.alerts.nodes).toHaveLength(2);
    const paging = await t.ok(`query($s: String!) { project(slug: $s) { monitors(status: PAUSED) { nodes { id } } } }`, { s: slug });
    expect(paging.project.monitors.nodes).toEqual([{ id: mo.id }]);

    const resumed = (await t.ok(UPDATE_MONITOR, { input: { id: mo.id, paused: false } })).updateMonitor.monitor;
    expect(resumed).toMatchObject({ status: 'ALERT', lastValue: 0 });
    s = await state(mo.id);
    expect(s.alerts.nodes.map((a: { status: string; resolvedAt: string | null }) => [a.status, a.resolvedAt === null]))
      .toEqual([['ALERT', true], ['ALERT', false], ['WARNING', false]]);
    // Raising the bar re-evaluates at once.
    const lowered = (await t.ok(UPDATE_MONITOR, { input: { id: mo.id, threshold: -1, warningThreshold: -0.5 } })).updateMonitor.monitor;
    expect(lowered).toMatchObject({ status: 'OK', threshold: -1, warningThreshold: -0.5 });
  });

  test('inputs are validated: one target form, window, thresholds, names', async () => {
    const { slug, model, v1 } = await setup();
    const other = await setup();
    const base = { projectSlug: slug, name: unique('m'), metric: 'lat', aggregation: 'AVG', windowSeconds: 60, comparator: 'GT', threshold: 10 };
    const cases: [Record<string, unknown>, string, string | undefined][] = [
      [{ modelVersionId: v1.id, modelId: model.id, alias: 'production' }, 'BAD_USER_INPUT', 'modelVersionId'],
      [{ alias: 'production' }, 'BAD_USER_INPUT', 'modelId'],
      [{ modelId: model.id }, 'BAD_USER_INPUT', 'alias'],
      [{ windowSeconds: 0 }, 'BAD_USER_INPUT', undefined],
      [{ windowSeconds: 604801 }, 'BAD_USER_INPUT', undefined],
      [{ warningThreshold: 10 }, 'BAD_USER_INPUT', 'warningThreshold'],
      [{ warningThreshold: 12 }, 'BAD_USER_INPUT', 'warningThreshold'],
      [{ comparator: 'LTE', warningThreshold: 9 }, 'BAD_USER_INPUT', 'warningThreshold'],
      [{ metric: 'Not A Metric' }, 'BAD_USER_INPUT', 'metric'],
      [{ labels: { region: 1 } }, 'BAD_USER_INPUT', 'labels'],
      [{ modelVersionId: other.v1.id }, 'NOT_FOUND', 'modelVersionId'],
      [{ modelId: other.model.id, alias: 'production' }, 'NOT_FOUND', 'modelId'],
      [{ modelVersionId: model.id }, 'BAD_USER_INPUT', 'modelVersionId'],
    ];
    for (const [extra, code, field] of cases) {
      const res = await t.gql(CREATE_MONITOR, { input: { ...base, ...extra } });
      expect({ extra, code: res.errors?.[0].extensions.code, field: res.errors?.[0].extensions.field }).toEqual({ extra, code, field });
    }
    const ok = await t.ok(CREATE_MONITOR, { input: { ...base, comparator: 'LT', warningThreshold: 12, windowSeconds: 604800 } });
    expect(ok.createMonitor.monitor.status).toBe('NO_DATA');
    expect((await t.gql(CREATE_MONITOR, { input: base })).errors?.[0].extensions.code).toBe('CONFLICT');
    const id = ok.createMonitor.monitor.id;
    expect((await t.gql(UPDATE_MONITOR, { input: { id, warningThreshold: 5 } })).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'warningThreshold' });
    expect((await t.gql(UPDATE_MONITOR, { input: { id, windowSeconds: 0 } })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect((await t.gql(UPDATE_MONITOR, { input: { id: v1.id } })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    const missing = Buffer.from('Monitor:00000000-0000-4000-8000-000000000000').toString('base64url');
    expect((await t.gql(UPDATE_MONITOR, { input: { id: missing } })).errors?.[0].extensions.code).toBe('NOT_FOUND');
    expect(await state(id)).toMatchObject({ status: 'NO_DATA' });
  });
});

describe('access', () => {
  test('EDITOR writes, VIEWER reads, other projects and anonymous callers are refused; node(id) resolves each type', async () => {
    const { slug, v1 } = await setup();
    const viewer = await createKey(t, 'VIEWER', slug);
    const editor = await createKey(t, 'EDITOR', slug);
    const other = await setup();
    const outsider = await createKey(t, 'ADMIN', other.slug);
    const point = [{ modelVersionId: v1.id, name: 'lat', timestamp: ago(5), value: 200 }];
    const monitorInput = { projectSlug: slug, name: 'lat', metric: 'lat', modelVersionId: v1.id, aggregation: 'MAX', windowSeconds: 60, comparator: 'GT', threshold: 100 };

    expect((await record(slug, point, {}, viewer)).errors?.[0].extensions.code).toBe('FORBIDDEN');
    expect((await record(slug, point, {}, outsider)).errors?.[0].extensions.code).toBe('NOT_FOUND');
    expect((await t.gql(RECORD, { input: { projectSlug: slug, points: point } }, null)).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await t.gql(CREATE_MONITOR, { input: monitorInput }, viewer)).errors?.[0].extensions.code).toBe('FORBIDDEN');

    const mo = (await t.ok(CREATE_MONITOR, { input: monitorInput }, editor)).createMonitor.monitor;
    expect((await t.ok(RECORD, { input: { projectSlug: slug, points: point } }, editor)).recordMetrics.accepted).toBe(1);
    expect((await t.gql(UPDATE_MONITOR, { input: { id: mo.id, paused: true } }, viewer)).errors?.[0].extensions.code).toBe('FORBIDDEN');
    expect((await t.gql(UPDATE_MONITOR, { input: { id: mo.id, paused: true } }, outsider)).errors?.[0].extensions.code).toBe('NOT_FOUND');

    const read = await t.ok(`query($s: String!) { project(slug: $s) {
      metricSeries { nodes { id name } }
      monitors { nodes { id status project { slug } alerts { nodes { id status } } } } } }`, { s: slug }, viewer);
    const seriesId = read.project.metricSeries.nodes[0].id;
    const [monitorRead] = read.project.monitors.nodes;
    expect(monitorRead).toMatchObject({ id: mo.id, status: 'ALERT', project: { slug } });
    const alertId = monitorRead.alerts.nodes[0].id;

    const NODE = `query($id: ID!) { node(id: $id) { __typename id } }`;
    for (const [id, type] of [[seriesId, 'MetricSeries'], [mo.id, 'Monitor'], [alertId, 'Alert']]) {
      expect((await t.ok(NODE, { id }, viewer)).node).toEqual({ __typename: type, id });
      // Another project's node, even one with a sequential id, answers like a missing one.
      const hidden = await t.gql(NODE, { id }, outsider);
      expect({ data: hidden.data, errors: hidden.errors }).toEqual({ data: { node: null }, errors: undefined });
    }
    const nodes = await t.ok(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: [seriesId, mo.id, alertId] }, viewer);
    expect(nodes.nodes).toEqual([{ id: seriesId }, { id: mo.id }, { id: alertId }]);
    const gone = Buffer.from('Alert:999999999').toString('base64url');
    expect((await t.ok(NODE, { id: gone })).node).toBeNull();
    expect((await t.gql(NODE, { id: Buffer.from('Alert:not-a-number').toString('base64url') })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});

import { GqlResponse, TestServer, createKey, createModel, createProject, createVersion, startTestServer, unique } from './support/harness';

let t: TestServer;
// The server's default body limit: a call of 10,000 records must fit in it.
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const RECORD = `mutation($input: RecordUsageInput!) { recordUsage(input: $input) { accepted duplicates unpriced } }`;
const SET_PRICE = `mutation($input: SetModelVersionPricingInput!) { setModelVersionPricing(input: $input) {
  modelVersion { id } price { validFrom kind inputCostPerMillionTokens outputCostPerMillionTokens gpuHourCostUsd tokensPerSecond setBy } } }`;
const ROW = `requests errors errorRate inputTokens outputTokens costUsd unpricedRequests p50LatencyMs p95LatencyMs`;
const REPORT = `query($s: String!, $from: DateTime!, $to: DateTime!, $g: CostGroupBy!) { project(slug: $s) { costReport(from: $from, to: $to, groupBy: $g) {
  groupBy truncated total { ${ROW} } rows { day deploymentId model { id } modelVersion { id } promptVersion { id } ${ROW} } } } }`;
const SERIES_POINTS = `query($id: ID!, $name: String!, $from: DateTime!, $to: DateTime!, $agg: Aggregation!) { node(id: $id) { ... on ModelVersion {
  metricSeries(name: $name) { name labels points(from: $from, to: $to, maxPoints: 1, aggregation: $agg) { value count } } } } }`;

const codeOf = (r: GqlResponse) => r.errors?.[0]?.extensions.code;
const fieldOf = (r: GqlResponse) => r.errors?.[0]?.extensions.field;

/** A fixed hour in the past (usage may be recorded late), and times in it. */
const HOUR = Date.UTC(2026, 2, 10, 12);
const at = (minute: number, second = 0) => new Date(HOUR + minute * 60_000 + second * 1000).toISOString();
const WINDOW = { from: at(0), to: at(60) };

async function setup() {
  const project = await createProject(t, 'usage');
  const model = await createModel(t, project.slug);
  // An external API at $2 / $6 per million input / output tokens.
  const api = await createVersion(t, model.id, { artifact: null, externalApi: { provider: 'openai', modelId: 'gpt-x', inputCostPerMillionTokens: 2, outputCostPerMillionTokens: 6 } });
  return { slug: project.slug, model, api };
}

const rec = (requestId: string, modelVersionId: string, extra: Record<string, unknown> = {}) =>
  ({ requestId, modelVersionId, inputTokens: 1000, outputTokens: 500, latencyMs: 100, timestamp: at(10), ...extra });

const record = (slug: string, records: unknown[], key?: string) => t.gql(RECORD, { input: { projectSlug: slug, records } }, key);
const report = async (slug: string, g: string, window = WINDOW, key?: string) =>
  (await t.ok(REPORT, { s: slug, ...window, g }, key)).project.costReport;

describe('recordUsage', () => {
  test('a replayed request id is counted once: across calls and within one call; only stored records feed cost and metrics', async () => {
    const { slug, api } = await setup();
    const first = await record(slug, [
      rec('req-1', api.id),
      rec('req-2', api.id, { inputTokens: 10, outputTokens: 20, latencyMs: 300, error: true, timestamp: at(10, 30) }),
      rec('req-1', api.id, { inputTokens: 999_999 }),
    ]);
    expect(first.data!.recordUsage).toEqual({ accepted: 2, duplicates: 1, unpriced: 0 });
    // The replay of req-1 carries other figures: the stored record keeps the first.
    const replay = await record(slug, [rec('req-1', api.id, { inputTokens: 5, latencyMs: 5000 }), rec('req-3', api.id, { timestamp: at(20) })]);
    expect(replay.data!.recordUsage).toEqual({ accepted: 1, duplicates: 1, unpriced: 0 });
    const again = await record(slug, [rec('req-1', api.id), rec('req-2', api.id), rec('req-3', api.id)]);
    expect(again.data!.recordUsage).toEqual({ accepted: 0, duplicates: 3, unpriced: 0 });

    // Costs at $2 / $6 per million: req-1 and req-3 (1000 in, 500 out) = 0.005 each, req-2 (10 in, 20 out) = 0.00014.
    const r = await report(slug, 'MODEL_VERSION');
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]).toMatchObject({ modelVersion: { id: api.id }, requests: 3, errors: 1, inputTokens: 2010, outputTokens: 1020, unpricedRequests: 0 });
    expect(r.rows[0].costUsd).toBeCloseTo(0.01014, 12);
    expect(r.rows[0].errorRate).toBeCloseTo(1 / 3, 12);
    expect(r.total).toMatchObject({ requests: 3, errors: 1, inputTokens: 2010 });

    // The usage.* series of the version hold the stored records only.
    const series = async (name: string, agg: string) => {
      const [s] = (await t.ok(SERIES_POINTS, { id: api.id, name, ...WINDOW, agg })).node.metricSeries;
      return s.points[0];
    };
    expect(await series('usage.requests', 'SUM')).toMatchObject({ value: 3 });
    expect(await series('usage.errors', 'SUM')).toMatchObject({ value: 1 });
    expect(await series('usage.input_tokens', 'SUM')).toMatchObject({ value: 2010 });
    expect(await series('usage.output_tokens', 'SUM')).toMatchObject({ value: 1020 });
    expect((await series('usage.cost_usd', 'SUM')).value).toBeCloseTo(0.01014, 12);
    // One latency point per request: the replay's 5000 ms is not among them.
    expect(await series('usage.latency_ms', 'COUNT')).toMatchObject({ value: 3 });
    expect(await series('usage.latency_ms', 'MAX')).toMatchObject({ value: 300 });
  });

  test('concurrent calls sharing request ids store each once: the ids a call finds taken (committed or in flight) are its duplicates', async () => {
    const { slug, api } = await setup();
    // Call c holds req-(100c) .. req-(100c + 199): each overlaps the next by 100; 500 distinct ids in all.
    const calls = await Promise.all([0, 1, 2, 3].map((c) =>
      record(slug, Array.from({ length: 200 }, (_, j) => rec(`req-${100 * c + j}`, api.id, { timestamp: at(1 + (j % 50)) })))));
    expect(calls.map((r) => r.errors)).toEqual([undefined, undefined, undefined, undefined]);
    const answers = calls.map((r) => r.data!.recordUsage);
    expect(answers.reduce((n, a) => n + a.accepted, 0)).toBe(500);
    expect(answers.reduce((n, a) => n + a.duplicates, 0)).toBe(300);
    const r = await report(slug, 'MODEL_VERSION');
    expect(r.total).toMatchObject({ requests: 500 });
    const [s] = (await t.ok(SERIES_POINTS, { id: api.id, name: 'usage.latency_ms', ...WINDOW, agg: 'COUNT' })).node.metricSeries;
    expect(s.points[0]).toMatchObject({ value: 500 });
  });

  test('two calls with the same request ids in opposite orders do not deadlock: one stores them, the other finds them taken', async () => {
    const { slug, api } = await setup();
    // Without a common order each call held ids the other waited for: a deadlock, one call
    // failing with CONFLICT, in 2 of 4 rounds of 10,000 ids (found by a hostile review).
    for (let round = 0; round < 3; round++) {
      const records = Array.from({ length: 10_000 }, (_, j) => rec(`r${round}-${String(j).padStart(5, '0')}`, api.id, { timestamp: at(1 + (j % 50)) }));
      const [a, b] = await Promise.all([record(slug, records), record(slug, [...records].reverse())]);
      expect([a.errors, b.errors]).toEqual([undefined, undefined]);
      expect(a.data!.recordUsage.accepted + b.data!.recordUsage.accepted).toBe(10_000);
      expect(a.data!.recordUsage.duplicates + b.data!.recordUsage.duplicates).toBe(10_000);
    }
  }, 60_000);

  test('a price change mid-window: each record stores the price in force at its time, and a later change rewrites nothing', async () => {
    const { slug, api, model } = await setup();
    const changed = await t.ok(SET_PRICE, { input: { modelVersionId: api.id, validFrom: at(30), tokenPrices: { inputCostPerMillionTokens: 1, outputCostPerMillionTokens: 3 } } });
    expect(changed.setModelVersionPricing.price).toMatchObject({ validFrom: at(30), kind: 'TOKENS', inputCostPerMillionTokens: 1, outputCostPerMillionTokens: 3, gpuHourCostUsd: null });
    // Before 30 min: $2/$6 -> 0.005 per request; from 30 min on: $1/$3 -> 0.0025.
    await t.ok(RECORD, { input: { projectSlug: slug, records: [
      rec('a', api.id, { timestamp: at(10) }), rec('b', api.id, { timestamp: at(29, 59) }), rec('c', api.id, { timestamp: at(30) }), rec('d', api.id, { timestamp: at(45) }),
    ] } });
    const days = await report(slug, 'DAY');
    expect(days.rows).toEqual([expect.objectContaining({ day: '2026-03-10', requests: 4 })]);
    expect(days.rows[0].costUsd).toBeCloseTo(0.015, 12);
    const halves = async () => [
      (await report(slug, 'MODEL', { from: at(0), to: at(30) })).rows[0].costUsd,
      (await report(slug, 'MODEL', { from: at(30), to: at(60) })).rows[0].costUsd,
    ];
    const [before, after] = await halves();
    expect(before).toBeCloseTo(0.01, 12);
    expect(after).toBeCloseTo(0.005, 12);

    // A price set later, from before those records, applies to records stored from now on only.
    await t.ok(SET_PRICE, { input: { modelVersionId: api.id, validFrom: at(5), tokenPrices: { inputCostPerMillionTokens: 100, outputCostPerMillionTokens: 100 } } });
    const [b2, a2] = await halves();
    expect(b2).toBeCloseTo(0.01, 12);
    expect(a2).toBeCloseTo(0.005, 12);
    await t.ok(RECORD, { input: { projectSlug: slug, records: [rec('e', api.id, { timestamp: at(6) })] } });
    expect((await report(slug, 'MODEL', { from: at(6), to: at(7) })).rows[0].costUsd).toBeCloseTo(0.15, 12);
    expect((await report(slug, 'MODEL', { from: at(0), to: at(60) })).rows[0]).toMatchObject({ model: { id: model.id }, requests: 5 });

    // The history keeps every price; pricing(at) answers the one in force then.
    const read = (await t.ok(`query($id: ID!, $t1: DateTime!, $t2: DateTime!, $t3: DateTime!) { node(id: $id) { ... on ModelVersion {
      early: pricing(at: $t1) { validFrom inputCostPerMillionTokens } mid: pricing(at: $t2) { inputCostPerMillionTokens } late: pricing(at: $t3) { inputCostPerMillionTokens }
      now: pricing { inputCostPerMillionTokens } pricingHistory { validFrom inputCostPerMillionTokens } } } }`, { id: api.id, t1: at(1), t2: at(10), t3: at(40) })).node;
    expect(read).toEqual({
      early: { validFrom: null, inputCostPerMillionTokens: 2 }, mid: { inputCostPerMillionTokens: 100 }, late: { inputCostPerMillionTokens: 1 }, now: { inputCostPerMillionTokens: 1 },
      pricingHistory: [{ validFrom: at(30), inputCostPerMillionTokens: 1 }, { validFrom: at(5), inputCostPerMillionTokens: 100 }, { validFrom: null, inputCostPerMillionTokens: 2 }],
    });
    const dup = await t.gql(SET_PRICE, { input: { modelVersionId: api.id, validFrom: at(30), tokenPrices: { inputCostPerMillionTokens: 9, outputCostPerMillionTokens: 9 } } });
    expect(dup.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'validFrom' });
  });

  test('self-hosted versions cost their GPU time; a version without a price has cost null, counted as unpriced', async () => {
    const { slug, model } = await setup();
    // $4 per GPU-hour at 2,000 tokens/s: (input + output) / 2000 / 3600 * 4 USD per request.
    const hosted = await createVersion(t, model.id, { selfHosted: { gpuHourCostUsd: 4, tokensPerSecond: 2000 } });
    const bare = await createVersion(t, model.id);
    const out = await t.ok(RECORD, { input: { projectSlug: slug, records: [
      rec('h1', hosted.id, { inputTokens: 1500, outputTokens: 300 }), rec('h2', hosted.id, { inputTokens: 0, outputTokens: 7200 }), rec('n1', bare.id),
    ] } });
    expect(out.recordUsage).toEqual({ accepted: 3, duplicates: 0, unpriced: 1 });
    const rows = (await report(slug, 'MODEL_VERSION')).rows;
    const of = (id: string) => rows.find((r: { modelVersion: { id: string } }) => r.modelVersion.id === id);
    expect(of(hosted.id).costUsd).toBeCloseTo((1800 + 7200) / 2000 / 3600 * 4, 12);
    expect(of(bare.id)).toMatchObject({ costUsd: null, unpricedRequests: 1, requests: 1 });
    const total = (await report(slug, 'MODEL')).total;
    expect(total).toMatchObject({ requests: 3, unpricedRequests: 1 });
    expect(total.costUsd).toBeCloseTo(0.005, 12);
    // No cost series for the unpriced version: its cost is unknown, not 0.
    const bareSeries = (await t.ok(`query($id: ID!) { node(id: $id) { ... on ModelVersion { metricSeries { name } } } }`, { id: bare.id })).node.metricSeries;
    expect(bareSeries.map((s: { name: string }) => s.name).sort()).toEqual(['usage.errors', 'usage.input_tokens', 'usage.latency_ms', 'usage.output_tokens', 'usage.requests']);

    // The kind of price follows the version's source.
    const api = await createVersion(t, model.id, { artifact: null, externalApi: { provider: 'x', modelId: 'y' } });
    const wrong = await t.gql(SET_PRICE, { input: { modelVersionId: api.id, selfHosted: { gpuHourCostUsd: 1, tokensPerSecond: 1 } } });
    expect(wrong.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'selfHosted' });
    const both = await t.gql(SET_PRICE, { input: { modelVersionId: hosted.id } });
    expect(both.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tokenPrices' });
    const atCreation = await t.gql(`mutation($input: CreateModelVersionInput!) { createModelVersion(input: $input) { modelVersion { id } } }`,
      { input: { modelId: model.id, externalApi: { provider: 'x', modelId: 'y' }, selfHosted: { gpuHourCostUsd: 1, tokensPerSecond: 10 } } });
    expect(atCreation.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'selfHosted' });
    const zeroTps = await t.gql(SET_PRICE, { input: { modelVersionId: hosted.id, selfHosted: { gpuHourCostUsd: 1, tokensPerSecond: 0 } } });
    expect(codeOf(zeroTps)).toBe('BAD_USER_INPUT');
    // Unpriced until priced: a price from 40 min on prices the records stored after it only.
    await t.ok(SET_PRICE, { input: { modelVersionId: api.id, validFrom: at(40), tokenPrices: { inputCostPerMillionTokens: 1, outputCostPerMillionTokens: 1 } } });
    const later = await t.ok(RECORD, { input: { projectSlug: slug, records: [rec('p1', api.id, { timestamp: at(39) }), rec('p2', api.id, { timestamp: at(41) })] } });
    expect(later.recordUsage).toEqual({ accepted: 2, duplicates: 0, unpriced: 1 });
  });

  test('bad records fail the whole call, naming records.<i>.<field>, and store nothing', async () => {
    const { slug, api } = await setup();
    const other = await setup();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ inputTokens: -1 }, 'BAD_USER_INPUT', 'records.1.inputTokens'],
      [{ outputTokens: -5 }, 'BAD_USER_INPUT', 'records.1.outputTokens'],
      [{ latencyMs: -0.5 }, 'BAD_USER_INPUT', 'records.1.latencyMs'],
      [{ requestId: '' }, 'BAD_USER_INPUT', 'records.1.requestId'],
      [{ requestId: 'x'.repeat(201) }, 'BAD_USER_INPUT', 'records.1.requestId'],
      [{ timestamp: new Date(Date.now() + 3600_000).toISOString() }, 'BAD_USER_INPUT', 'records.1.timestamp'],
      [{ modelVersionId: 'nope' }, 'BAD_USER_INPUT', 'records.1.modelVersionId'],
      [{ modelVersionId: other.model.id }, 'BAD_USER_INPUT', 'records.1.modelVersionId'],
      // Another project's version is as unknown as a missing one.
      [{ modelVersionId: other.api.id }, 'NOT_FOUND', 'records.1.modelVersionId'],
      [{ promptVersionId: api.id }, 'BAD_USER_INPUT', 'records.1.promptVersionId'],
    ];
    for (const [bad, code, field] of cases) {
      const res = await record(slug, [rec(unique('ok'), api.id), rec(unique('bad'), api.id, bad)]);
      expect([codeOf(res), fieldOf(res)]).toEqual([code, field]);
    }
    const empty = await record(slug, []);
    expect([codeOf(empty), fieldOf(empty)]).toEqual(['BAD_USER_INPUT', 'records']);
    const tooMany = await record(slug, Array.from({ length: 10_001 }, (_, i) => rec(`r${i}`, api.id)));
    expect(codeOf(tooMany)).toBe('BAD_USER_INPUT');
    expect((await report(slug, 'DAY')).total).toMatchObject({ requests: 0, costUsd: null, errorRate: null, p50LatencyMs: null });

    const backwards = await t.gql(REPORT, { s: slug, from: at(10), to: at(10), g: 'DAY' });
    expect([codeOf(backwards), fieldOf(backwards)]).toEqual(['BAD_USER_INPUT', 'from']);
    const long = await t.gql(REPORT, { s: slug, from: '2025-01-01T00:00:00.000Z', to: '2026-01-03T00:00:00.000Z', g: 'DAY' });
    expect([codeOf(long), fieldOf(long)]).toEqual(['BAD_USER_INPUT', 'to']);
  });

  test('10,000 records in one call are stored and counted', async () => {
    const { slug, api } = await setup();
    const records = Array.from({ length: 10_000 }, (_, i) => rec(`bulk-${i}`, api.id, { latencyMs: i % 100, error: i % 10 === 0, timestamp: at(i % 60, i % 60) }));
    const res = await record(slug, records);
    expect(res.errors).toBeUndefined();
    expect(res.data!.recordUsage).toEqual({ accepted: 10_000, duplicates: 0, unpriced: 0 });
    const r = await report(slug, 'MODEL_VERSION');
    expect(r.total).toMatchObject({ requests: 10_000, errors: 1000, inputTokens: 10_000_000, outputTokens: 5_000_000 });
    expect(r.total.costUsd).toBeCloseTo(50, 9);
  });
});

describe('costReport', () => {
  test('p50/p95 latency and error rate per group match numpy (percentile with linear interpolation = percentile_cont)', async () => {
    const { slug, model, api } = await setup();
    const v2 = await createVersion(t, model.id);
    const otherModel = await createModel(t, slug);
    const v3 = await createVersion(t, otherModel.id);
    const prompt = (await t.ok(`mutation($input: CreatePromptInput!) { createPrompt(input: $input) { prompt { id } } }`, { input: { projectSlug: slug, name: unique('p') } })).createPrompt.prompt;
    const pv = (await t.ok(`mutation($input: CreatePromptVersionInput!) { createPromptVersion(input: $input) { promptVersion { id } } }`,
      { input: { promptId: prompt.id, template: 'Hi {{n}}', variables: ['n'] } })).createPromptVersion.promptVersion;

    // Latencies: numpy.percentile(A, [50, 95]) -> [40.0, 210.0]; numpy.percentile(B, [50, 95]) -> [8.0, 213.85];
    // numpy.percentile(A + B, [50, 95]) -> [35.0, 265.0] (numpy's default method is 'linear').
    const A = [12, 15, 20, 22, 35, 40, 41, 55, 80, 120, 300];
    const B = [5, 7, 9, 250];
    const records = [
      ...A.map((lat, i) => rec(`a${i}`, api.id, { latencyMs: lat, error: i < 3, promptVersionId: pv.id, timestamp: at(i) })),
      ...B.map((lat, i) => rec(`b${i}`, v2.id, { latencyMs: lat, error: i === 0, timestamp: at(i) })),
      rec('c0', v3.id, { latencyMs: 1, timestamp: '2026-03-11T00:30:00.000Z' }),
    ];
    await t.ok(RECORD, { input: { projectSlug: slug, records } });
    const window = { from: '2026-03-10T00:00:00.000Z', to: '2026-03-12T00:00:00.000Z' };

    const byVersion = await report(slug, 'MODEL_VERSION', window);
    const v = (id: string) => byVersion.rows.find((r: { modelVersion: { id: string } }) => r.modelVersion.id === id);
    expect(v(api.id)).toMatchObject({ requests: 11, errors: 3, p50LatencyMs: 40, p95LatencyMs: 210 });
    expect(v(api.id).errorRate).toBeCloseTo(3 / 11, 12);
    expect(v(v2.id)).toMatchObject({ requests: 4, errors: 1, errorRate: 0.25, p50LatencyMs: 8, costUsd: null, unpricedRequests: 4 });
    expect(v(v2.id).p95LatencyMs).toBeCloseTo(213.85, 9);
    // The costliest first; unpriced groups after.
    expect(byVersion.rows[0].modelVersion.id).toBe(api.id);

    const byModel = await report(slug, 'MODEL', window);
    expect(byModel.rows).toHaveLength(2);
    expect(byModel.rows[0]).toMatchObject({ model: { id: model.id }, modelVersion: null, requests: 15, errors: 4, p50LatencyMs: 35 });
    expect(byModel.rows[0].p95LatencyMs).toBeCloseTo(265, 9);
    expect(byModel.rows[1]).toMatchObject({ model: { id: otherModel.id }, requests: 1, p50LatencyMs: 1, p95LatencyMs: 1 });
    expect(byModel.total).toMatchObject({ requests: 16, errors: 4 });

    const byPrompt = await report(slug, 'PROMPT_VERSION', window);
    expect(byPrompt.rows.map((r: { promptVersion: { id: string } | null; requests: number }) => [r.promptVersion?.id ?? null, r.requests]))
      .toEqual([[pv.id, 11], [null, 5]]);

    const byDay = await report(slug, 'DAY', window);
    expect(byDay.rows.map((r: { day: string; requests: number }) => [r.day, r.requests])).toEqual([['2026-03-10', 15], ['2026-03-11', 1]]);

    // Records named by their version have no deployment: one group, deploymentId null.
    const byDeployment = await report(slug, 'DEPLOYMENT', window);
    expect(byDeployment.rows).toEqual([expect.objectContaining({ deploymentId: null, requests: 16 })]);
  });

  test('a report with nested subjects costs the same statements whatever its row count', async () => {
    const { slug, model, api } = await setup();
    const q = `query($s: String!, $from: DateTime!, $to: DateTime!) { project(slug: $s) { costReport(from: $from, to: $to, groupBy: MODEL_VERSION) {
      rows { requests modelVersion { id number model { id name } pricing { inputCostPerMillionTokens } } } } } }`;
    await t.ok(RECORD, { input: { projectSlug: slug, records: [rec('one', api.id)] } });
    const [one, r1] = await t.countStatements(() => t.ok(q, { s: slug, ...WINDOW }));
    expect(r1.project.costReport.rows).toHaveLength(1);
    const more = await Promise.all([1, 2, 3].map(() => createVersion(t, model.id, { selfHosted: { gpuHourCostUsd: 1, tokensPerSecond: 100 } })));
    await t.ok(RECORD, { input: { projectSlug: slug, records: more.map((mv, i) => rec(`m${i}`, mv.id)) } });
    const [four, r4] = await t.countStatements(() => t.ok(q, { s: slug, ...WINDOW }));
    expect(r4.project.costReport.rows).toHaveLength(4);
    expect(four).toBe(one);
  });
});

test('usage feeds monitors with no code path of their own: a monitor on usage.errors opens an alert', async () => {
  const { slug, api } = await setup();
  const mo = (await t.ok(`mutation($input: CreateMonitorInput!) { createMonitor(input: $input) { monitor { id status } } }`, { input: {
    projectSlug: slug, name: unique('errors'), metric: 'usage.errors', modelVersionId: api.id, aggregation: 'SUM', windowSeconds: 600, comparator: 'GTE', threshold: 2,
  } })).createMonitor.monitor;
  expect(mo.status).toBe('NO_DATA');
  const now = Date.now();
  await t.ok(RECORD, { input: { projectSlug: slug, records: [
    rec('e1', api.id, { error: true, timestamp: new Date(now - 5000).toISOString() }), rec('e2', api.id, { error: false, timestamp: new Date(now - 4000).toISOString() }),
  ] } });
  const state = async () => (await t.ok(`query($id: ID!) { node(id: $id) { ... on Monitor { status lastValue } } }`, { id: mo.id })).node;
  expect(await state()).toEqual({ status: 'OK', lastValue: 1 });
  await t.ok(RECORD, { input: { projectSlug: slug, records: [rec('e3', api.id, { error: true, timestamp: new Date(now - 3000).toISOString() })] } });
  expect(await state()).toEqual({ status: 'ALERT', lastValue: 2 });
  // A replay changes nothing.
  await t.ok(RECORD, { input: { projectSlug: slug, records: [rec('e3', api.id, { error: true, timestamp: new Date(now - 2000).toISOString() })] } });
  expect(await state()).toEqual({ status: 'ALERT', lastValue: 2 });
});

test('cross-project access is refused for every new mutation and field; viewers read but do not write', async () => {
  const a = await setup();
  const b = await setup();
  await t.ok(RECORD, { input: { projectSlug: a.slug, records: [rec('x1', a.api.id)] } });
  const editorB = await createKey(t, 'EDITOR', b.slug);
  const viewerA = await createKey(t, 'VIEWER', a.slug);

  // recordUsage into A with B's key; into B naming A's version.
  expect(codeOf(await record(a.slug, [rec('y1', a.api.id)], editorB))).toBe('NOT_FOUND');
  const smuggled = await record(b.slug, [rec('y2', a.api.id)], editorB);
  expect([codeOf(smuggled), fieldOf(smuggled)]).toEqual(['NOT_FOUND', 'records.0.modelVersionId']);
  const pv = await t.gql(SET_PRICE, { input: { modelVersionId: a.api.id, tokenPrices: { inputCostPerMillionTokens: 0, outputCostPerMillionTokens: 0 } } }, editorB);
  expect(codeOf(pv)).toBe('NOT_FOUND');
  // Reads: A's project and version are not there for B's key.
  const readB = await t.gql(`query($s: String!, $id: ID!) { project(slug: $s) { costReport(from: "2026-03-10T00:00:00Z", to: "2026-03-11T00:00:00Z", groupBy: DAY) { total { requests } } }
    node(id: $id) { ... on ModelVersion { pricing { inputCostPerMillionTokens } pricingHistory { validFrom } } } }`, { s: a.slug, id: a.api.id }, editorB);
  expect(readB.errors).toBeUndefined();
  expect(readB.data).toEqual({ project: null, node: null });
  // Nothing of A's changed.
  expect((await report(a.slug, 'DAY')).total.requests).toBe(1);
  expect((await t.ok(`query($id: ID!) { node(id: $id) { ... on ModelVersion { pricingHistory { inputCostPerMillionTokens } } } }`, { id: a.api.id })).node.pricingHistory)
    .toEqual([{ inputCostPerMillionTokens: 2 }]);

  // A's viewer reads, and may not write.
  expect((await report(a.slug, 'DAY', WINDOW, viewerA)).total.requests).toBe(1);
  expect(codeOf(await record(a.slug, [rec('y3', a.api.id)], viewerA))).toBe('FORBIDDEN');
  expect(codeOf(await t.gql(SET_PRICE, { input: { modelVersionId: a.api.id, tokenPrices: { inputCostPerMillionTokens: 0, outputCostPerMillionTokens: 0 } } }, viewerA))).toBe('FORBIDDEN');
});

describe('records served through a deployment route', () => {
  const SET_ALIAS = `mutation($input: SetModelAliasInput!) { setModelAlias(input: $input) { alias { revision } } }`;
  const SET_ROUTES = `mutation($input: SetDeploymentRoutesInput!) { setDeploymentRoutes(input: $input) { revision { validFrom } } }`;
  const ms = (iso: string) => Date.parse(iso);
  const iso = (n: number) => new Date(n).toISOString();

  /**
   * A deployment whose "main" route follows the "production" alias (on v1) next to a "canary"
   * pinned to v2 (revision 1, from r1); then the alias moves to v2 (at a1); then revision 2
   * (from r2) pins main to v1 and drops the canary. v1 costs $2/$6 and v2 $1/$1 per million tokens.
   */
  async function timeline() {
    const { slug, model, api: v1 } = await setup();
    const v2 = await createVersion(t, model.id, { artifact: null, externalApi: { provider: 'x', modelId: 'y', inputCostPerMillionTokens: 1, outputCostPerMillionTokens: 1 } });
    await t.ok(SET_ALIAS, { input: { modelId: model.id, alias: 'production', versionNumber: 1 } });
    const deployment = (await t.ok(`mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { deployment { id name } } }`,
      { input: { projectSlug: slug, name: unique('chat'), environment: 'production' } })).createDeployment.deployment as { id: string; name: string };
    const r1 = (await t.ok(SET_ROUTES, { input: { deploymentId: deployment.id, expectedRevision: 0, routes: [
      { name: 'main', weight: 90, modelId: model.id, alias: 'production' }, { name: 'canary', weight: 10, modelVersionId: v2.id },
    ] } })).setDeploymentRoutes.revision.validFrom as string;
    await t.ok(SET_ALIAS, { input: { modelId: model.id, alias: 'production', versionNumber: 2 } });
    const a1 = (await t.ok(`query($id: ID!) { node(id: $id) { ... on Model { aliasHistory(name: "production", first: 1) { nodes { at } } } } }`,
      { id: model.id })).node.aliasHistory.nodes[0].at as string;
    const r2 = (await t.ok(SET_ROUTES, { input: { deploymentId: deployment.id, expectedRevision: 1, routes: [{ name: 'main', weight: 100, modelVersionId: v1.id }] } }))
      .setDeploymentRoutes.revision.validFrom as string;
    // The moments are the server's; each step is at least a millisecond after the previous one.
    expect(ms(r1) < ms(a1) && ms(a1) <= ms(r2)).toBe(true);
    return { slug, model, v1, v2, deployment, r1, a1, r2 };
  }

  const viaRoute = (requestId: string, deploymentId: string, route: string, timestamp: string, extra: Record<string, unknown> = {}) =>
    ({ requestId, deploymentId, route, inputTokens: 1000, outputTokens: 500, latencyMs: 100, timestamp, ...extra });

  test('each record gets the version its route served at its timestamp (route set and alias as of then), with that version\'s price; the cost report names the deployment', async () => {
    const { slug, v1, v2, deployment, r1, a1, r2 } = await timeline();
    const res = await record(slug, [
      viaRoute('m-r1', deployment.id, 'main', r1), // revision 1, alias on v1 -> v1
      viaRoute('m-a1', deployment.id, 'main', a1), // revision 1, alias on v2 -> v2
      viaRoute('c-r1', deployment.id, 'canary', r1), // pinned -> v2
      viaRoute('m-r2', deployment.id, 'main', r2, { latencyMs: 300, error: true }), // revision 2, pinned -> v1
      rec('plain', v2.id, { timestamp: r2 }), // named directly, as before
    ]);
    expect(res.errors).toBeUndefined();
    expect(res.data!.recordUsage).toEqual({ accepted: 5, duplicates: 0, unpriced: 0 });
    const window = { from: iso(ms(r1) - 60_000), to: iso(ms(r2) + 60_000) };
    // v1: 2 requests at $2/$6 (0.005 each); v2: 3 requests at $1/$1 (0.0015 each).
    const byVersion = await report(slug, 'MODEL_VERSION', window);
    const of = (id: string) => byVersion.rows.find((r: { modelVersion: { id: string } }) => r.modelVersion.id === id);
    expect([of(v1.id).requests, of(v2.id).requests]).toEqual([2, 3]);
    expect(of(v1.id).costUsd).toBeCloseTo(0.01, 12);
    expect(of(v2.id).costUsd).toBeCloseTo(0.0045, 12);

    const byDeployment = await report(slug, 'DEPLOYMENT', window);
    const rows = byDeployment.rows.map((r: { deploymentId: string | null; requests: number }) => [r.deploymentId, r.requests]);
    expect(rows).toEqual([[deployment.id, 4], [null, 1]]);
    const named = (await t.ok(`query($s: String!, $from: DateTime!, $to: DateTime!) { project(slug: $s) { costReport(from: $from, to: $to, groupBy: DEPLOYMENT) {
      rows { deploymentId deployment { id name } } } } }`, { s: slug, ...window })).project.costReport.rows;
    expect(named).toEqual([{ deploymentId: deployment.id, deployment: { id: deployment.id, name: deployment.name } }, { deploymentId: null, deployment: null }]);
    // deploymentId is the Deployment node's id.
    expect((await t.ok(`query($id: ID!) { node(id: $id) { ... on Deployment { name } } }`, { id: byDeployment.rows[0].deploymentId })).node.name).toBe(deployment.name);

    // The usage.* series per route, as project series labelled with the deployment and route names, next to the versions' series.
    const routeSeries = async (route: string, name: string, agg: string) => {
      const nodes = (await t.ok(`query($s: String!, $l: JSONObject!, $n: String!, $from: DateTime!, $to: DateTime!, $agg: Aggregation!) { project(slug: $s) {
        metricSeries(labels: $l, name: $n) { nodes { labels modelVersion { id } points(from: $from, to: $to, maxPoints: 1, aggregation: $agg) { value } } } } }`,
      { s: slug, l: { deployment: deployment.name, route }, n: name, ...window, agg })).project.metricSeries.nodes;
      expect(nodes).toHaveLength(1);
      expect(nodes[0]).toMatchObject({ labels: { deployment: deployment.name, route }, modelVersion: null });
      return nodes[0].points[0].value;
    };
    expect(await routeSeries('main', 'usage.requests', 'SUM')).toBe(3);
    expect(await routeSeries('main', 'usage.errors', 'SUM')).toBe(1);
    expect(await routeSeries('canary', 'usage.requests', 'SUM')).toBe(1);
    expect(await routeSeries('main', 'usage.latency_ms', 'MAX')).toBe(300);
    expect(await routeSeries('main', 'usage.cost_usd', 'SUM')).toBeCloseTo(0.005 + 0.0015 + 0.005, 12);
    const v2Requests = (await t.ok(SERIES_POINTS, { id: v2.id, name: 'usage.requests', ...window, agg: 'SUM' })).node.metricSeries[0].points[0].value;
    expect(v2Requests).toBe(3);
  });

  test('a route that did not exist at the record\'s time, a deployment of another project, and a record naming both forms or neither are refused, naming the field; nothing is stored', async () => {
    const { slug, model, v1, deployment, r1, r2 } = await timeline();
    const other = await timeline();
    const good = () => viaRoute(unique('ok'), deployment.id, 'main', r2);
    const cases: [Record<string, unknown>, string, string][] = [
      [viaRoute('x', deployment.id, 'canary', r2), 'BAD_USER_INPUT', 'records.1.route'], // dropped by revision 2
      [viaRoute('x', deployment.id, 'main', new Date(ms(r1) - 1).toISOString()), 'BAD_USER_INPUT', 'records.1.route'], // before revision 1
      [viaRoute('x', deployment.id, 'nope', r2), 'BAD_USER_INPUT', 'records.1.route'],
      [viaRoute('x', other.deployment.id, 'main', other.r2), 'NOT_FOUND', 'records.1.deploymentId'],
      [viaRoute('x', model.id, 'main', r2), 'BAD_USER_INPUT', 'records.1.deploymentId'],
      [viaRoute('x', deployment.id, 'main', r2, { modelVersionId: v1.id }), 'BAD_USER_INPUT', 'records.1.deploymentId'],
      [{ ...viaRoute('x', deployment.id, 'main', r2), deploymentId: null }, 'BAD_USER_INPUT', 'records.1.deploymentId'],
      [{ ...viaRoute('x', deployment.id, 'main', r2), route: null }, 'BAD_USER_INPUT', 'records.1.route'],
      [{ ...viaRoute('x', deployment.id, 'main', r2), deploymentId: null, route: null }, 'BAD_USER_INPUT', 'records.1.modelVersionId'],
    ];
    for (const [bad, code, field] of cases) {
      const res = await record(slug, [good(), bad]);
      expect([bad, codeOf(res), fieldOf(res)]).toEqual([bad, code, field]);
    }
    expect((await report(slug, 'DAY', { from: iso(ms(r1) - 60_000), to: iso(ms(r2) + 60_000) })).total.requests).toBe(0);
    // The database holds a record to its own project's deployment whatever the application checks.
    const key = (id: string) => Buffer.from(id, 'base64url').toString().split(':')[1];
    const [{ project_id: projectId }] = await t.server.db.query(`SELECT project_id FROM deployment WHERE id = $1`, [key(deployment.id)]);
    await expect(t.server.db.query(
      `INSERT INTO usage_record (project_id, request_id, model_version_id, deployment_id, route, ts, input_tokens, output_tokens, latency_ms, error)
       VALUES ($1, 'smuggled', $2, $3, 'main', now(), 0, 0, 0, false)`,
      [projectId, key(v1.id), key(other.deployment.id)],
    )).rejects.toMatchObject({ code: '23503' });
  });

  test('routes are resolved for the whole call at once: 1 and 300 records at distinct moments cost the same statements', async () => {
    const { slug, deployment, r2 } = await timeline();
    const batch = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => viaRoute(`${prefix}-${i}`, deployment.id, 'main', iso(ms(r2) + i)));
    // The first call creates the series; the two measured ones write to them.
    expect((await record(slug, batch(1, 'warm'))).errors).toBeUndefined();
    const [one, a] = await t.countStatements(() => record(slug, batch(1, 'one')));
    const [many, b] = await t.countStatements(() => record(slug, batch(300, 'many')));
    expect([a.errors, b.errors]).toEqual([undefined, undefined]);
    expect(b.data!.recordUsage.accepted).toBe(300);
    expect(many).toBe(one);
  });
});

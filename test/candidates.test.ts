import { GqlResponse, TestServer, createKey, createModel, createProject, createVersion, startTestServer, unique } from './support/harness';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

/** Finish times order evaluations: a little apart, so that "latest" is never a tie. */
const tick = () => new Promise((r) => setTimeout(r, 3));

const CANDIDATE = `modelVersion { id } evaluation { id } quality costPer1kRequestsUsd costSource requests pricedRequests samplesWithTokens
  p95LatencyMs onParetoFrontier frontierStatus dominatedBy { id } engagement { feedbackCount positiveRate }`;
const COMPARE = `query($s: String!, $ids: [ID!]!, $d: ID!, $m: String!, $hib: Boolean, $from: DateTime, $to: DateTime) {
  compareCandidates(projectSlug: $s, versionIds: $ids, datasetVersionId: $d, qualityMetric: $m, higherIsBetter: $hib, from: $from, to: $to) {
    datasetVersion { id } qualityMetric higherIsBetter from to candidates { ${CANDIDATE} } } }`;
const CREATE_EVAL = `mutation($input: CreateEvaluationInput!) { createEvaluation(input: $input) { evaluation { id } } }`;
const LOG_SAMPLES = `mutation($input: LogEvaluationSamplesInput!) { logEvaluationSamples(input: $input) { evaluation { id } } }`;
const COMPLETE = `mutation($input: CompleteEvaluationInput!) { completeEvaluation(input: $input) { evaluation { id } } }`;
const RECORD = `mutation($input: RecordUsageInput!) { recordUsage(input: $input) { accepted unpriced } }`;
const FEEDBACK = `mutation($input: RecordFeedbackInput!) { recordFeedback(input: $input) { accepted } }`;

const DAY = 86_400_000;
/** Inside the default window (the last 30 days), and outside it. */
const recent = (minute: number) => new Date(Date.now() - DAY + minute * 60_000).toISOString();
const longAgo = () => new Date(Date.now() - 40 * DAY).toISOString();

const codeOf = (r: GqlResponse) => r.errors?.[0]?.extensions.code;
const fieldOf = (r: GqlResponse) => r.errors?.[0]?.extensions.field;

async function datasetVersion(slug: string): Promise<string> {
  const ds = await t.ok(`mutation($input: CreateDatasetInput!) { createDataset(input: $input) { dataset { id } } }`, { input: { projectSlug: slug, name: unique('ds') } });
  const dv = await t.ok(`mutation($input: CreateDatasetVersionInput!) { createDatasetVersion(input: $input) { datasetVersion { id } } }`,
    { input: { datasetId: ds.createDataset.dataset.id, digest: `sha256:${unique('d')}`, columns: [{ name: 'q', dtype: 'STRING' }] } });
  return dv.createDatasetVersion.datasetVersion.id;
}

interface Sample { inputTokens?: number | null; outputTokens?: number | null }

/** An evaluation of a version on a dataset version with metrics and samples, finished as `status`. */
async function evaluate(versionId: string, dv: string | null, metrics: { name: string; value: number; slice?: string }[],
  samples: Sample[] = [], status: 'COMPLETED' | 'FAILED' | null = 'COMPLETED'): Promise<string> {
  const id = (await t.ok(CREATE_EVAL, { input: { modelVersionId: versionId, datasetVersionId: dv, name: unique('eval'), metrics } })).createEvaluation.evaluation.id;
  if (samples.length) {
    await t.ok(LOG_SAMPLES, { input: { evaluationId: id, samples: samples.map((s, i) => ({ output: `o${i}`, scores: { ok: 1 }, ...s })) } });
  }
  if (status) {
    await tick();
    await t.ok(COMPLETE, { input: { evaluationId: id, status } });
    await tick();
  }
  return id;
}

/** Usage records of a version: [inputTokens, outputTokens, latencyMs, timestamp]. */
async function use(slug: string, versionId: string, records: [number, number, number, string][]) {
  await t.ok(RECORD, { input: { projectSlug: slug, records: records.map(([inputTokens, outputTokens, latencyMs, timestamp]) => ({
    requestId: unique('req'), modelVersionId: versionId, inputTokens, outputTokens, latencyMs, timestamp,
  })) } });
}

const api = (input: number, output: number) => ({ artifact: null, externalApi: { provider: 'p', modelId: unique('m'), inputCostPerMillionTokens: input, outputCostPerMillionTokens: output } });
const selfHosted = (gpuHourCostUsd: number, tokensPerSecond: number) => ({ selfHosted: { gpuHourCostUsd, tokensPerSecond } });

const compare = (vars: Record<string, unknown>, key?: string) => t.gql(COMPARE, vars, key);
const candidatesOf = async (vars: Record<string, unknown>, key?: string) => (await t.ok(COMPARE, vars, key)).compareCandidates.candidates;

describe('compareCandidates', () => {
  test('the quality–cost Pareto frontier over 5 candidates: open weights self-hosted, two APIs, two dominated', async () => {
    const project = await createProject(t, 'cand');
    const dv = await datasetVersion(project.slug);
    const otherDv = await datasetVersion(project.slug);
    const model = await createModel(t, project.slug);
    const open = (await createVersion(t, model.id, selfHosted(2, 5000))).id;
    const apiBig = (await createVersion(t, model.id, api(3, 15))).id;
    const apiSmall = (await createVersion(t, model.id, api(0.15, 0.6))).id;
    const apiDominated = (await createVersion(t, model.id, api(10, 40))).id;
    const openDominated = (await createVersion(t, model.id, selfHosted(6, 5000))).id;

    // Quality: acc on dv from the latest COMPLETED evaluation there that reports it.
    await evaluate(open, dv, [{ name: 'acc', value: 0.5 }]);
    // Its samples' tokens would estimate 3000 / 5000 / 3600 * 2 * 1000 = 0.3333 USD per 1,000: usage wins over them.
    const openEval = await evaluate(open, dv, [{ name: 'acc', value: 0.8 }], [{ inputTokens: 2000, outputTokens: 1000 }]);
    const bigEval = await evaluate(apiBig, dv, [{ name: 'acc', value: 0.92 }]);
    // Later, but not counted: another dataset version, still RUNNING, FAILED, or without the metric.
    await evaluate(apiBig, otherDv, [{ name: 'acc', value: 0.99 }]);
    await evaluate(apiBig, dv, [{ name: 'acc', value: 0.1 }], [], null);
    await evaluate(apiBig, dv, [{ name: 'acc', value: 0.2 }], [], 'FAILED');
    await evaluate(apiBig, dv, [{ name: 'f1', value: 0.3 }]);
    // Samples with both token counts: (800, 400) and (1200, 600), mean (1000, 500); the others are left out of the estimate.
    const smallEval = await evaluate(apiSmall, dv, [{ name: 'acc', value: 0.85 }],
      [{ inputTokens: 800, outputTokens: 400 }, { inputTokens: 1200, outputTokens: 600 }, {}, { inputTokens: 99_999 }]);
    await evaluate(apiDominated, dv, [{ name: 'acc', value: 0.9 }]);
    await evaluate(openDominated, dv, [{ name: 'acc', value: 0.78 }]);

    await use(project.slug, open, [
      [1000, 500, 100, recent(1)], [1000, 500, 200, recent(2)], [1000, 500, 300, recent(3)], [1000, 500, 400, recent(4)],
      // Outside the default window: neither its cost nor its latency counts.
      [100_000, 0, 99_999, longAgo()],
    ]);
    await use(project.slug, apiBig, [[1000, 500, 800, recent(5)], [3000, 1500, 1200, recent(6)]]);
    await use(project.slug, apiDominated, [[1000, 500, 50, recent(7)]]);
    await use(project.slug, openDominated, [[1000, 500, 60, recent(8)]]);
    for (const [value, at] of [[1, recent(9)], [0, recent(10)], [1, longAgo()]] as const) {
      await t.ok(FEEDBACK, { input: { modelVersionId: apiBig, kind: 'THUMBS', value, sessionId: unique('s'), at } });
    }

    const viewer = await createKey(t, 'VIEWER', project.slug);
    const ids = [open, apiBig, apiSmall, apiDominated, openDominated];
    const res = (await t.ok(COMPARE, { s: project.slug, ids, d: dv, m: 'acc' }, viewer)).compareCandidates;
    expect(res).toMatchObject({ datasetVersion: { id: dv }, qualityMetric: 'acc', higherIsBetter: true });
    expect(Date.parse(res.to) - Date.parse(res.from)).toBe(30 * DAY);
    const [c1, c2, c3, c4, c5] = res.candidates;
    expect(res.candidates.map((c: { modelVersion: { id: string } }) => c.modelVersion.id)).toEqual(ids);

    // Costs by hand (USD per 1,000 requests):
    // open, self-hosted at $2/GPU-hour, 5,000 tokens/s: 1500 / 5000 / 3600 * 2 * 1000 = 1/6.
    expect(c1).toMatchObject({ evaluation: { id: openEval }, quality: 0.8, costSource: 'USAGE', requests: 4, pricedRequests: 4, samplesWithTokens: 1 });
    expect(c1.costPer1kRequestsUsd).toBeCloseTo(1 / 6, 12);
    // apiBig at $3 / $15 per million: (0.0105 + 0.0315) / 2 * 1000 = 21.
    expect(c2).toMatchObject({ evaluation: { id: bigEval }, quality: 0.92, costSource: 'USAGE', requests: 2, samplesWithTokens: 0 });
    expect(c2.costPer1kRequestsUsd).toBeCloseTo(21, 10);
    // apiSmall, no usage: (1000 * 0.15 + 500 * 0.6) / 1e6 * 1000 = 0.45 at its price now.
    expect(c3).toMatchObject({ evaluation: { id: smallEval }, quality: 0.85, costSource: 'ESTIMATED_FROM_SAMPLES', requests: 0, samplesWithTokens: 2, p95LatencyMs: null });
    expect(c3.costPer1kRequestsUsd).toBeCloseTo(0.45, 12);
    // apiDominated at $10 / $40: (0.01 + 0.02) * 1000 = 30; openDominated at $6/GPU-hour: 1500 / 5000 / 3600 * 6 * 1000 = 0.5.
    expect(c4.costPer1kRequestsUsd).toBeCloseTo(30, 10);
    expect(c5.costPer1kRequestsUsd).toBeCloseTo(0.5, 12);

    // p95 as percentile_cont: scipy.stats.scoreatpercentile([100, 200, 300, 400], 95) = 385.0,
    // scipy.stats.scoreatpercentile([800, 1200], 95) = 1180.0.
    expect(c1.p95LatencyMs).toBeCloseTo(385, 9);
    expect(c2.p95LatencyMs).toBeCloseTo(1180, 9);
    expect(c2.engagement).toEqual({ feedbackCount: 2, positiveRate: 0.5 });
    expect(c1.engagement).toEqual({ feedbackCount: 0, positiveRate: null });

    // (0.80, 0.167), (0.85, 0.45) and (0.92, 21) are the frontier; (0.90, 30) is beaten by apiBig,
    // (0.78, 0.5) by open and by apiSmall.
    const frontier = res.candidates.map((c: { onParetoFrontier: boolean; frontierStatus: string; dominatedBy: { id: string }[] }) =>
      [c.onParetoFrontier, c.frontierStatus, c.dominatedBy.map((d) => d.id)]);
    expect(frontier).toEqual([
      [true, 'ON_FRONTIER', []],
      [true, 'ON_FRONTIER', []],
      [true, 'ON_FRONTIER', []],
      [false, 'DOMINATED', [apiBig]],
      [false, 'DOMINATED', [open, apiSmall]],
    ]);

    // A window that holds the old record only: open's cost and latency are that record's.
    const old = await candidatesOf({ s: project.slug, ids: [open, apiBig], d: dv, m: 'acc', from: new Date(Date.now() - 41 * DAY).toISOString(), to: new Date(Date.now() - 39 * DAY).toISOString() });
    expect(old[0]).toMatchObject({ requests: 1, p95LatencyMs: 99_999, costSource: 'USAGE' });
    expect(old[0].costPer1kRequestsUsd).toBeCloseTo(100_000 / 5000 / 3600 * 2 * 1000, 10);
    expect(old[1]).toMatchObject({ requests: 0, costSource: 'NONE', costPer1kRequestsUsd: null, frontierStatus: 'NO_COST', engagement: { feedbackCount: 1 } });
  });

  test('ties: equal candidates share the frontier; equal on one objective and worse on the other is dominated; higherIsBetter false flips quality', async () => {
    const project = await createProject(t, 'cand-ties');
    const dv = await datasetVersion(project.slug);
    const model = await createModel(t, project.slug);
    const tokens = [{ inputTokens: 1000, outputTokens: 1000 }];
    // Estimated at $1 / $2 per million: (1000 + 2000) / 1e6 * 1000 = 3 USD per 1,000; at $2 / $2: 4.
    const [a, b, dearer, worse] = await Promise.all([api(1, 2), api(1, 2), api(2, 2), api(1, 2)].map(async (p) => (await createVersion(t, model.id, p)).id));
    await evaluate(a, dv, [{ name: 'loss', value: 0.7 }], tokens);
    await evaluate(b, dv, [{ name: 'loss', value: 0.7 }], tokens);
    await evaluate(dearer, dv, [{ name: 'loss', value: 0.7 }], tokens);
    await evaluate(worse, dv, [{ name: 'loss', value: 0.6 }], tokens);
    const vars = { s: project.slug, ids: [a, b, dearer, worse], d: dv, m: 'loss' };
    const place = (cs: { frontierStatus: string; dominatedBy: { id: string }[]; costPer1kRequestsUsd: number }[]) =>
      cs.map((c) => [c.frontierStatus, c.dominatedBy.map((d) => d.id), c.costPer1kRequestsUsd]);

    expect(place(await candidatesOf(vars))).toEqual([
      ['ON_FRONTIER', [], 3], ['ON_FRONTIER', [], 3], ['DOMINATED', [a, b], 4], ['DOMINATED', [a, b], 3],
    ]);
    // As a loss, 0.6 is the better value: `worse` now beats a and b at the same cost, and dearer.
    expect(place(await candidatesOf({ ...vars, hib: false }))).toEqual([
      ['DOMINATED', [worse], 3], ['DOMINATED', [worse], 3], ['DOMINATED', [a, b, worse], 4], ['ON_FRONTIER', [], 3],
    ]);
  });

  test('missing quality or cost: such a candidate is on no frontier, and the status says which is missing', async () => {
    const project = await createProject(t, 'cand-missing');
    const dv = await datasetVersion(project.slug);
    const model = await createModel(t, project.slug);
    const v = async (extra: Record<string, unknown> = {}) => (await createVersion(t, model.id, extra)).id;
    const complete = await v(api(1, 1));
    const running = await v(api(1, 1));
    const sliceOnly = await v(api(1, 1));
    const noTokens = await v(api(1, 1));
    const unpriced = await v();
    const unpricedUsage = await v();
    const olderReports = await v(api(1, 1));

    await evaluate(complete, dv, [{ name: 'acc', value: 0.5 }], [{ inputTokens: 500, outputTokens: 500 }]);
    await evaluate(running, dv, [{ name: 'acc', value: 0.9 }], [], null);
    await use(project.slug, running, [[1000, 0, 10, recent(1)]]);
    await evaluate(sliceOnly, dv, [{ name: 'acc', value: 0.9, slice: 'lang=fr' }], [{ inputTokens: 1, outputTokens: 1 }]);
    await evaluate(noTokens, dv, [{ name: 'acc', value: 0.9 }], [{}, { outputTokens: 10 }]);
    await evaluate(unpriced, dv, [{ name: 'acc', value: 0.9 }], [{ inputTokens: 10, outputTokens: 10 }]);
    await use(project.slug, unpricedUsage, [[10, 10, 250, recent(2)]]);
    // The latest completed evaluation lacks the metric: the one before it that reports it counts.
    const reporting = await evaluate(olderReports, dv, [{ name: 'acc', value: 0.4 }], [{ inputTokens: 1000, outputTokens: 0 }]);
    await evaluate(olderReports, dv, [{ name: 'f1', value: 0.9 }], [{ inputTokens: 5000, outputTokens: 0 }]);

    const cs = await candidatesOf({ s: project.slug, ids: [complete, running, sliceOnly, noTokens, unpriced, unpricedUsage, olderReports], d: dv, m: 'acc' });
    const view = cs.map((c: Record<string, unknown>) => ({
      quality: c.quality, cost: c.costPer1kRequestsUsd, source: c.costSource, status: c.frontierStatus, onFrontier: c.onParetoFrontier,
    }));
    expect(view).toEqual([
      // (500 + 500) / 1e6 * 1000 = 1.
      { quality: 0.5, cost: 1, source: 'ESTIMATED_FROM_SAMPLES', status: 'ON_FRONTIER', onFrontier: true },
      // 1000 / 1e6 * 1000 = 1 from usage, but its only evaluation on dv is RUNNING.
      { quality: null, cost: 1, source: 'USAGE', status: 'NO_QUALITY', onFrontier: false },
      // The metric only on a slice: no quality evaluation, so no samples to estimate from either.
      { quality: null, cost: null, source: 'NONE', status: 'NO_QUALITY_NO_COST', onFrontier: false },
      { quality: 0.9, cost: null, source: 'NONE', status: 'NO_COST', onFrontier: false },
      { quality: 0.9, cost: null, source: 'NONE', status: 'NO_COST', onFrontier: false },
      { quality: null, cost: null, source: 'NONE', status: 'NO_QUALITY_NO_COST', onFrontier: false },
      { quality: 0.4, cost: 1, source: 'ESTIMATED_FROM_SAMPLES', status: 'DOMINATED', onFrontier: false },
    ]);
    expect(cs[6].evaluation).toEqual({ id: reporting });
    expect(cs[6].dominatedBy).toEqual([{ id: complete }]);
    expect(cs[1].evaluation).toBeNull();
    expect(cs[5]).toMatchObject({ requests: 1, pricedRequests: 0, p95LatencyMs: 250, samplesWithTokens: 0 });
    expect(cs[3]).toMatchObject({ samplesWithTokens: 0 });
  });

  test('cross-project access is refused: another project\'s version or dataset version is NOT_FOUND, and so is the project to its keys', async () => {
    const a = await createProject(t, 'cand-a');
    const b = await createProject(t, 'cand-b');
    const dvA = await datasetVersion(a.slug);
    const dvB = await datasetVersion(b.slug);
    const modelA = await createModel(t, a.slug);
    const modelB = await createModel(t, b.slug);
    const [a1, a2] = [(await createVersion(t, modelA.id)).id, (await createVersion(t, modelA.id)).id];
    const b1 = (await createVersion(t, modelB.id)).id;

    const foreignVersion = await compare({ s: a.slug, ids: [a1, b1, a2], d: dvA, m: 'acc' });
    expect([codeOf(foreignVersion), fieldOf(foreignVersion)]).toEqual(['NOT_FOUND', 'versionIds.1']);
    const foreignDataset = await compare({ s: a.slug, ids: [a1, a2], d: dvB, m: 'acc' });
    expect([codeOf(foreignDataset), fieldOf(foreignDataset)]).toEqual(['NOT_FOUND', 'datasetVersionId']);
    // B's own versions through A's slug, with B's key: A is not B's to see.
    const keyB = await createKey(t, 'ADMIN', b.slug);
    expect(codeOf(await compare({ s: a.slug, ids: [a1, a2], d: dvA, m: 'acc' }, keyB))).toBe('NOT_FOUND');
    // A VIEWER of A reads it.
    const viewerA = await createKey(t, 'VIEWER', a.slug);
    expect(await candidatesOf({ s: a.slug, ids: [a1, a2], d: dvA, m: 'acc' }, viewerA)).toHaveLength(2);
  });

  test('bad arguments are BAD_USER_INPUT naming the argument', async () => {
    const project = await createProject(t, 'cand-bad');
    const dv = await datasetVersion(project.slug);
    const model = await createModel(t, project.slug);
    const [v1, v2] = [(await createVersion(t, model.id)).id, (await createVersion(t, model.id)).id];
    const base = { s: project.slug, ids: [v1, v2], d: dv, m: 'acc' };
    const now = Date.now();
    const cases: [Record<string, unknown>, string][] = [
      [{ ids: [v1] }, 'versionIds'],
      // A repeat is one candidate.
      [{ ids: [v1, v1] }, 'versionIds'],
      [{ ids: Array.from({ length: 21 }, () => v1) }, 'versionIds'],
      [{ ids: [v1, model.id] }, 'versionIds.1'],
      [{ ids: [v1, 'nope'] }, 'versionIds.1'],
      [{ d: v1 }, 'datasetVersionId'],
      [{ m: 'has space' }, 'qualityMetric'],
      [{ from: new Date(now).toISOString(), to: new Date(now).toISOString() }, 'from'],
      [{ from: new Date(now + DAY).toISOString() }, 'from'],
      [{ from: new Date(now - 400 * DAY).toISOString(), to: new Date(now).toISOString() }, 'from'],
    ];
    for (const [bad, field] of cases) {
      const res = await compare({ ...base, ...bad });
      expect([codeOf(res), fieldOf(res), bad]).toEqual(['BAD_USER_INPUT', field, bad]);
    }
    // Repeats after the first are ignored, and a NOT_FOUND names the index sent.
    const other = (await createVersion(t, (await createModel(t, (await createProject(t, 'cand-other')).slug)).id)).id;
    const res = await compare({ ...base, ids: [v1, v1, v2, other] });
    expect([codeOf(res), fieldOf(res)]).toEqual(['NOT_FOUND', 'versionIds.3']);
    expect(await candidatesOf({ ...base, ids: [v1, v2, v1] })).toHaveLength(2);
  });

  test('evaluation samples keep their token counts (read back on EvalSample); a negative count is BAD_USER_INPUT and stores nothing', async () => {
    const project = await createProject(t, 'cand-samples');
    const v = (await createVersion(t, (await createModel(t, project.slug)).id)).id;
    const id = await evaluate(v, null, [], [{ inputTokens: 12, outputTokens: 34 }, { outputTokens: 5 }], null);
    const bad = await t.gql(LOG_SAMPLES, { input: { evaluationId: id, samples: [{ scores: {}, inputTokens: 1 }, { scores: {}, outputTokens: -1 }] } });
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'samples.1.outputTokens' }] });
    const read = await t.ok(`query($id: ID!) { node(id: $id) { ... on Evaluation { samples { nodes { inputTokens outputTokens } } } } }`, { id });
    expect(read.node.samples.nodes).toEqual([{ inputTokens: 12, outputTokens: 34 }, { inputTokens: null, outputTokens: 5 }]);
  });

  test('the statements a comparison costs do not grow with its candidates: 2 and 10', async () => {
    const NESTED = `query($s: String!, $ids: [ID!]!, $d: ID!) { compareCandidates(projectSlug: $s, versionIds: $ids, datasetVersionId: $d, qualityMetric: "acc") {
      datasetVersion { id } candidates { modelVersion { id model { name } } evaluation { id metrics { name } } costSource engagement { feedbackCount }
      dominatedBy { id number } } } }`;
    async function setup(n: number) {
      const project = await createProject(t, 'cand-n');
      const dv = await datasetVersion(project.slug);
      const model = await createModel(t, project.slug);
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const id = (await createVersion(t, model.id, api(1 + i, 1))).id;
        ids.push(id);
        await evaluate(id, dv, [{ name: 'acc', value: 0.5 + i / 100 }], [{ inputTokens: 100, outputTokens: 100 }]);
        // Half serve traffic (USAGE), half are estimated (their prices are read).
        if (i % 2 === 0) await use(project.slug, id, [[100, 100, 10, recent(i)]]);
        await t.ok(FEEDBACK, { input: { modelVersionId: id, kind: 'THUMBS', value: 1 } });
      }
      return { s: project.slug, ids, d: dv };
    }
    const small = await setup(2);
    const large = await setup(10);
    // Warm-up: the key's lastUsedAt write happens at most once a minute.
    await t.ok(NESTED, small);
    const [a, ra] = await t.countStatements(() => t.ok(NESTED, small));
    const [b, rb] = await t.countStatements(() => t.ok(NESTED, large));
    const sources = (r: { compareCandidates: { candidates: { costSource: string }[] } }) => new Set(r.compareCandidates.candidates.map((c) => c.costSource));
    expect(sources(ra)).toEqual(new Set(['USAGE', 'ESTIMATED_FROM_SAMPLES']));
    expect(sources(rb)).toEqual(new Set(['USAGE', 'ESTIMATED_FROM_SAMPLES']));
    expect(rb.compareCandidates.candidates).toHaveLength(10);
    expect(b).toBe(a);
  });
});

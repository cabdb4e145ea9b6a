import { GqlResponse, TestServer, createKey, createModel, createProject, createVersion, startTestServer, unique } from './support/harness';

/**
 * Deployment.experiment against a designed dataset whose statistics were computed independently
 * with scipy 1.17 (the calls are next to each constant). Three routes: "control" (v1, $2/$6 per
 * million tokens), "candidate" (v2, $1/$1) and "tiny" (v2, five requests: too few for a verdict).
 */

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const codeOf = (r: GqlResponse) => r.errors?.[0]?.extensions.code;

// The data, also written in the python that computed the references:
//   lat_c = [100 + (i*37 % 50) for i in range(120)]; lat_k = [90 + (i*53 % 70) for i in range(130)]
//   tin = lambda i: 100 + (i*13 % 200); tout = lambda i: 50 + (i*7 % 100)
//   cost_c = [(tin(i)*2 + tout(i)*6)/1e6 for i in range(120)]; cost_k = [(tin(i)*1 + tout(i)*1)/1e6 for i in range(130)]
//   rat_c = [[3,4,3,5,2,4,3,4,3,4][i%10] for i in range(40)]; rat_k = [[4,5,4,5,3,5,4,4,5][i%9] for i in range(36)]
// Thumbs: control 60 up of 120, candidate 85 up of 130, tiny 3 up of 5.
const ROUTES = {
  control: { n: 120, up: 60, latency: (i: number) => 100 + ((i * 37) % 50), ratings: 40, rating: (i: number) => [3, 4, 3, 5, 2, 4, 3, 4, 3, 4][i % 10] },
  candidate: { n: 130, up: 85, latency: (i: number) => 90 + ((i * 53) % 70), ratings: 36, rating: (i: number) => [4, 5, 4, 5, 3, 5, 4, 4, 5][i % 9] },
  tiny: { n: 5, up: 3, latency: (i: number) => 80 + i, ratings: 2, rating: () => 5 },
};
const tokensIn = (i: number) => 100 + ((i * 13) % 200);
const tokensOut = (i: number) => 50 + ((i * 7) % 100);

// scipy.stats.binomtest(60, 120).proportion_ci(confidence_level=0.95, method='wilson'), and (85, 130).
const WILSON = { control: [0.41193870541108385, 0.5880612945889161], candidate: [0.5687115031064136, 0.7301495549876076] };
// Pooled z: p = 145/250; z = (85/130 - 60/120) / sqrt(p*(1-p)*(1/120 + 1/130)); p-value 2*scipy.stats.norm.sf(abs(z)); the same as
// scipy.stats.chi2_contingency([[85,45],[60,60]], correction=False) (chi2 = z², p = 0.013805060179286002).
const Z = { statistic: 2.46229620773512, pValue: 0.013805060179285972, difference: 0.15384615384615385 };
// Unpooled interval of the difference: d ± scipy.stats.norm.ppf(0.975) * sqrt(pc*(1-pc)/120 + pk*(1-pk)/130).
const Z_DIFF_CI = [0.032639474029597826, 0.2750528336627099];
// r = scipy.stats.ttest_ind(k, c, equal_var=False); r.statistic, r.pvalue, r.df, r.confidence_interval(0.95);
// per route: scipy.stats.t.interval(0.95, n-1, loc=mean, scale=sd/sqrt(n)), sd = numpy.std(x, ddof=1).
const WELCH = {
  MEAN_RATING: {
    control: { n: 40, mean: 3.5, sd: 0.816496580927726, ci: [3.238871725072422, 3.761128274927578] },
    candidate: { n: 36, mean: 4.333333333333333, sd: 0.6761234037828132, ci: [4.104566086250816, 4.56210058041585] },
    t: 4.862987625796372, p: 6.388477997200584e-06, df: 73.51528384279477, diff: 0.833333333333333, diffCi: [0.49184884471528706, 1.174817821951379],
    verdict: 'BETTER', scale: 1,
  },
  LATENCY_MS: {
    control: { n: 120, mean: 124.41666666666667, sd: 14.563441816240212, ci: [121.7842144382542, 127.04911889507915] },
    candidate: { n: 130, mean: 124.26923076923077, sd: 20.341193725895113, ci: [120.73946253474104, 127.79899900372051] },
    t: -0.06626583520140822, p: 0.9472227950136074, df: 233.8709103946004, diff: -0.1474358974358978, diffCi: [-4.530874255518129, 4.236002460646334],
    verdict: 'NO_DIFFERENCE', scale: 1,
  },
  // Costs in USD are compared in millionths of a dollar, so that 4 decimals are 4 significant figures or more.
  COST_PER_REQUEST: {
    control: { n: 120, mean: 0.0009826666666666666, sd: 0.00020370572502746107, ci: [0.0009458453165658318, 0.0010194880167675015] },
    candidate: { n: 130, mean: 0.0002961538461538462, sd: 6.294312204680828e-05, ci: [0.000285231447214319, 0.0003070762450933734] },
    t: -35.391215414960506, p: 1.1082191769615958e-71, df: 139.89706663641178, diff: -0.0006865128205128205, diffCi: [-0.0007248636207217057, -0.0006481620203039353],
    verdict: 'BETTER', scale: 1e6,
  },
} as const;

const EXPERIMENT = `query($id: ID!, $from: DateTime!, $to: DateTime!, $metric: ExperimentMetric!) { node(id: $id) { ... on Deployment {
  experiment(from: $from, to: $to, metric: $metric) { metric higherIsBetter alpha revision { revision } routes {
    name control route { name weight modelVersion { number } } observations successes estimate standardDeviation interval { lower upper }
    difference differenceInterval { lower upper } statistic degreesOfFreedom pValue verdict minimumSampleSize sampleRule } } } } }`;

/** 4 decimals, as asked of every reference value. */
const close = (actual: number, expected: number, scale = 1) => expect(actual * scale).toBeCloseTo(expected * scale, 4);

async function seed() {
  const start = Date.now();
  const { slug } = await createProject(t, 'experiment');
  const model = await createModel(t, slug);
  const v1 = await createVersion(t, model.id, { artifact: null, externalApi: { provider: 'p', modelId: 'a', inputCostPerMillionTokens: 2, outputCostPerMillionTokens: 6 } });
  const v2 = await createVersion(t, model.id, { artifact: null, externalApi: { provider: 'p', modelId: 'b', inputCostPerMillionTokens: 1, outputCostPerMillionTokens: 1 } });
  const deployment = (await t.ok(`mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { deployment { id } } }`,
    { input: { projectSlug: slug, name: unique('chat'), environment: 'production' } })).createDeployment.deployment as { id: string };
  await t.ok(`mutation($input: SetDeploymentRoutesInput!) { setDeploymentRoutes(input: $input) { deployment { revision } } }`, { input: {
    deploymentId: deployment.id, expectedRevision: 0,
    routes: [{ name: 'control', weight: 80, modelVersionId: v1.id }, { name: 'candidate', weight: 15, modelVersionId: v2.id }, { name: 'tiny', weight: 5, modelVersionId: v2.id }],
  } });
  const records = Object.entries(ROUTES).flatMap(([route, r]) => Array.from({ length: r.n }, (_, i) => ({
    requestId: `${route}-${i}`, deploymentId: deployment.id, route, inputTokens: tokensIn(i), outputTokens: tokensOut(i), latencyMs: r.latency(i),
  })));
  expect((await t.ok(`mutation($input: RecordUsageInput!) { recordUsage(input: $input) { accepted } }`, { input: { projectSlug: slug, records } })).recordUsage.accepted).toBe(255);

  const feedback: Record<string, unknown>[] = [];
  for (const [route, r] of Object.entries(ROUTES)) {
    const modelVersionId = route === 'control' ? v1.id : v2.id;
    for (let i = 0; i < r.n; i++) feedback.push({ modelVersionId, kind: 'THUMBS', value: i < r.up ? 1 : 0, requestId: `${route}-${i}` });
    for (let i = 0; i < r.ratings; i++) feedback.push({ modelVersionId, kind: 'RATING', value: r.rating(i), requestId: `${route}-${i}` });
  }
  // Not in the experiment: a vote before the window, a vote on a request no usage record has, a comment.
  feedback.push({ modelVersionId: v1.id, kind: 'THUMBS', value: 0, requestId: 'control-0', at: new Date(start - 3600_000).toISOString() });
  feedback.push({ modelVersionId: v1.id, kind: 'THUMBS', value: 0, requestId: 'no-such-request' });
  feedback.push({ modelVersionId: v1.id, kind: 'TEXT', comment: 'meh', requestId: 'control-1' });
  for (let i = 0; i < feedback.length; i += 40) {
    await Promise.all(feedback.slice(i, i + 40).map((input) =>
      t.ok(`mutation($input: RecordFeedbackInput!) { recordFeedback(input: $input) { accepted } }`, { input })));
  }
  return { slug, deployment, model, window: { from: new Date(start - 60_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() } };
}

let fx: Awaited<ReturnType<typeof seed>>;
beforeAll(async () => {
  fx = await seed();
  // Another project's votes on requests of the same ids: feedback reaches a route only through its own project's records.
  const other = await createProject(t, 'experiment-other');
  const otherVersion = await createVersion(t, (await createModel(t, other.slug)).id);
  await t.ok(`mutation($input: RecordUsageInput!) { recordUsage(input: $input) { accepted } }`,
    { input: { projectSlug: other.slug, records: [{ requestId: 'control-2', modelVersionId: otherVersion.id, inputTokens: 1, outputTokens: 1, latencyMs: 1 }] } });
  await t.ok(`mutation($input: RecordFeedbackInput!) { recordFeedback(input: $input) { accepted } }`,
    { input: { modelVersionId: otherVersion.id, kind: 'THUMBS', value: 1, requestId: 'control-2' } });
});

const experiment = async (metric: string, key?: string) =>
  (await t.ok(EXPERIMENT, { id: fx.deployment.id, ...fx.window, metric }, key)).node.experiment;

test('THUMBS_UP_RATE: Wilson intervals, the pooled z-test against the control and its verdict, as scipy computes them', async () => {
  const e = await experiment('THUMBS_UP_RATE');
  expect(e).toMatchObject({ metric: 'THUMBS_UP_RATE', higherIsBetter: true, alpha: 0.05, revision: { revision: 1 } });
  const [control, candidate, tiny] = e.routes;
  expect(e.routes.map((r: { name: string; control: boolean }) => [r.name, r.control])).toEqual([['control', true], ['candidate', false], ['tiny', false]]);
  expect(control).toMatchObject({ observations: 120, successes: 60, estimate: 0.5, standardDeviation: null, verdict: null, pValue: null, difference: null, minimumSampleSize: null });
  expect(control.route).toEqual({ name: 'control', weight: 80, modelVersion: { number: 1 } });
  close(control.interval.lower, WILSON.control[0]);
  close(control.interval.upper, WILSON.control[1]);
  expect(candidate).toMatchObject({ observations: 130, successes: 85, verdict: 'BETTER', degreesOfFreedom: null });
  close(candidate.estimate, 85 / 130);
  close(candidate.interval.lower, WILSON.candidate[0]);
  close(candidate.interval.upper, WILSON.candidate[1]);
  close(candidate.statistic, Z.statistic);
  close(candidate.pValue, Z.pValue);
  close(candidate.difference, Z.difference);
  close(candidate.differenceInterval.lower, Z_DIFF_CI[0]);
  close(candidate.differenceInterval.upper, Z_DIFF_CI[1]);
  // 3 up of 5: below 10 up and 10 down. The minimum, at the pooled share 63/125: ceil(10 * 125 / 62) = 21 votes per route.
  expect(tiny).toMatchObject({ observations: 5, successes: 3, verdict: 'NOT_ENOUGH_DATA', minimumSampleSize: 21, sampleRule: 'at least 10 successes and 10 failures per route' });
  expect(tiny.pValue).not.toBeNull();
});

test.each(Object.keys(WELCH) as (keyof typeof WELCH)[])('%s: Student t intervals, Welch\'s t-test against the control and its verdict, as scipy computes them', async (metric) => {
  const ref = WELCH[metric];
  const e = await experiment(metric);
  expect(e.higherIsBetter).toBe(metric === 'MEAN_RATING');
  const [control, candidate, tiny] = e.routes;
  for (const [got, want] of [[control, ref.control], [candidate, ref.candidate]] as const) {
    expect(got.observations).toBe(want.n);
    expect(got.successes).toBeNull();
    close(got.estimate, want.mean, ref.scale);
    close(got.standardDeviation, want.sd, ref.scale);
    close(got.interval.lower, want.ci[0], ref.scale);
    close(got.interval.upper, want.ci[1], ref.scale);
  }
  expect(control).toMatchObject({ control: true, verdict: null, pValue: null, statistic: null });
  expect(candidate.verdict).toBe(ref.verdict);
  close(candidate.statistic, ref.t);
  close(candidate.degreesOfFreedom, ref.df);
  close(candidate.difference, ref.diff, ref.scale);
  close(candidate.differenceInterval.lower, ref.diffCi[0], ref.scale);
  close(candidate.differenceInterval.upper, ref.diffCi[1], ref.scale);
  // p to 4 decimals, and (for the tiny ones) to 4 significant figures.
  close(candidate.pValue, ref.p);
  expect(candidate.pValue / ref.p).toBeCloseTo(1, 4);
  // Five requests (two ratings) are below 30 observations: no verdict, and the minimum is stated.
  expect(tiny).toMatchObject({ verdict: 'NOT_ENOUGH_DATA', minimumSampleSize: 30, sampleRule: 'at least 30 observations per route' });
});

test('the window is bounded as costReport\'s; before any revision there are no routes; another project\'s key reads nothing, a viewer reads', async () => {
  const ask = (vars: Record<string, unknown>, key?: string) => t.gql(EXPERIMENT, { id: fx.deployment.id, metric: 'LATENCY_MS', ...vars }, key);
  const backwards = await ask({ from: fx.window.to, to: fx.window.from });
  expect([codeOf(backwards), backwards.errors?.[0].extensions.field]).toEqual(['BAD_USER_INPUT', 'from']);
  const long = await ask({ from: '2025-01-01T00:00:00Z', to: '2026-01-03T00:00:00Z' });
  expect([codeOf(long), long.errors?.[0].extensions.field]).toEqual(['BAD_USER_INPUT', 'to']);
  const early = (await ask({ from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z' })).data!.node.experiment;
  expect(early).toMatchObject({ revision: null, routes: [] });

  const outsider = await createKey(t, 'ADMIN', (await createProject(t, 'experiment-outsider')).slug);
  const refused = await ask(fx.window, outsider);
  expect(refused.errors).toBeUndefined();
  expect(refused.data).toEqual({ node: null });
  const viewer = await createKey(t, 'VIEWER', fx.slug);
  expect((await experiment('LATENCY_MS', viewer)).routes).toHaveLength(3);
});

test('experiments of many deployments read in one request cost the statements of one', async () => {
  const q = `query($s: String!, $from: DateTime!, $to: DateTime!) { project(slug: $s) { deployments { nodes {
    a: experiment(from: $from, to: $to, metric: THUMBS_UP_RATE) { routes { verdict } }
    b: experiment(from: $from, to: $to, metric: LATENCY_MS) { routes { verdict route { modelVersion { number } } } } } } } }`;
  const [one] = await t.countStatements(() => t.ok(q, { s: fx.slug, ...fx.window }));
  // Three more deployments next to the first, each with two routes.
  for (let i = 0; i < 3; i++) {
    const d = (await t.ok(`mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { deployment { id } } }`,
      { input: { projectSlug: fx.slug, name: unique('more'), environment: 'staging' } })).createDeployment.deployment.id;
    const v = await createVersion(t, fx.model.id);
    await t.ok(`mutation($input: SetDeploymentRoutesInput!) { setDeploymentRoutes(input: $input) { deployment { revision } } }`,
      { input: { deploymentId: d, expectedRevision: 0, routes: [{ name: 'a', weight: 50, modelVersionId: v.id }, { name: 'b', weight: 50, modelVersionId: v.id }] } });
  }
  const [four, res] = await t.countStatements(() => t.ok(q, { s: fx.slug, ...fx.window }));
  expect(res.project.deployments.nodes).toHaveLength(4);
  expect(four).toBe(one);
});

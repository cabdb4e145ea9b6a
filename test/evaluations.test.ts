import { TestServer, createKey, createModel, createProject, createVersion, startTestServer, unique } from './support/harness';

let t: TestServer;
const tick = () => new Promise((r) => setTimeout(r, 3));
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const EVAL_FIELDS = `id name evaluator status params startedAt finishedAt
  modelVersion { id } datasetVersion { id }
  metrics { name value slice higherIsBetter }`;
const CREATE = `mutation($input: CreateEvaluationInput!) { createEvaluation(input: $input) { evaluation { ${EVAL_FIELDS} } } }`;
const LOG_METRICS = `mutation($input: LogEvaluationMetricsInput!) { logEvaluationMetrics(input: $input) { evaluation { ${EVAL_FIELDS} } } }`;
const LOG_SAMPLES = `mutation($input: LogEvaluationSamplesInput!) { logEvaluationSamples(input: $input) { evaluation { id } } }`;
const COMPLETE = `mutation($input: CompleteEvaluationInput!) { completeEvaluation(input: $input) { evaluation { ${EVAL_FIELDS} } } }`;

type Metric = { name: string; value: number; slice?: string | null; higherIsBetter?: boolean | null };

async function createDatasetVersion(slug: string): Promise<string> {
  const ds = await t.ok(`mutation($input: CreateDatasetInput!) { createDataset(input: $input) { dataset { id } } }`,
    { input: { projectSlug: slug, name: unique('ds') } });
  const dv = await t.ok(`mutation($input: CreateDatasetVersionInput!) { createDatasetVersion(input: $input) { datasetVersion { id } } }`,
    { input: { datasetId: ds.createDataset.dataset.id, digest: `sha256:${unique('d')}`, columns: [{ name: 'x', dtype: 'INT' }] } });
  return dv.createDatasetVersion.datasetVersion.id;
}

async function startEvaluation(versionId: string, metrics: Metric[] = [], extra: Record<string, unknown> = {}, key?: string) {
  const data = await t.ok(CREATE, { input: { modelVersionId: versionId, name: 'offline', metrics, ...extra } }, key);
  return data.createEvaluation.evaluation;
}

/** A COMPLETED evaluation with these metrics; a little apart so finish times order them. */
async function completed(versionId: string, metrics: Metric[], extra: Record<string, unknown> = {}) {
  const e = await startEvaluation(versionId, metrics, extra);
  await tick();
  const data = await t.ok(COMPLETE, { input: { evaluationId: e.id, status: 'COMPLETED' } });
  await tick();
  return data.completeEvaluation.evaluation;
}

/** A project with one model and `n` versions. */
async function setup(n = 1) {
  const project = await createProject(t, 'eval');
  const model = await createModel(t, project.slug);
  const versions = [];
  for (let i = 0; i < n; i++) versions.push(await createVersion(t, model.id));
  return { project, model, versions };
}

test('lifecycle: create RUNNING, log, complete; a finished evaluation accepts nothing more', async () => {
  const { project, versions: [v] } = await setup();
  const dv = await createDatasetVersion(project.slug);
  const e = await startEvaluation(v.id, [{ name: 'accuracy', value: 0.81 }], {
    datasetVersionId: dv, evaluator: 'exact-match', params: { shots: 5, temperature: 0 },
  });
  expect(e).toMatchObject({
    name: 'offline', evaluator: 'exact-match', status: 'RUNNING', params: { shots: 5, temperature: 0 }, finishedAt: null,
    modelVersion: { id: v.id }, datasetVersion: { id: dv },
    metrics: [{ name: 'accuracy', value: 0.81, slice: null, higherIsBetter: null }],
  });
  expect(Date.parse(e.startedAt)).not.toBeNaN();

  const logged = await t.ok(LOG_METRICS, { input: { evaluationId: e.id, metrics: [{ name: 'f1', value: 0.7 }, { name: 'accuracy', value: 0.9, slice: 'lang=fr' }] } });
  expect(logged.logEvaluationMetrics.evaluation.metrics).toEqual([
    { name: 'accuracy', value: 0.81, slice: null, higherIsBetter: null },
    { name: 'accuracy', value: 0.9, slice: 'lang=fr', higherIsBetter: null },
    { name: 'f1', value: 0.7, slice: null, higherIsBetter: null },
  ]);
  await t.ok(LOG_SAMPLES, { input: { evaluationId: e.id, samples: [{ input: 'q', output: 'a', reference: 'a', scores: { em: 1 } }] } });

  const done = await t.ok(COMPLETE, { input: { evaluationId: e.id, status: 'COMPLETED' } });
  expect(done.completeEvaluation.evaluation.status).toBe('COMPLETED');
  expect(Date.parse(done.completeEvaluation.evaluation.finishedAt)).toBeGreaterThanOrEqual(Date.parse(e.startedAt));

  const again = await t.gql(COMPLETE, { input: { evaluationId: e.id, status: 'FAILED' } });
  expect(again.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', status: 'COMPLETED' });
  const late = await t.gql(LOG_METRICS, { input: { evaluationId: e.id, metrics: [{ name: 'accuracy', value: 1 }] } });
  expect(late.errors?.[0].extensions.code).toBe('CONFLICT');
  const lateSamples = await t.gql(LOG_SAMPLES, { input: { evaluationId: e.id, samples: [{ scores: {} }] } });
  expect(lateSamples.errors?.[0].extensions.code).toBe('CONFLICT');

  // A retried create with the same key returns the first evaluation and logs nothing again.
  const retry = async () => (await t.ok(CREATE, { input: { modelVersionId: v.id, name: 'retried', idempotencyKey: 'run-42', metrics: [{ name: 'acc', value: 0.1 }] } })).createEvaluation.evaluation;
  const [r1, r2] = await Promise.all([retry(), retry()]);
  expect(r2.id).toBe(r1.id);
  expect((await retry()).id).toBe(r1.id);
  const created = await t.ok(`query($s: String!, $id: ID!) { project(slug: $s) { auditEvents(filter: { targetId: $id }) { nodes { action } } } }`, { s: project.slug, id: r1.id });
  expect(created.project.auditEvents.nodes).toEqual([{ action: 'evaluation.create' }]);

  // FAILED is final too.
  const f = await startEvaluation(v.id);
  const failed = await t.ok(COMPLETE, { input: { evaluationId: f.id, status: 'FAILED' } });
  expect(failed.completeEvaluation.evaluation.status).toBe('FAILED');
  expect((await t.gql(LOG_METRICS, { input: { evaluationId: f.id, metrics: [{ name: 'x', value: 1 }] } })).errors?.[0].extensions.code).toBe('CONFLICT');

  // Nothing changed by the refused calls; node(id) reads the evaluation back.
  const read = await t.ok(`query($id: ID!) { node(id: $id) { ... on Evaluation { status metric(name: "accuracy") fr: metric(name: "accuracy", slice: "lang=fr")
    none: metric(name: "nope") samples { nodes { input output reference scores } } } } }`, { id: e.id });
  expect(read.node).toEqual({ status: 'COMPLETED', metric: 0.81, fr: 0.9, none: null, samples: { nodes: [{ input: 'q', output: 'a', reference: 'a', scores: { em: 1 } }] } });

  // The audit log has one record per mutation; samples are counted, not copied.
  const audit = await t.ok(`query($s: String!, $id: ID!) { project(slug: $s) { auditEvents(filter: { targetId: $id }) { nodes { action details } } } }`,
    { s: project.slug, id: e.id });
  const nodes = audit.project.auditEvents.nodes;
  expect(nodes.map((n: { action: string }) => n.action)).toEqual(['evaluation.complete', 'evaluation.logSamples', 'evaluation.logMetrics', 'evaluation.create']);
  expect(nodes[0].details).toMatchObject({ before: { status: 'RUNNING' }, after: { status: 'COMPLETED' } });
  expect(nodes[1].details).toEqual({ before: null, after: { samples: 1 } });
  expect(nodes[3].details.after).toMatchObject({ name: 'offline', status: 'RUNNING', modelVersionId: v.id, datasetVersionId: dv });
});

test('metrics are keyed by (name, slice): logging again replaces the value, last write wins', async () => {
  const { project, versions: [v] } = await setup();
  const e = await startEvaluation(v.id, [{ name: 'loss', value: 2.5, higherIsBetter: false }]);
  await t.ok(LOG_METRICS, { input: { evaluationId: e.id, metrics: [{ name: 'loss', value: 1.25 }, { name: 'loss', value: 3, slice: 'hard' }] } });
  // A repeated pair in one call keeps the last one given.
  const data = await t.ok(LOG_METRICS, { input: { evaluationId: e.id, metrics: [
    { name: 'loss', value: 9, slice: 'hard' }, { name: 'loss', value: 2, slice: 'hard' },
  ] } });
  expect(data.logEvaluationMetrics.evaluation.metrics).toEqual([
    // The direction said once is kept when a later value leaves it unsaid.
    { name: 'loss', value: 1.25, slice: null, higherIsBetter: false },
    { name: 'loss', value: 2, slice: 'hard', higherIsBetter: null },
  ]);
  const audit = await t.ok(`query($s: String!) { project(slug: $s) { auditEvents(filter: { action: "evaluation.logMetrics" }, first: 1) { nodes { details } } } }`, { s: project.slug });
  expect(audit.project.auditEvents.nodes[0].details).toEqual({
    before: { metrics: [{ name: 'loss', slice: 'hard', value: 3 }] },
    after: { metrics: [{ name: 'loss', slice: 'hard', value: 2, higherIsBetter: null }] },
  });
});

test('validation: names, slices, sizes, scores and ids are BAD_USER_INPUT; other projects are NOT_FOUND', async () => {
  const { project, versions: [v] } = await setup();
  const e = await startEvaluation(v.id);
  const bad = async (query: string, input: object) => (await t.gql(query, { input })).errors?.[0].extensions;
  expect(await bad(LOG_METRICS, { evaluationId: e.id, metrics: [{ name: 'has space', value: 1 }] }))
    .toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'metrics.0.name' }] });
  expect(await bad(LOG_METRICS, { evaluationId: e.id, metrics: [{ name: 'acc', value: 1, slice: '' }] }))
    .toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'metrics.0.slice' }] });
  expect(await bad(LOG_METRICS, { evaluationId: e.id, metrics: [] })).toMatchObject({ code: 'BAD_USER_INPUT' });
  expect(await bad(LOG_METRICS, { evaluationId: e.id, metrics: Array.from({ length: 1001 }, (_, i) => ({ name: `m${i}`, value: i })) }))
    .toMatchObject({ code: 'BAD_USER_INPUT' });
  // Non-finite floats never reach us: GraphQL's Float refuses them while coercing variables.
  const inf = await t.gql(`mutation($id: ID!) { logEvaluationMetrics(input: { evaluationId: $id, metrics: [{ name: "acc", value: 1e999 }] }) { evaluation { id } } }`, { id: e.id });
  expect(inf.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  expect(await bad(LOG_SAMPLES, { evaluationId: e.id, samples: [{ scores: { em: 'yes' } }] }))
    .toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'samples.0.scores' }] });
  expect(await bad(LOG_SAMPLES, { evaluationId: e.id, samples: Array.from({ length: 10001 }, () => ({ scores: {} })) }))
    .toMatchObject({ code: 'BAD_USER_INPUT' });
  expect(await bad(COMPLETE, { evaluationId: e.id, status: 'RUNNING' })).toMatchObject({ code: 'BAD_USER_INPUT' });
  expect(await bad(CREATE, { modelVersionId: v.id, name: '  ' })).toMatchObject({ code: 'BAD_USER_INPUT' });
  expect(await bad(CREATE, { modelVersionId: project.id, name: 'x' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'modelVersionId' });
  expect(await bad(LOG_METRICS, { evaluationId: v.id, metrics: [{ name: 'a', value: 1 }] })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'evaluationId' });
  // A dataset version of another project is as unknown as a missing one.
  const other = await createProject(t, 'eval-other');
  const foreign = await createDatasetVersion(other.slug);
  expect(await bad(CREATE, { modelVersionId: v.id, name: 'x', datasetVersionId: foreign })).toMatchObject({ code: 'NOT_FOUND', field: 'datasetVersionId' });
  // The evaluation is unchanged and still RUNNING after all of that.
  const read = await t.ok(`query($id: ID!) { node(id: $id) { ... on Evaluation { status metrics { name } samples { nodes { id } } } } }`, { id: e.id });
  expect(read.node).toEqual({ status: 'RUNNING', metrics: [], samples: { nodes: [] } });
});

test('samples: bulk logged in order, paginated by keyset, resolvable by node(id)', async () => {
  const { versions: [v] } = await setup();
  const e = await startEvaluation(v.id);
  const samples = Array.from({ length: 25 }, (_, i) => ({ input: { prompt: `q${i}`, n: i }, output: i % 2 ? `a${i}` : null, scores: { em: i % 2, judge: i / 100 } }));
  await t.ok(LOG_SAMPLES, { input: { evaluationId: e.id, samples: samples.slice(0, 20) } });
  await t.ok(LOG_SAMPLES, { input: { evaluationId: e.id, samples: samples.slice(20) } });
  const PAGE = `query($id: ID!, $after: String) { node(id: $id) { ... on Evaluation { samples(first: 10, after: $after) {
    edges { cursor node { id input output reference scores } } pageInfo { hasNextPage hasPreviousPage endCursor } } } } }`;
  const seen: any[] = [];
  let after: string | null = null;
  for (let page = 0; page < 10; page++) {
    const data: any = await t.ok(PAGE, { id: e.id, after });
    const c = data.node.samples;
    expect(c.pageInfo.hasPreviousPage).toBe(after !== null);
    seen.push(...c.edges.map((x: any) => x.node));
    if (!c.pageInfo.hasNextPage) break;
    after = c.pageInfo.endCursor;
  }
  expect(seen.map((s) => s.input)).toEqual(samples.map((s) => s.input));
  expect(seen[3]).toMatchObject({ output: 'a3', reference: null, scores: { em: 1, judge: 0.03 } });
  expect(seen[4].output).toBeNull();
  expect(new Set(seen.map((s) => s.id)).size).toBe(25);
  const one = await t.ok(`query($id: ID!) { node(id: $id) { id ... on EvalSample { input } } }`, { id: seen[7].id });
  expect(one.node).toEqual({ id: seen[7].id, input: { prompt: 'q7', n: 7 } });
  const forged = await t.gql(PAGE, { id: e.id, after: 'bm90LWEtY3Vyc29y' });
  expect(forged.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');

  // 10,000 in one call is the limit, not over it.
  const big = await startEvaluation(v.id);
  await t.ok(LOG_SAMPLES, { input: { evaluationId: big.id, samples: Array.from({ length: 10000 }, (_, i) => ({ scores: { i } })) } });
  const tail = await t.ok(`query($id: ID!) { node(id: $id) { ... on Evaluation { samples(first: 1) { nodes { scores } pageInfo { hasNextPage } } } } }`, { id: big.id });
  expect(tail.node.samples).toEqual({ nodes: [{ scores: { i: 0 } }], pageInfo: { hasNextPage: true } });
  const [{ count }] = await t.server.db.query(`SELECT count(*)::int AS count FROM eval_sample WHERE evaluation_id = $1`,
    [Buffer.from(big.id, 'base64url').toString().split(':')[1]]);
  expect(count).toBe(10000);
});

const BOARD = `query($s: String!, $m: String!, $d: ID, $slice: String, $first: Int) { project(slug: $s) {
  leaderboard(metric: $m, datasetVersionId: $d, slice: $slice, first: $first) { rank value modelVersion { id } evaluation { id name } } } }`;

test('leaderboard: best completed value per version, ranked; lower-is-better, slices, datasets, ties', async () => {
  const { project, versions: [a, b, c, d] } = await setup(4);
  const other = await createModel(t, project.slug);
  const e = await createVersion(t, other.id);
  const dv = await createDatasetVersion(project.slug);
  const board = async (m: string, extra: Record<string, unknown> = {}) =>
    (await t.ok(BOARD, { s: project.slug, m, ...extra })).project.leaderboard.map((x: any) => [x.rank, x.modelVersion.id, x.value]);

  await completed(a.id, [{ name: 'acc', value: 0.7 }, { name: 'acc', value: 0.5, slice: 'fr' }, { name: 'loss', value: 0.9, higherIsBetter: false }]);
  await completed(a.id, [{ name: 'acc', value: 0.8 }, { name: 'loss', value: 0.6 }]);   // a's best: 0.8 and 0.6
  await completed(b.id, [{ name: 'acc', value: 0.9 }, { name: 'acc', value: 0.2, slice: 'fr' }, { name: 'loss', value: 0.4 }], { datasetVersionId: dv });
  await completed(c.id, [{ name: 'acc', value: 0.8 }, { name: 'loss', value: 0.6 }]);   // ties a, finished later
  await completed(e.id, [{ name: 'acc', value: 0.6 }], { datasetVersionId: dv });
  await startEvaluation(d.id, [{ name: 'acc', value: 0.99 }]);                             // RUNNING: not ranked
  const failed = await startEvaluation(d.id, [{ name: 'acc', value: 0.98 }]);
  await t.ok(COMPLETE, { input: { evaluationId: failed.id, status: 'FAILED' } });        // FAILED: not ranked

  expect(await board('acc')).toEqual([[1, b.id, 0.9], [2, a.id, 0.8], [3, c.id, 0.8], [4, e.id, 0.6]]);
  // Some evaluation said lower is better for loss: ascending.
  expect(await board('loss')).toEqual([[1, b.id, 0.4], [2, a.id, 0.6], [3, c.id, 0.6]]);
  expect(await board('acc', { slice: 'fr' })).toEqual([[1, a.id, 0.5], [2, b.id, 0.2]]);
  expect(await board('acc', { d: dv })).toEqual([[1, b.id, 0.9], [2, e.id, 0.6]]);
  expect(await board('acc', { first: 2 })).toEqual([[1, b.id, 0.9], [2, a.id, 0.8]]);
  expect(await board('nothing')).toEqual([]);
  const entry = (await t.ok(BOARD, { s: project.slug, m: 'acc', first: 1 })).project.leaderboard[0];
  expect(entry.evaluation.name).toBe('offline');
  const tooMany = await t.gql(BOARD, { s: project.slug, m: 'acc', first: 101 });
  expect(tooMany.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  const badSlice = await t.gql(BOARD, { s: project.slug, m: 'acc', slice: '' });
  expect(badSlice.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'slice' });
});

const COMPARE = `query($ids: [ID!]!, $metrics: [String!], $d: ID) { compareModelVersions(ids: $ids, metrics: $metrics, datasetVersionId: $d) {
  metrics rows { modelVersion { id } values } } }`;

test('compareModelVersions: rows in id order, latest completed value per metric, sorted union by default', async () => {
  const { project, versions: [a, b, c] } = await setup(3);
  const dv = await createDatasetVersion(project.slug);
  await completed(a.id, [{ name: 'acc', value: 0.7 }, { name: 'f1', value: 0.5 }, { name: 'acc', value: 0.1, slice: 'fr' }]);
  await completed(a.id, [{ name: 'acc', value: 0.75 }], { datasetVersionId: dv });       // latest acc of a
  await completed(b.id, [{ name: 'bleu', value: 30 }]);
  await startEvaluation(b.id, [{ name: 'acc', value: 0.99 }]);                            // RUNNING: ignored
  const data = await t.ok(COMPARE, { ids: [b.id, c.id, a.id] });
  expect(data.compareModelVersions).toEqual({
    metrics: ['acc', 'bleu', 'f1'],
    rows: [
      { modelVersion: { id: b.id }, values: [null, 30, null] },
      { modelVersion: { id: c.id }, values: [null, null, null] },
      { modelVersion: { id: a.id }, values: [0.75, null, 0.5] },
    ],
  });
  const chosen = await t.ok(COMPARE, { ids: [a.id, b.id], metrics: ['f1', 'acc', 'missing'] });
  expect(chosen.compareModelVersions).toEqual({
    metrics: ['f1', 'acc', 'missing'],
    rows: [{ modelVersion: { id: a.id }, values: [0.5, 0.75, null] }, { modelVersion: { id: b.id }, values: [null, null, null] }],
  });
  const onDataset = await t.ok(COMPARE, { ids: [a.id, b.id], d: dv });
  expect(onDataset.compareModelVersions).toEqual({
    metrics: ['acc'], rows: [{ modelVersion: { id: a.id }, values: [0.75] }, { modelVersion: { id: b.id }, values: [null] }],
  });
  const tooMany = await t.gql(COMPARE, { ids: Array.from({ length: 51 }, () => a.id) });
  expect(tooMany.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'ids' });
  const wrongType = await t.gql(COMPARE, { ids: [a.id, project.id] });
  expect(wrongType.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'ids.1' });

  // Versions of several projects: a global key reads them all; a key of one project may not.
  const second = await setup(1);
  await completed(second.versions[0].id, [{ name: 'acc', value: 0.6 }]);
  const both = await t.ok(COMPARE, { ids: [a.id, second.versions[0].id], metrics: ['acc'] });
  expect(both.compareModelVersions.rows.map((r: any) => r.values)).toEqual([[0.75], [0.6]]);
  const scoped = await createKey(t, 'VIEWER', project.slug);
  // Another project's version is NOT_FOUND, exactly as a missing one would be.
  const refused = await t.gql(COMPARE, { ids: [a.id, second.versions[0].id] }, scoped);
  expect(refused.errors?.[0].extensions).toEqual({ code: 'NOT_FOUND', id: second.versions[0].id });
  expect(refused.data).toBeNull();
  expect((await t.gql(COMPARE, { ids: [a.id] }, scoped)).data.compareModelVersions.rows).toHaveLength(1);
});

test('version filters by metric, alone and inside `or`, in versions and searchModelVersions', async () => {
  const { project, model, versions: [v1, v2, v3, v4] } = await setup(4);
  const dv = await createDatasetVersion(project.slug);
  await completed(v1.id, [{ name: 'acc', value: 0.95 }, { name: 'acc', value: 0.5, slice: 'fr' }]);
  await completed(v2.id, [{ name: 'acc', value: 0.85 }], { datasetVersionId: dv });
  await completed(v3.id, [{ name: 'acc', value: 0.6 }, { name: 'acc', value: 0.92, slice: 'fr' }]);
  await startEvaluation(v4.id, [{ name: 'acc', value: 0.99 }]);  // RUNNING: never counts
  const VERSIONS = `query($id: ID!, $f: ModelVersionFilter) { node(id: $id) { ... on Model { versions(filter: $f, orderBy: NUMBER_ASC) { nodes { number } } } } }`;
  const nums = async (f: object) => (await t.ok(VERSIONS, { id: model.id, f })).node.versions.nodes.map((x: any) => x.number);
  expect(await nums({ metric: { name: 'acc', gte: 0.8 } })).toEqual([1, 2]);
  expect(await nums({ metric: { name: 'acc', lte: 0.9 } })).toEqual([2, 3]);
  expect(await nums({ metric: { name: 'acc', gte: 0.8, lte: 0.9 } })).toEqual([2]);
  expect(await nums({ metric: { name: 'acc' } })).toEqual([1, 2, 3]);
  expect(await nums({ metric: { name: 'acc', slice: 'fr', gte: 0.9 } })).toEqual([3]);
  expect(await nums({ metric: { name: 'acc', datasetVersionId: dv } })).toEqual([2]);
  expect(await nums({ or: [{ metric: { name: 'acc', gte: 0.9 } }, { metric: { name: 'acc', slice: 'fr', gte: 0.9 } }] })).toEqual([1, 3]);
  const search = await t.ok(`query($s: String!, $f: ModelVersionFilter!) { project(slug: $s) { searchModelVersions(filter: $f) { nodes { number } } } }`,
    { s: project.slug, f: { status: 'READY', or: [{ metric: { name: 'acc', gte: 0.9 } }, { metric: { name: 'acc', lte: 0.6 } }] } });
  expect(search.project.searchModelVersions.nodes.map((x: any) => x.number).sort()).toEqual([1, 3]);
  const bad = await t.gql(VERSIONS, { id: model.id, f: { or: [{ metric: { name: 'acc', datasetVersionId: model.id } }] } });
  expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.or.0.metric.datasetVersionId' });
});

test('roles: VIEWER reads, EDITOR writes, other projects see nothing (NOT_FOUND, null); ModelVersion.evaluations filters', async () => {
  const { project, versions: [v] } = await setup();
  const viewer = await createKey(t, 'VIEWER', project.slug);
  const editor = await createKey(t, 'EDITOR', project.slug);
  const outsider = await createKey(t, 'EDITOR', (await createProject(t)).slug);
  const denied = await t.gql(CREATE, { input: { modelVersionId: v.id, name: 'x' } }, viewer);
  expect(denied.errors?.[0].extensions.code).toBe('FORBIDDEN');
  expect((await t.gql(CREATE, { input: { modelVersionId: v.id, name: 'x' } }, outsider)).errors?.[0].extensions.code).toBe('NOT_FOUND');
  expect((await t.gql(CREATE, { input: { modelVersionId: v.id, name: 'x' } }, null)).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
  const first = await startEvaluation(v.id, [{ name: 'acc', value: 0.5 }], {}, editor);
  await tick();
  const second = await startEvaluation(v.id, [], { name: 'online' }, editor);
  expect((await t.gql(COMPLETE, { input: { evaluationId: first.id, status: 'COMPLETED' } }, viewer)).errors?.[0].extensions.code).toBe('FORBIDDEN');
  await t.ok(COMPLETE, { input: { evaluationId: first.id, status: 'COMPLETED' } }, editor);

  const LIST = `query($id: ID!, $f: EvaluationFilter) { node(id: $id) { ... on ModelVersion { evaluations(filter: $f) { nodes { id name status } } } } }`;
  const all = await t.ok(LIST, { id: v.id }, viewer);
  expect(all.node.evaluations.nodes.map((x: any) => x.id)).toEqual([second.id, first.id]);
  expect((await t.ok(LIST, { id: v.id, f: { status: 'COMPLETED' } }, viewer)).node.evaluations.nodes.map((x: any) => x.id)).toEqual([first.id]);
  expect((await t.ok(LIST, { id: v.id, f: { name: 'online' } }, viewer)).node.evaluations.nodes.map((x: any) => x.id)).toEqual([second.id]);
  const read = await t.ok(`query($id: ID!) { node(id: $id) { id ... on Evaluation { name } } }`, { id: first.id }, viewer);
  expect(read.node).toEqual({ id: first.id, name: 'offline' });
  const hidden = await t.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: first.id }, outsider);
  expect(hidden).toMatchObject({ data: { node: null } });
  expect(hidden.errors).toBeUndefined();
  const board = await t.gql(BOARD, { s: project.slug, m: 'acc' }, outsider);
  expect(board).toMatchObject({ data: { project: null } });
  expect(board.errors).toBeUndefined();
});

const NESTED = `query($s: String!) { project(slug: $s) {
  leaderboard(metric: "acc") { rank modelVersion { number } }
  models(first: 10) { nodes { name versions(first: 3) { nodes { number
    evaluations(first: 2) { nodes { id status datasetVersion { number } modelVersion { number }
      metrics { name value slice } acc: metric(name: "acc") samples(first: 2) { nodes { scores } } } }
  } } } }
} }`;

/** `models` models with 3 versions each; every version has two evaluations with metrics and samples. */
async function seed(models: number): Promise<string> {
  const project = await createProject(t, 'eval-stmt');
  const dv = await createDatasetVersion(project.slug);
  const dvKey = Buffer.from(dv, 'base64url').toString().split(':')[1];
  await t.server.db.query(
    `WITH p AS (SELECT id FROM project WHERE slug = $1),
     m AS (INSERT INTO model (project_id, name, kind, version_count) SELECT p.id, 'model-' || i, 'INTERNAL', 3 FROM p, generate_series(1, $2) i RETURNING id, project_id),
     v AS (INSERT INTO model_version (model_id, project_id, number, status, source, created_by)
           SELECT m.id, m.project_id, n, 'READY', '{"kind":"ARTIFACT","uri":"s3://x"}', 'seed' FROM m, generate_series(1, 3) n RETURNING id, project_id),
     e AS (INSERT INTO evaluation (project_id, model_version_id, dataset_version_id, name, status, created_by, finished_at)
           SELECT v.project_id, v.id, $3::uuid, 'run-' || k, 'COMPLETED', 'seed', now() FROM v, generate_series(1, 2) k RETURNING id, project_id),
     em AS (INSERT INTO evaluation_metric (project_id, evaluation_id, name, slice, value)
            SELECT e.project_id, e.id, x.name, x.slice, random() FROM e, (VALUES ('acc', NULL), ('acc', 'fr'), ('f1', NULL)) x(name, slice))
     INSERT INTO eval_sample (project_id, evaluation_id, scores) SELECT e.project_id, e.id, '{"em": 1}' FROM e, generate_series(1, 3)`,
    [project.slug, models, dvKey],
  );
  return project.slug;
}

async function statementsFor(slug: string): Promise<{ count: number; evaluations: number }> {
  const [count, data] = await t.countStatements(() => t.ok(NESTED, { s: slug }));
  const evaluations = data.project.models.nodes.flatMap((m: any) => m.versions.nodes.flatMap((v: any) => v.evaluations.nodes));
  for (const e of evaluations) {
    expect(e.metrics).toHaveLength(3);
    expect(e.acc).toBe(e.metrics[0].value);
    expect(e.datasetVersion).toEqual({ number: 1 });
    expect(e.samples.nodes).toHaveLength(2);
  }
  return { count, evaluations: evaluations.length };
}

test('a nested read down to evaluation metrics costs the same statements for 3 and for 30 versions', async () => {
  const small = await seed(1);
  const large = await seed(10);
  await statementsFor(small); // warm-up: the key's lastUsedAt write happens at most once a minute
  const a = await statementsFor(small);
  const b = await statementsFor(large);
  expect(a.evaluations).toBe(6);
  expect(b.evaluations).toBe(60);
  expect(b.count).toBe(a.count);
  expect(a.count).toBeLessThanOrEqual(12);
});

import { TestServer, createKey, createModel, createProject, createVersion, startTestServer, unique } from './support/harness';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const SCORE = `mutation($input: ScoreGenerationsInput!) { scoreGenerations(input: $input) {
  evaluation { id status metrics { name value slice higherIsBetter } } } }`;
const CREATE = `mutation($input: CreateEvaluationInput!) { createEvaluation(input: $input) { evaluation { id } } }`;
const LOG_SAMPLES = `mutation($input: LogEvaluationSamplesInput!) { logEvaluationSamples(input: $input) { evaluation { id } } }`;
const COMPLETE = `mutation($input: CompleteEvaluationInput!) { completeEvaluation(input: $input) { evaluation { status } } }`;
const READ = `query($id: ID!) { node(id: $id) { ... on Evaluation { status metrics { name value slice higherIsBetter }
  samples(first: 100) { nodes { input output reference scores } } } } }`;

type Metric = { name: string; value: number; slice: string | null; higherIsBetter: boolean | null };
const byKey = (metrics: Metric[]) => Object.fromEntries(metrics.map((m) => [m.slice ? `${m.name}/${m.slice}` : m.name, m.value]));

async function createDatasetVersion(slug: string): Promise<string> {
  const ds = await t.ok(`mutation($input: CreateDatasetInput!) { createDataset(input: $input) { dataset { id } } }`,
    { input: { projectSlug: slug, name: unique('ds') } });
  const dv = await t.ok(`mutation($input: CreateDatasetVersionInput!) { createDatasetVersion(input: $input) { datasetVersion { id } } }`,
    { input: { datasetId: ds.createDataset.dataset.id, digest: `sha256:${unique('d')}`, columns: [{ name: 'text', dtype: 'STRING' }] } });
  return dv.createDatasetVersion.datasetVersion.id;
}

/** A project with a model version and a RUNNING evaluation on it. */
async function setup(extra: Record<string, unknown> = {}) {
  const project = await createProject(t, 'textm');
  const model = await createModel(t, project.slug);
  const version = await createVersion(t, model.id);
  const evaluation = await startEvaluation(version.id, extra);
  return { project, version, evaluationId: evaluation };
}

async function startEvaluation(modelVersionId: string, extra: Record<string, unknown> = {}): Promise<string> {
  return (await t.ok(CREATE, { input: { modelVersionId, name: 'generation', ...extra } })).createEvaluation.evaluation.id;
}

const GENERATIONS = [
  { input: { prompt: 'Describe the cat' }, output: 'The cat sat.', reference: 'the cat sat' },
  { input: 'second', output: 'the cat ran' },
  { output: '', reference: 'something' },
];

test('scoring logs every metric and stores each generation as a sample with its own scores', async () => {
  const { project, evaluationId } = await setup();
  const data = await t.ok(SCORE, { input: {
    evaluationId, generations: GENERATIONS,
    metrics: ['DISTINCT_1', 'DISTINCT_2', 'SELF_SIMILARITY', 'NOVELTY', 'REFERENCE_OVERLAP', 'OUTPUT_LENGTH', 'DISTINCT_1'],
  } });
  const metrics: Metric[] = data.scoreGenerations.evaluation.metrics;
  expect(metrics.map((m) => [m.name, m.slice, m.higherIsBetter])).toEqual([
    ['distinct_1', null, true], ['distinct_2', null, true], ['novelty', null, true],
    ['output_length', null, null], ['output_length', 'p50', null], ['output_length', 'p95', null],
    ['reference_overlap', null, true], ['self_similarity', null, false],
  ]);
  const v = byKey(metrics);
  expect(v.distinct_1).toBeCloseTo(4 / 6, 12);
  expect(v.distinct_2).toBeCloseTo(3 / 4, 12);
  expect(v.self_similarity).toBeCloseTo(2 / 9, 12);
  // The corpus is the references: "cat ran" is the one novel bigram of four.
  expect(v.novelty).toBeCloseTo(1 / 4, 12);
  expect(v.reference_overlap).toBe(0.5);
  expect([v.output_length, v['output_length/p50'], v['output_length/p95']]).toEqual([2, 3, 3]);

  const read = await t.ok(READ, { id: evaluationId });
  expect(read.node.status).toBe('RUNNING');
  expect(read.node.samples.nodes).toEqual([
    { input: { prompt: 'Describe the cat' }, output: 'The cat sat.', reference: 'the cat sat', scores: { novelty: 0, reference_overlap: 1, output_length: 3 } },
    { input: 'second', output: 'the cat ran', reference: null, scores: { novelty: 0.5, output_length: 3 } },
    { input: null, output: '', reference: 'something', scores: { reference_overlap: 0, output_length: 0 } },
  ]);

  // Scoring again replaces the values of the same names and appends the samples.
  const again = await t.ok(SCORE, { input: { evaluationId, generations: [{ output: 'a a b b' }], metrics: ['DISTINCT_1', 'OUTPUT_LENGTH'] } });
  expect(byKey(again.scoreGenerations.evaluation.metrics)).toMatchObject({ distinct_1: 0.5, output_length: 4, self_similarity: v.self_similarity });
  expect((await t.ok(READ, { id: evaluationId })).node.samples.nodes).toHaveLength(4);

  // One audit record per call, with counts, never the texts.
  const audit = await t.ok(`query($s: String!, $id: ID!) { project(slug: $s) { auditEvents(filter: { targetId: $id }) { nodes { action actor details } } } }`,
    { s: project.slug, id: evaluationId });
  expect(audit.project.auditEvents.nodes.map((n: { action: string }) => n.action))
    .toEqual(['evaluation.scoreGenerations', 'evaluation.scoreGenerations', 'evaluation.create']);
  expect(audit.project.auditEvents.nodes[0].details).toEqual({ before: { metrics: 4 }, after: { samples: 1, metrics: 4 } });
  expect(audit.project.auditEvents.nodes[1].details).toEqual({ before: null, after: { samples: 3, metrics: 8 } });
});

test('novelty: against the references, and with a dataset version, also against its evaluation samples', async () => {
  const { project, version, evaluationId } = await setup();
  const dv = await createDatasetVersion(project.slug);
  // What ModelGraph knows of the dataset: the samples of evaluations on it (string values only).
  const onDataset = await startEvaluation(version.id, { datasetVersionId: dv });
  await t.ok(LOG_SAMPLES, { input: { evaluationId: onDataset, samples: [
    { input: 'The quick brown fox', output: 'jumps over', reference: null, scores: {} },
    { input: { text: 'over the lazy dog' }, output: 42, reference: 'Lazy DOG', scores: {} },
  ] } });
  // Its evaluations are finished or not: both count.
  await t.ok(COMPLETE, { input: { evaluationId: onDataset, status: 'COMPLETED' } });

  const generations = [
    { output: 'the quick brown fox', reference: 'a quick fox' },
    { output: 'jumps over the lazy dog' },
  ];
  const score = async (extra: Record<string, unknown>) => {
    const data = await t.ok(SCORE, { input: { evaluationId, generations, metrics: ['NOVELTY'], ...extra } });
    return byKey(data.scoreGenerations.evaluation.metrics).novelty;
  };
  // References only: "a quick", "quick fox" match no output bigram; all 7 are novel.
  expect(await score({})).toBe(1);
  // With the dataset: "the quick", "quick brown", "brown fox", "jumps over", "lazy dog" are known.
  // "over the" and "the lazy" stay novel: "over the lazy dog" is inside an object, not a string value.
  expect(await score({ noveltyReferenceDatasetVersionId: dv })).toBeCloseTo(2 / 7, 12);
  const samples = (await t.ok(READ, { id: evaluationId })).node.samples.nodes;
  expect(samples.slice(2).map((s: { scores: object }) => s.scores)).toEqual([{ novelty: 0 }, { novelty: 0.5 }]);

  // The evaluation being scored is not its own reference, even when it runs on that dataset version.
  const selfOnDataset = await startEvaluation(version.id, { datasetVersionId: dv });
  const own = { evaluationId: selfOnDataset, metrics: ['NOVELTY'], noveltyReferenceDatasetVersionId: dv };
  await t.ok(SCORE, { input: { ...own, generations: [{ output: 'brand new words here' }] } });
  const second = await t.ok(SCORE, { input: { ...own, generations: [{ output: 'brand new words here' }] } });
  expect(byKey(second.scoreGenerations.evaluation.metrics).novelty).toBe(1);
});

test('novelty needs a corpus with a bigram: BAD_USER_INPUT without one, nothing written', async () => {
  const { project, evaluationId } = await setup();
  const bad = async (input: object) => (await t.gql(SCORE, { input: { evaluationId, metrics: ['NOVELTY', 'DISTINCT_1'], ...input } })).errors?.[0].extensions;
  expect(await bad({ generations: [{ output: 'some words' }] })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'metrics' });
  expect(await bad({ generations: [{ output: 'some words', reference: 'single' }] })).toMatchObject({ code: 'BAD_USER_INPUT' });
  // A dataset version without evaluations, or whose samples hold no text, adds nothing.
  const dv = await createDatasetVersion(project.slug);
  expect(await bad({ generations: [{ output: 'some words' }], noveltyReferenceDatasetVersionId: dv })).toMatchObject({ code: 'BAD_USER_INPUT' });
  const model = await createModel(t, project.slug);
  const other = await startEvaluation((await createVersion(t, model.id)).id, { datasetVersionId: dv });
  await t.ok(LOG_SAMPLES, { input: { evaluationId: other, samples: [{ input: { a: 'b c' }, output: 1, scores: { x: 1 } }] } });
  expect(await bad({ generations: [{ output: 'some words' }], noveltyReferenceDatasetVersionId: dv })).toMatchObject({ code: 'BAD_USER_INPUT' });
  const read = await t.ok(READ, { id: evaluationId });
  expect(read.node).toMatchObject({ metrics: [], samples: { nodes: [] } });
});

test('a dataset version of another project is NOT_FOUND; a malformed one BAD_USER_INPUT', async () => {
  const { evaluationId } = await setup();
  const other = await createProject(t, 'textm-other');
  const foreign = await createDatasetVersion(other.slug);
  const res = await t.gql(SCORE, { input: {
    evaluationId, generations: [{ output: 'a b', reference: 'a b' }], metrics: ['NOVELTY'], noveltyReferenceDatasetVersionId: foreign,
  } });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'noveltyReferenceDatasetVersionId' });
  const malformed = await t.gql(SCORE, { input: {
    evaluationId, generations: [{ output: 'a b' }], metrics: ['DISTINCT_1'], noveltyReferenceDatasetVersionId: evaluationId,
  } });
  expect(malformed.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'noveltyReferenceDatasetVersionId' });
  const missing = await t.gql(SCORE, { input: { evaluationId: Buffer.from('Evaluation:00000000-0000-4000-8000-000000000000').toString('base64url'),
    generations: [{ output: 'a b' }], metrics: ['DISTINCT_1'] } });
  expect(missing.errors?.[0].extensions.code).toBe('NOT_FOUND');
  expect((await t.ok(READ, { id: evaluationId })).node.samples.nodes).toEqual([]);
});

test('a finished evaluation is CONFLICT and keeps what it had', async () => {
  for (const status of ['COMPLETED', 'FAILED']) {
    const { evaluationId } = await setup();
    await t.ok(COMPLETE, { input: { evaluationId, status } });
    const res = await t.gql(SCORE, { input: { evaluationId, generations: [{ output: 'a b c' }], metrics: ['DISTINCT_1'] } });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', status });
    expect((await t.ok(READ, { id: evaluationId })).node).toMatchObject({ status, metrics: [], samples: { nodes: [] } });
  }
});

test('validation: sizes, metrics and unsatisfiable requests are BAD_USER_INPUT', async () => {
  const { evaluationId } = await setup();
  const bad = async (input: object) => (await t.gql(SCORE, { input: { evaluationId, ...input } })).errors?.[0].extensions;
  const ok = [{ output: 'a b' }];
  expect(await bad({ generations: ok, metrics: [] })).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'metrics' }] });
  expect(await bad({ generations: [], metrics: ['DISTINCT_1'] })).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'generations' }] });
  expect(await bad({ generations: ok, metrics: ['BLEU'] })).toMatchObject({ code: 'BAD_USER_INPUT' });
  expect(await bad({ generations: [{ reference: 'x' }], metrics: ['DISTINCT_1'] })).toMatchObject({ code: 'BAD_USER_INPUT' });
  expect(await bad({ generations: [{ output: 'x'.repeat(100_001) }], metrics: ['DISTINCT_1'] }))
    .toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'generations.0.output' }] });
  expect(await bad({ generations: [{ output: 'x', reference: 'y'.repeat(100_001) }], metrics: ['DISTINCT_1'] }))
    .toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'generations.0.reference' }] });
  expect(await bad({ generations: Array.from({ length: 5001 }, () => ({ output: 'a' })), metrics: ['DISTINCT_1'] }))
    .toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'generations' }] });
  expect(await bad({ generations: ok, metrics: ['REFERENCE_OVERLAP'] })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'metrics' });
  expect(await bad({ generations: ok, metrics: ['SELF_SIMILARITY'] })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'metrics' });
  expect(await bad({ evaluationId: 'nope', generations: ok, metrics: ['DISTINCT_1'] })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'evaluationId' });
  expect((await t.ok(READ, { id: evaluationId })).node).toMatchObject({ metrics: [], samples: { nodes: [] } });

  // At the limits: 5,000 generations, and a 100,000-character output.
  const many = Array.from({ length: 5000 }, (_, i) => ({ output: `answer ${i % 50} of ${i % 7}` }));
  const data = await t.ok(SCORE, { input: { evaluationId, generations: many, metrics: ['DISTINCT_2', 'SELF_SIMILARITY', 'OUTPUT_LENGTH'] } });
  const v = byKey(data.scoreGenerations.evaluation.metrics);
  expect(v.output_length).toBe(4);
  expect(v.self_similarity).toBeGreaterThan(0.5);
  expect(v.self_similarity).toBeLessThan(1);
  const long = await t.ok(SCORE, { input: { evaluationId, generations: [{ output: 'ab '.repeat(33_333) }], metrics: ['OUTPUT_LENGTH'] } });
  expect(byKey(long.scoreGenerations.evaluation.metrics).output_length).toBe(33_333);
  const [{ count }] = await t.server.db.query(`SELECT count(*)::int AS count FROM eval_sample WHERE evaluation_id = $1`,
    [Buffer.from(evaluationId, 'base64url').toString().split(':')[1]]);
  expect(count).toBe(5001);
});

test('roles: EDITOR of the project scores; VIEWER, other projects and no key may not', async () => {
  const { project, evaluationId } = await setup();
  const input = { evaluationId, generations: [{ output: 'hello there' }], metrics: ['DISTINCT_1'] };
  const editor = await createKey(t, 'EDITOR', project.slug);
  const viewer = await createKey(t, 'VIEWER', project.slug);
  const other = await createProject(t, 'textm-keys');
  const otherEditor = await createKey(t, 'EDITOR', other.slug);
  expect((await t.gql(SCORE, { input }, viewer)).errors?.[0].extensions.code).toBe('FORBIDDEN');
  expect((await t.gql(SCORE, { input }, otherEditor)).errors?.[0].extensions.code).toBe('NOT_FOUND');
  expect((await t.gql(SCORE, { input }, null)).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
  expect((await t.ok(READ, { id: evaluationId })).node.samples.nodes).toEqual([]);
  const data = await t.ok(SCORE, { input }, editor);
  expect(byKey(data.scoreGenerations.evaluation.metrics)).toEqual({ distinct_1: 1 });
  const audit = await t.ok(`query($s: String!) { project(slug: $s) { auditEvents(filter: { action: "evaluation.scoreGenerations" }) { nodes { actor } } } }`,
    { s: project.slug });
  expect(audit.project.auditEvents.nodes).toHaveLength(1);
});

import { Client as PgClient } from 'pg';
import {
  MAX_GENERATION_CHARS_PER_CALL, NOVELTY_CORPUS_MAX_CHARS, NOVELTY_CORPUS_MAX_SAMPLES,
} from '../src/modules/evaluation/dto/score-generations.input';
import { TestServer, createModel, createProject, createVersion, startTestServer, testDatabaseUrl, unique } from './support/harness';
import { until } from './support/subscription';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const SCORE = `mutation($input: ScoreGenerationsInput!) { scoreGenerations(input: $input) {
  evaluation { id metrics { name value } } noveltyCorpus { references datasetSamples datasetSampled } } }`;
const CREATE = `mutation($input: CreateEvaluationInput!) { createEvaluation(input: $input) { evaluation { id } } }`;
const LOG_SAMPLES = `mutation($input: LogEvaluationSamplesInput!) { logEvaluationSamples(input: $input) { evaluation { id } } }`;
const SCORES = `query($id: ID!) { node(id: $id) { ... on Evaluation { samples(first: 100) { nodes { scores } } } } }`;

const keyOf = (id: string) => Buffer.from(id, 'base64url').toString().split(':')[1];

/** A project with a model version, a dataset version, an evaluation on that dataset version, and a RUNNING evaluation to score into. */
async function setup() {
  const project = await createProject(t, 'textlim');
  const version = await createVersion(t, (await createModel(t, project.slug)).id);
  const ds = await t.ok(`mutation($input: CreateDatasetInput!) { createDataset(input: $input) { dataset { id } } }`,
    { input: { projectSlug: project.slug, name: unique('ds') } });
  const dv = (await t.ok(`mutation($input: CreateDatasetVersionInput!) { createDatasetVersion(input: $input) { datasetVersion { id } } }`,
    { input: { datasetId: ds.createDataset.dataset.id, digest: `sha256:${unique('d')}`, columns: [{ name: 'text', dtype: 'STRING' }] } })).createDatasetVersion.datasetVersion.id;
  const start = async (extra: Record<string, unknown> = {}) =>
    (await t.ok(CREATE, { input: { modelVersionId: version.id, name: 'gen', ...extra } })).createEvaluation.evaluation.id as string;
  return { project, dv, onDataset: await start({ datasetVersionId: dv }), evaluationId: await start() };
}

const novelty = (data: any) => data.scoreGenerations.evaluation.metrics.find((m: { name: string }) => m.name === 'novelty').value;

test('the NOVELTY corpus of a dataset version is its most recent samples, at most the documented number, and says so', async () => {
  const { dv, onDataset, evaluationId } = await setup();
  // Sample i holds the one bigram "wi xi"; 500 more than the corpus takes.
  const total = NOVELTY_CORPUS_MAX_SAMPLES + 500;
  for (let from = 0; from < total; from += 1250) {
    await t.ok(LOG_SAMPLES, { input: { evaluationId: onDataset, samples: Array.from({ length: 1250 }, (_, k) => ({ output: `w${from + k} x${from + k}`, scores: {} })) } });
  }
  const data = await t.ok(SCORE, { input: {
    evaluationId, metrics: ['NOVELTY'], noveltyReferenceDatasetVersionId: dv,
    generations: [{ output: 'w0 x0' }, { output: `w${total - NOVELTY_CORPUS_MAX_SAMPLES - 1} x${total - NOVELTY_CORPUS_MAX_SAMPLES - 1}` },
      { output: `w${total - NOVELTY_CORPUS_MAX_SAMPLES} x${total - NOVELTY_CORPUS_MAX_SAMPLES}` }, { output: `w${total - 1} x${total - 1}` }],
  } });
  expect(data.scoreGenerations.noveltyCorpus).toEqual({ references: 0, datasetSamples: NOVELTY_CORPUS_MAX_SAMPLES, datasetSampled: true });
  // The oldest samples are left out; from the first one taken on, all are in.
  expect((await t.ok(SCORES, { id: evaluationId })).node.samples.nodes.map((n: { scores: object }) => n.scores))
    .toEqual([{ novelty: 1 }, { novelty: 1 }, { novelty: 0 }, { novelty: 0 }]);
  expect(novelty(data)).toBe(0.5);

  // Within the limits the corpus is all of it, and the answer says so.
  const small = await setup();
  await t.ok(LOG_SAMPLES, { input: { evaluationId: small.onDataset, samples: [{ output: 'a b', scores: {} }, { input: 'c d', reference: 'e f', scores: {} }] } });
  const all = await t.ok(SCORE, { input: {
    evaluationId: small.evaluationId, metrics: ['NOVELTY', 'DISTINCT_1'], noveltyReferenceDatasetVersionId: small.dv,
    generations: [{ output: 'a b c d e f', reference: 'q r' }, { output: 'x' }],
  } });
  expect(all.scoreGenerations.noveltyCorpus).toEqual({ references: 1, datasetSamples: 2, datasetSampled: false });
  expect(novelty(all)).toBeCloseTo(2 / 5, 12); // "b c", "d e" novel
  // Without NOVELTY there is no corpus.
  const none = await t.ok(SCORE, { input: { evaluationId: small.evaluationId, metrics: ['DISTINCT_1'], generations: [{ output: 'a' }] } });
  expect(none.scoreGenerations.noveltyCorpus).toBeNull();
});

test('the NOVELTY corpus stops at the documented number of characters, the newest sample first', async () => {
  const { project, dv, onDataset, evaluationId } = await setup();
  await t.ok(LOG_SAMPLES, { input: { evaluationId: onDataset, samples: [{ output: 'older sample', scores: {} }] } });
  // One sample longer than the budget, written directly (a request of that size is over the body limit): its tail is cut off.
  const [{ id: projectId }] = await t.server.db.query(`SELECT id FROM project WHERE slug = $1`, [project.slug]);
  await t.server.db.query(
    `INSERT INTO eval_sample (project_id, evaluation_id, output, scores) VALUES ($1, $2, to_jsonb('head start ' || repeat('filler ', $3) || 'tail end'), '{}')`,
    [projectId, keyOf(onDataset), Math.ceil(NOVELTY_CORPUS_MAX_CHARS / 7)],
  );
  const data = await t.ok(SCORE, { input: {
    evaluationId, metrics: ['NOVELTY'], noveltyReferenceDatasetVersionId: dv,
    generations: [{ output: 'head start' }, { output: 'tail end' }, { output: 'older sample' }],
  } });
  expect(data.scoreGenerations.noveltyCorpus).toEqual({ references: 0, datasetSamples: 1, datasetSampled: true });
  expect((await t.ok(SCORES, { id: evaluationId })).node.samples.nodes.map((n: { scores: object }) => n.scores))
    .toEqual([{ novelty: 0 }, { novelty: 1 }, { novelty: 1 }]);
});

test('the NOVELTY corpus is read before the evaluation is locked', async () => {
  const { dv, onDataset, evaluationId } = await setup();
  await t.ok(LOG_SAMPLES, { input: { evaluationId: onDataset, samples: [{ output: 'alpha beta', scores: {} }] } });
  // Another session holds the row lock of the evaluation being scored.
  const holder = new PgClient({ connectionString: testDatabaseUrl() });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM evaluation WHERE id = $1 FOR UPDATE`, [keyOf(evaluationId)]);
    const [{ pid }] = (await holder.query('SELECT pg_backend_pid() AS pid')).rows;
    const scoring = t.gql(SCORE, { input: {
      evaluationId, metrics: ['NOVELTY'], noveltyReferenceDatasetVersionId: dv, generations: [{ output: 'alpha beta' }, { output: 'gamma delta' }],
    } });
    await until(async () => (await t.server.db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [pid]))[0].n > 0,
      'the scoring waits for the evaluation lock');
    // Logged while the scoring waits for the lock: a corpus read under the lock would see it.
    await t.ok(LOG_SAMPLES, { input: { evaluationId: onDataset, samples: [{ output: 'gamma delta', scores: {} }] } });
    await holder.query('ROLLBACK');
    const res = await scoring;
    expect(res.errors).toBeUndefined();
    expect(res.data.scoreGenerations.noveltyCorpus).toEqual({ references: 0, datasetSamples: 1, datasetSampled: false });
    expect(novelty(res.data)).toBe(0.5);
  } finally {
    await holder.end();
  }
});

test('one call may hold at most the documented characters of outputs and references: above, BAD_USER_INPUT and nothing stored', async () => {
  const { evaluationId } = await setup();
  const over = Array.from({ length: 11 }, (_, i) => ({ output: 'x'.repeat(90_000), reference: i === 0 ? 'y'.repeat(10_001) : null }));
  expect(over.reduce((n, g) => n + g.output.length + (g.reference?.length ?? 0), 0)).toBe(MAX_GENERATION_CHARS_PER_CALL + 1);
  const res = await t.gql(SCORE, { input: { evaluationId, metrics: ['DISTINCT_1'], generations: over } });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'generations', max: MAX_GENERATION_CHARS_PER_CALL });
  expect((await t.ok(SCORES, { id: evaluationId })).node.samples.nodes).toEqual([]);
  // At the limit it is scored.
  over[0].reference = 'y'.repeat(10_000);
  const ok = await t.ok(SCORE, { input: { evaluationId, metrics: ['DISTINCT_1', 'SELF_SIMILARITY'], generations: over } });
  expect(ok.scoreGenerations.evaluation.metrics).toEqual([{ name: 'distinct_1', value: 1 / 11 }, { name: 'self_similarity', value: 1 }]);
});

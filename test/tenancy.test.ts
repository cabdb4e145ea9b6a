import { Client } from 'pg';
import { TestServer, createModel, createProject, createVersion, startTestServer, testDatabaseUrl, unique } from './support/harness';

/**
 * Tenancy held by the database itself: a row linking one project's row to another project's
 * is refused by a composite foreign key, whatever the application checks. Every case runs one
 * statement twice on a direct connection, each time in a transaction rolled back after: linking
 * rows of one project (must succeed, so the statement is right) and linking across projects
 * (must fail with 23503 on the named key).
 */

let t: TestServer;
let sql: Client;
let a: Tenant;
let b: Tenant;

/** The row keys of what a project holds, made through the API. */
interface Tenant {
  project: string;
  model: string;
  version: string;
  datasetVersion: string;
  featureSet: string;
  series: string;
  promptVersion: string;
}

const rowKey = (globalId: string) => Buffer.from(globalId, 'base64url').toString().split(':')[1];

async function tenant(): Promise<Tenant> {
  const project = await createProject(t, 'tenant');
  const model = await createModel(t, project.slug);
  const version = await createVersion(t, model.id);
  await t.ok(`mutation($m: ID!) { setModelAlias(input: { modelId: $m, alias: "production", versionNumber: 1 }) { alias { revision } } }`, { m: model.id });
  const ds = await t.ok(`mutation($input: CreateDatasetInput!) { createDataset(input: $input) { dataset { id } } }`,
    { input: { projectSlug: project.slug, name: unique('ds') } });
  const dv = await t.ok(`mutation($input: CreateDatasetVersionInput!) { createDatasetVersion(input: $input) { datasetVersion { id } } }`,
    { input: { datasetId: ds.createDataset.dataset.id, digest: `sha256:${unique('d')}`, columns: [{ name: 'x', dtype: 'INT' }] } });
  const fs = await t.ok(`mutation($input: CreateFeatureSetInput!) { createFeatureSet(input: $input) { featureSet { id } } }`,
    { input: { projectSlug: project.slug, name: unique('fs'), entityKey: 'customer_id', features: [{ name: 'age', dtype: 'INT' }] } });
  await t.ok(`mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`,
    { input: { projectSlug: project.slug, points: [{ modelVersionId: version.id, name: 'latency_ms', value: 12 }] } });
  const [{ id: series }] = (await sql.query(`SELECT id FROM metric_series WHERE project_id = $1`, [rowKey(project.id)])).rows;
  const prompt = await t.ok(`mutation($input: CreatePromptInput!) { createPrompt(input: $input) { prompt { id } } }`,
    { input: { projectSlug: project.slug, name: unique('p') } });
  const pv = await t.ok(`mutation($input: CreatePromptVersionInput!) { createPromptVersion(input: $input) { promptVersion { id } } }`,
    { input: { promptId: prompt.createPrompt.prompt.id, template: 'Hi', variables: [] } });
  return {
    promptVersion: rowKey(pv.createPromptVersion.promptVersion.id),
    project: rowKey(project.id), model: rowKey(model.id), version: rowKey(version.id),
    datasetVersion: rowKey(dv.createDatasetVersion.datasetVersion.id), featureSet: rowKey(fs.createFeatureSet.featureSet.id), series,
  };
}

beforeAll(async () => {
  t = await startTestServer();
  sql = new Client({ connectionString: testDatabaseUrl() });
  await sql.connect();
  [a, b] = [await tenant(), await tenant()];
});
afterAll(async () => {
  await sql.end();
  await t.stop();
});

/** Runs one statement in a transaction that is always rolled back; resolves with its row count. */
async function attempt(statement: string, params: unknown[]): Promise<number> {
  await sql.query('BEGIN');
  try {
    return (await sql.query(statement, params)).rowCount ?? 0;
  } finally {
    await sql.query('ROLLBACK');
  }
}

/**
 * [what, statement, its parameters given the row's project (always A) and the project `x` whose
 * row it links to, the key that must refuse a link to B].
 */
const CASES: [string, string, (x: Tenant) => unknown[], string][] = [
  ['a lineage edge to a dataset version',
    `INSERT INTO model_version_dataset (project_id, model_version_id, dataset_version_id, role) VALUES ($1, $2, $3, 'TRAINING')`,
    (x) => [a.project, a.version, x.datasetVersion], 'model_version_dataset_project_id_dataset_version_id_fkey'],
  ['a lineage edge from a model version',
    `INSERT INTO model_version_dataset (project_id, model_version_id, dataset_version_id, role) VALUES ($1, $2, $3, 'TRAINING')`,
    (x) => [a.project, x.version, a.datasetVersion], 'model_version_dataset_project_id_model_version_id_fkey'],
  ['an evaluation of a model version',
    `INSERT INTO evaluation (project_id, model_version_id, name, status, created_by) VALUES ($1, $2, 'sql', 'RUNNING', 'sql')`,
    (x) => [a.project, x.version], 'evaluation_project_id_model_version_id_fkey'],
  ['an evaluation on a dataset version',
    `INSERT INTO evaluation (project_id, model_version_id, dataset_version_id, name, status, created_by) VALUES ($1, $2, $3, 'sql', 'RUNNING', 'sql')`,
    (x) => [a.project, a.version, x.datasetVersion], 'evaluation_project_id_dataset_version_id_fkey'],
  ['a new alias on a model version',
    `INSERT INTO model_alias (project_id, model_id, name, version_id, revision, updated_by) VALUES ($1, $2, 'sql', $3, 1, 'sql')`,
    (x) => [a.project, a.model, x.version], 'model_alias_project_id_version_id_fkey'],
  ['an alias moved to a model version',
    `UPDATE model_alias SET version_id = $2 WHERE model_id = $1 AND name = 'production'`,
    (x) => [a.model, x.version], 'model_alias_project_id_version_id_fkey'],
  ['a metric series of a model version',
    `INSERT INTO metric_series (project_id, model_version_id, name) VALUES ($1, $2, 'sql_metric')`,
    (x) => [a.project, x.version], 'metric_series_project_id_model_version_id_fkey'],
  ['a metric point of a series',
    `INSERT INTO metric_point (project_id, series_id, ts, value) VALUES ($1, $2, now(), 1)`,
    (x) => [a.project, x.series], 'metric_point_project_id_series_id_fkey'],
  ['a feature set read by a model version',
    `INSERT INTO model_version_feature_set (project_id, model_version_id, feature_set_id) VALUES ($1, $2, $3)`,
    (x) => [a.project, a.version, x.featureSet], 'model_version_feature_set_project_id_feature_set_id_fkey'],
  ['a base version',
    `UPDATE model_version SET base_version_id = $2 WHERE id = $1`,
    (x) => [a.version, x.version], 'model_version_project_id_base_version_id_fkey'],
  ['a promotion request for a model version',
    `INSERT INTO promotion_request (project_id, model_id, alias, version_id, status, requested_by, requested_by_key)
     VALUES ($1, $2, 'sql', $3, 'REJECTED', 'sql', gen_random_uuid())`,
    (x) => [a.project, a.model, x.version], 'promotion_request_project_id_version_id_fkey'],
  ['a monitor of a model version',
    `INSERT INTO monitor (project_id, name, metric, model_version_id, aggregation, window_seconds, comparator, threshold, status, created_by)
     VALUES ($1, 'sql', 'latency_ms', $2, 'AVG', 60, 'GT', 1, 'NO_DATA', 'sql')`,
    (x) => [a.project, x.version], 'monitor_project_id_model_version_id_fkey'],
  ['feedback on a model version',
    `INSERT INTO feedback (project_id, model_version_id, kind, value, at, recorded_by) VALUES ($1, $2, 'THUMBS', 1, now(), 'sql')`,
    (x) => [a.project, x.version], 'feedback_project_id_model_version_id_fkey'],
  ['a usage record of a model version',
    `INSERT INTO usage_record (project_id, request_id, model_version_id, ts, input_tokens, output_tokens, latency_ms, error) VALUES ($1, 'sql', $2, now(), 1, 1, 1, false)`,
    (x) => [a.project, x.version], 'usage_record_model_version_fkey'],
  ['a usage record of a prompt version',
    `INSERT INTO usage_record (project_id, request_id, model_version_id, prompt_version_id, ts, input_tokens, output_tokens, latency_ms, error)
     VALUES ($1, 'sql', $2, $3, now(), 1, 1, 1, false)`,
    (x) => [a.project, a.version, x.promptVersion], 'usage_record_prompt_version_fkey'],
];

test.each(CASES)('the database refuses %s of another project', async (_what, statement, params, constraint) => {
  expect(await attempt(statement, params(a))).toBe(1);
  const refused = await attempt(statement, params(b)).then(() => null, (err) => err);
  expect(refused).toMatchObject({ code: '23503', constraint });
});

test('a link row cannot dodge the check by naming the other project', async () => {
  // Whichever project the row claims, one of its two references is of another project.
  const statement = `INSERT INTO model_version_dataset (project_id, model_version_id, dataset_version_id, role) VALUES ($1, $2, $3, 'TRAINING')`;
  for (const project of [a.project, b.project]) {
    const refused = await attempt(statement, [project, a.version, b.datasetVersion]).then(() => null, (err) => err);
    expect(refused).toMatchObject({ code: '23503' });
  }
});

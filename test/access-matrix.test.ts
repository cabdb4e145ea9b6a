import { GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema, OperationDefinitionNode, parse } from 'graphql';
import { Client as WsClient } from 'graphql-ws';
import { getSchema } from '../src/app/schema';
import { EVENTS_CHANNEL, POINTS_CHANNEL } from '../src/core/events/registry-events';
import { GqlResponse, TestServer, createModel, createProject, createVersion, startTestServer, unique } from './support/harness';

/**
 * The access matrix: every Query, Mutation and Subscription field of the schema, each called by
 * every kind of caller, with the outcome each must get. The target is always project A's:
 *
 * - a key of project A (VIEWER, EDITOR, ADMIN), of project B, of every project, none, a revoked one;
 * - ALLOW: no error and an answer (for a read, not the empty answer of "nothing there");
 * - a key of B sees A as missing: NOT_FOUND, or NULL (no error, data null) for nullable reads;
 * - too low a role where the key is valid: FORBIDDEN; no key or a revoked one: UNAUTHENTICATED.
 *
 * The rule of each row is written here by hand, from the API's documented permissions, not read
 * from the schema's declarations: the test checks what callers get, not what the code says.
 * A root field without a row fails the test, as does a Node type without a `node(id)` row.
 */

type Role = 'VIEWER' | 'EDITOR' | 'ADMIN';
type Scope = 'A' | 'B' | 'global';
type Outcome = 'ALLOW' | 'NULL' | 'NOT_FOUND' | 'FORBIDDEN' | 'UNAUTHENTICATED' | string;
type Vars = Record<string, unknown>;

/** Who may: keys valid for project A with at least a role; keys of every project only; any key of at least a role; any key. */
type Rule =
  | { project: Role; unseen: 'NOT_FOUND' | 'NULL' }
  | { global: Role; unseen?: 'NOT_FOUND' | 'NULL' }
  | { role: Role }
  | { any: true };

interface Case {
  /** The operation: its one root field is the row's field. */
  doc: string;
  rule: Rule;
  /** What is asked, when a field has several rows. */
  label?: string;
  /** The variables for one caller; may make a fresh target (by the fixture's admin) so that no cell spoils another. */
  vars?: () => Vars | Promise<Vars>;
}

const RANK: Record<Role, number> = { VIEWER: 0, EDITOR: 1, ADMIN: 2 };
const atLeast = (have: Role, need: Role) => RANK[have] >= RANK[need];

interface Caller { label: string; role?: Role; scope?: Scope }
const CALLERS: Caller[] = [
  ...(['VIEWER', 'EDITOR', 'ADMIN'] as Role[]).flatMap((role) => (['A', 'B', 'global'] as Scope[]).map((scope) => ({ label: `${role}@${scope}`, role, scope }))),
  { label: 'no key' },
  { label: 'revoked key' },
];

/** The outcome a rule gives a caller. */
function expected(rule: Rule, c: Caller): Outcome {
  if (!c.role) return 'UNAUTHENTICATED';
  if ('any' in rule) return 'ALLOW';
  if ('role' in rule) return atLeast(c.role, rule.role) ? 'ALLOW' : 'FORBIDDEN';
  if ('project' in rule) {
    if (c.scope === 'B') return rule.unseen;
    return atLeast(c.role, rule.project) ? 'ALLOW' : 'FORBIDDEN';
  }
  if (c.scope !== 'global') return rule.unseen ?? 'FORBIDDEN';
  return atLeast(c.role, rule.global) ? 'ALLOW' : 'FORBIDDEN';
}

/** The root field an operation calls, as `Mutation.createModel`. */
function fieldOf(doc: string): string {
  const op = parse(doc).definitions[0] as OperationDefinitionNode;
  const first = op.selectionSet.selections[0];
  if (first.kind !== 'Field') throw new Error(`${doc}: the first selection must be the root field`);
  return `${op.operation[0].toUpperCase()}${op.operation.slice(1)}.${first.name.value}`;
}

/** Whether an answer holds nothing but nulls: what a read answers for an object that is not there. */
const allNull = (v: unknown): boolean =>
  v === null || v === undefined || (Array.isArray(v) ? v.every(allNull) : typeof v === 'object' && Object.values(v as object).every(allNull));

let t: TestServer;
let schema: GraphQLSchema;
const keys = new Map<string, string | null>();

/** Project A holds one of everything; B and the global key only give callers something to be. */
interface Fixture {
  a: { id: string; slug: string };
  b: { id: string; slug: string };
  model: { id: string; name: string };
  v1: string;
  v2: string;
  archivable: string;
  dataset: string;
  datasetVersion: string;
  featureSet: string;
  evaluation: string;
  sample: string;
  aliasEvent: string;
  auditEvent: string;
  apiKey: string;
  promotion: string;
  monitor: string;
  quietMonitor: string;
  series: string;
  alert: string;
  globalKey: string;
  globalAuditEvent: string;
  prompt: string;
  promptVersion: string;
  promptAliasEvent: string;
  deployment: string;
}
let fx: Fixture;

/** A window of an hour either side of now: the fixture's usage records are stamped now. */
const aroundNow = () => ({ from: new Date(Date.now() - 3600_000).toISOString(), to: new Date(Date.now() + 3600_000).toISOString() });
const H = (hour: number) => new Date(Date.UTC(2026, 10, 20, hour)).toISOString();
const AGE = { name: 'age', dtype: 'FLOAT', statistics: { count: 40, nullCount: 0, histogram: { edges: [0, 10, 20, 30, 40], counts: [10, 10, 10, 10] } } };

const M = {
  createKey: `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }`,
  revokeKey: `mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { apiKey { id } } }`,
  createEvaluation: `mutation($input: CreateEvaluationInput!) { createEvaluation(input: $input) { evaluation { id } } }`,
  setPolicy: `mutation($input: SetAliasPolicyInput!) { setAliasPolicy(input: $input) { model { id } } }`,
  request: `mutation($input: RequestPromotionInput!) { requestPromotion(input: $input) { promotionRequest { id status } } }`,
  setAlias: `mutation($input: SetModelAliasInput!) { setModelAlias(input: $input) { alias { name } } }`,
  record: `mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`,
  createMonitor: `mutation($input: CreateMonitorInput!) { createMonitor(input: $input) { monitor { id } } }`,
  createPrompt: `mutation($input: CreatePromptInput!) { createPrompt(input: $input) { prompt { id } } }`,
  createPromptVersion: `mutation($input: CreatePromptVersionInput!) { createPromptVersion(input: $input) { promptVersion { id } } }`,
  setPromptAlias: `mutation($input: SetPromptAliasInput!) { setPromptAlias(input: $input) { alias { name } } }`,
  createDeployment: `mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { deployment { id } } }`,
};

async function makeKey(role: Role, projectSlug: string | null): Promise<{ id: string; secret: string }> {
  const made = (await t.ok(M.createKey, { input: { name: unique(`matrix-${role.toLowerCase()}`), role, projectSlug } })).createApiKey;
  return { id: made.apiKey.id, secret: made.secret };
}

const monitorInput = (slug: string, metric: string, threshold: number) => ({
  projectSlug: slug, name: unique('mon'), metric, aggregation: 'LAST', windowSeconds: 3600, comparator: 'GT', threshold,
});

async function makeFixture(): Promise<Fixture> {
  const a = await createProject(t, 'matrix-a');
  const b = await createProject(t, 'matrix-b');
  const model = await createModel(t, a.slug);
  const v1 = (await createVersion(t, model.id)).id;
  const v2 = (await createVersion(t, model.id)).id;
  const archivable = (await createModel(t, a.slug)).id;
  await t.ok(M.setAlias, { input: { modelId: model.id, alias: 'production', versionNumber: 1 } });
  await t.ok(M.setPolicy, { input: { modelId: model.id, alias: 'guarded', requiredApprovals: 1, gates: [] } });
  const promotion = (await t.ok(M.request, { input: { modelId: model.id, alias: 'guarded', versionNumber: 1 } })).requestPromotion.promotionRequest.id;
  const dataset = (await t.ok(`mutation($input: CreateDatasetInput!) { createDataset(input: $input) { dataset { id } } }`,
    { input: { projectSlug: a.slug, name: unique('ds') } })).createDataset.dataset.id;
  const datasetVersion = (await t.ok(`mutation($input: CreateDatasetVersionInput!) { createDatasetVersion(input: $input) { datasetVersion { id } } }`,
    { input: { datasetId: dataset, digest: unique('sha256'), columns: [AGE] } })).createDatasetVersion.datasetVersion.id;
  await t.ok(`mutation($input: RecordColumnProfileInput!) { recordColumnProfile(input: $input) { accepted } }`,
    { input: { modelVersionId: v1, from: H(0), to: H(1), columns: [AGE] } });
  const featureSet = (await t.ok(`mutation($input: CreateFeatureSetInput!) { createFeatureSet(input: $input) { featureSet { id } } }`,
    { input: { projectSlug: a.slug, name: unique('fs'), entityKey: 'customer_id', features: [{ name: 'age', dtype: 'INT' }] } })).createFeatureSet.featureSet.id;
  const evaluation = (await t.ok(M.createEvaluation, { input: { modelVersionId: v1, name: 'running' } })).createEvaluation.evaluation.id;
  await t.ok(`mutation($input: LogEvaluationSamplesInput!) { logEvaluationSamples(input: $input) { evaluation { id } } }`,
    { input: { evaluationId: evaluation, samples: [{ output: 'x', scores: { ok: 1 } }] } });
  const monitor = (await t.ok(M.createMonitor, { input: monitorInput(a.slug, 'alarm', 100) })).createMonitor.monitor.id;
  const quietMonitor = (await t.ok(M.createMonitor, { input: monitorInput(a.slug, 'quiet', 1e12) })).createMonitor.monitor.id;
  await t.ok(M.record, { input: { projectSlug: a.slug, points: [{ name: 'alarm', value: 500 }] } });
  const prompt = (await t.ok(M.createPrompt, { input: { projectSlug: a.slug, name: unique('prompt') } })).createPrompt.prompt.id;
  const promptVersion = (await t.ok(M.createPromptVersion, { input: { promptId: prompt, template: 'Hi {{name}}', variables: ['name'], modelVersionId: v1 } }))
    .createPromptVersion.promptVersion.id;
  await t.ok(M.setPromptAlias, { input: { promptId: prompt, alias: 'production', versionNumber: 1 } });
  const deployment = (await t.ok(M.createDeployment, { input: { projectSlug: a.slug, name: unique('dep'), environment: 'production' } }))
    .createDeployment.deployment.id;
  await t.ok(`mutation($input: SetDeploymentRoutesInput!) { setDeploymentRoutes(input: $input) { deployment { revision } } }`,
    { input: { deploymentId: deployment, expectedRevision: 0, routes: [{ name: 'control', weight: 90, modelVersionId: v1 }, { name: 'candidate', weight: 10, modelVersionId: v1 }] } });
  await t.ok(`mutation($input: RecordUsageInput!) { recordUsage(input: $input) { accepted } }`,
    { input: { projectSlug: a.slug, records: [{ requestId: unique('req'), deploymentId: deployment, route: 'control', inputTokens: 1, outputTokens: 1, latencyMs: 1 }] } });
  const apiKey = (await makeKey('VIEWER', a.slug)).id;
  const globalKey = (await makeKey('VIEWER', null)).id;
  const read = await t.ok(
    `query($s: String!, $m: String!, $e: ID!, $k: ID!, $p: ID!) {
       prompt: node(id: $p) { ... on Prompt { aliasHistory(first: 1) { nodes { id } } } }
       project(slug: $s) {
         model(name: $m) { aliasHistory(first: 1) { nodes { id } } }
         auditEvents(first: 1) { nodes { id } }
         metricSeries { nodes { id name } }
         monitors { nodes { id alerts { nodes { id } } } }
       }
       evaluation: node(id: $e) { ... on Evaluation { samples { nodes { id } } } }
       auditEvents(first: 1, filter: { targetId: $k }) { nodes { id } }
     }`,
    { s: a.slug, m: model.name, e: evaluation, k: globalKey, p: prompt },
  );
  const p = read.project;
  return {
    a, b, model, v1, v2, archivable, dataset, datasetVersion, featureSet, evaluation, promotion, monitor, quietMonitor, apiKey, globalKey,
    prompt, promptVersion, promptAliasEvent: read.prompt.aliasHistory.nodes[0].id, deployment,
    sample: read.evaluation.samples.nodes[0].id,
    aliasEvent: p.model.aliasHistory.nodes[0].id,
    auditEvent: p.auditEvents.nodes[0].id,
    series: p.metricSeries.nodes.find((s: { name: string }) => s.name === 'alarm').id,
    alert: p.monitors.nodes.find((m: { id: string }) => m.id === monitor).alerts.nodes[0].id,
    globalAuditEvent: read.auditEvents.nodes[0].id,
  };
}

/** A pending promotion request of its own, asked by the fixture's admin (so any caller may approve it). */
async function pendingRequest(): Promise<string> {
  const alias = unique('gate');
  await t.ok(M.setPolicy, { input: { modelId: fx.model.id, alias, requiredApprovals: 1, gates: [] } });
  return (await t.ok(M.request, { input: { modelId: fx.model.id, alias, versionNumber: 1 } })).requestPromotion.promotionRequest.id;
}
const runningEvaluation = async () => (await t.ok(M.createEvaluation, { input: { modelVersionId: fx.v1, name: unique('eval') } })).createEvaluation.evaluation.id;

const VIEW: Rule = { project: 'VIEWER', unseen: 'NOT_FOUND' };
let pricedAt = 0;
const EDIT: Rule = { project: 'EDITOR', unseen: 'NOT_FOUND' };
const ADMIN: Rule = { project: 'ADMIN', unseen: 'NOT_FOUND' };

const NODE = `query($id: ID!) { node(id: $id) { id } }`;

/** A `node(id)` row per Node type: the object of project A (or, for the last two, of no project) and who may read it. */
const NODE_ROWS: Record<string, { id: () => string; rule: Rule }> = {
  Project: { id: () => fx.a.id, rule: { project: 'VIEWER', unseen: 'NULL' } },
  Model: { id: () => fx.model.id, rule: { project: 'VIEWER', unseen: 'NULL' } },
  ModelVersion: { id: () => fx.v1, rule: { project: 'VIEWER', unseen: 'NULL' } },
  AliasEvent: { id: () => fx.aliasEvent, rule: { project: 'VIEWER', unseen: 'NULL' } },
  Dataset: { id: () => fx.dataset, rule: { project: 'VIEWER', unseen: 'NULL' } },
  DatasetVersion: { id: () => fx.datasetVersion, rule: { project: 'VIEWER', unseen: 'NULL' } },
  FeatureSet: { id: () => fx.featureSet, rule: { project: 'VIEWER', unseen: 'NULL' } },
  Evaluation: { id: () => fx.evaluation, rule: { project: 'VIEWER', unseen: 'NULL' } },
  EvalSample: { id: () => fx.sample, rule: { project: 'VIEWER', unseen: 'NULL' } },
  PromotionRequest: { id: () => fx.promotion, rule: { project: 'VIEWER', unseen: 'NULL' } },
  MetricSeries: { id: () => fx.series, rule: { project: 'VIEWER', unseen: 'NULL' } },
  Monitor: { id: () => fx.monitor, rule: { project: 'VIEWER', unseen: 'NULL' } },
  Alert: { id: () => fx.alert, rule: { project: 'VIEWER', unseen: 'NULL' } },
  AuditEvent: { id: () => fx.auditEvent, rule: { project: 'VIEWER', unseen: 'NULL' } },
  ApiKey: { id: () => fx.apiKey, rule: { project: 'ADMIN', unseen: 'NULL' } },
  Prompt: { id: () => fx.prompt, rule: { project: 'VIEWER', unseen: 'NULL' } },
  PromptVersion: { id: () => fx.promptVersion, rule: { project: 'VIEWER', unseen: 'NULL' } },
  PromptAliasEvent: { id: () => fx.promptAliasEvent, rule: { project: 'VIEWER', unseen: 'NULL' } },
  Deployment: { id: () => fx.deployment, rule: { project: 'VIEWER', unseen: 'NULL' } },
};
const GLOBAL_NODE_ROWS: Record<string, { id: () => string; rule: Rule }> = {
  'ApiKey of every project': { id: () => fx.globalKey, rule: { global: 'ADMIN', unseen: 'NULL' } },
  'AuditEvent of no project': { id: () => fx.globalAuditEvent, rule: { global: 'ADMIN', unseen: 'NULL' } },
};

const CASES: Case[] = [
  // ------------------------------------------------------------------ Query
  ...Object.entries({ ...NODE_ROWS, ...GLOBAL_NODE_ROWS }).map(([label, r]): Case => ({ label, doc: NODE, rule: r.rule, vars: () => ({ id: r.id() }) })),
  { doc: `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, rule: { project: 'VIEWER', unseen: 'NULL' }, vars: () => ({ ids: [fx.model.id, fx.alert] }) },
  { doc: `query($s: String!) { project(slug: $s) { id } }`, rule: { project: 'VIEWER', unseen: 'NULL' }, vars: () => ({ s: fx.a.slug }) },
  { doc: `{ projects { nodes { id } } }`, rule: { any: true } },
  { doc: `{ viewer { name } }`, rule: { any: true } },
  { label: 'of project A', doc: `query($s: String) { apiKeys(projectSlug: $s) { id } }`, rule: ADMIN, vars: () => ({ s: fx.a.slug }) },
  { label: 'of the key\'s own scope', doc: `{ apiKeys { id } }`, rule: { role: 'ADMIN' } },
  { doc: `{ auditEvents { nodes { id } } }`, rule: { global: 'ADMIN' } },
  { doc: `query($ids: [ID!]!) { compareModelVersions(ids: $ids) { rows { modelVersion { id } } } }`, rule: VIEW, vars: () => ({ ids: [fx.v1] }) },
  {
    doc: `query($s: String!, $ids: [ID!]!, $d: ID!) { compareCandidates(projectSlug: $s, versionIds: $ids, datasetVersionId: $d, qualityMetric: "acc") {
      candidates { modelVersion { id } frontierStatus } } }`,
    rule: VIEW, vars: () => ({ s: fx.a.slug, ids: [fx.v1, fx.v2], d: fx.datasetVersion }),
  },
  {
    doc: `query($id: ID!) { renderPrompt(promptId: $id, alias: "production", variables: { name: "Ann" }) { text } }`, rule: VIEW,
    vars: () => ({ id: fx.prompt }),
  },
  {
    doc: `query($r: DriftSideInput!, $c: DriftSideInput!) { driftReport(reference: $r, current: $c) { drifted } }`, rule: VIEW,
    vars: () => ({ r: { datasetVersionId: fx.datasetVersion }, c: { modelVersionId: fx.v1, from: H(0), to: H(1) } }),
  },
  { doc: `query($s: String!) { registryEventsCursor(projectSlug: $s) }`, rule: VIEW, vars: () => ({ s: fx.a.slug }) },
  // Fields below a node: the node's rule holds for them; each row shows the field answers (not only that its parent is there).
  {
    label: 'DeploymentRoute.usage', rule: { project: 'VIEWER', unseen: 'NULL' }, vars: () => ({ id: fx.deployment, ...aroundNow() }),
    doc: `query($id: ID!, $from: DateTime!, $to: DateTime!) { node(id: $id) { ... on Deployment { routes { usage(from: $from, to: $to) { requests } } } } }`,
  },
  {
    label: 'Deployment.experiment', rule: { project: 'VIEWER', unseen: 'NULL' }, vars: () => ({ id: fx.deployment, ...aroundNow() }),
    doc: `query($id: ID!, $from: DateTime!, $to: DateTime!) { node(id: $id) { ... on Deployment { experiment(from: $from, to: $to, metric: LATENCY_MS) { routes { verdict } } } } }`,
  },
  {
    label: 'CostReportRow.deployment', rule: { project: 'VIEWER', unseen: 'NULL' }, vars: () => ({ s: fx.a.slug, ...aroundNow() }),
    doc: `query($s: String!, $from: DateTime!, $to: DateTime!) { project(slug: $s) { costReport(from: $from, to: $to, groupBy: DEPLOYMENT) { rows { deployment { id } } } } }`,
  },
  { doc: `query($s: String!) { metricPointsCursor(projectSlug: $s) }`, rule: VIEW, vars: () => ({ s: fx.a.slug }) },
  // ------------------------------------------------------------------ Mutation
  {
    doc: `mutation($input: CreateProjectInput!) { createProject(input: $input) { project { id } } }`, rule: { global: 'EDITOR' },
    vars: () => { const slug = unique('matrix-new'); return { input: { slug, name: slug } }; },
  },
  { label: 'of project A', doc: M.createKey, rule: ADMIN, vars: () => ({ input: { name: unique('k'), role: 'VIEWER', projectSlug: fx.a.slug } }) },
  { label: 'of every project', doc: M.createKey, rule: { global: 'ADMIN' }, vars: () => ({ input: { name: unique('k'), role: 'VIEWER' } }) },
  { label: 'of project A', doc: M.revokeKey, rule: ADMIN, vars: async () => ({ input: { id: (await makeKey('VIEWER', fx.a.slug)).id } }) },
  { label: 'of every project', doc: M.revokeKey, rule: { global: 'ADMIN', unseen: 'NOT_FOUND' }, vars: async () => ({ input: { id: (await makeKey('VIEWER', null)).id } }) },
  { doc: M.setAlias, rule: EDIT, vars: () => ({ input: { modelId: fx.model.id, alias: 'staging', versionNumber: 1 } }) },
  {
    doc: `mutation($input: RemoveModelAliasInput!) { removeModelAlias(input: $input) { model { id } } }`, rule: EDIT,
    vars: async () => {
      const alias = unique('rm');
      await t.ok(M.setAlias, { input: { modelId: fx.model.id, alias, versionNumber: 1 } });
      return { input: { modelId: fx.model.id, alias } };
    },
  },
  {
    doc: `mutation($input: CreateModelVersionInput!) { createModelVersion(input: $input) { modelVersion { id } } }`, rule: EDIT,
    vars: () => ({ input: { modelId: fx.model.id, artifact: { uri: `s3://matrix/${unique('v')}` } } }),
  },
  { doc: `mutation($input: UpdateModelVersionInput!) { updateModelVersion(input: $input) { modelVersion { id } } }`, rule: EDIT, vars: () => ({ input: { id: fx.v1, description: 'matrix' } }) },
  {
    doc: `mutation($input: CreateModelInput!) { createModel(input: $input) { model { id } } }`, rule: EDIT,
    vars: () => ({ input: { projectSlug: fx.a.slug, name: unique('m'), kind: 'INTERNAL' } }),
  },
  { doc: `mutation($input: UpdateModelInput!) { updateModel(input: $input) { model { id } } }`, rule: EDIT, vars: () => ({ input: { id: fx.model.id, description: 'matrix' } }) },
  { doc: `mutation($input: ArchiveModelInput!) { archiveModel(input: $input) { model { id } } }`, rule: EDIT, vars: () => ({ input: { id: fx.archivable, archived: true } }) },
  {
    doc: `mutation($input: CreateDatasetInput!) { createDataset(input: $input) { dataset { id } } }`, rule: EDIT,
    vars: () => ({ input: { projectSlug: fx.a.slug, name: unique('ds') } }),
  },
  {
    doc: `mutation($input: CreateDatasetVersionInput!) { createDatasetVersion(input: $input) { datasetVersion { id } } }`, rule: EDIT,
    vars: () => ({ input: { datasetId: fx.dataset, digest: unique('sha256'), columns: [{ name: 'x', dtype: 'INT' }] } }),
  },
  {
    doc: `mutation($input: CreateFeatureSetInput!) { createFeatureSet(input: $input) { featureSet { id } } }`, rule: EDIT,
    vars: () => ({ input: { projectSlug: fx.a.slug, name: unique('fs'), entityKey: 'id', features: [{ name: 'x', dtype: 'INT' }] } }),
  },
  {
    doc: `mutation($input: WriteFeatureValuesInput!) { writeFeatureValues(input: $input) { written } }`, rule: EDIT,
    vars: () => ({ input: { featureSetId: fx.featureSet, rows: [{ entityKey: unique('c'), eventTimestamp: new Date().toISOString(), values: { age: 1 } }] } }),
  },
  { doc: M.createEvaluation, rule: EDIT, vars: () => ({ input: { modelVersionId: fx.v1, name: unique('eval') } }) },
  {
    doc: `mutation($input: LogEvaluationMetricsInput!) { logEvaluationMetrics(input: $input) { evaluation { id } } }`, rule: EDIT,
    vars: () => ({ input: { evaluationId: fx.evaluation, metrics: [{ name: 'acc', value: 0.5 }] } }),
  },
  {
    doc: `mutation($input: LogEvaluationSamplesInput!) { logEvaluationSamples(input: $input) { evaluation { id } } }`, rule: EDIT,
    vars: () => ({ input: { evaluationId: fx.evaluation, samples: [{ output: 'y', scores: { ok: 0 } }] } }),
  },
  {
    doc: `mutation($input: CompleteEvaluationInput!) { completeEvaluation(input: $input) { evaluation { id } } }`, rule: EDIT,
    vars: async () => ({ input: { evaluationId: await runningEvaluation(), status: 'COMPLETED' } }),
  },
  {
    doc: `mutation($input: ScoreGenerationsInput!) { scoreGenerations(input: $input) { evaluation { id } } }`, rule: EDIT,
    vars: () => ({ input: { evaluationId: fx.evaluation, generations: [{ output: 'hello there' }], metrics: ['DISTINCT_1'] } }),
  },
  {
    doc: `mutation($input: RecordFeedbackInput!) { recordFeedback(input: $input) { accepted } }`, rule: EDIT,
    vars: () => ({ input: { modelVersionId: fx.v1, kind: 'THUMBS', value: 1 } }),
  },
  { doc: M.setPolicy, rule: ADMIN, vars: () => ({ input: { modelId: fx.model.id, alias: 'guarded', requiredApprovals: 1, gates: [] } }) },
  { doc: M.request, rule: EDIT, vars: () => ({ input: { modelId: fx.model.id, alias: 'guarded', versionNumber: 1 } }) },
  {
    doc: `mutation($input: DecidePromotionInput!) { approvePromotion(input: $input) { promotionRequest { id } } }`, rule: EDIT,
    vars: async () => ({ input: { id: await pendingRequest() } }),
  },
  {
    doc: `mutation($input: DecidePromotionInput!) { rejectPromotion(input: $input) { promotionRequest { id } } }`, rule: EDIT,
    vars: async () => ({ input: { id: await pendingRequest() } }),
  },
  {
    doc: `mutation($input: RecordColumnProfileInput!) { recordColumnProfile(input: $input) { accepted } }`, rule: EDIT,
    vars: () => ({ input: { modelVersionId: fx.v1, from: H(0), to: H(1), columns: [AGE] } }),
  },
  { doc: M.record, rule: EDIT, vars: () => ({ input: { projectSlug: fx.a.slug, points: [{ name: 'matrix', value: 1 }] } }) },
  {
    doc: `mutation($input: RecordMetricColumnsInput!) { recordMetricColumns(input: $input) { accepted } }`, rule: EDIT,
    vars: () => ({ input: { projectSlug: fx.a.slug, series: [{ name: 'matrix', timestamps: [new Date().toISOString()], values: [1] }] } }),
  },
  {
    doc: `mutation($input: RecordUsageInput!) { recordUsage(input: $input) { accepted } }`, rule: EDIT,
    vars: () => ({ input: { projectSlug: fx.a.slug, records: [{ requestId: unique('req'), modelVersionId: fx.v1, inputTokens: 1, outputTokens: 1, latencyMs: 1 }] } }),
  },
  {
    // Each caller's price starts at a moment of its own: a second price from the same moment is a CONFLICT.
    doc: `mutation($input: SetModelVersionPricingInput!) { setModelVersionPricing(input: $input) { price { kind } } }`, rule: EDIT,
    vars: () => ({ input: { modelVersionId: fx.v1, validFrom: new Date(Date.UTC(2020, 0, 1) + ++pricedAt * 1000).toISOString(), selfHosted: { gpuHourCostUsd: 1, tokensPerSecond: 10 } } }),
  },
  { doc: M.createMonitor, rule: EDIT, vars: () => ({ input: monitorInput(fx.a.slug, 'quiet', 1e12) }) },
  { doc: `mutation($input: UpdateMonitorInput!) { updateMonitor(input: $input) { monitor { id } } }`, rule: EDIT, vars: () => ({ input: { id: fx.quietMonitor, paused: false } }) },
  { doc: `mutation($id: ID!) { setMetricRetention(projectId: $id, days: null) { id } }`, rule: ADMIN, vars: () => ({ id: fx.a.id }) },
  { doc: M.createPrompt, rule: EDIT, vars: () => ({ input: { projectSlug: fx.a.slug, name: unique('prompt') } }) },
  {
    doc: M.createPromptVersion, rule: EDIT,
    vars: () => ({ input: { promptId: fx.prompt, template: '{{a}} and {{b}}', variables: ['a', 'b'], modelVersionId: fx.v1 } }),
  },
  { doc: M.setPromptAlias, rule: EDIT, vars: () => ({ input: { promptId: fx.prompt, alias: 'staging', versionNumber: 1 } }) },
  {
    doc: `mutation($input: RemovePromptAliasInput!) { removePromptAlias(input: $input) { prompt { id } } }`, rule: EDIT,
    vars: async () => {
      const alias = unique('rm');
      await t.ok(M.setPromptAlias, { input: { promptId: fx.prompt, alias, versionNumber: 1 } });
      return { input: { promptId: fx.prompt, alias } };
    },
  },
  { doc: M.createDeployment, rule: EDIT, vars: () => ({ input: { projectSlug: fx.a.slug, name: unique('dep'), environment: 'staging' } }) },
  {
    // A deployment of its own per cell: each allowed call moves it from revision 0 to 1.
    doc: `mutation($input: SetDeploymentRoutesInput!) { setDeploymentRoutes(input: $input) { deployment { revision } } }`, rule: EDIT,
    vars: async () => {
      const id = (await t.ok(M.createDeployment, { input: { projectSlug: fx.a.slug, name: unique('dep'), environment: 'staging' } })).createDeployment.deployment.id;
      return { input: { deploymentId: id, expectedRevision: 0, routes: [{ name: 'main', weight: 100, modelId: fx.model.id, alias: 'production' }, { name: 'pinned', weight: 0, modelVersionId: fx.v1 }] } };
    },
  },
  // ------------------------------------------------------------------ Subscription
  { doc: `subscription($s: String!) { registryEvents(projectSlug: $s) { cursor } }`, rule: VIEW, vars: () => ({ s: fx.a.slug }) },
  { doc: `subscription($s: String!) { alerts(projectSlug: $s) { id } }`, rule: VIEW, vars: () => ({ s: fx.a.slug }) },
  { doc: `subscription($s: String!) { metricPoints(projectSlug: $s, filter: {}) { cursor } }`, rule: VIEW, vars: () => ({ s: fx.a.slug }) },
];

const rowName = (c: Case) => `${fieldOf(c.doc)}${c.label ? ` (${c.label})` : ''}`;
const isSubscription = (c: Case) => fieldOf(c.doc).startsWith('Subscription.');

beforeAll(async () => {
  schema = await getSchema();
  t = await startTestServer();
  fx = await makeFixture();
  const scopes: Record<Scope, string | null> = { A: fx.a.slug, B: fx.b.slug, global: null };
  for (const c of CALLERS) if (c.role) keys.set(c.label, (await makeKey(c.role, scopes[c.scope!])).secret);
  keys.set('no key', null);
  const revoked = await makeKey('ADMIN', null);
  await t.ok(M.revokeKey, { input: { id: revoked.id } });
  keys.set('revoked key', revoked.secret);
});
afterAll(async () => { await t.stop(); });

/** What a query or mutation answers a caller: its first error's code, NULL for an empty answer, else ALLOW. */
async function httpOutcome(c: Case, key: string | null): Promise<Outcome> {
  const res = await t.gql(c.doc, await c.vars?.(), key);
  if (res.errors?.length) return res.errors[0].extensions.code;
  return allNull(res.data) ? 'NULL' : 'ALLOW';
}

/** Resolves once `ok()` holds, checking again as the server makes progress; fails after a bound so a lost event cannot hang. */
async function until(what: string, ok: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

type Ending = 'complete' | { errors: GqlResponse['errors'] } | { close: number };

/** A subscription's results as they come, and how it ended (a list of errors, a close code, or complete). */
function follow(client: WsClient, query: string, variables: Vars) {
  const s = { results: [] as GqlResponse[], ended: null as Ending | null };
  const stop = client.subscribe({ query, variables }, {
    next: (r) => { s.results.push({ status: 0, data: r.data, errors: r.errors as GqlResponse['errors'] }); },
    error: (e) => { s.ended = Array.isArray(e) ? { errors: e as GqlResponse['errors'] } : { close: (e as { code?: number }).code ?? 0 }; },
    complete: () => { s.ended ??= 'complete'; },
  });
  return Object.assign(s, { stop });
}

const live = (channel: typeof EVENTS_CHANNEL | typeof POINTS_CHANNEL, projectId: string) => t.server.events.liveStreams(channel, projectId);
const channelOf = (c: Case) => (fieldOf(c.doc) === 'Subscription.metricPoints' ? POINTS_CHANNEL : EVENTS_CHANNEL);
const projectKey = (id: string) => Buffer.from(id, 'base64url').toString().split(':')[1];

/**
 * What a subscription answers a caller: the code it is refused with, or ALLOW once its stream is
 * live on project A's channel. A socket closed with 4403 (a key the server no longer knows) is
 * UNAUTHENTICATED. One cell at a time, each ended before the next, so the live count is its own.
 */
async function subscriptionOutcome(c: Case, key: string | null): Promise<Outcome> {
  const pid = projectKey(fx.a.id);
  const channel = channelOf(c);
  const before = live(channel, pid);
  const client = t.ws(key);
  const sub = follow(client, c.doc, await c.vars!());
  try {
    await until(`${rowName(c)} is refused or live`, () => sub.ended !== null || sub.results.length > 0 || live(channel, pid) > before);
    const ended = sub.ended as Ending | null;
    if (ended !== null && ended !== 'complete') {
      if ('errors' in ended) return ended.errors?.[0]?.extensions.code ?? 'error';
      return ended.close === 4403 ? 'UNAUTHENTICATED' : `closed ${ended.close}`;
    }
    const [first] = sub.results;
    if (first?.errors?.length) return first.errors[0].extensions.code;
    return ended === 'complete' ? 'complete' : 'ALLOW';
  } finally {
    sub.stop();
    await client.dispose();
    await until(`${rowName(c)} has stopped`, () => live(channel, pid) <= before);
  }
}

describe('the table covers the schema', () => {
  test('every Query, Mutation and Subscription field has a row, and every row names a root field', () => {
    const fields = (['Query', 'Mutation', 'Subscription'] as const).flatMap((op) =>
      Object.keys((schema.getType(op) as GraphQLObjectType).getFields()).map((name) => `${op}.${name}`));
    const rows = new Set(CASES.map((c) => fieldOf(c.doc)));
    expect(fields.filter((f) => !rows.has(f))).toEqual([]);
    expect([...rows].filter((r) => !fields.includes(r))).toEqual([]);
  });

  test('every Node type has a node(id) row', () => {
    const types = schema.getPossibleTypes(schema.getType('Node') as GraphQLInterfaceType).map((x) => x.name).sort();
    expect(Object.keys(NODE_ROWS).sort()).toEqual(types);
  });

  test('the fixture holds an object of the type each node(id) row names', async () => {
    const rows = Object.entries(NODE_ROWS);
    const res = await t.ok(`query($ids: [ID!]!) { nodes(ids: $ids) { __typename } }`, { ids: rows.map(([, r]) => r.id()) });
    expect(res.nodes.map((n: { __typename: string }) => n.__typename)).toEqual(rows.map(([type]) => type));
  });
});

describe(`access matrix: ${CASES.length} operations × ${CALLERS.length} callers = ${CASES.length * CALLERS.length} cells`, () => {
  const queriesAndMutations = CASES.filter((c) => !isSubscription(c));
  test.each(queriesAndMutations.map((c) => [rowName(c), c] as const))('%s', async (_name, c) => {
    // The callers of one row run together: every cell has its own target or an idempotent one.
    const got = await Promise.all(CALLERS.map(async (caller) => [caller.label, await httpOutcome(c, keys.get(caller.label) ?? null)] as const));
    expect(Object.fromEntries(got)).toEqual(Object.fromEntries(CALLERS.map((caller) => [caller.label, expected(c.rule, caller)])));
  });

  test.each(CASES.filter(isSubscription).map((c) => [rowName(c), c] as const))('%s', async (_name, c) => {
    const got: [string, Outcome][] = [];
    for (const caller of CALLERS) got.push([caller.label, await subscriptionOutcome(c, keys.get(caller.label) ?? null)]);
    expect(Object.fromEntries(got)).toEqual(Object.fromEntries(CALLERS.map((caller) => [caller.label, expected(c.rule, caller)])));
  });
});

const EVENTS = `subscription($s: String!) { registryEvents(projectSlug: $s) { type subject { __typename id } } }`;
const ALERTS = `subscription($s: String!) { alerts(projectSlug: $s) { id status } }`;
const POINTS = `subscription($s: String!, $names: [String!]) { metricPoints(projectSlug: $s, filter: { names: $names }) { series { id } points { value } } }`;

type Followed = ReturnType<typeof follow>;
const dataOf = (s: Followed, field: string) => s.results.map((r) => {
  if (r.errors?.length) throw new Error(`${field}: ${JSON.stringify(r.errors)}`);
  return r.data[field];
});

describe('subscriptions across projects and revocations', () => {
  test('a key of project A never receives project B\'s events: registryEvents, alerts, metricPoints', async () => {
    for (const slug of [fx.a.slug, fx.b.slug]) await t.ok(M.createMonitor, { input: monitorInput(slug, 'iso', 100) });
    const [pa, pb] = [projectKey(fx.a.id), projectKey(fx.b.id)];
    const base = [live(EVENTS_CHANNEL, pa), live(POINTS_CHANNEL, pa), live(EVENTS_CHANNEL, pb), live(POINTS_CHANNEL, pb)];
    const viewerOfA = keys.get('VIEWER@A')!;
    const [ofA, ofB] = [t.ws(viewerOfA), t.ws()];
    const streams = (client: WsClient, s: string) => ({
      events: follow(client, EVENTS, { s }), alerts: follow(client, ALERTS, { s }), points: follow(client, POINTS, { s, names: ['iso'] }),
    });
    // The global admin follows B: what it receives shows B's events went out.
    const [a, b] = [streams(ofA, fx.a.slug), streams(ofB, fx.b.slug)];
    await until('all six streams are live', () => live(EVENTS_CHANNEL, pa) === base[0] + 2 && live(POINTS_CHANNEL, pa) === base[1] + 1
      && live(EVENTS_CHANNEL, pb) === base[2] + 2 && live(POINTS_CHANNEL, pb) === base[3] + 1);

    // B's changes first, until B's own followers have them all; then A's, its new model last.
    const modelOfB = await createModel(t, fx.b.slug);
    await t.ok(M.record, { input: { projectSlug: fx.b.slug, points: [{ name: 'iso', value: 500 }] } });
    await until('B\'s follower has B\'s model, alert and points', () => b.events.results.length >= 2 && b.alerts.results.length >= 1 && b.points.results.length >= 1);
    await t.ok(M.record, { input: { projectSlug: fx.a.slug, points: [{ name: 'iso', value: 500 }] } });
    const modelOfA = await createModel(t, fx.a.slug);
    await until('A\'s follower has A\'s alert, points and model', () => a.events.results.length >= 2 && a.alerts.results.length >= 1 && a.points.results.length >= 1);

    const gotB = {
      events: dataOf(b.events, 'registryEvents'), alerts: dataOf(b.alerts, 'alerts'), points: dataOf(b.points, 'metricPoints'),
    };
    const gotA = {
      events: dataOf(a.events, 'registryEvents'), alerts: dataOf(a.alerts, 'alerts'), points: dataOf(a.points, 'metricPoints'),
    };
    expect(gotB.events.map((e) => [e.type, e.subject.__typename])).toEqual([['MODEL_CREATED', 'Model'], ['ALERT_OPENED', 'Alert']]);
    expect(gotB.events[0].subject.id).toBe(modelOfB.id);
    // A's key got A's two events, alert and points, nothing more.
    expect(gotA.events.map((e) => [e.type, e.subject.__typename])).toEqual([['ALERT_OPENED', 'Alert'], ['MODEL_CREATED', 'Model']]);
    expect(gotA.events[1].subject.id).toBe(modelOfA.id);
    expect(gotA.alerts).toHaveLength(1);
    expect(gotA.points).toHaveLength(1);
    const receivedByA = [...gotA.events.map((e) => e.subject.id), ...gotA.alerts.map((x) => x.id), ...gotA.points.map((p) => p.series.id)];
    const ofProjectB = [...gotB.events.map((e) => e.subject.id), ...gotB.alerts.map((x) => x.id), ...gotB.points.map((p) => p.series.id)];
    expect(receivedByA.filter((id) => ofProjectB.includes(id))).toEqual([]);
    // And every object it was told of is one its key can read: one of project A.
    const readable = await t.ok(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: receivedByA }, viewerOfA);
    expect(readable.nodes).toEqual(receivedByA.map((id) => ({ id })));

    for (const s of [...Object.values(a), ...Object.values(b)]) s.stop();
    await Promise.all([ofA.dispose(), ofB.dispose()]);
    await until('the streams have stopped', () => live(EVENTS_CHANNEL, pa) === base[0] && live(POINTS_CHANNEL, pa) === base[1]
      && live(EVENTS_CHANNEL, pb) === base[2] && live(POINTS_CHANNEL, pb) === base[3]);
  });

  test('a key revoked while its socket is open gets UNAUTHENTICATED on every stream, then nothing: the streams end', async () => {
    await t.ok(M.createMonitor, { input: monitorInput(fx.a.slug, 'rev', 100) });
    const pa = projectKey(fx.a.id);
    const base = [live(EVENTS_CHANNEL, pa), live(POINTS_CHANNEL, pa)];
    const key = await makeKey('VIEWER', fx.a.slug);
    const client = t.ws(key.secret);
    const subs = {
      events: follow(client, EVENTS, { s: fx.a.slug }), alerts: follow(client, ALERTS, { s: fx.a.slug }),
      points: follow(client, POINTS, { s: fx.a.slug, names: ['rev'] }),
    };
    await until('the three streams are live', () => live(EVENTS_CHANNEL, pa) === base[0] + 2 && live(POINTS_CHANNEL, pa) === base[1] + 1);

    // While the key is valid, each stream receives.
    await t.ok(M.record, { input: { projectSlug: fx.a.slug, points: [{ name: 'rev', value: 500 }] } });
    await until('each stream received', () => Object.values(subs).every((s) => s.results.length >= 1));
    const received = Object.values(subs).map((s) => s.results.length);
    expect(received).toEqual([1, 1, 1]);

    await t.ok(M.revokeKey, { input: { id: key.id } });
    // Changes after the revocation, of the kinds each stream follows: an alert resolving, points, a model.
    await t.ok(M.record, { input: { projectSlug: fx.a.slug, points: [{ name: 'rev', value: 1 }] } });
    await createModel(t, fx.a.slug);
    await until('every stream has ended', () => Object.values(subs).every((s) => s.ended !== null));
    const after = Object.fromEntries(Object.entries(subs).map(([name, s]) => [name, {
      results: s.results.slice(1).map((r) => ({ code: r.errors?.[0]?.extensions.code, data: r.data ?? null })),
      ended: s.ended,
    }]));
    const revoked = { results: [{ code: 'UNAUTHENTICATED', data: null }], ended: 'complete' };
    expect(after).toEqual({ events: revoked, alerts: revoked, points: revoked });
    await until('the server released the streams', () => live(EVENTS_CHANNEL, pa) === base[0] && live(POINTS_CHANNEL, pa) === base[1]);
    await client.dispose();
  });
});

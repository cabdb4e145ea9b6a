import { TestServer, createKey, createModel, createProject, createVersion, startTestServer } from './support/harness';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const POLICY = `mutation($input: SetAliasPolicyInput!) { setAliasPolicy(input: $input) {
  model { aliasPolicies { alias requiredApprovals gates { metric slice gte lte datasetVersion { id } } } } } }`;
const REQUEST = `mutation($input: RequestPromotionInput!) { requestPromotion(input: $input) { promotionRequest {
  id status alias requestedBy reason approvals decidedAt version { number } model { id }
  gateResults { value passed gate { metric gte lte } } } } }`;
const APPROVE = `mutation($id: ID!) { approvePromotion(input: { id: $id, comment: "lgtm" }) { promotionRequest { status approvals decidedAt } } }`;
const REJECT = `mutation($id: ID!) { rejectPromotion(input: { id: $id }) { promotionRequest { status } } }`;
const SET = `mutation($input: SetModelAliasInput!) { setModelAlias(input: $input) { alias { version { number } } } }`;
const PRODUCTION = `query($id: ID!) { node(id: $id) { ... on Model { alias(name: "production") { number } } } }`;

/** A completed evaluation of a version with the given overall metrics. */
async function evaluate(versionId: string, metrics: Record<string, number>, datasetVersionId?: string) {
  const created = await t.ok(
    `mutation($input: CreateEvaluationInput!) { createEvaluation(input: $input) { evaluation { id } } }`,
    { input: { modelVersionId: versionId, datasetVersionId, name: 'offline', metrics: Object.entries(metrics).map(([name, value]) => ({ name, value })) } },
  );
  const id = created.createEvaluation.evaluation.id;
  await t.ok(`mutation($id: ID!) { completeEvaluation(input: { evaluationId: $id, status: COMPLETED }) { evaluation { status } } }`, { id });
}

async function setup() {
  const { slug } = await createProject(t);
  const model = await createModel(t, slug);
  const v1 = await createVersion(t, model.id);
  const v2 = await createVersion(t, model.id);
  const editors = [await createKey(t, 'EDITOR', slug), await createKey(t, 'EDITOR', slug), await createKey(t, 'EDITOR', slug)];
  return { slug, model, v1, v2, editors };
}

test('a policy with gates and approvals: request, approvals by others, the last approval applies', async () => {
  const { model, v1, v2, editors: [requester, approverA, approverB] } = await setup();
  await evaluate(v2.id, { accuracy: 0.93 });
  const policy = await t.ok(POLICY, { input: { modelId: model.id, alias: 'production', requiredApprovals: 2, gates: [{ metric: 'accuracy', gte: 0.9 }] } });
  expect(policy.setAliasPolicy.model.aliasPolicies).toEqual([
    { alias: 'production', requiredApprovals: 2, gates: [{ metric: 'accuracy', slice: null, gte: 0.9, lte: null, datasetVersion: null }] },
  ]);
  // Direct moves of a protected alias are refused.
  expect((await t.gql(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 2 } }, requester)).errors?.[0].extensions.code).toBe('FORBIDDEN');

  const req = (await t.ok(REQUEST, { input: { modelId: model.id, alias: 'production', versionNumber: 2, reason: 'better' } }, requester)).requestPromotion.promotionRequest;
  expect(req).toMatchObject({ status: 'PENDING', alias: 'production', reason: 'better', approvals: [], decidedAt: null, version: { number: 2 } });
  expect(req.gateResults).toEqual([{ value: 0.93, passed: true, gate: { metric: 'accuracy', gte: 0.9, lte: null } }]);
  // The requester cannot approve; an approver cannot approve twice.
  expect((await t.gql(APPROVE, { id: req.id }, requester)).errors?.[0].extensions.code).toBe('FORBIDDEN');
  expect((await t.ok(APPROVE, { id: req.id }, approverA)).approvePromotion.promotionRequest).toMatchObject({ status: 'PENDING' });
  expect((await t.gql(APPROVE, { id: req.id }, approverA)).errors?.[0].extensions.code).toBe('CONFLICT');
  expect((await t.ok(PRODUCTION, { id: model.id })).node.alias).toBeNull();
  const done = (await t.ok(APPROVE, { id: req.id }, approverB)).approvePromotion.promotionRequest;
  expect(done.status).toBe('APPLIED');
  expect(done.approvals).toHaveLength(2);
  expect(done.decidedAt).not.toBeNull();
  expect((await t.ok(PRODUCTION, { id: model.id })).node.alias).toEqual({ number: 2 });
  // Decided requests take no more decisions.
  expect((await t.gql(REJECT, { id: req.id }, approverA)).errors?.[0].extensions.code).toBe('CONFLICT');
  void v1;
});

test('a failing gate rejects the request at once and direct moves are CONFLICT', async () => {
  const { model, v1, editors: [requester] } = await setup();
  await evaluate(v1.id, { accuracy: 0.5, latency_ms: 120 });
  await t.ok(POLICY, { input: { modelId: model.id, alias: 'production', requiredApprovals: 0, gates: [{ metric: 'accuracy', gte: 0.9 }, { metric: 'latency_ms', lte: 200 }] } });
  const direct = await t.gql(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 1 } }, requester);
  expect(direct.errors?.[0].extensions.code).toBe('CONFLICT');
  const req = (await t.ok(REQUEST, { input: { modelId: model.id, alias: 'production', versionNumber: 1 } }, requester)).requestPromotion.promotionRequest;
  expect(req.status).toBe('REJECTED');
  expect(req.gateResults.map((g: any) => g.passed)).toEqual([false, true]);
  // A version with no evaluation fails every gate.
  const v3 = await createVersion(t, model.id);
  const none = (await t.ok(REQUEST, { input: { modelId: model.id, alias: 'production', versionNumber: v3.number } }, requester)).requestPromotion.promotionRequest;
  expect(none.gateResults.map((g: any) => [g.value, g.passed])).toEqual([[null, false], [null, false]]);
  // Gates without approvals: a passing version moves directly, and through a request at once.
  await evaluate(v3.id, { accuracy: 0.95, latency_ms: 150 });
  expect((await t.ok(SET, { input: { modelId: model.id, alias: 'production', versionNumber: v3.number } }, requester)).setModelAlias.alias.version.number).toBe(v3.number);
  const applied = (await t.ok(REQUEST, { input: { modelId: model.id, alias: 'canary', versionNumber: v3.number } }, requester)).requestPromotion.promotionRequest;
  expect(applied.status).toBe('APPLIED');
});

test('reject, cancel by the requester, and a newer request replacing a pending one', async () => {
  const { model, editors: [requester, approver] } = await setup();
  await t.ok(POLICY, { input: { modelId: model.id, alias: 'production', requiredApprovals: 1, gates: [] } });
  const first = (await t.ok(REQUEST, { input: { modelId: model.id, alias: 'production', versionNumber: 1 } }, requester)).requestPromotion.promotionRequest;
  const second = (await t.ok(REQUEST, { input: { modelId: model.id, alias: 'production', versionNumber: 2 } }, requester)).requestPromotion.promotionRequest;
  const list = await t.ok(`query($id: ID!) { node(id: $id) { ... on Model { promotionRequests { nodes { id status } } pending: promotionRequests(status: PENDING) { nodes { id } } } } }`, { id: model.id });
  expect(list.node.promotionRequests.nodes).toEqual([{ id: second.id, status: 'PENDING' }, { id: first.id, status: 'CANCELLED' }]);
  expect(list.node.pending.nodes).toEqual([{ id: second.id }]);
  expect((await t.ok(REJECT, { id: second.id }, approver)).rejectPromotion.promotionRequest.status).toBe('REJECTED');
  const third = (await t.ok(REQUEST, { input: { modelId: model.id, alias: 'production', versionNumber: 2 } }, requester)).requestPromotion.promotionRequest;
  expect((await t.ok(REJECT, { id: third.id }, requester)).rejectPromotion.promotionRequest.status).toBe('CANCELLED');
  const node = await t.ok(`query($id: ID!) { node(id: $id) { __typename ... on PromotionRequest { status } } }`, { id: third.id });
  expect(node.node).toEqual({ __typename: 'PromotionRequest', status: 'CANCELLED' });
  // Removing the policy (no gates, no approvals) frees the alias.
  await t.ok(POLICY, { input: { modelId: model.id, alias: 'production', requiredApprovals: 0, gates: [] } });
  expect((await t.ok(`query($id: ID!) { node(id: $id) { ... on Model { aliasPolicies { alias } } } }`, { id: model.id })).node.aliasPolicies).toEqual([]);
  expect((await t.ok(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 1 } })).setModelAlias.alias.version.number).toBe(1);
});

test('policies need ADMIN and valid gates; requests need EDITOR', async () => {
  const { slug, model } = await setup();
  const editor = await createKey(t, 'EDITOR', slug);
  const viewer = await createKey(t, 'VIEWER', slug);
  expect((await t.gql(POLICY, { input: { modelId: model.id, alias: 'production', requiredApprovals: 1, gates: [] } }, editor)).errors?.[0].extensions.code).toBe('FORBIDDEN');
  expect((await t.gql(REQUEST, { input: { modelId: model.id, alias: 'production', versionNumber: 1 } }, viewer)).errors?.[0].extensions.code).toBe('FORBIDDEN');
  const bad: [object, string][] = [
    [{ requiredApprovals: 0, gates: [{ metric: 'acc' }] }, 'gates.0'],
    [{ requiredApprovals: 0, gates: [{ metric: 'acc', gte: 0.9, lte: 0.1 }] }, 'gates.0.gte'],
    [{ requiredApprovals: 11, gates: [] }, ''],
  ];
  for (const [input, field] of bad) {
    const res = await t.gql(POLICY, { input: { modelId: model.id, alias: 'production', ...input } });
    expect(res.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    if (field) expect(res.errors?.[0].extensions.field).toBe(field);
  }
  const pending = await createVersion(t, model.id, { status: 'PENDING' });
  expect((await t.gql(REQUEST, { input: { modelId: model.id, alias: 'production', versionNumber: pending.number } })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  expect((await t.gql(REQUEST, { input: { modelId: model.id, alias: 'production', versionNumber: 99 } })).errors?.[0].extensions.code).toBe('NOT_FOUND');
});

test('a protected alias is removed only with the authority that could move it: approvals need an ADMIN, gates alone do not', async () => {
  const { slug, model, editors: [editor] } = await setup();
  const REMOVE = `mutation($input: RemoveModelAliasInput!) { removeModelAlias(input: $input) { model { aliases { name } } } }`;
  const STATE = `query($id: ID!) { node(id: $id) { ... on Model { aliases { name revision version { number } } aliasHistory { nodes { id } } } } }`;
  await t.ok(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 1 } });
  await t.ok(SET, { input: { modelId: model.id, alias: 'canary', versionNumber: 2 } });
  await t.ok(POLICY, { input: { modelId: model.id, alias: 'production', requiredApprovals: 1, gates: [] } });
  await t.ok(POLICY, { input: { modelId: model.id, alias: 'canary', requiredApprovals: 0, gates: [{ metric: 'accuracy', gte: 0.9 }] } });
  const before = await t.ok(STATE, { id: model.id });

  // An EDITOR cannot move "production" directly, so cannot remove it either; nothing changes.
  const refused = await t.gql(REMOVE, { input: { modelId: model.id, alias: 'production', reason: 'cleanup' } }, editor);
  expect(refused.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', alias: 'production', requiredApprovals: 1 });
  expect(await t.ok(STATE, { id: model.id })).toEqual(before);
  const audit = await t.ok(`query($slug: String!) { project(slug: $slug) { auditEvents(filter: { action: "alias.remove" }) { nodes { id } } } }`, { slug });
  expect(audit.project.auditEvents.nodes).toEqual([]);

  // An ADMIN of the project may (it could as well lift the policy first).
  const admin = await createKey(t, 'ADMIN', slug);
  expect((await t.ok(REMOVE, { input: { modelId: model.id, alias: 'production' } }, admin)).removeModelAlias.model.aliases).toEqual([{ name: 'canary' }]);
  // Gates only guard what an alias points to: an EDITOR may remove it.
  expect((await t.ok(REMOVE, { input: { modelId: model.id, alias: 'canary' } }, editor)).removeModelAlias.model.aliases).toEqual([]);
});

import { registryEventCursor } from '../src/modules/live/event-streams';
import { GqlResponse, TestServer, createKey, createModel, createProject, createVersion, startTestServer, unique } from './support/harness';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const CREATE = `mutation($input: CreateDeploymentInput!) {
  createDeployment(input: $input) { deployment { id name environment endpoint description revision createdBy project { slug } } } }`;
const SET = `mutation($input: SetDeploymentRoutesInput!) {
  setDeploymentRoutes(input: $input) { deployment { id revision } revision { revision actor reason validFrom validTo } } }`;
const ROUTES = `query($id: ID!, $at: DateTime) { node(id: $id) { ... on Deployment { revision
  routes(asOf: $at) { name weight alias model { id } modelVersion { id number } promptVersion { id } } } } }`;
const SET_ALIAS = `mutation($input: SetModelAliasInput!) { setModelAlias(input: $input) { alias { revision } } }`;
const POLICY = `mutation($input: SetAliasPolicyInput!) { setAliasPolicy(input: $input) { model { id } } }`;

const codeOf = (r: GqlResponse) => r.errors?.[0]?.extensions.code;

async function newDeployment(slug?: string, extra: Record<string, unknown> = {}) {
  const project = slug ? { slug } : await createProject(t, 'deploy');
  const input = { projectSlug: project.slug, name: unique('d'), environment: 'production', ...extra };
  const deployment = (await t.ok(CREATE, { input })).createDeployment.deployment as { id: string; name: string };
  return { slug: project.slug, deployment };
}

/** A project with a deployment, a model with versions v1..v3 and its "production" alias on v1. */
async function setup() {
  const { slug, deployment } = await newDeployment();
  const model = await createModel(t, slug);
  const [v1, v2, v3] = [await createVersion(t, model.id), await createVersion(t, model.id), await createVersion(t, model.id)];
  await t.ok(SET_ALIAS, { input: { modelId: model.id, alias: 'production', versionNumber: 1 } });
  return { slug, deployment, model, v1, v2, v3 };
}

const setRoutes = (deploymentId: string, expectedRevision: number, routes: Record<string, unknown>[], extra: Record<string, unknown> = {}, key?: string) =>
  t.gql(SET, { input: { deploymentId, expectedRevision, routes, ...extra } }, key);

const routesAt = async (id: string, at?: string) => (await t.ok(ROUTES, { id, at: at ?? null })).node;

/** A completed evaluation of a version with one overall metric. */
async function evaluate(versionId: string, accuracy: number) {
  const created = await t.ok(`mutation($input: CreateEvaluationInput!) { createEvaluation(input: $input) { evaluation { id } } }`,
    { input: { modelVersionId: versionId, name: unique('eval'), metrics: [{ name: 'accuracy', value: accuracy }] } });
  await t.ok(`mutation($id: ID!) { completeEvaluation(input: { evaluationId: $id, status: COMPLETED }) { evaluation { id } } }`,
    { id: created.createEvaluation.evaluation.id });
}

test('createDeployment: unique name per project (CONFLICT), environment checked; read by name, by environment and by id', async () => {
  const { slug, deployment } = await newDeployment(undefined, { endpoint: 'https://serve.example.com/chat', description: 'chat bot' });
  expect(deployment).toMatchObject({ environment: 'production', endpoint: 'https://serve.example.com/chat', description: 'chat bot', revision: 0, project: { slug } });
  const again = await t.gql(CREATE, { input: { projectSlug: slug, name: deployment.name, environment: 'staging' } });
  expect(again.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'name' });
  const badEnv = await t.gql(CREATE, { input: { projectSlug: slug, name: unique('d'), environment: 'Prod Env' } });
  expect(codeOf(badEnv)).toBe('BAD_USER_INPUT');
  expect(JSON.stringify(badEnv.errors?.[0].extensions)).toContain('environment');
  // The same name in another project is another deployment.
  const other = await createProject(t, 'deploy');
  await t.ok(CREATE, { input: { projectSlug: other.slug, name: deployment.name, environment: 'production' } });

  const staging = await Promise.all(['b-stage', 'a-stage', 'c-stage'].map((name) => t.ok(CREATE, { input: { projectSlug: slug, name, environment: 'staging' } })));
  expect(staging).toHaveLength(3);
  const LIST = `query($s: String!, $env: String, $after: String, $n: String!) { project(slug: $s) {
    deployment(name: $n) { id name }
    deployments(environment: $env, first: 2, after: $after) { nodes { name environment } pageInfo { hasNextPage endCursor } } } }`;
  const page1 = (await t.ok(LIST, { s: slug, env: 'staging', after: null, n: deployment.name })).project;
  expect(page1.deployment).toEqual({ id: deployment.id, name: deployment.name });
  expect(page1.deployments.nodes).toEqual([{ name: 'a-stage', environment: 'staging' }, { name: 'b-stage', environment: 'staging' }]);
  expect(page1.deployments.pageInfo.hasNextPage).toBe(true);
  const page2 = (await t.ok(LIST, { s: slug, env: 'staging', after: page1.deployments.pageInfo.endCursor, n: 'none' })).project;
  expect(page2.deployment).toBeNull();
  expect(page2.deployments.nodes).toEqual([{ name: 'c-stage', environment: 'staging' }]);
  expect(page2.deployments.pageInfo.hasNextPage).toBe(false);
  const all = (await t.ok(`query($s: String!) { project(slug: $s) { deployments { nodes { name } } } }`, { s: slug })).project.deployments.nodes;
  expect(all.map((d: { name: string }) => d.name)).toEqual(['a-stage', 'b-stage', 'c-stage', deployment.name].sort());
  expect((await routesAt(deployment.id))).toEqual({ revision: 0, routes: [] });
});

test('weights must sum to exactly 100: any other sum is BAD_USER_INPUT naming routes, and nothing is stored', async () => {
  const { deployment, model, v1, v2 } = await setup();
  for (const weights of [[50, 40], [60, 50], [0], [100, 1]]) {
    const res = await setRoutes(deployment.id, 0, weights.map((weight, i) => ({ name: `r${i}`, weight, modelVersionId: i ? v2.id : v1.id })));
    expect([weights, res.errors?.[0].extensions]).toEqual([weights, expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'routes' })]);
    expect(res.errors?.[0].message).toContain(`sum to ${weights.reduce((a, b) => a + b, 0)}`);
  }
  const empty = await setRoutes(deployment.id, 0, []);
  expect(empty.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'routes' });
  // Out of 0..100 is refused by validation, before the sum.
  expect(codeOf(await setRoutes(deployment.id, 0, [{ name: 'a', weight: 101, modelVersionId: v1.id }, { name: 'b', weight: -1, modelVersionId: v2.id }]))).toBe('BAD_USER_INPUT');
  expect(await routesAt(deployment.id)).toEqual({ revision: 0, routes: [] });
  const ok = await setRoutes(deployment.id, 0, [
    { name: 'control', weight: 70, modelId: model.id, alias: 'production' }, { name: 'candidate', weight: 30, modelVersionId: v2.id }, { name: 'dark', weight: 0, modelVersionId: v1.id },
  ]);
  expect(ok.errors).toBeUndefined();
  expect((await routesAt(deployment.id)).routes.map((r: { name: string; weight: number }) => [r.name, r.weight])).toEqual([['control', 70], ['candidate', 30], ['dark', 0]]);
});

test('bad routes are refused with a code and the field, and nothing is stored', async () => {
  const { slug, deployment, model, v1, v2 } = await setup();
  const pending = await createVersion(t, model.id, { status: 'PENDING' });
  const bad = async (routes: Record<string, unknown>[]) => (await setRoutes(deployment.id, 0, routes)).errors?.[0].extensions;
  expect(await bad([{ name: 'a', weight: 50, modelVersionId: v1.id }, { name: 'a', weight: 50, modelVersionId: v2.id }]))
    .toMatchObject({ code: 'BAD_USER_INPUT', field: 'routes.1.name' });
  expect(await bad([{ name: 'a', weight: 100, modelVersionId: v1.id, modelId: model.id, alias: 'production' }]))
    .toMatchObject({ code: 'BAD_USER_INPUT', field: 'routes.0.modelVersionId' });
  expect(await bad([{ name: 'a', weight: 100, modelId: model.id }])).toMatchObject({ code: 'BAD_USER_INPUT', field: 'routes.0.alias' });
  expect(await bad([{ name: 'a', weight: 100 }])).toMatchObject({ code: 'BAD_USER_INPUT', field: 'routes.0.modelId' });
  expect(await bad([{ name: 'a', weight: 100, modelVersionId: model.id }])).toMatchObject({ code: 'BAD_USER_INPUT', field: 'routes.0.modelVersionId' });
  expect(await bad([{ name: 'a', weight: 40, modelVersionId: v1.id }, { name: 'b', weight: 60, modelId: model.id, alias: 'staging' }]))
    .toMatchObject({ code: 'NOT_FOUND', field: 'routes.1.alias' });
  expect(await bad([{ name: 'a', weight: 100, modelVersionId: pending.id }])).toMatchObject({ code: 'BAD_USER_INPUT', field: 'routes.0.modelVersionId' });
  const tooMany = Array.from({ length: 21 }, (_, i) => ({ name: `r${i}`, weight: i === 0 ? 80 : 1, modelVersionId: v1.id }));
  expect(await bad(tooMany)).toMatchObject({ code: 'BAD_USER_INPUT' });
  expect(await routesAt(deployment.id)).toEqual({ revision: 0, routes: [] });
  const audit = await t.ok(`query($s: String!) { project(slug: $s) { auditEvents(first: 50) { nodes { action } } } }`, { s: slug });
  expect(audit.project.auditEvents.nodes.filter((e: { action: string }) => e.action === 'deployment.setRoutes')).toEqual([]);
});

test('expectedRevision: a stale one is CONFLICT and changes nothing; concurrent writers from one revision: one wins; idempotencyKey replays; an equal set makes no revision', async () => {
  const { deployment, model, v1, v2 } = await setup();
  const first = await setRoutes(deployment.id, 0, [{ name: 'main', weight: 100, modelVersionId: v1.id }], { reason: 'launch', idempotencyKey: 'launch-1' });
  expect(first.data.setDeploymentRoutes).toMatchObject({ deployment: { revision: 1 }, revision: { revision: 1, reason: 'launch', validTo: null } });
  const replay = await setRoutes(deployment.id, 0, [{ name: 'main', weight: 100, modelVersionId: v2.id }], { idempotencyKey: 'launch-1' });
  expect(replay.data.setDeploymentRoutes.revision).toEqual(first.data.setDeploymentRoutes.revision);
  const stale = await setRoutes(deployment.id, 0, [{ name: 'main', weight: 100, modelVersionId: v2.id }]);
  expect(stale.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', currentRevision: 1 });
  expect((await routesAt(deployment.id)).routes.map((r: { modelVersion: { number: number } }) => r.modelVersion.number)).toEqual([1]);

  const same = await setRoutes(deployment.id, 1, [{ name: 'main', weight: 100, modelVersionId: v1.id }], { reason: 'no change' });
  expect(same.data.setDeploymentRoutes.revision).toMatchObject({ revision: 1, reason: 'launch' });

  const racers = await Promise.all([v2, v1].map((v, i) => setRoutes(deployment.id, 1, [
    { name: 'main', weight: 90, modelId: model.id, alias: 'production' }, { name: `canary${i}`, weight: 10, modelVersionId: v.id },
  ])));
  expect(racers.map(codeOf).sort()).toEqual(['CONFLICT', undefined]);
  const now = await routesAt(deployment.id);
  expect(now.revision).toBe(2);
  const winner = racers.findIndex((r) => !r.errors);
  expect(now.routes.map((r: { name: string }) => r.name)).toEqual(['main', `canary${winner}`]);
  const history = (await t.ok(`query($id: ID!) { node(id: $id) { ... on Deployment { history { nodes { revision } } } } }`, { id: deployment.id })).node.history.nodes;
  expect(history).toEqual([{ revision: 2 }, { revision: 1 }]);
});

test('every revision is kept: history newest first, and routes(asOf) answers what served at T, an alias-following route at the alias\'s position then', async () => {
  const { slug, deployment, model, v1, v3 } = await setup();
  const promptId = (await t.ok(`mutation($input: CreatePromptInput!) { createPrompt(input: $input) { prompt { id } } }`,
    { input: { projectSlug: slug, name: unique('p') } })).createPrompt.prompt.id;
  const pv = (await t.ok(`mutation($input: CreatePromptVersionInput!) { createPromptVersion(input: $input) { promptVersion { id } } }`,
    { input: { promptId, template: 'Hi {{name}}', variables: ['name'] } })).createPromptVersion.promptVersion;

  await setRoutes(deployment.id, 0, [{ name: 'main', weight: 100, modelVersionId: v1.id }], { reason: 'r1' });
  await setRoutes(deployment.id, 1, [
    { name: 'main', weight: 80, modelId: model.id, alias: 'production', promptVersionId: pv.id }, { name: 'canary', weight: 20, modelVersionId: v3.id },
  ], { reason: 'r2' });
  await t.ok(SET_ALIAS, { input: { modelId: model.id, alias: 'production', versionNumber: 2 } });
  await t.ok(SET_ALIAS, { input: { modelId: model.id, alias: 'production', versionNumber: 3 } });
  await setRoutes(deployment.id, 2, [{ name: 'main', weight: 100, modelId: model.id, alias: 'production' }], { reason: 'r3' });

  const read = (await t.ok(`query($id: ID!) { node(id: $id) { ... on Deployment {
      history(first: 10) { nodes { revision actor reason validFrom validTo deployment { id }
        routes { name weight alias modelVersion { number } promptVersion { id } } } } } } }`, { id: deployment.id })).node.history.nodes as
    { revision: number; actor: string; reason: string; validFrom: string; validTo: string | null; deployment: { id: string }; routes: { name: string; modelVersion: { number: number } }[] }[];
  expect(read.map((r) => [r.revision, r.reason])).toEqual([[3, 'r3'], [2, 'r2'], [1, 'r1']]);
  expect(read[0].validTo).toBeNull();
  expect(read[1].validTo).toBe(read[0].validFrom);
  expect(read[2].validTo).toBe(read[1].validFrom);
  expect(read.every((r) => r.deployment.id === deployment.id && r.actor.length > 0)).toBe(true);
  // A revision's routes resolve the alias as it stood when the revision took over.
  expect(read[1].routes).toEqual([
    { name: 'main', weight: 80, alias: 'production', modelVersion: { number: 1 }, promptVersion: { id: pv.id } },
    { name: 'canary', weight: 20, alias: null, modelVersion: { number: 3 }, promptVersion: null },
  ]);

  // Every moment that matters, checked against the revisions and the alias moves as the server timed them.
  const moves = (await t.ok(`query($id: ID!) { node(id: $id) { ... on Model { aliasHistory(name: "production") { nodes { at toVersion { number } } } } } }`,
    { id: model.id })).node.aliasHistory.nodes as { at: string; toVersion: { number: number } }[];
  const revisions = [...read].reverse();
  const moments = [...new Set([...revisions.map((r) => r.validFrom), ...moves.map((e) => e.at)])].sort();
  const ms = (iso: string) => Date.parse(iso);
  for (const at of [new Date(ms(moments[0]) - 1).toISOString(), ...moments, ...moments.map((x) => new Date(ms(x) + 1).toISOString())]) {
    const revision = revisions.filter((r) => ms(r.validFrom) <= ms(at)).pop() ?? null;
    const aliasThen = [...moves].reverse().filter((e) => ms(e.at) <= ms(at)).pop()?.toVersion.number ?? null;
    const expected = !revision ? [] : { 1: [['main', 1]], 2: [['main', aliasThen], ['canary', 3]], 3: [['main', aliasThen]] }[revision.revision];
    const got = await routesAt(deployment.id, at);
    expect([at, got.routes.map((r: { name: string; modelVersion: { number: number } | null }) => [r.name, r.modelVersion?.number ?? null])]).toEqual([at, expected]);
    const revisionAt = (await t.ok(`query($id: ID!, $at: DateTime!) { node(id: $id) { ... on Deployment { revisionAt(asOf: $at) { revision } } } }`,
      { id: deployment.id, at })).node.revisionAt;
    expect([at, revisionAt]).toEqual([at, revision ? { revision: revision.revision } : null]);
  }
  // The alias moves under a following route: now it serves version 3, and did serve 1 and 2 before.
  expect((await routesAt(deployment.id)).routes).toEqual([{ name: 'main', weight: 100, alias: 'production', model: { id: model.id }, modelVersion: { id: v3.id, number: 3 }, promptVersion: null }]);
});

test('a route that followed a protected alias cannot move its traffic around the policy: the alias\'s gates and approvals apply to the version it now pins', async () => {
  const { deployment, model, v1, v2, v3 } = await setup();
  await t.ok(POLICY, { input: { modelId: model.id, alias: 'production', requiredApprovals: 0, gates: [{ metric: 'accuracy', gte: 0.9 }] } });
  await setRoutes(deployment.id, 0, [{ name: 'main', weight: 100, modelId: model.id, alias: 'production' }]);
  // The alias itself may not move to v2: CONFLICT (fails the gate).
  const direct = await t.gql(SET_ALIAS, { input: { modelId: model.id, alias: 'production', versionNumber: 2 } });
  expect(codeOf(direct)).toBe('CONFLICT');
  // Nor may the route that follows it pin v2 instead: the same code, naming the route.
  const bypass = await setRoutes(deployment.id, 1, [{ name: 'main', weight: 100, modelVersionId: v2.id }]);
  expect(bypass.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'routes.0', alias: 'production' });
  expect(bypass.errors?.[0].message).toContain('"production"');
  expect((bypass.errors?.[0].extensions.gateResults as { metric: string }[])[0].metric).toBe('accuracy');
  // Nor split it off to v2 under the same name with another route following the alias.
  const split = await setRoutes(deployment.id, 1, [
    { name: 'rest', weight: 50, modelId: model.id, alias: 'production' }, { name: 'main', weight: 50, modelVersionId: v2.id },
  ]);
  expect(split.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'routes.1' });
  // Nor rename the route while pinning v2: no route follows the alias any more, so the new one is held to it.
  const renamed = await setRoutes(deployment.id, 1, [{ name: 'renamed', weight: 100, modelVersionId: v2.id }]);
  expect(renamed.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'routes.0', alias: 'production' });
  const renamedSplit = await setRoutes(deployment.id, 1, [
    { name: 'a', weight: 50, modelVersionId: v1.id }, { name: 'b', weight: 50, modelVersionId: v2.id },
  ]);
  expect(renamedSplit.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'routes.1' });
  expect((await routesAt(deployment.id)).revision).toBe(1);
  // Pinning the version the alias points to now is no bypass.
  const freeze = await setRoutes(deployment.id, 1, [{ name: 'main', weight: 100, modelVersionId: v1.id }]);
  expect(freeze.errors).toBeUndefined();
  await setRoutes(deployment.id, 2, [{ name: 'main', weight: 100, modelId: model.id, alias: 'production' }]);
  // Once v2 passes the gate, it may be pinned, as the alias may move to it.
  await evaluate(v2.id, 0.95);
  const allowed = await setRoutes(deployment.id, 3, [{ name: 'main', weight: 100, modelVersionId: v2.id }]);
  expect(allowed.errors).toBeUndefined();
  expect((await routesAt(deployment.id)).routes[0].modelVersion.number).toBe(2);
  // New routes that never followed the alias are not held to it.
  const canary = await setRoutes(deployment.id, 4, [{ name: 'main', weight: 90, modelVersionId: v2.id }, { name: 'canary', weight: 10, modelVersionId: v3.id }]);
  expect(canary.errors).toBeUndefined();

  // A policy asking for approvals: the alias moves only through requestPromotion, and a following route may not be repointed: FORBIDDEN.
  await setRoutes(deployment.id, 5, [{ name: 'main', weight: 100, modelId: model.id, alias: 'production' }]);
  await t.ok(POLICY, { input: { modelId: model.id, alias: 'production', requiredApprovals: 1, gates: [] } });
  expect(codeOf(await t.gql(SET_ALIAS, { input: { modelId: model.id, alias: 'production', versionNumber: 2 } }))).toBe('FORBIDDEN');
  const editor = await createKey(t, 'EDITOR', (await t.ok(`query($id: ID!) { node(id: $id) { ... on Deployment { project { slug } } } }`, { id: deployment.id })).node.project.slug);
  const forbidden = await setRoutes(deployment.id, 6, [{ name: 'main', weight: 100, modelVersionId: v2.id }], {}, editor);
  expect(forbidden.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'routes.0' });
  // Following another alias that points elsewhere is a move of the traffic as well.
  await t.ok(SET_ALIAS, { input: { modelId: model.id, alias: 'staging', versionNumber: 3 } });
  const viaOther = await setRoutes(deployment.id, 6, [{ name: 'main', weight: 100, modelId: model.id, alias: 'staging' }], {}, editor);
  expect(viaOther.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'routes.0' });
  expect((await routesAt(deployment.id)).revision).toBe(6);
});

test('every change is a registry event on the deployment and an audit record', async () => {
  const { slug, deployment, v1, v2 } = await setup();
  await setRoutes(deployment.id, 0, [{ name: 'main', weight: 100, modelVersionId: v1.id }], { reason: 'go' });
  await setRoutes(deployment.id, 1, [{ name: 'main', weight: 100, modelVersionId: v2.id }]);
  const client = t.ws();
  const seen: { type: string; subject: { __typename: string; id: string } }[] = [];
  await new Promise<void>((resolve, reject) => {
    const stop = client.subscribe({
      query: `subscription($s: String!, $since: String, $types: [RegistryEventType!]) {
        registryEvents(projectSlug: $s, since: $since, types: $types) { type subject { __typename id } } }`,
      variables: { s: slug, since: registryEventCursor('0'), types: ['DEPLOYMENT_CREATED', 'DEPLOYMENT_ROUTES_CHANGED'] },
    }, {
      next: (r) => {
        if (r.errors) reject(new Error(JSON.stringify(r.errors)));
        seen.push((r.data as { registryEvents: (typeof seen)[0] }).registryEvents);
        if (seen.length === 3) { stop(); resolve(); }
      },
      error: reject,
      complete: () => resolve(),
    });
  });
  await client.dispose();
  expect(seen).toEqual([
    { type: 'DEPLOYMENT_CREATED', subject: { __typename: 'Deployment', id: deployment.id } },
    { type: 'DEPLOYMENT_ROUTES_CHANGED', subject: { __typename: 'Deployment', id: deployment.id } },
    { type: 'DEPLOYMENT_ROUTES_CHANGED', subject: { __typename: 'Deployment', id: deployment.id } },
  ]);
  const audit = (await t.ok(`query($s: String!) { project(slug: $s) { auditEvents(first: 50) { nodes { action targetId details } } } }`, { s: slug }))
    .project.auditEvents.nodes.filter((e: { action: string }) => e.action.startsWith('deployment')) as { action: string; targetId: string; details: any }[];
  expect(audit.map((e) => [e.action, e.targetId])).toEqual([
    ['deployment.setRoutes', deployment.id], ['deployment.setRoutes', deployment.id], ['deployment.create', deployment.id],
  ]);
  expect(audit[0].details.before).toMatchObject({ revision: 1, routes: [{ name: 'main', modelVersionId: v1.id }] });
  expect(audit[0].details.after).toMatchObject({ revision: 2, routes: [{ name: 'main', weight: 100, modelVersionId: v2.id }] });
  expect(audit[1].details.after.reason).toBe('go');
});

test('another project\'s key is refused every new mutation and field; a VIEWER reads but does not write; routes to another project\'s rows are NOT_FOUND', async () => {
  const { slug, deployment, model, v1 } = await setup();
  await setRoutes(deployment.id, 0, [{ name: 'main', weight: 100, modelVersionId: v1.id }]);
  const other = await createProject(t, 'deploy-other');
  const outsider = await createKey(t, 'ADMIN', other.slug);
  const viewer = await createKey(t, 'VIEWER', slug);
  const editor = await createKey(t, 'EDITOR', slug);
  const writes: [string, Record<string, unknown>][] = [
    [CREATE, { input: { projectSlug: slug, name: unique('d'), environment: 'staging' } }],
    [SET, { input: { deploymentId: deployment.id, expectedRevision: 1, routes: [{ name: 'main', weight: 100, modelId: model.id, alias: 'production' }] } }],
  ];
  for (const [doc, vars] of writes) {
    expect([doc.slice(0, 40), codeOf(await t.gql(doc, vars, outsider))]).toEqual([doc.slice(0, 40), 'NOT_FOUND']);
    expect([doc.slice(0, 40), codeOf(await t.gql(doc, vars, viewer))]).toEqual([doc.slice(0, 40), 'FORBIDDEN']);
  }
  const READ = `query($s: String!, $id: ID!, $n: String!) {
    project(slug: $s) { deployments { nodes { id } } deployment(name: $n) { id } }
    node(id: $id) { ... on Deployment { routes { name } history { nodes { revision } } } } }`;
  const refused = await t.gql(READ, { s: slug, id: deployment.id, n: deployment.name }, outsider);
  expect(refused.errors).toBeUndefined();
  expect(refused.data).toEqual({ project: null, node: null });
  const seen = await t.ok(READ, { s: slug, id: deployment.id, n: deployment.name }, viewer);
  expect(seen.node).toEqual({ routes: [{ name: 'main' }], history: { nodes: [{ revision: 1 }] } });

  // B's model, version and prompt version are as unknown to A's editor as missing ones.
  const bModel = await createModel(t, other.slug);
  const bVersion = await createVersion(t, bModel.id);
  await t.ok(SET_ALIAS, { input: { modelId: bModel.id, alias: 'production', versionNumber: 1 } });
  const bPrompt = (await t.ok(`mutation($input: CreatePromptInput!) { createPrompt(input: $input) { prompt { id } } }`,
    { input: { projectSlug: other.slug, name: unique('p') } })).createPrompt.prompt.id;
  const bPromptVersion = (await t.ok(`mutation($input: CreatePromptVersionInput!) { createPromptVersion(input: $input) { promptVersion { id } } }`,
    { input: { promptId: bPrompt, template: 'x', variables: [] } })).createPromptVersion.promptVersion.id;
  const cross = async (route: Record<string, unknown>) => (await setRoutes(deployment.id, 1, [{ name: 'main', weight: 100, ...route }], {}, editor)).errors?.[0].extensions;
  expect(await cross({ modelVersionId: bVersion.id })).toMatchObject({ code: 'NOT_FOUND', field: 'routes.0.modelVersionId' });
  expect(await cross({ modelId: bModel.id, alias: 'production' })).toMatchObject({ code: 'NOT_FOUND', field: 'routes.0.modelId' });
  expect(await cross({ modelVersionId: v1.id, promptVersionId: bPromptVersion })).toMatchObject({ code: 'NOT_FOUND', field: 'routes.0.promptVersionId' });
  expect((await routesAt(deployment.id)).revision).toBe(1);
  // And the database refuses such a route whatever the application checks.
  const key = (id: string) => Buffer.from(id, 'base64url').toString().split(':')[1];
  const [{ id: revisionId, project_id: projectId }] = await t.server.db.query(`SELECT id, project_id FROM deployment_revision WHERE deployment_id = $1`, [key(deployment.id)]);
  await expect(t.server.db.query(
    `INSERT INTO deployment_route (revision_id, project_id, position, name, weight, model_id, model_version_id) VALUES ($1, $2, 9, 'x', 0, $3, $4)`,
    [revisionId, projectId, key(bModel.id), key(bVersion.id)],
  )).rejects.toMatchObject({ code: '23503' });
});

test('a nested read of deployments, their routes, versions and usage summaries costs the same number of statements for 5 and 50 deployments', async () => {
  const NESTED = `query($s: String!, $at: DateTime!, $from: DateTime!, $to: DateTime!) { project(slug: $s) { deployments(first: 100) { nodes {
    id name environment revision
    routes { name weight alias model { name } modelVersion { id number model { name } } promptVersion { number prompt { name } }
      usage(from: $from, to: $to) { requests errors errorRate inputTokens outputTokens costUsd unpricedRequests p50LatencyMs p95LatencyMs } }
    past: routes(asOf: $at) { name modelVersion { number } }
    history(first: 3) { nodes { revision actor routes { name modelVersion { number } usage(from: $from, to: $to) { requests } } } }
  } } } }`;
  async function seed(n: number): Promise<{ slug: string; at: string; from: string; to: string }> {
    const from = new Date(Date.now() - 60_000).toISOString();
    const { slug } = await createProject(t, 'deploy-count');
    const model = await createModel(t, slug);
    const versions = [await createVersion(t, model.id), await createVersion(t, model.id)];
    await t.ok(SET_ALIAS, { input: { modelId: model.id, alias: 'production', versionNumber: 1 } });
    const promptId = (await t.ok(`mutation($input: CreatePromptInput!) { createPrompt(input: $input) { prompt { id } } }`,
      { input: { projectSlug: slug, name: unique('p') } })).createPrompt.prompt.id;
    const pv = (await t.ok(`mutation($input: CreatePromptVersionInput!) { createPromptVersion(input: $input) { promptVersion { id } } }`,
      { input: { promptId, template: 'Hi {{name}}', variables: ['name'] } })).createPromptVersion.promptVersion.id;
    const records: Record<string, unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const { deployment } = await newDeployment(slug, { environment: i % 2 ? 'staging' : 'production' });
      await setRoutes(deployment.id, 0, [{ name: 'main', weight: 100, modelVersionId: versions[i % 2].id }]);
      await setRoutes(deployment.id, 1, [
        { name: 'main', weight: 60, modelId: model.id, alias: 'production', promptVersionId: pv }, { name: 'canary', weight: 40, modelVersionId: versions[(i + 1) % 2].id },
      ]);
      // Three requests through main (one failed), one through the canary.
      for (const [j, route] of ['main', 'main', 'main', 'canary'].entries()) {
        records.push({ requestId: unique('req'), deploymentId: deployment.id, route, inputTokens: 10, outputTokens: 5, latencyMs: 10 * (j + 1), error: j === 0 });
      }
    }
    await t.ok(`mutation($input: RecordUsageInput!) { recordUsage(input: $input) { accepted } }`, { input: { projectSlug: slug, records } });
    await t.ok(SET_ALIAS, { input: { modelId: model.id, alias: 'production', versionNumber: 2 } });
    return { slug, at: new Date().toISOString(), from, to: new Date(Date.now() + 60_000).toISOString() };
  }
  const small = await seed(5);
  const large = await seed(50);
  const [a, da] = await t.countStatements(() => t.ok(NESTED, { s: small.slug, at: small.at, from: small.from, to: small.to }));
  const [b, db] = await t.countStatements(() => t.ok(NESTED, { s: large.slug, at: large.at, from: large.from, to: large.to }));
  expect(da.project.deployments.nodes).toHaveLength(5);
  expect(db.project.deployments.nodes).toHaveLength(50);
  // Every deployment's "main" follows the alias, now on version 2; the canaries pin 1 or 2.
  for (const d of db.project.deployments.nodes) {
    expect(d.routes.map((r: { name: string; modelVersion: { number: number } }) => r.name)).toEqual(['main', 'canary']);
    expect(d.routes[0]).toMatchObject({ alias: 'production', modelVersion: { number: 2 }, promptVersion: { number: 1 } });
    expect(d.history.nodes.map((r: { revision: number }) => r.revision)).toEqual([2, 1]);
    // Each route's own requests (main: latencies 10, 20, 30; canary: 40), in the revision in force and in the history alike.
    expect(d.routes[0].usage).toEqual({
      requests: 3, errors: 1, errorRate: 1 / 3, inputTokens: 30, outputTokens: 15, costUsd: null, unpricedRequests: 3, p50LatencyMs: 20, p95LatencyMs: 29,
    });
    expect(d.routes[1].usage).toMatchObject({ requests: 1, errors: 0, p50LatencyMs: 40 });
    expect(d.history.nodes[1].routes[0].usage).toEqual({ requests: 3 });
  }
  expect(new Set(db.project.deployments.nodes.map((d: { routes: { modelVersion: { number: number } }[] }) => d.routes[1].modelVersion.number))).toEqual(new Set([1, 2]));
  expect(b).toBe(a);
});

import { TestServer, createModel, createProject, createVersion, startTestServer } from './support/harness';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const SET = `mutation($input: SetModelAliasInput!) { setModelAlias(input: $input) { alias { name revision updatedBy version { number } } } }`;
const REMOVE = `mutation($input: RemoveModelAliasInput!) { removeModelAlias(input: $input) { model { aliases { name } } } }`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function modelWithVersions(n: number) {
  const { slug } = await createProject(t);
  const model = await createModel(t, slug);
  for (let i = 0; i < n; i++) await createVersion(t, model.id);
  return { slug, model };
}

test('expectedRevision guards moves: a stale revision is CONFLICT and changes nothing', async () => {
  const { model } = await modelWithVersions(3);
  const first = await t.ok(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 1, expectedRevision: 0 } });
  expect(first.setModelAlias.alias).toMatchObject({ name: 'production', revision: 1, version: { number: 1 } });
  await t.ok(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 2, expectedRevision: 1 } });
  // A second client still holding revision 1 loses.
  const stale = await t.gql(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 3, expectedRevision: 1 } });
  expect(stale.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', currentRevision: 2 });
  const now = await t.ok(`query($id: ID!) { node(id: $id) { ... on Model { alias(name: "production") { number } aliases { name revision } } } }`, { id: model.id });
  expect(now.node).toEqual({ alias: { number: 2 }, aliases: [{ name: 'production', revision: 2 }] });
  // Setting an alias to where it already points is a no-op, not a new revision.
  const same = await t.ok(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 2 } });
  expect(same.setModelAlias.alias.revision).toBe(2);
  // A new alias expects revision 0.
  const wrongNew = await t.gql(SET, { input: { modelId: model.id, alias: 'champion', versionNumber: 1, expectedRevision: 3 } });
  expect(wrongNew.errors?.[0].extensions.code).toBe('CONFLICT');
});

test('concurrent moves with the same expectedRevision: exactly one wins', async () => {
  const { model } = await modelWithVersions(6);
  const results = await Promise.all(
    [2, 3, 4, 5, 6].map((n) => t.gql(SET, { input: { modelId: model.id, alias: 'production', versionNumber: n, expectedRevision: 0 } })),
  );
  expect(results.filter((r) => !r.errors).length).toBe(1);
  expect(results.filter((r) => r.errors?.[0].extensions.code === 'CONFLICT').length).toBe(4);
});

test('alias(asOf) resolves the alias as it stood at three points in time', async () => {
  const { model } = await modelWithVersions(3);
  const before = new Date();
  await sleep(20);
  await t.ok(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 1 } });
  await sleep(20);
  const t1 = new Date();
  await sleep(20);
  await t.ok(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 2 } });
  await sleep(20);
  const t2 = new Date();
  await sleep(20);
  await t.ok(REMOVE, { input: { modelId: model.id, alias: 'production', reason: 'incident 42' } });
  await sleep(20);
  const t3 = new Date();
  await sleep(20);
  await t.ok(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 3 } });

  const data = await t.ok(
    `query($id: ID!, $b: DateTime!, $t1: DateTime!, $t2: DateTime!, $t3: DateTime!) { node(id: $id) { ... on Model {
       before: alias(name: "production", asOf: $b) { number }
       at1: alias(name: "production", asOf: $t1) { number }
       at2: alias(name: "production", asOf: $t2) { number }
       at3: alias(name: "production", asOf: $t3) { number }
       now: alias(name: "production") { number }
       other: alias(name: "champion", asOf: $t2) { number }
     } } }`,
    { id: model.id, b: before.toISOString(), t1: t1.toISOString(), t2: t2.toISOString(), t3: t3.toISOString() },
  );
  expect(data.node).toEqual({ before: null, at1: { number: 1 }, at2: { number: 2 }, at3: null, now: { number: 3 }, other: null });
});

test('aliasHistory records every move with actor and reason, newest first, paginated', async () => {
  const { model } = await modelWithVersions(2);
  await t.ok(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 1, reason: 'launch' } });
  await t.ok(SET, { input: { modelId: model.id, alias: 'champion', versionNumber: 2 } });
  await t.ok(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 2, reason: 'better recall' } });
  await t.ok(REMOVE, { input: { modelId: model.id, alias: 'champion', reason: 'retired' } });
  const page = `query($id: ID!, $name: String, $after: String) { node(id: $id) { ... on Model {
    aliasHistory(name: $name, first: 2, after: $after) {
      nodes { alias actor reason fromVersion { number } toVersion { number } model { id } at }
      pageInfo { hasNextPage endCursor } } } } }`;
  const p1 = await t.ok(page, { id: model.id });
  expect(p1.node.aliasHistory.nodes.map((e: any) => [e.alias, e.fromVersion?.number ?? null, e.toVersion?.number ?? null, e.reason])).toEqual([
    ['champion', 2, null, 'retired'],
    ['production', 1, 2, 'better recall'],
  ]);
  expect(p1.node.aliasHistory.nodes[0].model.id).toBe(model.id);
  expect(p1.node.aliasHistory.nodes[0].actor).toMatch(/^test-admin-/);
  expect(p1.node.aliasHistory.pageInfo.hasNextPage).toBe(true);
  const p2 = await t.ok(page, { id: model.id, after: p1.node.aliasHistory.pageInfo.endCursor });
  expect(p2.node.aliasHistory.nodes.map((e: any) => [e.alias, e.toVersion?.number ?? null])).toEqual([['champion', 2], ['production', 1]]);
  expect(p2.node.aliasHistory.pageInfo.hasNextPage).toBe(false);
  const onlyProd = await t.ok(page, { id: model.id, name: 'production' });
  expect(onlyProd.node.aliasHistory.nodes.map((e: any) => e.toVersion.number)).toEqual([2, 1]);
});

test('removing keeps the revision counting, version.aliases follows moves, bad targets fail', async () => {
  const { model } = await modelWithVersions(2);
  await t.ok(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 1 } });
  const removed = await t.gql(REMOVE, { input: { modelId: model.id, alias: 'production', expectedRevision: 0 } });
  expect(removed.errors?.[0].extensions.code).toBe('CONFLICT');
  await t.ok(REMOVE, { input: { modelId: model.id, alias: 'production', expectedRevision: 1 } });
  expect((await t.gql(REMOVE, { input: { modelId: model.id, alias: 'production' } })).errors?.[0].extensions.code).toBe('NOT_FOUND');
  // A client that saw revision 1 before the remove must not overwrite the re-set.
  expect((await t.gql(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 2, expectedRevision: 1 } })).errors?.[0].extensions.code).toBe('CONFLICT');
  const reset = await t.ok(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 2, expectedRevision: 2 } });
  expect(reset.setModelAlias.alias.revision).toBe(3);
  const versions = await t.ok(`query($id: ID!) { node(id: $id) { ... on Model { versions { nodes { number aliases } } } } }`, { id: model.id });
  expect(versions.node.versions.nodes).toEqual([{ number: 2, aliases: ['production'] }, { number: 1, aliases: [] }]);
  expect((await t.gql(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 9 } })).errors?.[0].extensions.code).toBe('NOT_FOUND');
  expect((await t.gql(SET, { input: { modelId: model.id, alias: 'Prod!', versionNumber: 1 } })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  const pending = await createVersion(t, model.id, { status: 'PENDING' });
  expect((await t.gql(SET, { input: { modelId: model.id, alias: 'canary', versionNumber: pending.number } })).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
});

test('the version filter finds the version an alias points to', async () => {
  const { slug, model } = await modelWithVersions(3);
  await t.ok(SET, { input: { modelId: model.id, alias: 'production', versionNumber: 2 } });
  const data = await t.ok(
    `query($s: String!, $m: String!) { project(slug: $s) { model(name: $m) {
       prod: versions(filter: { alias: "production" }) { nodes { number } }
       either: versions(filter: { or: [{ alias: "production" }, { alias: "none" }] }) { nodes { number } }
     } } }`,
    { s: slug, m: model.name },
  );
  expect(data.project.model).toEqual({ prod: { nodes: [{ number: 2 }] }, either: { nodes: [{ number: 2 }] } });
});

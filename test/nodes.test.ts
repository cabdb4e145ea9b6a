import { randomUUID } from 'node:crypto';
import { toGlobalId } from '../src/core/graphql/ids';
import { TestServer, createKey, createModel, createProject, createVersion, startTestServer, unique } from './support/harness';

let t: TestServer;

/** One object of every Node type, all in one project. */
interface World {
  project: { id: string; slug: string };
  model: { id: string; name: string };
  version: { id: string; number: number };
  aliasEvent: string;
  auditEvent: { id: string; action: string };
  apiKey: { id: string; name: string };
}

async function makeWorld(prefix: string): Promise<World> {
  const project = await createProject(t, prefix);
  const model = await createModel(t, project.slug);
  const version = await createVersion(t, model.id);
  const history = await t.ok(
    `mutation($id: ID!) { setModelAlias(input: { modelId: $id, alias: "prod", versionNumber: 1 }) { alias { name } } }`,
    { id: model.id },
  );
  expect(history.setModelAlias.alias.name).toBe('prod');
  const name = unique('nodes-key');
  const key = await t.ok(
    `mutation($name: String!, $slug: String) { createApiKey(input: { name: $name, role: VIEWER, projectSlug: $slug }) { apiKey { id } } }`,
    { name, slug: project.slug },
  );
  const read = await t.ok(
    `query($slug: String!, $name: String!) { project(slug: $slug) {
       model(name: $name) { aliasHistory(first: 1) { nodes { id } } }
       auditEvents(first: 1, filter: { action: "model.create" }) { nodes { id action } }
     } }`,
    { slug: project.slug, name: model.name },
  );
  return {
    project, model, version,
    aliasEvent: read.project.model.aliasHistory.nodes[0].id,
    auditEvent: read.project.auditEvents.nodes[0],
    apiKey: { id: key.createApiKey.apiKey.id, name },
  };
}

const FIELDS = `__typename id
  ... on Project { slug }
  ... on Model { name }
  ... on ModelVersion { number }
  ... on AliasEvent { alias }
  ... on AuditEvent { action }
  ... on ApiKey { name }`;
const NODE = `query($id: ID!) { node(id: $id) { ${FIELDS} } }`;
const NODES = `query($ids: [ID!]!) { nodes(ids: $ids) { ${FIELDS} } }`;

/** What node(id) must return for each object of a world. */
const expected = (w: World) => [
  { __typename: 'Project', id: w.project.id, slug: w.project.slug },
  { __typename: 'Model', id: w.model.id, name: w.model.name },
  { __typename: 'ModelVersion', id: w.version.id, number: 1 },
  { __typename: 'AliasEvent', id: w.aliasEvent, alias: 'prod' },
  { __typename: 'AuditEvent', id: w.auditEvent.id, action: 'model.create' },
  { __typename: 'ApiKey', id: w.apiKey.id, name: w.apiKey.name },
];

let A: World;
let B: World;

beforeAll(async () => {
  t = await startTestServer();
  A = await makeWorld('nodes-a');
  B = await makeWorld('nodes-b');
});
afterAll(async () => { await t.stop(); });

test('node(id) resolves every type, with its __typename and the same id', async () => {
  for (const want of expected(A)) {
    const res = await t.gql(NODE, { id: want.id });
    expect(res.errors).toBeUndefined();
    expect(res.data.node).toEqual(want);
  }
});

test('ids are opaque and differ between types', async () => {
  const ids = expected(A).map((n) => n.id);
  expect(new Set(ids).size).toBe(ids.length);
  for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
});

test('nodes(ids) keeps the order asked, repeats included, with null for what does not exist', async () => {
  const all = expected(A);
  const missing = Buffer.from(`Model:${randomUUID()}`).toString('base64url');
  const missingEvent = Buffer.from('AuditEvent:9000000000000000000').toString('base64url');
  const ids = [all[5].id, missing, all[0].id, all[3].id, missingEvent, all[2].id, all[1].id, all[4].id, all[0].id];
  const res = await t.gql(NODES, { ids });
  expect(res.errors).toBeUndefined();
  expect(res.data.nodes).toEqual([all[5], null, all[0], all[3], null, all[2], all[1], all[4], all[0]]);
  expect((await t.ok(NODES, { ids: [] })).nodes).toEqual([]);
});

test('a key of project B sees project A nodes as missing (null, no error), entry by entry', async () => {
  const viewerOfB = await createKey(t, 'VIEWER', B.project.slug);
  // API keys need an ADMIN to be read, so a VIEWER gets them refused even in its own project.
  const a = expected(A).filter((n) => n.__typename !== 'ApiKey');
  const b = expected(B).filter((n) => n.__typename !== 'ApiKey');
  const ids = a.flatMap((n, i) => [n.id, b[i].id]);
  const res = await t.gql(NODES, { ids }, viewerOfB);
  expect(res.data.nodes).toEqual(a.flatMap((_, i) => [null, b[i]]));
  expect(res.errors).toBeUndefined();

  for (const n of a) {
    const one = await t.gql(NODE, { id: n.id }, viewerOfB);
    expect({ type: n.__typename, errors: one.errors, node: one.data.node }).toEqual({ type: n.__typename, errors: undefined, node: null });
  }
});

test('sequential ids answer alike whether the object is missing or another project\'s', async () => {
  const viewerOfB = await createKey(t, 'VIEWER', B.project.slug);
  // Ids of A's sequential (bigint) objects, the next ids after them (not yet used), and far ones.
  const ownKey = (id: string) => BigInt(Buffer.from(id, 'base64url').toString().split(':')[1]);
  const probes = [
    A.aliasEvent, A.auditEvent.id, toGlobalId('AliasEvent', String(ownKey(A.aliasEvent) + 1000000n)),
    toGlobalId('AuditEvent', String(ownKey(A.auditEvent.id) + 1000000n)), toGlobalId('AuditEvent', '9000000000000000000'),
  ];
  const answers = await Promise.all(probes.map((id) => t.gql(NODE, { id }, viewerOfB)));
  expect(answers.map((r) => ({ data: r.data, errors: r.errors }))).toEqual(probes.map(() => ({ data: { node: null }, errors: undefined })));
});

test('API keys are nodes only to the admins who manage them', async () => {
  const id = A.apiKey.id;
  const global = (await t.ok(`mutation($n: String!) { createApiKey(input: { name: $n, role: VIEWER }) { apiKey { id name } } }`, { n: unique('nodes-global') })).createApiKey.apiKey;
  const who = {
    adminOfA: await createKey(t, 'ADMIN', A.project.slug),
    editorOfA: await createKey(t, 'EDITOR', A.project.slug),
    adminOfB: await createKey(t, 'ADMIN', B.project.slug),
    globalViewer: await createKey(t, 'VIEWER', null),
    globalAdmin: t.adminKey,
  };
  const look = async (key: string, keyId: string) => {
    const res = await t.gql(NODE, { id: keyId }, key);
    return res.errors ? res.errors[0].extensions.code : res.data.node?.__typename ?? null;
  };
  expect({
    adminOfA: await look(who.adminOfA, id),
    editorOfA: await look(who.editorOfA, id),
    adminOfB: await look(who.adminOfB, id),
    globalViewer: await look(who.globalViewer, id),
    globalAdmin: await look(who.globalAdmin, id),
  }).toEqual({ adminOfA: 'ApiKey', editorOfA: 'FORBIDDEN', adminOfB: null, globalViewer: 'FORBIDDEN', globalAdmin: 'ApiKey' });
  // A key of every project is managed only by an ADMIN of every project; to a project's key it does not exist.
  expect({
    adminOfA: await look(who.adminOfA, global.id),
    globalViewer: await look(who.globalViewer, global.id),
    globalAdmin: await look(who.globalAdmin, global.id),
  }).toEqual({ adminOfA: null, globalViewer: 'FORBIDDEN', globalAdmin: 'ApiKey' });
  // So is its audit event, which belongs to no project (Query.auditEvents lists it).
  const [row] = await t.server.db.query(`SELECT id FROM audit_event WHERE target_id = $1 AND action = 'apiKey.create'`, [global.id]);
  const eventId = toGlobalId('AuditEvent', String(row.id));
  expect({
    adminOfA: await look(who.adminOfA, eventId),
    globalViewer: await look(who.globalViewer, eventId),
    globalAdmin: await look(who.globalAdmin, eventId),
  }).toEqual({ adminOfA: null, globalViewer: 'FORBIDDEN', globalAdmin: 'AuditEvent' });
});

test('a project key reads every node type of its own project', async () => {
  const adminOfA = await createKey(t, 'ADMIN', A.project.slug);
  const res = await t.gql(NODES, { ids: expected(A).map((n) => n.id) }, adminOfA);
  expect(res.errors).toBeUndefined();
  expect(res.data.nodes).toEqual(expected(A));
});

test('node() needs a key', async () => {
  const res = await t.gql(NODE, { id: A.model.id }, null);
  expect(res.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
  expect(res.data?.node ?? null).toBeNull();
});

test('nodes resolve their fields like the same object reached any other way', async () => {
  const res = await t.ok(
    `query($m: ID!, $v: ID!, $e: ID!) {
       m: node(id: $m) { ... on Model { project { id slug } latestVersion { id number } aliases { name version { id } } } }
       v: node(id: $v) { ... on ModelVersion { model { id } aliases } }
       e: node(id: $e) { ... on AliasEvent { model { id } fromVersion { id } toVersion { id number } } }
     }`,
    { m: A.model.id, v: A.version.id, e: A.aliasEvent },
  );
  expect(res.m).toEqual({
    project: { id: A.project.id, slug: A.project.slug },
    latestVersion: { id: A.version.id, number: 1 },
    aliases: [{ name: 'prod', version: { id: A.version.id } }],
  });
  expect(res.v).toEqual({ model: { id: A.model.id }, aliases: ['prod'] });
  expect(res.e).toEqual({ model: { id: A.model.id }, fromVersion: null, toVersion: { id: A.version.id, number: 1 } });
});

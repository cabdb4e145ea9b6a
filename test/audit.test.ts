import { TestServer, createModel, createProject, startTestServer, unique } from './support/harness';

let t: TestServer;
let adminName: string;

beforeAll(async () => {
  t = await startTestServer();
  adminName = (await t.ok(`{ viewer { name } }`)).viewer.name;
});
afterAll(async () => { await t.stop(); });

interface Event {
  id: string;
  at: string;
  actor: string;
  action: string;
  targetType: string;
  targetId: string | null;
  details: { before: any; after: any };
}

const EVENTS = `query($slug: String!, $first: Int, $after: String, $filter: AuditEventFilter) {
  project(slug: $slug) {
    auditEvents(first: $first, after: $after, filter: $filter) {
      edges { cursor node { id at actor action targetType targetId details } }
      nodes { id at actor action targetType targetId details }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}`;

/** One page of a project's audit log. */
async function page(slug: string, args: { first?: number; after?: string | null; filter?: Record<string, unknown> } = {}) {
  return (await t.ok(EVENTS, { slug, first: args.first ?? 100, after: args.after ?? null, filter: args.filter ?? null })).project.auditEvents as {
    edges: { cursor: string; node: Event }[];
    nodes: Event[];
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  };
}
const events = async (slug: string, filter?: Record<string, unknown>) => (await page(slug, { filter })).nodes;

async function makeKey(role: string, projectSlug: string | null) {
  const name = unique(`audit-${role.toLowerCase()}`);
  const data = await t.ok(
    `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }`,
    { input: { name, role, projectSlug } },
  );
  return { name, secret: data.createApiKey.secret as string, id: data.createApiKey.apiKey.id as string };
}

const M = {
  createProject: `mutation($slug: String!) { createProject(input: { slug: $slug, name: "Audit", description: "d" }) { project { id slug } } }`,
  createModel: `mutation($input: CreateModelInput!) { createModel(input: $input) { model { id name } } }`,
  updateModel: `mutation($input: UpdateModelInput!) { updateModel(input: $input) { model { id description } } }`,
  archiveModel: `mutation($input: ArchiveModelInput!) { archiveModel(input: $input) { model { id archived } } }`,
  createVersion: `mutation($input: CreateModelVersionInput!) { createModelVersion(input: $input) { modelVersion { id number } } }`,
  updateVersion: `mutation($input: UpdateModelVersionInput!) { updateModelVersion(input: $input) { modelVersion { id status description } } }`,
  setAlias: `mutation($input: SetModelAliasInput!) { setModelAlias(input: $input) { alias { name revision } } }`,
  removeAlias: `mutation($input: RemoveModelAliasInput!) { removeModelAlias(input: $input) { model { id } } }`,
  createKey: `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }`,
  revokeKey: `mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id revokedAt } } }`,
};

test('every mutation writes one audit event with actor, action, target and before/after', async () => {
  const slug = unique('audit');
  const project = (await t.ok(M.createProject, { slug })).createProject.project;
  const editor = await makeKey('EDITOR', slug);
  const e = editor.secret;

  const model = (await t.ok(M.createModel, { input: { projectSlug: slug, name: 'ranker', kind: 'INTERNAL', description: 'old' } }, e)).createModel.model;
  await t.ok(M.updateModel, { input: { id: model.id, description: 'new' } }, e);
  await t.ok(M.archiveModel, { input: { id: model.id } }, e);
  await t.ok(M.archiveModel, { input: { id: model.id, archived: false } }, e);
  const v1 = (await t.ok(M.createVersion, { input: { modelId: model.id, artifact: { uri: 's3://m/1' } } }, e)).createModelVersion.modelVersion;
  await t.ok(M.updateVersion, { input: { id: v1.id, description: 'first cut' } }, e);
  await t.ok(M.setAlias, { input: { modelId: model.id, alias: 'production', versionNumber: 1, reason: 'launch' } }, e);
  await t.ok(M.removeAlias, { input: { modelId: model.id, alias: 'production', reason: 'rollback' } }, e);
  const revoked = (await t.ok(M.revokeKey, { id: editor.id })).revokeApiKey.apiKey;

  const log = await events(slug);
  // Newest first, exactly one event per mutation.
  expect(log.map((ev) => ev.action)).toEqual([
    'apiKey.revoke', 'alias.remove', 'alias.set', 'modelVersion.update', 'modelVersion.create',
    'model.restore', 'model.archive', 'model.update', 'model.create', 'apiKey.create', 'project.create',
  ]);
  const [revoke, aliasRemove, aliasSet, versionUpdate, versionCreate, restore, archive, update, create, keyCreate, projectCreate] = log;

  expect(projectCreate).toMatchObject({
    actor: adminName, targetType: 'Project', targetId: project.id,
    details: { before: null, after: { slug, name: 'Audit', description: 'd' } },
  });
  expect(keyCreate).toMatchObject({
    actor: adminName, targetType: 'ApiKey', targetId: editor.id,
    details: { before: null, after: { name: editor.name, role: 'EDITOR' } },
  });
  // The audit log must never hold a credential.
  expect(JSON.stringify(keyCreate.details)).not.toContain(editor.secret);
  expect(JSON.stringify(keyCreate.details)).not.toMatch(/secretHash|secret_hash/);

  expect(create).toMatchObject({
    actor: editor.name, targetType: 'Model', targetId: model.id,
    details: { before: null, after: { name: 'ranker', description: 'old', kind: 'INTERNAL' } },
  });
  expect(update).toMatchObject({
    actor: editor.name, targetType: 'Model', targetId: model.id,
    details: { before: { description: 'old' }, after: { description: 'new' } },
  });
  expect(archive).toMatchObject({
    actor: editor.name, targetType: 'Model', targetId: model.id, details: { before: { archived: false }, after: { archived: true } },
  });
  expect(restore).toMatchObject({
    actor: editor.name, targetType: 'Model', targetId: model.id, details: { before: { archived: true }, after: { archived: false } },
  });
  expect(versionCreate).toMatchObject({
    actor: editor.name, targetType: 'ModelVersion', targetId: v1.id, details: { before: null, after: { number: 1, status: 'READY' } },
  });
  expect(versionUpdate).toMatchObject({
    actor: editor.name, targetType: 'ModelVersion', targetId: v1.id,
    details: { before: { description: null }, after: { description: 'first cut' } },
  });
  expect(aliasSet).toMatchObject({
    actor: editor.name, targetType: 'Model', targetId: model.id,
    details: { before: null, after: { alias: 'production', versionId: v1.id, versionNumber: 1, revision: 1, reason: 'launch' } },
  });
  expect(aliasRemove).toMatchObject({
    actor: editor.name, targetType: 'Model', targetId: model.id,
    details: {
      before: { alias: 'production', versionId: v1.id, revision: 1 },
      after: { alias: 'production', versionId: null, revision: 2, reason: 'rollback' },
    },
  });
  expect(revoke).toMatchObject({
    actor: adminName, targetType: 'ApiKey', targetId: editor.id,
    details: { before: { revokedAt: null }, after: { revokedAt: expect.any(String) } },
  });
  expect(new Date(revoke.details.after.revokedAt).getTime()).toBe(new Date(revoked.revokedAt).getTime());

  for (const ev of log) {
    expect(ev.id).toEqual(expect.any(String));
    expect(Number.isNaN(Date.parse(ev.at))).toBe(false);
  }
});

test('keys of every project are audited too, outside any project', async () => {
  // Such events belong to no project, so no project's auditEvents lists them (Query.auditEvents does); the table must hold them.
  const key = await makeKey('VIEWER', null);
  await t.ok(M.revokeKey, { id: key.id });
  const rows: { project_id: string | null; actor: string; action: string; target_type: string; details: Event['details'] }[] =
    await t.server.db.query(
      `SELECT project_id, actor, action, target_type, details FROM audit_event WHERE target_id = $1 ORDER BY id`, [key.id],
    );
  expect(rows).toMatchObject([
    { project_id: null, actor: adminName, action: 'apiKey.create', target_type: 'ApiKey', details: { before: null, after: { name: key.name, role: 'VIEWER' } } },
    { project_id: null, actor: adminName, action: 'apiKey.revoke', target_type: 'ApiKey', details: { before: { revokedAt: null } } },
  ]);
  expect(JSON.stringify(rows).includes(key.secret)).toBe(false); // a boolean: a failure must not print the secret
});

const GLOBAL_EVENTS = `query($first: Int, $after: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, filter: $filter) {
    nodes { id actor action targetType targetId details }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}`;

test('global admins list the records of no project with Query.auditEvents: filtered, keyset-paged, newest first', async () => {
  // Other test files share the database: this test's records are those of its own global admin.
  const auditor = await makeKey('ADMIN', null);
  const slug = (await createProject(t, 'audit-global')).slug;
  const made = [];
  for (const role of ['VIEWER', 'EDITOR', 'ADMIN']) {
    made.push((await t.ok(M.createKey, { input: { name: unique('g'), role } }, auditor.secret)).createApiKey.apiKey.id as string);
  }
  await t.ok(M.revokeKey, { id: made[0] }, auditor.secret);
  // A key of one project is that project's record, not a global one.
  const scoped = (await t.ok(M.createKey, { input: { name: unique('p'), role: 'VIEWER', projectSlug: slug } }, auditor.secret)).createApiKey.apiKey.id;

  const list = async (args: Record<string, unknown>, key = auditor.secret) => (await t.ok(GLOBAL_EVENTS, args, key)).auditEvents;
  const mine = await list({ filter: { actor: auditor.name } });
  expect(mine.nodes.map((e: Event) => [e.action, e.targetId])).toEqual([
    ['apiKey.revoke', made[0]], ['apiKey.create', made[2]], ['apiKey.create', made[1]], ['apiKey.create', made[0]],
  ]);
  expect(mine.nodes.every((e: Event) => e.actor === auditor.name && e.targetType === 'ApiKey')).toBe(true);
  expect(JSON.stringify(mine)).not.toContain(scoped);
  expect((await events(slug, { actor: auditor.name })).map((e) => e.targetId)).toEqual([scoped]);

  // Filters as on a project's log; pages walk the same records with no gap or repeat.
  expect((await list({ filter: { actor: auditor.name, action: 'apiKey.revoke' } })).nodes.map((e: Event) => e.targetId)).toEqual([made[0]]);
  expect((await list({ filter: { targetId: made[1] } })).nodes.map((e: Event) => e.action)).toEqual(['apiKey.create']);
  const walked: string[] = [];
  let after: string | null = null;
  for (let i = 0; i < 10; i++) {
    const p: { nodes: Event[]; pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string } } =
      await list({ first: 1, after, filter: { actor: auditor.name } });
    expect(p.pageInfo.hasPreviousPage).toBe(after !== null);
    walked.push(...p.nodes.map((e) => e.id));
    if (!p.pageInfo.hasNextPage) break;
    after = p.pageInfo.endCursor;
  }
  expect(walked).toEqual(mine.nodes.map((e: Event) => e.id));
  expect((await t.gql(GLOBAL_EVENTS, { after: 'garbage!' }, auditor.secret)).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  expect((await t.gql(GLOBAL_EVENTS, { first: 101 }, auditor.secret)).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });

  // Only an ADMIN of every project reads them.
  const refusedTo = async (role: string, projectSlug: string | null) => (await t.gql(GLOBAL_EVENTS, {}, (await makeKey(role, projectSlug)).secret)).errors?.[0].extensions.code;
  expect({
    globalEditor: await refusedTo('EDITOR', null), globalViewer: await refusedTo('VIEWER', null), projectAdmin: await refusedTo('ADMIN', slug),
    anonymous: (await t.gql(GLOBAL_EVENTS, {}, null)).errors?.[0].extensions.code,
  }).toEqual({ globalEditor: 'FORBIDDEN', globalViewer: 'FORBIDDEN', projectAdmin: 'FORBIDDEN', anonymous: 'UNAUTHENTICATED' });
});

describe('filters', () => {
  let slug: string;
  let editor: { name: string; secret: string; id: string };
  let models: { id: string; name: string }[];

  beforeAll(async () => {
    slug = (await createProject(t, 'audit-filter')).slug;
    editor = await makeKey('EDITOR', slug);
    models = [];
    for (const name of ['a', 'b', 'c']) {
      models.push((await t.ok(M.createModel, { input: { projectSlug: slug, name, kind: 'INTERNAL' } }, editor.secret)).createModel.model);
    }
    models.push(await createModel(t, slug, 'by-admin'));
    await t.ok(M.updateModel, { input: { id: models[0].id, description: 'changed' } }, editor.secret);
  });

  test('by action', async () => {
    const log = await events(slug, { action: 'model.create' });
    expect(log.map((e) => e.targetId)).toEqual([...models].reverse().map((m) => m.id));
    expect(await events(slug, { action: 'model.nothing' })).toEqual([]);
  });

  test('by actor', async () => {
    const byEditor = await events(slug, { actor: editor.name });
    expect(byEditor.map((e) => e.action)).toEqual(['model.update', 'model.create', 'model.create', 'model.create']);
    expect(byEditor.every((e) => e.actor === editor.name)).toBe(true);
    const byAdmin = await events(slug, { actor: adminName });
    expect(byAdmin.map((e) => e.action)).toEqual(['model.create', 'apiKey.create', 'project.create']);
  });

  test('by target', async () => {
    const log = await events(slug, { targetId: models[0].id });
    expect(log.map((e) => e.action)).toEqual(['model.update', 'model.create']);
    expect(log.every((e) => e.targetId === models[0].id)).toBe(true);
  });

  test('conditions combine', async () => {
    const log = await events(slug, { action: 'model.create', actor: adminName });
    expect(log.map((e) => e.targetId)).toEqual([models[3].id]);
    expect(await events(slug, { action: 'model.update', targetId: models[1].id })).toEqual([]);
  });

  test('from is inclusive and to exclusive, and together they split the log', async () => {
    const all = await events(slug);
    expect(all).toHaveLength(7);
    const pivot = all[3];
    const from = await events(slug, { from: pivot.at });
    const to = await events(slug, { to: pivot.at });
    expect(from.map((e) => e.id)).toContain(pivot.id);
    expect(to.map((e) => e.id)).not.toContain(pivot.id);
    expect(from.every((e) => Date.parse(e.at) >= Date.parse(pivot.at))).toBe(true);
    expect(to.every((e) => Date.parse(e.at) < Date.parse(pivot.at))).toBe(true);
    expect([...from, ...to].map((e) => e.id).sort()).toEqual(all.map((e) => e.id).sort());
    expect(await events(slug, { from: pivot.at, to: pivot.at })).toEqual([]);
    const future = new Date(Date.parse(all[0].at) + 24 * 3600 * 1000).toISOString();
    expect(await events(slug, { from: future })).toEqual([]);
    expect((await events(slug, { to: future })).map((e) => e.id)).toEqual(all.map((e) => e.id));
  });

  test('filters and pagination work together', async () => {
    const first = await page(slug, { first: 2, filter: { actor: editor.name } });
    expect(first.nodes.map((e) => e.action)).toEqual(['model.update', 'model.create']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await page(slug, { first: 2, after: first.pageInfo.endCursor, filter: { actor: editor.name } });
    expect(second.nodes.map((e) => e.targetId)).toEqual([models[1].id, models[0].id]);
    expect(second.pageInfo.hasNextPage).toBe(false);
  });
});

describe('pagination', () => {
  test('first/after walk the whole log newest first, with hasNextPage and hasPreviousPage', async () => {
    const slug = (await createProject(t, 'audit-page')).slug;
    for (let i = 0; i < 5; i++) await createModel(t, slug, `m${i}`);
    const all = await events(slug);
    expect(all).toHaveLength(6);
    const ids = all.map((e) => BigInt(Buffer.from(e.id, 'base64url').toString().split(':')[1]));
    expect([...ids].sort((a, b) => (a > b ? -1 : 1))).toEqual(ids);

    const walked: Event[] = [];
    const infos: { hasNextPage: boolean; hasPreviousPage: boolean }[] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i++) {
      const p = await page(slug, { first: 2, after });
      expect(p.nodes).toHaveLength(2);
      expect(p.edges.map((e) => e.node)).toEqual(p.nodes);
      expect(p.pageInfo.startCursor).toBe(p.edges[0].cursor);
      expect(p.pageInfo.endCursor).toBe(p.edges[1].cursor);
      walked.push(...p.nodes);
      infos.push({ hasNextPage: p.pageInfo.hasNextPage, hasPreviousPage: p.pageInfo.hasPreviousPage });
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
    }
    expect(walked.map((e) => e.id)).toEqual(all.map((e) => e.id));
    expect(infos).toEqual([
      { hasNextPage: true, hasPreviousPage: false },
      { hasNextPage: true, hasPreviousPage: true },
      { hasNextPage: false, hasPreviousPage: true },
    ]);
  });

  test('pages are keyset: an event written between two page reads does not shift the next page', async () => {
    const slug = (await createProject(t, 'audit-keyset')).slug;
    for (let i = 0; i < 4; i++) await createModel(t, slug, `m${i}`);
    const before = await events(slug);
    const first = await page(slug, { first: 2 });
    expect(first.nodes.map((e) => e.id)).toEqual(before.slice(0, 2).map((e) => e.id));

    await createModel(t, slug, 'late');
    const second = await page(slug, { first: 2, after: first.pageInfo.endCursor });
    expect(second.nodes.map((e) => e.id)).toEqual(before.slice(2, 4).map((e) => e.id));
    // The new event is at the head, where a fresh first page finds it.
    expect((await page(slug, { first: 1 })).nodes[0]).toMatchObject({ action: 'model.create', details: { after: { name: 'late' } } });
  });

  test('an empty log is an empty page', async () => {
    const slug = (await createProject(t, 'audit-empty')).slug;
    const p = await page(slug, { first: 5, filter: { action: 'model.create' } });
    expect(p).toEqual({ edges: [], nodes: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } });
  });
});

test('a failed mutation writes no audit event', async () => {
  const slug = unique('audit-fail');
  await t.ok(M.createProject, { slug });
  const editor = await makeKey('EDITOR', slug);
  const viewer = await makeKey('VIEWER', slug);
  const model = (await t.ok(M.createModel, { input: { projectSlug: slug, name: 'keep', kind: 'INTERNAL' } }, editor.secret)).createModel.model;
  const v1 = (await t.ok(M.createVersion, { input: { modelId: model.id, artifact: { uri: 's3://m/1' } } }, editor.secret)).createModelVersion.modelVersion;
  const before = await events(slug);

  const failures: [string, string, Record<string, unknown>, string][] = [
    ['CONFLICT', M.createModel, { input: { projectSlug: slug, name: 'keep', kind: 'INTERNAL' } }, editor.secret],
    ['FORBIDDEN', M.createModel, { input: { projectSlug: slug, name: 'nope', kind: 'INTERNAL' } }, viewer.secret],
    ['FORBIDDEN', M.updateModel, { input: { id: model.id, description: 'x' } }, viewer.secret],
    ['BAD_USER_INPUT', M.createVersion, { input: { modelId: model.id } }, editor.secret],
    ['BAD_USER_INPUT', M.updateVersion, { input: { id: v1.id, status: 'PENDING' } }, editor.secret],
    ['NOT_FOUND', M.setAlias, { input: { modelId: model.id, alias: 'prod', versionNumber: 9 } }, editor.secret],
    ['NOT_FOUND', M.removeAlias, { input: { modelId: model.id, alias: 'prod' } }, editor.secret],
    ['FORBIDDEN', M.createKey, { input: { name: 'x', role: 'ADMIN', projectSlug: slug } }, editor.secret],
    ['FORBIDDEN', M.revokeKey, { id: viewer.id }, editor.secret],
    ['CONFLICT', M.createProject, { slug }, t.adminKey],
  ];
  for (const [code, query, variables, key] of failures) {
    const res = await t.gql(query, variables, key);
    expect({ query, code: res.errors?.[0]?.extensions.code }).toEqual({ query, code });
  }
  // Setting an alias with a stale revision fails after the alias row is read: still nothing written.
  await t.ok(M.setAlias, { input: { modelId: model.id, alias: 'prod', versionNumber: 1 } }, editor.secret);
  const afterSet = await events(slug);
  const stale = await t.gql(M.setAlias, { input: { modelId: model.id, alias: 'prod', versionNumber: 1, expectedRevision: 0 } }, editor.secret);
  expect(stale.errors?.[0]?.extensions.code).toBe('CONFLICT');

  expect(afterSet.slice(1)).toEqual(before);
  expect(await events(slug)).toEqual(afterSet);
});

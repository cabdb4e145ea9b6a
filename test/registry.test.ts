import { TestServer, createModel, createProject, createVersion, startTestServer } from './support/harness';

let t: TestServer;
const tick = () => new Promise((r) => setTimeout(r, 2));
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const MODELS = `query($s: String!, $first: Int, $after: String, $filter: ModelFilter, $orderBy: ModelOrder) {
  project(slug: $s) { models(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    edges { cursor node { name } } nodes { name } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`;

/** Walks every page of a connection, collecting names. */
async function allNames(slug: string, vars: Record<string, unknown>, first = 3): Promise<string[]> {
  const names: string[] = [];
  let after: string | null = null;
  for (let guard = 0; guard < 100; guard++) {
    const data: any = await t.ok(MODELS, { s: slug, first, after, ...vars });
    const c = data.project.models;
    expect(c.nodes.map((n: any) => n.name)).toEqual(c.edges.map((e: any) => e.node.name));
    expect(c.pageInfo.hasPreviousPage).toBe(after !== null);
    names.push(...c.nodes.map((n: any) => n.name));
    if (!c.pageInfo.hasNextPage) return names;
    expect(c.pageInfo.endCursor).toBe(c.edges[c.edges.length - 1].cursor);
    after = c.pageInfo.endCursor;
  }
  throw new Error('pagination did not end');
}

test('projects: unique slugs, CONFLICT on a duplicate, listed for a global key', async () => {
  const p = await createProject(t);
  const dup = await t.gql(`mutation($s: String!) { createProject(input: { slug: $s, name: "again" }) { project { id } } }`, { s: p.slug });
  expect(dup.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'slug' });
  const seen: string[] = [];
  let after: string | null = null;
  for (;;) {
    const data: any = await t.ok(`query($after: String) { projects(first: 50, after: $after) { nodes { slug createdAt } pageInfo { hasNextPage endCursor } } }`, { after });
    seen.push(...data.projects.nodes.map((n: any) => n.slug));
    if (!data.projects.pageInfo.hasNextPage) break;
    after = data.projects.pageInfo.endCursor;
  }
  expect(seen).toContain(p.slug);
  expect(new Set(seen).size).toBe(seen.length);
  const one = await t.ok(`query($s: String!) { project(slug: $s) { id slug name description createdAt } missing: project(slug: "no-such-project-x") { id } }`, { s: p.slug });
  expect(one.project).toMatchObject({ id: p.id, slug: p.slug, name: p.slug, description: null });
  expect(one.missing).toBeNull();
});

test('model names are unique per project; the same name may exist in another project', async () => {
  const a = await createProject(t);
  const b = await createProject(t);
  await createModel(t, a.slug, 'ranker');
  const dup = await t.gql(`mutation { createModel(input: { projectSlug: "${a.slug}", name: "ranker", kind: INTERNAL }) { model { id } } }`);
  expect(dup.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'name' });
  await createModel(t, b.slug, 'ranker');
  const missing = await t.gql(`mutation { createModel(input: { projectSlug: "no-such-project-y", name: "x", kind: INTERNAL }) { model { id } } }`);
  expect(missing.errors?.[0].extensions.code).toBe('NOT_FOUND');
});

test('models paginate by keyset in every order with no duplicates or gaps', async () => {
  const { slug } = await createProject(t);
  const names = ['delta', 'alpha', 'echo', 'charlie', 'bravo', 'foxtrot', 'golf'];
  const ids: Record<string, string> = {};
  // 2 ms apart: creation times have millisecond precision, and equal times order by random id.
  for (const n of names) { ids[n] = (await createModel(t, slug, n)).id; await tick(); }
  expect(await allNames(slug, { orderBy: 'NAME_ASC' })).toEqual([...names].sort());
  expect(await allNames(slug, { orderBy: 'CREATED_AT_DESC' })).toEqual([...names].reverse());
  // A new version counts as a change: the model moves to the front of UPDATED_AT_DESC.
  await createVersion(t, ids.alpha);
  const updated = await allNames(slug, { orderBy: 'UPDATED_AT_DESC' }, 2);
  expect(updated[0]).toBe('alpha');
  expect([...updated].sort()).toEqual([...names].sort());
  // A cursor of one order is refused by another.
  const first = await t.ok(MODELS, { s: slug, first: 1, orderBy: 'NAME_ASC' });
  const wrong = await t.gql(MODELS, { s: slug, first: 1, orderBy: 'CREATED_AT_DESC', after: first.project.models.pageInfo.endCursor });
  expect(wrong.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  const empty = await t.ok(MODELS, { s: slug, first: 0 });
  expect(empty.project.models).toMatchObject({ nodes: [], pageInfo: { hasNextPage: true, endCursor: null } });
});

test('model filters: name, kind, task, tags; updateModel replaces tags', async () => {
  const { slug } = await createProject(t);
  await createModel(t, slug, 'search-ranker', { task: 'ranking', tags: [{ key: 'team', value: 'search' }, { key: 'tier', value: '1' }] });
  await createModel(t, slug, 'chat-llm', { kind: 'PROPRIETARY_API', task: 'text-generation', tags: [{ key: 'team', value: 'assist' }] });
  const base = await createModel(t, slug, 'llama-base', { kind: 'OPEN_WEIGHTS', task: 'text-generation', license: 'llama3' });
  await createModel(t, slug, 'odd_name%', { task: 'x' }).catch(() => undefined); // invalid name: not created
  const q = (filter: object) => allNames(slug, { filter, orderBy: 'NAME_ASC' }, 10);
  expect(await q({ nameContains: 'RANK' })).toEqual(['search-ranker']);
  expect(await q({ nameContains: '%' })).toEqual([]);
  expect(await q({ kind: 'PROPRIETARY_API' })).toEqual(['chat-llm']);
  expect(await q({ task: 'text-generation' })).toEqual(['chat-llm', 'llama-base']);
  expect(await q({ tags: [{ key: 'team', value: 'search' }] })).toEqual(['search-ranker']);
  expect(await q({ tags: [{ key: 'team', value: 'search' }, { key: 'tier', value: '2' }] })).toEqual([]);
  expect(await q({ task: 'text-generation', kind: 'OPEN_WEIGHTS' })).toEqual(['llama-base']);
  const upd = await t.ok(
    `mutation($id: ID!) { updateModel(input: { id: $id, description: "Base LLM", tags: [{ key: "team", value: "platform" }] }) {
       model { description license task tags { key value } } } }`,
    { id: base.id },
  );
  expect(upd.updateModel.model).toEqual({ description: 'Base LLM', license: 'llama3', task: 'text-generation', tags: [{ key: 'team', value: 'platform' }] });
  expect(await q({ tags: [{ key: 'team', value: 'platform' }] })).toEqual(['llama-base']);
});

test('version filters: status, tags, created range, or; versions by number and order', async () => {
  const { slug } = await createProject(t);
  const model = await createModel(t, slug);
  await createVersion(t, model.id, { tags: [{ key: 'stage', value: 'exp' }] });
  await tick();
  await createVersion(t, model.id, { status: 'FAILED' });
  const mid = new Date();
  await new Promise((r) => setTimeout(r, 15));
  await createVersion(t, model.id, { tags: [{ key: 'stage', value: 'exp' }, { key: 'gpu', value: 'a100' }] });
  await tick();
  await createVersion(t, model.id, { status: 'PENDING' });
  const nums = async (filter: object | null, orderBy = 'NUMBER_ASC') => {
    const data = await t.ok(`query($id: ID!, $f: ModelVersionFilter, $o: ModelVersionOrder) { node(id: $id) { ... on Model {
      versions(filter: $f, orderBy: $o) { nodes { number } } } } }`, { id: model.id, f: filter, o: orderBy });
    return data.node.versions.nodes.map((v: { number: number }) => v.number);
  };
  expect(await nums(null)).toEqual([1, 2, 3, 4]);
  expect(await nums(null, 'NUMBER_DESC')).toEqual([4, 3, 2, 1]);
  expect(await nums(null, 'CREATED_AT_DESC')).toEqual([4, 3, 2, 1]);
  expect(await nums({ status: 'READY' })).toEqual([1, 3]);
  expect(await nums({ tags: [{ key: 'stage', value: 'exp' }] })).toEqual([1, 3]);
  expect(await nums({ tags: [{ key: 'gpu', value: 'a100' }] })).toEqual([3]);
  expect(await nums({ createdAfter: mid.toISOString() })).toEqual([3, 4]);
  expect(await nums({ createdBefore: mid.toISOString() })).toEqual([1, 2]);
  expect(await nums({ or: [{ status: 'FAILED' }, { status: 'PENDING' }] })).toEqual([2, 4]);
  expect(await nums({ status: 'READY', or: [{ createdAfter: mid.toISOString() }, { tags: [{ key: 'gpu', value: 'a100' }] }] })).toEqual([3]);
  const one = await t.ok(`query($id: ID!) { node(id: $id) { ... on Model { version(number: 2) { number status createdBy } none: version(number: 99) { number } } } }`, { id: model.id });
  expect(one.node.version).toMatchObject({ number: 2, status: 'FAILED' });
  expect(one.node.version.createdBy).toMatch(/^test-admin-/);
  expect(one.node.none).toBeNull();
  const search = await t.ok(`query($s: String!) { project(slug: $s) { searchModelVersions(filter: { status: READY }) { nodes { number model { id } } } } }`, { s: slug });
  expect(search.project.searchModelVersions.nodes).toEqual([{ number: 3, model: { id: model.id } }, { number: 1, model: { id: model.id } }]);
  // A metric bound is met only by completed evaluations (test/evaluations.test.ts); these versions have none.
  const byMetric = await t.ok(`query($id: ID!) { node(id: $id) { ... on Model { versions(filter: { metric: { name: "acc", gte: 0.9 } }) { nodes { number } } } } }`, { id: model.id });
  expect(byMetric.node.versions.nodes).toEqual([]);
});


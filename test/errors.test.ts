import { randomUUID } from 'node:crypto';
import { GqlResponse, TestServer, createModel, createProject, createVersion, startTestServer, unique } from './support/harness';

let t: TestServer;
let P: { id: string; slug: string };
let M: { id: string; name: string };
let V: { id: string; number: number };

beforeAll(async () => {
  t = await startTestServer();
  P = await createProject(t, 'errors');
  M = await createModel(t, P.slug);
  V = await createVersion(t, M.id);
  await createVersion(t, M.id);
  await t.ok(`mutation($id: ID!) { setModelAlias(input: { modelId: $id, alias: "prod", versionNumber: 1 }) { alias { name } } }`, { id: M.id });
  await createModel(t, P.slug);
  await t.ok(`mutation($s: String) { createApiKey(input: { name: "errors-key", role: VIEWER, projectSlug: $s }) { apiKey { id } } }`, { s: P.slug });
});
afterAll(async () => { await t.stop(); });

const b64 = (s: string) => Buffer.from(s).toString('base64url');
const cursorOf = (key: unknown[]) => b64(JSON.stringify(key));

/** Fails on anything a client must never see: a stack trace, a file path, an unmasked internal error. */
function expectClean(res: unknown) {
  const text = JSON.stringify(res);
  expect(text).not.toMatch(/stacktrace|\bat [^"]*\.(ts|js):\d+|node_modules|\/src\/|INTERNAL_SERVER_ERROR/);
}

/** gql, checking every response for leaks on the way. */
async function gql(query: string, variables?: Record<string, unknown>, key?: string | null): Promise<GqlResponse> {
  const res = await t.gql(query, variables, key);
  expectClean(res);
  return res;
}

/** POSTs a raw body; for requests gql() cannot make. */
async function post(body: string, contentType = 'application/json'): Promise<GqlResponse> {
  const res = await fetch(t.server.url, {
    method: 'POST',
    headers: { 'content-type': contentType, authorization: `Bearer ${t.adminKey}` },
    body,
  });
  const json = (await res.json()) as GqlResponse;
  expectClean(json);
  return { ...json, status: res.status };
}

const codeOf = (res: GqlResponse) => res.errors?.[0]?.extensions.code;
/** The input fields an error blames, whether one (`field`) or several (`fields`). */
function blamed(res: GqlResponse): string[] {
  const ext = (res.errors?.[0]?.extensions ?? {}) as { field?: string; fields?: { field: string }[] };
  return [...(ext.fields ?? []).map((f) => f.field), ...(ext.field ? [ext.field] : [])];
}

const NODE = `query($id: ID!) { node(id: $id) { __typename id } }`;
const MUTATIONS: Record<string, { query: string; vars: (id: string) => Record<string, unknown>; field: string }> = {
  updateModel: { query: `mutation($input: UpdateModelInput!) { updateModel(input: $input) { model { id } } }`, vars: (id) => ({ input: { id, description: 'x' } }), field: 'id' },
  archiveModel: { query: `mutation($input: ArchiveModelInput!) { archiveModel(input: $input) { model { id } } }`, vars: (id) => ({ input: { id } }), field: 'id' },
  createModelVersion: {
    query: `mutation($input: CreateModelVersionInput!) { createModelVersion(input: $input) { modelVersion { id } } }`,
    vars: (id) => ({ input: { modelId: id, artifact: { uri: 's3://x' } } }), field: 'modelId',
  },
  updateModelVersion: {
    query: `mutation($input: UpdateModelVersionInput!) { updateModelVersion(input: $input) { modelVersion { id } } }`,
    vars: (id) => ({ input: { id, description: 'x' } }), field: 'id',
  },
  setModelAlias: {
    query: `mutation($input: SetModelAliasInput!) { setModelAlias(input: $input) { alias { name } } }`,
    vars: (id) => ({ input: { modelId: id, alias: 'prod', versionNumber: 1 } }), field: 'modelId',
  },
  removeModelAlias: {
    query: `mutation($input: RemoveModelAliasInput!) { removeModelAlias(input: $input) { model { id } } }`,
    vars: (id) => ({ input: { modelId: id, alias: 'prod' } }), field: 'modelId',
  },
  revokeApiKey: { query: `mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { apiKey { id } } }`, vars: (id) => ({ input: { id } }), field: 'id' },
};
/** Which type each mutation's id must be, to build ids of the wrong type and unknown ids of the right one. */
const ID_TYPE: Record<string, string> = {
  updateModel: 'Model', archiveModel: 'Model', createModelVersion: 'Model', updateModelVersion: 'ModelVersion',
  setModelAlias: 'Model', removeModelAlias: 'Model', revokeApiKey: 'ApiKey',
};

describe('malformed ids are BAD_USER_INPUT', () => {
  const MALFORMED = [
    'garbage', 'not base64!', '', b64('Nope:0b7e3c1e-4f7a-4f5e-9c43-7d4d3c0e2a11'), b64('Model'), b64('Model:'), b64('Model:not-a-uuid'),
    b64('AuditEvent:abc'), b64('AuditEvent:-1'), b64('AuditEvent:0'), b64('AliasEvent:9999999999999999999'), b64('AuditEvent:99999999999999999999'),
  ];

  test.each(MALFORMED)('node(id: %j)', async (id) => {
    const res = await gql(NODE, { id });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(blamed(res)).toEqual(['id']);
    expect(res.data).toEqual({ node: null });
  });

  test.each(Object.keys(MUTATIONS))('%s with garbage and with an unknown type', async (name) => {
    const m = MUTATIONS[name];
    for (const id of ['garbage', b64('Nope:0b7e3c1e-4f7a-4f5e-9c43-7d4d3c0e2a11'), b64(`${ID_TYPE[name]}:42`)]) {
      const res = await gql(m.query, m.vars(id));
      expect({ id, code: codeOf(res), blamed: blamed(res) }).toEqual({ id, code: 'BAD_USER_INPUT', blamed: [m.field] });
      expect(res.data).toBeNull();
    }
  });

  test.each(Object.keys(MUTATIONS))('%s with an id of another type', async (name) => {
    const m = MUTATIONS[name];
    const wrong = ID_TYPE[name] === 'Model' ? V.id : M.id;
    for (const id of [wrong, P.id]) {
      const res = await gql(m.query, m.vars(id));
      expect({ id, code: codeOf(res), blamed: blamed(res) }).toEqual({ id, code: 'BAD_USER_INPUT', blamed: [m.field] });
    }
  });

  test('baseVersionId of the wrong type or malformed', async () => {
    for (const base of [M.id, 'garbage']) {
      const res = await gql(MUTATIONS.createModelVersion.query, { input: { modelId: M.id, artifact: { uri: 's3://x' }, baseVersionId: base } });
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(blamed(res)).toEqual(['baseVersionId']);
    }
  });

  test('in nodes(ids), a malformed id fails its own entry only', async () => {
    const res = await gql(`query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, { ids: [M.id, 'garbage', V.id] });
    expect(res.data!.nodes).toEqual([{ __typename: 'Model', id: M.id }, null, { __typename: 'ModelVersion', id: V.id }]);
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]).toMatchObject({ path: ['nodes', 1], extensions: { code: 'BAD_USER_INPUT' } });
  });
});

describe('unknown ids', () => {
  const unknown = (type: string) => b64(`${type}:${type.endsWith('Event') ? '9000000000000000000' : randomUUID()}`);

  test('node() and nodes() give null, without errors', async () => {
    const types = ['Project', 'Model', 'ModelVersion', 'ApiKey', 'AuditEvent', 'AliasEvent'];
    for (const type of types) {
      const res = await gql(NODE, { id: unknown(type) });
      expect({ type, res: { errors: res.errors, data: res.data } }).toEqual({ type, res: { errors: undefined, data: { node: null } } });
    }
    const res = await gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: types.map(unknown) });
    expect(res.errors).toBeUndefined();
    expect(res.data!.nodes).toEqual(types.map(() => null));
  });

  test.each(Object.keys(MUTATIONS))('%s is NOT_FOUND', async (name) => {
    const m = MUTATIONS[name];
    const res = await gql(m.query, m.vars(unknown(ID_TYPE[name])));
    expect(codeOf(res)).toBe('NOT_FOUND');
    expect(res.data).toBeNull();
  });

  test('an unknown baseVersionId is NOT_FOUND and registers nothing', async () => {
    const model = await createModel(t, P.slug);
    const res = await gql(MUTATIONS.createModelVersion.query, { input: { modelId: model.id, artifact: { uri: 's3://x' }, baseVersionId: unknown('ModelVersion') } });
    expect(codeOf(res)).toBe('NOT_FOUND');
    expect(blamed(res)).toEqual(['baseVersionId']);
    const after = await t.ok(`query($id: ID!) { node(id: $id) { ... on Model { latestVersion { id } } } }`, { id: model.id });
    expect(after.node.latestVersion).toBeNull();
  });
});

describe('cursors', () => {
  /** Every connection, each asked for one page after `$after`. */
  const LISTS: Record<string, { query: string; pick: (d: any) => { pageInfo: { endCursor: string | null } } }> = {
    projects: { query: `query($after: String) { projects(first: 1, after: $after) { pageInfo { endCursor } } }`, pick: (d) => d.projects },
    viewerProjects: { query: `query($after: String) { viewer { projects(first: 1, after: $after) { pageInfo { endCursor } } } }`, pick: (d) => d.viewer.projects },
    models: {
      query: `query($slug: String!, $after: String) { project(slug: $slug) { models(first: 1, after: $after) { pageInfo { endCursor } } } }`,
      pick: (d) => d.project.models,
    },
    modelsByName: {
      query: `query($slug: String!, $after: String) { project(slug: $slug) { models(first: 1, after: $after, orderBy: NAME_ASC) { pageInfo { endCursor } } } }`,
      pick: (d) => d.project.models,
    },
    auditEvents: {
      query: `query($slug: String!, $after: String) { project(slug: $slug) { auditEvents(first: 1, after: $after) { pageInfo { endCursor } } } }`,
      pick: (d) => d.project.auditEvents,
    },
    versions: {
      query: `query($id: ID!, $after: String) { node(id: $id) { ... on Model { versions(first: 1, after: $after) { pageInfo { endCursor } } } } }`,
      pick: (d) => d.node.versions,
    },
    versionsByCreation: {
      query: `query($id: ID!, $after: String) { node(id: $id) { ... on Model { versions(first: 1, after: $after, orderBy: CREATED_AT_DESC) { pageInfo { endCursor } } } } }`,
      pick: (d) => d.node.versions,
    },
    aliasHistory: {
      query: `query($id: ID!, $after: String) { node(id: $id) { ... on Model { aliasHistory(first: 1, after: $after) { pageInfo { endCursor } } } } }`,
      pick: (d) => d.node.aliasHistory,
    },
    searchModelVersions: {
      query: `query($slug: String!, $after: String) { project(slug: $slug) { searchModelVersions(first: 1, after: $after, filter: {}) { pageInfo { endCursor } } } }`,
      pick: (d) => d.project.searchModelVersions,
    },
  };
  const run = (list: string, after: string | null) => gql(LISTS[list].query, { slug: P.slug, id: M.id, after });
  const endCursors: Record<string, string> = {};

  beforeAll(async () => {
    for (const list of Object.keys(LISTS)) {
      const res = await run(list, null);
      expect(res.errors).toBeUndefined();
      endCursors[list] = LISTS[list].pick(res.data).pageInfo.endCursor!;
      expect(endCursors[list]).toEqual(expect.any(String));
    }
  });

  test.each(Object.keys(LISTS))('%s: its own cursor works', async (list) => {
    const res = await run(list, endCursors[list]);
    expect(res.errors).toBeUndefined();
  });

  const GARBAGE = ['garbage!', 'AAAA', b64('not json'), b64('{}'), b64('[]'), b64('"x"'), b64('[null,null]'), b64('[[1],{}]'), b64('[1,2,3,4,5]')];

  test.each(Object.keys(LISTS))('%s: garbage cursors are BAD_USER_INPUT', async (list) => {
    for (const after of GARBAGE) {
      const res = await run(list, after);
      expect({ after, code: codeOf(res), blamed: blamed(res) }).toEqual({ after, code: 'BAD_USER_INPUT', blamed: ['after'] });
    }
  });

  test.each(Object.keys(LISTS))('%s: a cursor of another list or order is BAD_USER_INPUT', async (list) => {
    // projects and viewer.projects are one list, as are versions and searchModelVersions' order.
    const sameList: Record<string, string[]> = {
      projects: ['viewerProjects'], viewerProjects: ['projects'],
      versionsByCreation: ['searchModelVersions'], searchModelVersions: ['versionsByCreation'],
    };
    for (const other of Object.keys(LISTS)) {
      if (other === list || sameList[list]?.includes(other)) continue;
      const res = await run(list, endCursors[other]);
      expect({ other, code: codeOf(res) }).toEqual({ other, code: 'BAD_USER_INPUT' });
    }
  });

  test.each([
    ['projects', ['2026-01-01T00:00:00.000Z', 'not-a-uuid']],
    ['projects', ['yesterday', randomUUID()]],
    ['projects', ['2026-02-31T00:00:00.000Z', randomUUID()]],
    ['models', ['m.updated', 'x', 'y']],
    ['models', ['m.updated', '2026-01-01T00:00:00.000Z', 7]],
    ['modelsByName', ['m.name', 5]],
    ['auditEvents', ['audit', 'abc']],
    ['auditEvents', ['audit', '99999999999999999999']],
    ['auditEvents', ['audit', 1.5]],
    ['versions', ['v.num', 'one']],
    ['versions', ['v.num', 1e12]],
    ['aliasHistory', ['ae', '1; drop table model']],
  ])('%s: a forged cursor with values of the wrong type is BAD_USER_INPUT: %j', async (list, key) => {
    const res = await run(list, cursorOf(key));
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(blamed(res)).toEqual(['after']);
  });
});

describe('names', () => {
  const BAD = ['Upper', '-lead', '.lead', '_lead', 'has space', 'ünï', 'a/b', 'tab\tx', 'x'.repeat(129)];
  const pad = (prefix: string, length: number) => prefix + 'x'.repeat(length - prefix.length);

  test.each(BAD)('createProject slug %j is BAD_USER_INPUT on slug, and creates nothing', async (slug) => {
    const res = await gql(`mutation($slug: String!) { createProject(input: { slug: $slug, name: "n" }) { project { id } } }`, { slug });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(blamed(res)).toEqual(['slug']);
    expect(res.data).toBeNull();
    expect((await t.ok(`query($slug: String!) { project(slug: $slug) { id } }`, { slug })).project).toBeNull();
  });

  test('an empty slug is BAD_USER_INPUT on slug', async () => {
    const res = await gql(`mutation { createProject(input: { slug: "", name: "n" }) { project { id } } }`);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(blamed(res)).toEqual(['slug']);
  });

  test('a 128-character name is fine, 129 is not', async () => {
    const slug = pad(unique('long'), 128);
    expect((await t.ok(`mutation($slug: String!) { createProject(input: { slug: $slug, name: "n" }) { project { slug } } }`, { slug })).createProject.project.slug).toBe(slug);
    const name = pad(unique('long'), 128);
    expect((await createModel(t, slug, name)).name).toBe(name);
    const res = await gql(`mutation($input: CreateModelInput!) { createModel(input: $input) { model { id } } }`, { input: { projectSlug: slug, name: `${name}x`, kind: 'INTERNAL' } });
    expect(blamed(res)).toEqual(['name']);
  });

  test.each(BAD)('createModel name %j is BAD_USER_INPUT on name, and creates nothing', async (name) => {
    const res = await gql(`mutation($input: CreateModelInput!) { createModel(input: $input) { model { id } } }`, { input: { projectSlug: P.slug, name, kind: 'INTERNAL' } });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(blamed(res)).toEqual(['name']);
    const stored = await t.ok(`query($slug: String!, $name: String!) { project(slug: $slug) { model(name: $name) { id } } }`, { slug: P.slug, name });
    expect(stored.project.model).toBeNull();
  });

  test.each(BAD)('setModelAlias and removeModelAlias alias %j are BAD_USER_INPUT on alias', async (alias) => {
    const set = await gql(MUTATIONS.setModelAlias.query, { input: { modelId: M.id, alias, versionNumber: 1 } });
    expect(codeOf(set)).toBe('BAD_USER_INPUT');
    expect(blamed(set)).toEqual(['alias']);
    const remove = await gql(MUTATIONS.removeModelAlias.query, { input: { modelId: M.id, alias } });
    expect(codeOf(remove)).toBe('BAD_USER_INPUT');
    expect(blamed(remove)).toEqual(['alias']);
  });

  test('several bad fields are all named', async () => {
    const res = await gql(`mutation { createProject(input: { slug: "Bad Slug", name: "" }) { project { id } } }`);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(blamed(res).sort()).toEqual(['name', 'slug']);
  });
});

describe('createModelVersion sources', () => {
  test.each([
    ['neither artifact nor externalApi', {}],
    ['both artifact and externalApi', { artifact: { uri: 's3://x' }, externalApi: { provider: 'openai', modelId: 'gpt' } }],
  ])('%s is BAD_USER_INPUT, and registers nothing', async (_label, source) => {
    const model = await createModel(t, P.slug);
    const res = await gql(MUTATIONS.createModelVersion.query, { input: { modelId: model.id, ...source } });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(['artifact', 'externalApi']).toContain(blamed(res)[0]);
    const after = await t.ok(`query($id: ID!) { node(id: $id) { ... on Model { latestVersion { id } } } }`, { id: model.id });
    expect(after.node.latestVersion).toBeNull();
  });
});

describe('page sizes', () => {
  const FIRST: Record<string, string> = {
    projects: `query($first: Int) { projects(first: $first) { nodes { id } } }`,
    viewerProjects: `query($first: Int) { viewer { projects(first: $first) { nodes { id } } } }`,
    models: `query($slug: String!, $first: Int) { project(slug: $slug) { models(first: $first) { nodes { id } } } }`,
    auditEvents: `query($slug: String!, $first: Int) { project(slug: $slug) { auditEvents(first: $first) { nodes { id } } } }`,
    versions: `query($id: ID!, $first: Int) { node(id: $id) { ... on Model { versions(first: $first) { nodes { id } } } } }`,
    aliasHistory: `query($id: ID!, $first: Int) { node(id: $id) { ... on Model { aliasHistory(first: $first) { nodes { id } } } } }`,
    searchModelVersions: `query($slug: String!, $first: Int) { project(slug: $slug) { searchModelVersions(first: $first, filter: {}) { nodes { id } } } }`,
  };

  test.each(Object.keys(FIRST))('%s: first over 100 or negative is BAD_USER_INPUT on first; 0 and 100 are fine', async (list) => {
    for (const first of [101, 1000, -1]) {
      const res = await gql(FIRST[list], { slug: P.slug, id: M.id, first });
      expect({ first, code: codeOf(res), blamed: blamed(res) }).toEqual({ first, code: 'BAD_USER_INPUT', blamed: ['first'] });
    }
    for (const first of [0, 100]) {
      const res = await gql(FIRST[list], { slug: P.slug, id: M.id, first });
      expect({ first, errors: res.errors }).toEqual({ first, errors: undefined });
    }
  });

  test('nodes takes at most 100 ids', async () => {
    const res = await gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: Array(101).fill(M.id) });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(blamed(res)).toEqual(['ids']);
  });
});

describe('requests that are not GraphQL', () => {
  test('a body that is not JSON is 400 BAD_USER_INPUT', async () => {
    for (const body of ['{"query": ', 'query { viewer { name } }', '{"query": "{ viewer { name } }",}']) {
      const res = await post(body);
      expect({ body, status: res.status, code: codeOf(res) }).toEqual({ body, status: 400, code: 'BAD_USER_INPUT' });
    }
  });

  test('JSON without a query is 400 BAD_USER_INPUT', async () => {
    for (const body of ['{}', '{"query": 5}', '{"variables": {}}', '[]']) {
      const res = await post(body);
      expect({ body, status: res.status, code: codeOf(res) }).toEqual({ body, status: 400, code: 'BAD_USER_INPUT' });
    }
  });

  test('a GraphQL syntax error is 400 BAD_USER_INPUT', async () => {
    const res = await gql(`{ viewer { name `);
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].message).toMatch(/^Syntax Error/);
    expect(res.data).toBeUndefined();
  });

  test('a document that does not validate is 400 BAD_USER_INPUT', async () => {
    for (const query of [
      `{ viewer { nope } }`,
      `{ project { id } }`,
      `{ project(slug: 5) { id } }`,
      `query A { viewer { name } } query B { viewer { role } }`,
      `mutation { createModel(input: { projectSlug: "x", name: "y", kind: NOT_A_KIND }) { model { id } } }`,
    ]) {
      const res = await gql(query);
      expect({ query, status: res.status, code: codeOf(res) }).toEqual({ query, status: 400, code: 'BAD_USER_INPUT' });
    }
  });

  test('variables that do not fit their types are 400 BAD_USER_INPUT', async () => {
    const cases: [string, Record<string, unknown>][] = [
      [`query($n: Int) { projects(first: $n) { nodes { id } } }`, { n: 'ten' }],
      [`query($n: Int) { projects(first: $n) { nodes { id } } }`, { n: 1.5 }],
      [`query($slug: String!) { project(slug: $slug) { id } }`, {}],
      [`query($slug: String!, $from: DateTime) { project(slug: $slug) { auditEvents(filter: { from: $from }) { nodes { id } } } }`, { slug: P.slug, from: 'yesterday' }],
      [`mutation($input: CreateModelInput!) { createModel(input: $input) { model { id } } }`, { input: { projectSlug: P.slug, name: 'x', kind: 'NOPE' } }],
      [`mutation($input: CreateModelInput!) { createModel(input: $input) { model { id } } }`, { input: { projectSlug: P.slug, name: 'x', kind: 'INTERNAL', extra: 1 } }],
    ];
    for (const [query, variables] of cases) {
      const res = await gql(query, variables);
      expect({ variables, status: res.status, code: codeOf(res) }).toEqual({ variables, status: 400, code: 'BAD_USER_INPUT' });
      expect(res.data).toBeUndefined();
    }
  });

  test('an operationName the document does not have is BAD_USER_INPUT, naming it', async () => {
    const res = await post(JSON.stringify({ query: `query A { viewer { name } }`, operationName: 'B' }));
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].message).toBe('Unknown operation named "B"');
    // Several operations and no name: which one is asked.
    const several = await post(JSON.stringify({ query: `query A { viewer { name } } query B { viewer { role } }` }));
    expect(several.status).toBe(400);
    expect(codeOf(several)).toBe('BAD_USER_INPUT');
    expect(several.errors![0].message).toBe('Must provide an operation name when the document has several');
  });
});

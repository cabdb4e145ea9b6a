import {
  GqlResponse, TestServer, createKey, createModel, createProject, createVersion, startTestServer, unique,
} from './support/harness';

let t: TestServer;
const tick = () => new Promise((r) => setTimeout(r, 2));
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const codeOf = (res: GqlResponse) => res.errors?.[0]?.extensions.code;

const CREATE_DATASET = `mutation($input: CreateDatasetInput!) { createDataset(input: $input) { dataset { id name description tags { key value } createdAt } } }`;
const CREATE_VERSION = `mutation($input: CreateDatasetVersionInput!) {
  createDatasetVersion(input: $input) { created datasetVersion { id number digest uri rowCount createdBy columns { name dtype } } } }`;

async function createDataset(projectSlug: string, name = unique('ds'), extra: Record<string, unknown> = {}) {
  const data = await t.ok(CREATE_DATASET, { input: { projectSlug, name, ...extra } });
  return data.createDataset.dataset as { id: string; name: string };
}

async function createDatasetVersion(datasetId: string, extra: Record<string, unknown> = {}) {
  const data = await t.ok(CREATE_VERSION, { input: { datasetId, digest: unique('sha256'), columns: [], ...extra } });
  return data.createDatasetVersion.datasetVersion as { id: string; number: number };
}

const DATASETS = `query($s: String!, $first: Int, $after: String, $filter: DatasetFilter) {
  project(slug: $s) { datasets(first: $first, after: $after, filter: $filter) {
    edges { cursor node { name } } nodes { name } pageInfo { hasNextPage hasPreviousPage endCursor } } } }`;

async function allDatasetNames(slug: string, filter: Record<string, unknown> | null = null, first = 2): Promise<string[]> {
  const names: string[] = [];
  let after: string | null = null;
  for (let guard = 0; guard < 100; guard++) {
    const data: any = await t.ok(DATASETS, { s: slug, first, after, filter });
    const c = data.project.datasets;
    expect(c.pageInfo.hasPreviousPage).toBe(after !== null);
    names.push(...c.nodes.map((n: any) => n.name));
    if (!c.pageInfo.hasNextPage) return names;
    after = c.pageInfo.endCursor;
  }
  throw new Error('pagination did not end');
}

test('datasets: create, CONFLICT on a duplicate name, bad names, list newest first by keyset, filters', async () => {
  const { slug } = await createProject(t);
  const names = ['clicks', 'queries', 'click-logs', 'labels', 'docs'];
  for (const n of names) {
    await createDataset(slug, n, { description: `the ${n}`, tags: n.startsWith('click') ? [{ key: 'team', value: 'search' }] : [] });
    await tick();
  }
  const dup = await t.gql(CREATE_DATASET, { input: { projectSlug: slug, name: 'clicks' } });
  expect(codeOf(dup)).toBe('CONFLICT');
  expect(dup.errors?.[0].extensions.field).toBe('name');
  for (const bad of ['Clicks', '-clicks', 'a b', 'x'.repeat(129), '']) {
    const res = await t.gql(CREATE_DATASET, { input: { projectSlug: slug, name: bad } });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].extensions.fields).toEqual([expect.objectContaining({ field: 'name' })]);
  }
  const missing = await t.gql(CREATE_DATASET, { input: { projectSlug: unique('no-such-project'), name: 'x' } });
  expect(codeOf(missing)).toBe('NOT_FOUND');

  expect(await allDatasetNames(slug)).toEqual([...names].reverse());
  expect(await allDatasetNames(slug, { nameContains: 'CLICK' })).toEqual(['click-logs', 'clicks']);
  expect(await allDatasetNames(slug, { tags: [{ key: 'team', value: 'search' }] })).toEqual(['click-logs', 'clicks']);
  expect(await allDatasetNames(slug, { nameContains: 'clicks', tags: [{ key: 'team', value: 'search' }] })).toEqual(['clicks']);
  expect(await allDatasetNames(slug, { nameContains: '%' })).toEqual([]);

  const one = await t.ok(`query($s: String!) { project(slug: $s) {
    dataset(name: "clicks") { name description tags { key value } project { slug } latestVersion { number } versions { nodes { number } } }
    none: dataset(name: "nope") { id } } }`, { s: slug });
  expect(one.project.dataset).toEqual({
    name: 'clicks', description: 'the clicks', tags: [{ key: 'team', value: 'search' }], project: { slug },
    latestVersion: null, versions: { nodes: [] },
  });
  expect(one.project.none).toBeNull();

  const audit = await t.ok(`query($s: String!) { project(slug: $s) { auditEvents(filter: { action: "dataset.create" }) { nodes { targetType } } } }`, { s: slug });
  expect(audit.project.auditEvents.nodes).toHaveLength(names.length);
});

test('malformed cursors and ids are BAD_USER_INPUT', async () => {
  const { slug } = await createProject(t);
  const ds = await createDataset(slug);
  for (const after of ['%%%', Buffer.from('[1,2]').toString('base64url'), Buffer.from('["d.created","nope","x"]').toString('base64url')]) {
    expect(codeOf(await t.gql(DATASETS, { s: slug, after }))).toBe('BAD_USER_INPUT');
  }
  const versionsCursor = `query($id: ID!, $after: String) { node(id: $id) { ... on Dataset { versions(after: $after) { nodes { number } } } } }`;
  const modelCursor = Buffer.from(JSON.stringify(['m.name', 'x'])).toString('base64url');
  expect(codeOf(await t.gql(versionsCursor, { id: ds.id, after: modelCursor }))).toBe('BAD_USER_INPUT');
  expect(codeOf(await t.gql(`query { node(id: "not-an-id!") { id } }`))).toBe('BAD_USER_INPUT');
  const badVersion = await t.gql(CREATE_VERSION, { input: { datasetId: 'garbage', digest: 'd', columns: [] } });
  expect(codeOf(badVersion)).toBe('BAD_USER_INPUT');
  expect(badVersion.errors?.[0].extensions.field).toBe('datasetId');
  const model = await createModel(t, slug);
  const wrongType = await t.gql(CREATE_VERSION, { input: { datasetId: model.id, digest: 'd', columns: [] } });
  expect(wrongType.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'datasetId' });
  const filter = await t.gql(`query($s: String!) { project(slug: $s) { searchModelVersions(filter: { trainedOnDatasetVersionId: "bad" }) { nodes { id } } } }`, { s: slug });
  expect(filter.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.trainedOnDatasetVersionId' });
  const lineage = await t.gql(`mutation($m: ID!) { createModelVersion(input: { modelId: $m, artifact: { uri: "s3://x" },
    datasets: [{ datasetVersionId: "bad", role: TRAINING }] }) { modelVersion { id } } }`, { m: model.id });
  expect(lineage.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'datasets.0.datasetVersionId' });
});

test('versions are numbered 1, 2, 3 ...; a known digest returns the existing version, unaudited', async () => {
  const { slug } = await createProject(t);
  const ds = await createDataset(slug);
  const v1 = await t.ok(CREATE_VERSION, {
    input: { datasetId: ds.id, uri: 's3://data/1', digest: 'sha256:aaa', rowCount: 10, columns: [{ name: 'x', dtype: 'FLOAT' }] },
  });
  expect(v1.createDatasetVersion.datasetVersion).toMatchObject({
    number: 1, uri: 's3://data/1', digest: 'sha256:aaa', rowCount: 10, columns: [{ name: 'x', dtype: 'FLOAT' }],
  });
  expect(v1.createDatasetVersion.datasetVersion.createdBy).toMatch(/^test-admin-/);
  const v2 = await createDatasetVersion(ds.id, { digest: 'sha256:bbb' });
  expect(v2.number).toBe(2);
  // Same digest again, even with other metadata: the same version, no new number.
  const again = await t.ok(CREATE_VERSION, { input: { datasetId: ds.id, uri: 's3://elsewhere', digest: 'sha256:aaa', columns: [] } });
  expect(again.createDatasetVersion.datasetVersion).toMatchObject({ id: v1.createDatasetVersion.datasetVersion.id, number: 1, uri: 's3://data/1' });
  expect(again.createDatasetVersion.created).toBe(false);
  expect(v1.createDatasetVersion.created).toBe(true);
  const v3 = await createDatasetVersion(ds.id, { digest: 'sha256:ccc' });
  expect(v3.number).toBe(3);
  // The digest is per dataset: another dataset may hold the same data as its own version 1.
  const other = await createDataset(slug);
  expect((await createDatasetVersion(other.id, { digest: 'sha256:aaa' })).number).toBe(1);

  const read = await t.ok(`query($id: ID!) { node(id: $id) { ... on Dataset {
    latestVersion { number } version(number: 2) { digest dataset { id } } none: version(number: 9) { id }
    versions(first: 2) { nodes { number } pageInfo { hasNextPage endCursor } } } } }`, { id: ds.id });
  expect(read.node.latestVersion).toEqual({ number: 3 });
  expect(read.node.version).toEqual({ digest: 'sha256:bbb', dataset: { id: ds.id } });
  expect(read.node.none).toBeNull();
  expect(read.node.versions.nodes).toEqual([{ number: 3 }, { number: 2 }]);
  const rest = await t.ok(`query($id: ID!, $after: String) { node(id: $id) { ... on Dataset { versions(first: 2, after: $after) { nodes { number } pageInfo { hasNextPage } } } } }`,
    { id: ds.id, after: read.node.versions.pageInfo.endCursor });
  expect(rest.node.versions).toEqual({ nodes: [{ number: 1 }], pageInfo: { hasNextPage: false } });

  const audit = await t.ok(`query($s: String!) { project(slug: $s) { auditEvents(filter: { action: "datasetVersion.create" }) { nodes { targetId } } } }`, { s: slug });
  expect(audit.project.auditEvents.nodes).toHaveLength(4);
  const missingDigest = await t.gql(`mutation($d: ID!) { createDatasetVersion(input: { datasetId: $d, columns: [] }) { datasetVersion { id } } }`, { d: ds.id });
  expect(codeOf(missingDigest)).toBe('BAD_USER_INPUT');
  const negativeRows = await t.gql(CREATE_VERSION, { input: { datasetId: ds.id, digest: 'x', rowCount: -1, columns: [] } });
  expect(codeOf(negativeRows)).toBe('BAD_USER_INPUT');
});

test('20 concurrent version registrations get 1..20, no gaps or duplicates; concurrent same digest gives one version', async () => {
  const { slug } = await createProject(t);
  const ds = await createDataset(slug);
  const made = await Promise.all(Array.from({ length: 20 }, (_, i) => createDatasetVersion(ds.id, { digest: `sha256:${i}` })));
  expect(made.map((v) => v.number).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  const same = await Promise.all(Array.from({ length: 5 }, () => createDatasetVersion(ds.id, { digest: 'sha256:same' })));
  expect(new Set(same.map((v) => v.id)).size).toBe(1);
  expect(same[0].number).toBe(21);
});

const STATS = { count: 100, nullCount: 2, distinctCount: 50, mean: 1.5, stddev: 0.5, min: 0, max: 3 };

test('columns: statistics are stored and read back; column(name)', async () => {
  const { slug } = await createProject(t);
  const ds = await createDataset(slug);
  const columns = [
    {
      name: 'price', dtype: 'FLOAT', description: 'in EUR',
      statistics: {
        ...STATS, quantiles: [{ q: 0, value: 0 }, { q: 0.5, value: 1.5 }, { q: 1, value: 3 }],
        histogram: { edges: [0, 1, 2, 3], counts: [10, 60, 28] }, topValues: [{ value: '1.5', count: 20 }],
      },
    },
    { name: 'country', dtype: 'CATEGORY', statistics: { count: 100, nullCount: 0 } },
    { name: 'text', dtype: 'TEXT' },
  ];
  const v = await createDatasetVersion(ds.id, { rowCount: 100, columns });
  const data = await t.ok(`query($id: ID!) { node(id: $id) { ... on DatasetVersion {
    columns { name dtype description statistics { count nullCount distinctCount mean stddev min max
      quantiles { q value } histogram { edges counts } topValues { value count } } }
    price: column(name: "price") { name statistics { histogram { counts } } }
    none: column(name: "nope") { name } } } }`, { id: v.id });
  expect(data.node.columns[0]).toEqual({ ...columns[0], statistics: { ...columns[0].statistics } });
  expect(data.node.columns[1]).toEqual({
    name: 'country', dtype: 'CATEGORY', description: null,
    statistics: { count: 100, nullCount: 0, distinctCount: null, mean: null, stddev: null, min: null, max: null, quantiles: null, histogram: null, topValues: null },
  });
  expect(data.node.columns[2]).toEqual({ name: 'text', dtype: 'TEXT', description: null, statistics: null });
  expect(data.node.price).toEqual({ name: 'price', statistics: { histogram: { counts: [10, 60, 28] } } });
  expect(data.node.none).toBeNull();
});

test.each([
  ['duplicate column names', [{ name: 'a', dtype: 'INT' }, { name: 'a', dtype: 'FLOAT' }], 'columns.1.name'],
  ['nullCount > count', [{ name: 'a', dtype: 'INT', statistics: { count: 5, nullCount: 6 } }], 'columns.0.statistics.nullCount'],
  ['distinctCount > count', [{ name: 'a', dtype: 'INT', statistics: { count: 5, nullCount: 0, distinctCount: 6 } }], 'columns.0.statistics.distinctCount'],
  ['q above 1', [{ name: 'a', dtype: 'INT', statistics: { count: 5, nullCount: 0, quantiles: [{ q: 1.5, value: 1 }] } }], 'columns.0.statistics.quantiles.0.q'],
  ['q below 0', [{ name: 'a', dtype: 'INT', statistics: { count: 5, nullCount: 0, quantiles: [{ q: -0.1, value: 1 }] } }], 'columns.0.statistics.quantiles.0.q'],
  ['quantiles out of order', [{ name: 'a', dtype: 'INT', statistics: { count: 5, nullCount: 0, quantiles: [{ q: 0.9, value: 1 }, { q: 0.1, value: 2 }] } }], 'columns.0.statistics.quantiles.1.q'],
  ['histogram edges vs counts', [{ name: 'a', dtype: 'INT', statistics: { count: 5, nullCount: 0, histogram: { edges: [0, 1], counts: [1, 2] } } }], 'columns.0.statistics.histogram.edges'],
  ['histogram edges not ascending', [{ name: 'a', dtype: 'INT', statistics: { count: 5, nullCount: 0, histogram: { edges: [0, 2, 1], counts: [1, 2] } } }], 'columns.0.statistics.histogram.edges.2'],
  ['negative histogram count', [{ name: 'a', dtype: 'INT', statistics: { count: 5, nullCount: 0, histogram: { edges: [0, 1], counts: [-1] } } }], 'columns.0.statistics.histogram.counts'],
  ['negative count', [{ name: 'a', dtype: 'INT', statistics: { count: -1, nullCount: 0 } }], 'columns.0.statistics.count'],
])('column validation: %s is BAD_USER_INPUT naming the field, and nothing is created', async (_, columns, field) => {
  const { slug } = await createProject(t);
  const ds = await createDataset(slug);
  const res = await t.gql(CREATE_VERSION, { input: { datasetId: ds.id, digest: 'sha256:x', columns } });
  expect(codeOf(res)).toBe('BAD_USER_INPUT');
  const ext = res.errors![0].extensions;
  // Our own rules name one field; class-validator's name a list of fields.
  const fields = ext.field ? [ext.field] : (ext.fields as { field: string }[]).map((f) => f.field);
  expect(fields).toContain(field);
  const after = await t.ok(`query($id: ID!) { node(id: $id) { ... on Dataset { latestVersion { id } } } }`, { id: ds.id });
  expect(after.node.latestVersion).toBeNull();
});

const LINEAGE = `query($mv: ID!, $dv: ID!) {
  mv: node(id: $mv) { ... on ModelVersion {
    all: datasets { role datasetVersion { id number dataset { name } } modelVersion { id } }
    training: datasets(role: TRAINING) { datasetVersion { id } } } }
  dv: node(id: $dv) { ... on DatasetVersion {
    usedBy { role modelVersion { id number } datasetVersion { id } }
    evaluation: usedBy(role: EVALUATION) { modelVersion { id } } } } }`;

test('lineage: createModelVersion links dataset versions; read both ways with a role filter; trainedOnDatasetVersionId', async () => {
  const { slug } = await createProject(t);
  const train = await createDataset(slug, 'train');
  const evalDs = await createDataset(slug, 'eval');
  const tv = await createDatasetVersion(train.id);
  const ev = await createDatasetVersion(evalDs.id);
  const model = await createModel(t, slug);
  const m1 = await createVersion(t, model.id, {
    datasets: [
      { datasetVersionId: tv.id, role: 'TRAINING' },
      { datasetVersionId: ev.id, role: 'EVALUATION' },
      { datasetVersionId: tv.id, role: 'TRAINING' }, // a repeat collapses
      { datasetVersionId: tv.id, role: 'VALIDATION' },
    ],
  });
  await tick();
  const m2 = await createVersion(t, model.id, { datasets: [{ datasetVersionId: tv.id, role: 'FINE_TUNING' }] });
  await tick();
  const m3 = await createVersion(t, model.id, { datasets: [{ datasetVersionId: ev.id, role: 'EVALUATION' }] });

  const data = await t.ok(LINEAGE, { mv: m1.id, dv: tv.id });
  expect(data.mv.all).toEqual([
    { role: 'TRAINING', datasetVersion: { id: tv.id, number: 1, dataset: { name: 'train' } }, modelVersion: { id: m1.id } },
    { role: 'VALIDATION', datasetVersion: { id: tv.id, number: 1, dataset: { name: 'train' } }, modelVersion: { id: m1.id } },
    { role: 'EVALUATION', datasetVersion: { id: ev.id, number: 1, dataset: { name: 'eval' } }, modelVersion: { id: m1.id } },
  ]);
  expect(data.mv.training).toEqual([{ datasetVersion: { id: tv.id } }]);
  // Reverse lineage, newest model version first.
  expect(data.dv.usedBy).toEqual([
    { role: 'FINE_TUNING', modelVersion: { id: m2.id, number: 2 }, datasetVersion: { id: tv.id } },
    { role: 'TRAINING', modelVersion: { id: m1.id, number: 1 }, datasetVersion: { id: tv.id } },
    { role: 'VALIDATION', modelVersion: { id: m1.id, number: 1 }, datasetVersion: { id: tv.id } },
  ]);
  expect(data.dv.evaluation).toEqual([]);
  const evUsers = await t.ok(LINEAGE, { mv: m3.id, dv: ev.id });
  expect(evUsers.dv.evaluation.map((u: any) => u.modelVersion.id)).toEqual([m3.id, m1.id]);
  expect(evUsers.mv.training).toEqual([]);

  // trainedOnDatasetVersionId: TRAINING or FINE_TUNING, not EVALUATION.
  const search = async (dv: string) => (await t.ok(`query($s: String!, $dv: ID!) { project(slug: $s) {
    searchModelVersions(filter: { trainedOnDatasetVersionId: $dv }) { nodes { number } } } }`, { s: slug, dv })).project.searchModelVersions.nodes;
  expect(await search(tv.id)).toEqual([{ number: 2 }, { number: 1 }]);
  expect(await search(ev.id)).toEqual([]);
  const viaModel = await t.ok(`query($id: ID!, $dv: ID!) { node(id: $id) { ... on Model {
    versions(filter: { or: [{ trainedOnDatasetVersionId: $dv }, { status: FAILED }] }) { nodes { number } } } } }`, { id: model.id, dv: tv.id });
  expect(viaModel.node.versions.nodes).toEqual([{ number: 2 }, { number: 1 }]);

  const audit = await t.ok(`query($s: String!, $id: ID!) { project(slug: $s) { auditEvents(filter: { targetId: $id }) { nodes { action details } } } }`, { s: slug, id: m2.id });
  expect(audit.project.auditEvents.nodes[0].details.after.datasets).toEqual([{ datasetVersionId: tv.id, role: 'FINE_TUNING' }]);
});

test('lineage: a dataset version of another project (or none) is NOT_FOUND, and nothing is created', async () => {
  const a = await createProject(t);
  const b = await createProject(t);
  const foreign = await createDatasetVersion((await createDataset(b.slug)).id);
  const own = await createDatasetVersion((await createDataset(a.slug)).id);
  const model = await createModel(t, a.slug);
  const input = (dv: string) => ({
    modelId: model.id, artifact: { uri: 's3://x' },
    datasets: [{ datasetVersionId: own.id, role: 'TRAINING' }, { datasetVersionId: dv, role: 'TEST' }],
  });
  const res = await t.gql(`mutation($input: CreateModelVersionInput!) { createModelVersion(input: $input) { modelVersion { id } } }`, { input: input(foreign.id) });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'datasets.1.datasetVersionId' });
  const gone = Buffer.from('DatasetVersion:00000000-0000-4000-8000-000000000000').toString('base64url');
  const res2 = await t.gql(`mutation($input: CreateModelVersionInput!) { createModelVersion(input: $input) { modelVersion { id } } }`, { input: input(gone) });
  expect(res2.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'datasets.1.datasetVersionId' });
  const after = await t.ok(`query($id: ID!, $dv: ID!) {
    m: node(id: $id) { ... on Model { latestVersion { id } } }
    dv: node(id: $dv) { ... on DatasetVersion { usedBy { role } } } }`, { id: model.id, dv: own.id });
  expect(after.m.latestVersion).toBeNull();
  expect(after.dv.usedBy).toEqual([]);
  // The number was not used up: the next registration is version 1.
  expect((await createVersion(t, model.id, { datasets: [{ datasetVersionId: own.id, role: 'TRAINING' }] })).number).toBe(1);
});

test('roles: VIEWER reads but cannot create; to a key of another project nothing exists', async () => {
  const a = await createProject(t);
  const b = await createProject(t);
  const ds = await createDataset(a.slug, 'data');
  const dv = await createDatasetVersion(ds.id);
  const viewer = await createKey(t, 'VIEWER', a.slug);
  const editor = await createKey(t, 'EDITOR', a.slug);
  const otherEditor = await createKey(t, 'EDITOR', b.slug);

  const viewerCreate = await t.gql(CREATE_DATASET, { input: { projectSlug: a.slug, name: 'v' } }, viewer);
  expect(codeOf(viewerCreate)).toBe('FORBIDDEN');
  const viewerVersion = await t.gql(CREATE_VERSION, { input: { datasetId: ds.id, digest: 'x', columns: [] } }, viewer);
  expect(codeOf(viewerVersion)).toBe('FORBIDDEN');
  const read = await t.gql(`query($s: String!) { project(slug: $s) { datasets { nodes { name latestVersion { number } } } } }`, { s: a.slug }, viewer);
  expect(read.data?.project.datasets.nodes).toEqual([{ name: 'data', latestVersion: { number: 1 } }]);

  expect(codeOf(await t.gql(CREATE_DATASET, { input: { projectSlug: a.slug, name: 'e' } }, editor))).toBeUndefined();
  expect(codeOf(await t.gql(CREATE_VERSION, { input: { datasetId: ds.id, digest: 'y', columns: [] } }, editor))).toBeUndefined();

  expect(codeOf(await t.gql(CREATE_DATASET, { input: { projectSlug: a.slug, name: 'o' } }, otherEditor))).toBe('NOT_FOUND');
  expect(codeOf(await t.gql(CREATE_VERSION, { input: { datasetId: ds.id, digest: 'z', columns: [] } }, otherEditor))).toBe('NOT_FOUND');
  for (const id of [ds.id, dv.id]) {
    const res = await t.gql(`query($id: ID!) { node(id: $id) { id } }`, { id }, otherEditor);
    expect({ errors: res.errors, data: res.data }).toEqual({ errors: undefined, data: { node: null } });
  }
  const names = await t.ok(`query($s: String!) { project(slug: $s) { datasets { nodes { name } } } }`, { s: a.slug });
  expect(names.project.datasets.nodes.map((n: any) => n.name).sort()).toEqual(['data', 'e']);
});

test('node(id) resolves datasets and dataset versions; a missing one is null', async () => {
  const { slug } = await createProject(t);
  const ds = await createDataset(slug, 'nodes');
  const dv = await createDatasetVersion(ds.id);
  const data = await t.ok(`query($d: ID!, $v: ID!, $gone: ID!) {
    d: node(id: $d) { __typename id ... on Dataset { name } }
    v: node(id: $v) { __typename id ... on DatasetVersion { number dataset { id } } }
    gone: node(id: $gone) { id }
    both: nodes(ids: [$d, $v]) { id } }`, {
    d: ds.id, v: dv.id, gone: Buffer.from('Dataset:00000000-0000-4000-8000-000000000000').toString('base64url'),
  });
  expect(data.d).toEqual({ __typename: 'Dataset', id: ds.id, name: 'nodes' });
  expect(data.v).toEqual({ __typename: 'DatasetVersion', id: dv.id, number: 1, dataset: { id: ds.id } });
  expect(data.gone).toBeNull();
  expect(data.both).toEqual([{ id: ds.id }, { id: dv.id }]);
});

const NESTED = `query($s: String!) { project(slug: $s) {
  datasets(first: 50) { nodes {
    id name project { slug } latestVersion { number }
    versions(first: 5) { nodes {
      id number digest column(name: "x") { dtype } dataset { name }
      usedBy { role modelVersion { id number model { name } datasets { role datasetVersion { number } } } }
    } }
  } }
} }`;

/** Seeds `n` datasets with 2 versions each, one model whose 2 versions used every dataset version. */
async function seedLineage(n: number): Promise<string> {
  const { slug } = await createProject(t);
  // Seeding goes straight to SQL: only the read below is under test.
  await t.server.db.query(
    `WITH p AS (SELECT id FROM project WHERE slug = $1),
     d AS (INSERT INTO dataset (project_id, name, version_count) SELECT p.id, 'ds-' || i, 2 FROM p, generate_series(1, $2) i RETURNING id, project_id)
     INSERT INTO dataset_version (dataset_id, project_id, number, digest, columns, created_by)
     SELECT d.id, d.project_id, k, 'sha-' || k, '[{"name":"x","dtype":"INT","description":null,"statistics":null}]', 'seed' FROM d, generate_series(1, 2) k`,
    [slug, n],
  );
  await t.server.db.query(
    `WITH p AS (SELECT id FROM project WHERE slug = $1),
     m AS (INSERT INTO model (project_id, name, kind, version_count) SELECT p.id, 'model', 'INTERNAL', 2 FROM p RETURNING id, project_id)
     INSERT INTO model_version (model_id, project_id, number, status, source, created_by, created_at)
     SELECT m.id, m.project_id, k, 'READY', '{"kind":"ARTIFACT","uri":"s3://x"}', 'seed', now() - (3 - k) * interval '1 second'
       FROM m, generate_series(1, 2) k`,
    [slug],
  );
  await t.server.db.query(
    `INSERT INTO model_version_dataset (project_id, model_version_id, dataset_version_id, role)
     SELECT p.id, mv.id, dv.id, CASE mv.number WHEN 1 THEN 'TRAINING' ELSE 'EVALUATION' END
       FROM project p JOIN model_version mv ON mv.project_id = p.id JOIN dataset_version dv ON dv.project_id = p.id
      WHERE p.slug = $1`,
    [slug],
  );
  return slug;
}

async function statementsFor(slug: string): Promise<{ count: number; data: any }> {
  const [count, data] = await t.countStatements(() => t.ok(NESTED, { s: slug }));
  return { count, data };
}

test('a nested read project -> datasets -> versions -> usedBy -> modelVersion costs the same statements for 3 and 30 datasets', async () => {
  const small = await seedLineage(3);
  const large = await seedLineage(30);
  await statementsFor(small); // warm-up: the key's lastUsedAt write happens at most once a minute
  const a = await statementsFor(small);
  const b = await statementsFor(large);
  expect(a.data.project.datasets.nodes).toHaveLength(3);
  expect(b.data.project.datasets.nodes).toHaveLength(30);
  const v = b.data.project.datasets.nodes[0].versions.nodes[0];
  expect(v).toMatchObject({ number: 2, column: { dtype: 'INT' } });
  expect(v.usedBy.map((u: any) => [u.role, u.modelVersion.number])).toEqual([['EVALUATION', 2], ['TRAINING', 1]]);
  expect(v.usedBy[0].modelVersion.datasets).toHaveLength(60);
  expect(b.count).toBe(a.count);
  // One per field shape (auth, project, datasets, versions, usedBy, ...), not one per row.
  expect(a.count).toBeLessThanOrEqual(12);
});

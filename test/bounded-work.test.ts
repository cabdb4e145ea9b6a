import { RegistryEventType } from '../src/core/events/registry-event-type';
import { registryEventCursor } from '../src/modules/live/event-streams';
import {
  GqlResponse, TestServer, createModel, createProject, createVersion, startTestServer, unique, wsRequest,
} from './support/harness';

/**
 * The attacks of issue 6 ("unbounded work that a caller controls"), each at a size that runs
 * fast, refused with the limit it hits; and the normal use next to each, still answered.
 */
let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const ext = (res: GqlResponse) => res.errors?.[0]?.extensions;
/** Refused before anything ran: a 400 with no data at all. */
const refusedUpFront = (res: GqlResponse, extensions: Record<string, unknown>) => {
  expect(ext(res)).toMatchObject({ code: 'BAD_USER_INPUT', ...extensions });
  expect(res.data).toBeUndefined();
  expect(res.status).toBe(400);
};
const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();
const HOUR = 3600;
const DAY = 86400;

describe('feature reads', () => {
  const ONLINE = (n: number) => `query($id: ID!, $keys: [String!]!, $features: [String!]) { node(id: $id) { ... on FeatureSet {
    ${Array.from({ length: n }, (_, i) => `a${i}: onlineFeatures(entityKeys: $keys, features: $features) { entityKey values { feature value status } }`).join(' ')} } } }`;
  const HISTORICAL = (n: number) => `query($id: ID!, $rows: [EntityAsOfInput!]!, $features: [String!]) { node(id: $id) { ... on FeatureSet {
    ${Array.from({ length: n }, (_, i) => `a${i}: historicalFeatures(rows: $rows, features: $features) { entityKey values { value } }`).join(' ')} } } }`;
  let fsId: string;
  const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`);

  beforeAll(async () => {
    const { slug } = await createProject(t, 'features');
    const created = await t.ok(`mutation($input: CreateFeatureSetInput!) { createFeatureSet(input: $input) { featureSet { id } } }`, {
      input: { projectSlug: slug, name: unique('fs'), entityKey: 'k', features: [{ name: 'f', dtype: 'FLOAT' }, { name: 'g', dtype: 'FLOAT' }] },
    });
    fsId = created.createFeatureSet.featureSet.id;
    await t.ok(`mutation($input: WriteFeatureValuesInput!) { writeFeatureValues(input: $input) { written } }`, {
      input: { featureSetId: fsId, rows: keys(10).map((k, i) => ({ entityKey: k, eventTimestamp: ago(60), values: { f: i, g: -i } })) },
    });
  });

  test('aliased reads of many keys are refused by cost, whatever repeats pad the features', async () => {
    // The shape (50 aliases x 1,000 keys x one feature 1,000 times) at 10 aliases and 400
    // repeats: each alias is 1,000 vectors of one value, 5,001; the sum is over 20,000.
    const res = await t.gql(ONLINE(10), { id: fsId, keys: keys(1000), features: Array(400).fill('f') });
    // node(id:) adds one.
    refusedUpFront(res, { limit: 'maxCost', max: 20000, actual: 1 + 10 * (1 + 1000 * (1 + (1 + 3))) });
    const historical = await t.gql(HISTORICAL(10), { id: fsId, rows: keys(1000).map((k) => ({ entityKey: k, asOf: ago(0) })), features: ['f'] });
    refusedUpFront(historical, { limit: 'maxCost' });
    // One such read fits, and answers one value per vector: the repeats were dropped.
    const one = await t.ok(ONLINE(1), { id: fsId, keys: keys(1000), features: Array(400).fill('f') });
    expect(one.node.a0).toHaveLength(1000);
    expect(one.node.a0[3].values).toEqual([{ feature: 'f', value: 3, status: 'PRESENT' }]);
  });

  test('each list argument has its maximum, named in the error', async () => {
    refusedUpFront(await t.gql(ONLINE(1), { id: fsId, keys: ['k1'], features: Array(1000).fill('f') }), { field: 'features', max: 500, actual: 1000 });
    refusedUpFront(await t.gql(ONLINE(1), { id: fsId, keys: keys(1001) }), { field: 'entityKeys', max: 1000 });
    refusedUpFront(await t.gql(HISTORICAL(1), { id: fsId, rows: keys(10001).map((k) => ({ entityKey: k, asOf: ago(0) })) }), { field: 'rows', max: 10000 });
  });

  test('repeated features are read once; repeated keys keep their place', async () => {
    const res = await t.ok(ONLINE(1), { id: fsId, keys: ['k2', 'k1', 'k2'], features: ['g', 'f', 'g', 'f'] });
    expect(res.node.a0.map((v: { entityKey: string }) => v.entityKey)).toEqual(['k2', 'k1', 'k2']);
    expect(res.node.a0[0].values).toEqual([{ feature: 'g', value: -2, status: 'PRESENT' }, { feature: 'f', value: 2, status: 'PRESENT' }]);
    const unknown = await t.gql(ONLINE(1), { id: fsId, keys: ['k1'], features: ['f', 'f', 'nope'] });
    expect(ext(unknown)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'features' });
  });

  test('without features, every feature of the set is paid for once the set is known', async () => {
    const { slug } = await createProject(t, 'wide');
    const names = Array.from({ length: 60 }, (_, i) => `c${i}`);
    const wide = (await t.ok(`mutation($input: CreateFeatureSetInput!) { createFeatureSet(input: $input) { featureSet { id } } }`, {
      input: { projectSlug: slug, name: unique('wide'), entityKey: 'k', features: names.map((name) => ({ name, dtype: 'INT' })) },
    })).createFeatureSet.featureSet.id;
    // Estimated with one feature (node 1, field 1 + 200 x 5), the 59 others add 200 x 59 x 3: over 20,000.
    const all = await t.gql(ONLINE(1), { id: wide, keys: keys(200) });
    expect(ext(all)).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'maxCost', field: 'features', actual: 2 + 200 * 5 + 200 * 59 * 3 });
    expect(all.data).toEqual({ node: null });
    // Fewer keys, or the features named, fit.
    expect((await t.ok(ONLINE(1), { id: wide, keys: keys(20) })).node.a0[0].values).toHaveLength(60);
    expect((await t.ok(ONLINE(1), { id: wide, keys: keys(200), features: ['c1', 'c2'] })).node.a0).toHaveLength(200);

    // Each event of a subscription is its own execution: charges do not add up across events.
    // Every event below charges 59 x 100 x 1 = 5,900; four of them would pass 20,000 together.
    const model = await createModel(t, slug);
    for (let i = 0; i < 4; i++) await createVersion(t, model.id, { featureSetIds: [wide] });
    const events = await new Promise<GqlResponse[]>((resolve, reject) => {
      const got: GqlResponse[] = [];
      const stop = t.ws().subscribe({
        query: `subscription($s: String!, $since: String, $keys: [String!]!) { registryEvents(projectSlug: $s, types: [MODEL_VERSION_CREATED], since: $since) {
          subject { ... on ModelVersion { featureSets { onlineFeatures(entityKeys: $keys) { values { value } } } } } } }`,
        variables: { s: slug, since: registryEventCursor('0'), keys: keys(100) },
      }, {
        next: (r) => { got.push({ status: 0, data: r.data, errors: r.errors as GqlResponse['errors'] }); if (got.length === 4) { stop(); resolve(got); } },
        error: reject,
        complete: () => reject(new Error(`ended after ${got.length} events`)),
      });
    });
    expect(events.map((e) => e.errors)).toEqual([undefined, undefined, undefined, undefined]);
    expect(events[3].data.registryEvents.subject.featureSets[0].onlineFeatures).toHaveLength(100);
  });
});

describe('version filters', () => {
  const SEARCH = `query($s: String!, $f: ModelVersionFilter!) { project(slug: $s) { searchModelVersions(filter: $f) { nodes { number } } } }`;
  const VERSIONS = `query($id: ID!, $f: ModelVersionFilter) { node(id: $id) { ... on Model { versions(filter: $f) { nodes { number } } } } }`;
  let slug: string;
  let modelId: string;
  beforeAll(async () => {
    slug = (await createProject(t, 'filters')).slug;
    modelId = (await createModel(t, slug)).id;
    await createVersion(t, modelId);
    await createVersion(t, modelId, { status: 'PENDING' });
  });
  const bound = (i: number) => ({ metric: { name: `m${i}`, gte: 0.5 } });
  const tree = (width: number, levels: number): unknown => (levels === 0 ? bound(width) : { or: Array.from({ length: width }, () => tree(width, levels - 1)) });

  test('a tree of 8,000 metric bounds (and of 400) is refused by its size before the operation runs', async () => {
    for (const f of [tree(20, 3), tree(20, 2)]) {
      refusedUpFront(await t.gql(SEARCH, { s: slug, f }), { field: 'filter', limit: 'maxFilterConditions', max: 100 });
    }
    refusedUpFront(await t.gql(VERSIONS, { id: modelId, f: tree(20, 2) }), { limit: 'maxFilterConditions' });
    // Written in the document rather than in a variable, too.
    const literal = `{ project(slug: "${slug}") { searchModelVersions(filter: { or: [${Array(101).fill('{ status: READY }').join(', ')}] }) { nodes { number } } } }`;
    refusedUpFront(await t.gql(literal), { limit: 'maxFilterConditions' });
  });

  test('or nests at most 4 deep; a filter of normal size runs', async () => {
    let deep: unknown = { status: 'READY' };
    for (let i = 0; i < 5; i++) deep = { or: [deep] };
    refusedUpFront(await t.gql(SEARCH, { s: slug, f: deep }), { limit: 'maxFilterDepth', max: 4 });
    const ok = await t.ok(SEARCH, { s: slug, f: { or: [{ status: 'PENDING' }, bound(1), { or: [{ status: 'FAILED' }, bound(2)] }] } });
    expect(ok.project.searchModelVersions.nodes).toEqual([{ number: 2 }]);
  });
});

describe('metric points', () => {
  const RECORD = `mutation($input: RecordMetricsInput!) { recordMetrics(input: $input) { accepted } }`;
  const POINTS = `query($id: ID!, $from: DateTime, $to: DateTime, $n: Int, $agg: Aggregation) { node(id: $id) { ... on MetricSeries {
    points(from: $from, to: $to, maxPoints: $n, aggregation: $agg) { timestamp value count } } } }`;
  let seriesId: string;
  // Points 3 days, 50 hours, 20 hours, 2 hours and 1 hour old.
  const AGES = [72 * HOUR, 50 * HOUR, 20 * HOUR, 2 * HOUR, HOUR];
  const stamps = AGES.map((s) => ago(s));
  beforeAll(async () => {
    const { slug } = await createProject(t, 'points');
    await t.ok(RECORD, { input: { projectSlug: slug, points: stamps.map((timestamp, i) => ({ name: 'lat', timestamp, value: i + 1 })) } });
    seriesId = (await t.ok(`query($s: String!) { project(slug: $s) { metricSeries { nodes { id } } } }`, { s: slug })).project.metricSeries.nodes[0].id;
  });

  test('39 aliases of 10,000 points are refused by cost; maxPoints is capped', async () => {
    const q = `query($id: ID!) { node(id: $id) { ... on MetricSeries {
      ${Array.from({ length: 39 }, (_, i) => `a${i}: points(maxPoints: 10000, from: "${ago(DAY + i)}") { value }`).join(' ')} } } }`;
    refusedUpFront(await t.gql(q, { id: seriesId }), { limit: 'maxCost', actual: 1 + 39 * (1 + 10000 * 1) });
    refusedUpFront(await t.gql(POINTS, { id: seriesId, n: 10001 }), { field: 'maxPoints', max: 10000 });
    // Each bucket is paid for: two reads of 9,000 fit, three do not.
    const aliases = (n: number) => `query($id: ID!) { node(id: $id) { ... on MetricSeries { ${Array.from({ length: n }, (_, i) => `a${i}: points(maxPoints: 9000) { value }`).join(' ')} } } }`;
    expect((await t.gql(aliases(2), { id: seriesId })).errors).toBeUndefined();
    refusedUpFront(await t.gql(aliases(3), { id: seriesId }), { limit: 'maxCost' });
  });

  test('without from, the window is the day before the newest point, from its first point in that day', async () => {
    const res = await t.ok(POINTS, { id: seriesId, n: 1, agg: 'COUNT' });
    expect(res.node.points).toEqual([{ timestamp: stamps[2], value: 3, count: 3 }]);
    // from given: the whole history since then; to given: the day before it.
    expect((await t.ok(POINTS, { id: seriesId, n: 1, agg: 'COUNT', from: ago(80 * HOUR) })).node.points[0]).toMatchObject({ value: 5, count: 5 });
    expect((await t.ok(POINTS, { id: seriesId, n: 1, agg: 'COUNT', to: ago(40 * HOUR) })).node.points).toEqual([{ timestamp: stamps[1], value: 1, count: 1 }]);
  });

  test('a window longer than 90 days is refused, naming the bound given', async () => {
    const long = await t.gql(POINTS, { id: seriesId, from: ago(100 * DAY), to: ago(0) });
    expect(ext(long)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'from', limit: 'maxRangeSeconds', max: 90 * DAY });
    expect(long.data).toEqual({ node: null });
    expect(ext(await t.gql(POINTS, { id: seriesId, from: ago(100 * DAY) }))).toMatchObject({ field: 'from', limit: 'maxRangeSeconds' });
    expect((await t.ok(POINTS, { id: seriesId, from: ago(89 * DAY), to: ago(0), n: 1, agg: 'COUNT' })).node.points[0].count).toBe(5);
  });

  test('windows of many aliases are read in one statement', async () => {
    const q = (n: number) => `query($id: ID!) { node(id: $id) { ... on MetricSeries {
      ${Array.from({ length: n }, (_, i) => `a${i}: points(maxPoints: 10, from: "${ago(80 * HOUR + i)}") { value }`).join(' ')} } } }`;
    const [one] = await t.countStatements(() => t.ok(q(1), { id: seriesId }));
    const [ten, data] = await t.countStatements(() => t.ok(q(10), { id: seriesId }));
    expect(ten).toBe(one);
    expect(Object.keys(data.node)).toHaveLength(10);
  });
});

describe('engagement', () => {
  const RECORD = `mutation($input: RecordFeedbackInput!) { recordFeedback(input: $input) { accepted } }`;
  const ENGAGEMENT = `query($id: ID!, $from: DateTime, $to: DateTime) { node(id: $id) { ... on ModelVersion {
    engagement(from: $from, to: $to) { feedbackCount } } } }`;

  test('defaults to the last 30 days; a window over 366 days is refused', async () => {
    const { slug } = await createProject(t, 'engagement');
    const v = await createVersion(t, (await createModel(t, slug)).id);
    for (const at of [ago(40 * DAY), ago(HOUR)]) await t.ok(RECORD, { input: { modelVersionId: v.id, kind: 'THUMBS', value: 1, at } });
    const count = async (vars: Record<string, unknown>) => (await t.ok(ENGAGEMENT, { id: v.id, ...vars })).node.engagement.feedbackCount;
    expect(await count({})).toBe(1);
    expect(await count({ from: ago(41 * DAY) })).toBe(2);
    // to alone: the 30 days before it.
    expect(await count({ to: ago(39 * DAY) })).toBe(1);
    const long = await t.gql(ENGAGEMENT, { id: v.id, from: ago(400 * DAY) });
    expect(ext(long)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'from', limit: 'maxRangeSeconds', max: 366 * DAY });
  });
});

describe('drift windows', () => {
  const RECORD = `mutation($input: RecordColumnProfileInput!) { recordColumnProfile(input: $input) { accepted } }`;
  const REPORT = `query($reference: DriftSideInput!, $current: DriftSideInput!, $features: [String!]) {
    driftReport(reference: $reference, current: $current, features: $features) { features { name } } }`;
  const age = (counts: number[]) => ({
    name: 'age', dtype: 'FLOAT', statistics: { count: counts.reduce((a, b) => a + b, 0), nullCount: 0, histogram: { edges: [0, 10, 20, 30, 40], counts } },
  });

  async function setup(server: TestServer) {
    const project = await createProject(server, 'drift');
    const ds = await server.ok(`mutation($input: CreateDatasetInput!) { createDataset(input: $input) { dataset { id } } }`,
      { input: { projectSlug: project.slug, name: unique('train') } });
    const dv = await server.ok(`mutation($input: CreateDatasetVersionInput!) { createDatasetVersion(input: $input) { datasetVersion { id } } }`,
      { input: { datasetId: ds.createDataset.dataset.id, digest: unique('sha256'), columns: [age([10, 20, 20, 10])] } });
    const version = await createVersion(server, (await createModel(server, project.slug)).id);
    return { reference: { datasetVersionId: dv.createDatasetVersion.datasetVersion.id }, modelVersionId: version.id };
  }
  const profile = (server: TestServer, modelVersionId: string, fromAge: number, toAge: number) =>
    server.ok(RECORD, { input: { modelVersionId, from: ago(fromAge), to: ago(toAge), columns: [age([1, 2, 2, 1])] } });

  test('a production side defaults to the last day; over 90 days is refused; repeated features are compared once', async () => {
    const { reference, modelVersionId } = await setup(t);
    await profile(t, modelVersionId, 10 * DAY, 10 * DAY - HOUR);
    const none = await t.gql(REPORT, { reference, current: { modelVersionId } });
    expect(ext(none)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'current' });
    await profile(t, modelVersionId, 2 * HOUR, HOUR);
    expect((await t.ok(REPORT, { reference, current: { modelVersionId } })).driftReport.features).toEqual([{ name: 'age' }]);
    expect((await t.ok(REPORT, { reference, current: { modelVersionId, from: ago(11 * DAY) }, features: ['age', 'age'] })).driftReport.features)
      .toEqual([{ name: 'age' }]);
    const long = await t.gql(REPORT, { reference, current: { modelVersionId, from: ago(91 * DAY) } });
    expect(ext(long)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'current.from', limit: 'maxRangeSeconds', max: 90 * DAY });
    // An error about a feature names its place in the list as sent, repeats included.
    expect(ext(await t.gql(REPORT, { reference, current: { modelVersionId }, features: ['age', 'age', 'nope'] }))).toMatchObject({ field: 'features.2' });
  });

  test('a window may merge at most MODELGRAPH_DRIFT_MAX_PROFILES profiles', async () => {
    const small = await startTestServer({ MODELGRAPH_DRIFT_MAX_PROFILES: '2' });
    try {
      const { reference, modelVersionId } = await setup(small);
      await profile(small, modelVersionId, 3 * HOUR, 2 * HOUR);
      await profile(small, modelVersionId, 2 * HOUR, HOUR);
      expect((await small.ok(REPORT, { reference, current: { modelVersionId } })).driftReport.features).toHaveLength(1);
      await profile(small, modelVersionId, HOUR, 60);
      const res = await small.gql(REPORT, { reference, current: { modelVersionId } });
      expect(ext(res)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'current', limit: 'maxProfiles', max: 2 });
      expect(await small.ok(REPORT, { reference, current: { modelVersionId, from: ago(HOUR + 1) } })).toBeTruthy();
    } finally {
      await small.stop();
    }
  });
});

describe('other list arguments', () => {
  test('nodes, compareModelVersions and registryEvents cap their lists; repeats follow each one\'s rule', async () => {
    const { slug } = await createProject(t, 'lists');
    const v = await createVersion(t, (await createModel(t, slug)).id);
    refusedUpFront(await t.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: Array(101).fill(v.id) }), { field: 'ids', max: 100 });
    const twice = await t.ok(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: [v.id, v.id] });
    expect(twice.nodes).toEqual([{ id: v.id }, { id: v.id }]);
    const COMPARE = `query($ids: [ID!]!, $m: [String!]) { compareModelVersions(ids: $ids, metrics: $m) { metrics rows { values } } }`;
    refusedUpFront(await t.gql(COMPARE, { ids: [v.id], m: Array.from({ length: 101 }, (_, i) => `m${i}`) }), { field: 'metrics', max: 100 });
    expect((await t.ok(COMPARE, { ids: [v.id], m: ['acc', 'acc', 'f1'] })).compareModelVersions).toEqual({ metrics: ['acc', 'f1'], rows: [{ values: [null, null] }] });
    // The cap is the number of event types (repeats are removed, so more entries than types can only be repeats).
    const typeCount = Object.keys(RegistryEventType).length;
    const types = [...Array(typeCount).fill('MODEL_CREATED'), 'ALIAS_SET'];
    const res = await wsRequest(t.ws(), `subscription($s: String!, $types: [RegistryEventType!]) { registryEvents(projectSlug: $s, types: $types) { cursor } }`, { s: slug, types });
    expect(ext(res)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'types', max: typeCount });
  });
});

import { TestServer, createKey, createModel, createProject, createVersion, startTestServer, unique } from './support/harness';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const CREATE = `mutation($input: CreateFeatureSetInput!) { createFeatureSet(input: $input) {
  featureSet { id name description entityKey ttlSeconds createdAt features { name dtype description } project { slug } } } }`;
const WRITE = `mutation($input: WriteFeatureValuesInput!) { writeFeatureValues(input: $input) { written duplicate } }`;
const ONLINE = `query($id: ID!, $keys: [String!]!, $features: [String!]) { node(id: $id) { ... on FeatureSet {
  onlineFeatures(entityKeys: $keys, features: $features) { entityKey asOf values { feature value status eventTimestamp } } } } }`;
const HISTORICAL = `query($id: ID!, $rows: [EntityAsOfInput!]!, $features: [String!]) { node(id: $id) { ... on FeatureSet {
  historicalFeatures(rows: $rows, features: $features) { entityKey asOf values { feature value status eventTimestamp } } } } }`;

const codeOf = (res: { errors?: { extensions: { code: string } }[] }) => res.errors?.[0]?.extensions.code;
const blamed = (res: { errors?: { extensions: Record<string, unknown> }[] }) => {
  const ext = (res.errors?.[0]?.extensions ?? {}) as { field?: string; fields?: { field: string }[] };
  return [...(ext.fields ?? []).map((f) => f.field), ...(ext.field ? [ext.field] : [])];
};

/** Event times relative to now, so TTL tests need no sleeping. */
const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();
const at = (iso: string) => new Date(iso).toISOString();

async function createFeatureSet(slug: string, extra: Record<string, unknown> = {}, key?: string) {
  const data = await t.ok(CREATE, {
    input: {
      projectSlug: slug, name: unique('fs'), entityKey: 'customer_id',
      features: [{ name: 'age', dtype: 'INT' }, { name: 'spend', dtype: 'FLOAT' }, { name: 'segment', dtype: 'CATEGORY' }],
      ...extra,
    },
  }, key);
  return data.createFeatureSet.featureSet as { id: string; name: string };
}

const write = (featureSetId: string, rows: unknown[], idempotencyKey?: string, key?: string | null) =>
  t.gql(WRITE, { input: { featureSetId, rows, idempotencyKey } }, key);

async function online(id: string, keys: string[], features?: string[]) {
  return (await t.ok(ONLINE, { id, keys, features })).node.onlineFeatures;
}

async function historical(id: string, rows: { entityKey: string; asOf: string }[], features?: string[]) {
  return (await t.ok(HISTORICAL, { id, rows, features })).node.historicalFeatures;
}

/** Every value stored for a feature set, in either table: proves a failed write left nothing. */
async function storedCounts(featureSetGlobalId: string): Promise<{ offline: number; online: number }> {
  const key = Buffer.from(featureSetGlobalId, 'base64url').toString().split(':')[1];
  const [row] = await t.server.db.query(
    `SELECT (SELECT count(*) FROM feature_value WHERE feature_set_id = $1)::int AS offline,
            (SELECT count(*) FROM feature_online WHERE feature_set_id = $1)::int AS online`, [key],
  );
  return row;
}

describe('definitions', () => {
  test('create, read by name, list and paginate by name; CONFLICT on a duplicate name', async () => {
    const { slug } = await createProject(t);
    const data = await t.ok(CREATE, {
      input: {
        projectSlug: slug, name: 'customer-stats', description: 'Per customer', entityKey: 'customer_id', ttlSeconds: 86400,
        features: [{ name: 'age', dtype: 'INT', description: 'Years' }, { name: 'embedding', dtype: 'EMBEDDING' }],
      },
    });
    expect(data.createFeatureSet.featureSet).toMatchObject({
      name: 'customer-stats', description: 'Per customer', entityKey: 'customer_id', ttlSeconds: 86400, project: { slug },
      features: [{ name: 'age', dtype: 'INT', description: 'Years' }, { name: 'embedding', dtype: 'EMBEDDING', description: null }],
    });
    for (const name of ['delta', 'alpha', 'charlie', 'bravo']) {
      await t.ok(CREATE, { input: { projectSlug: slug, name, entityKey: 'id', features: [{ name: 'x', dtype: 'JSON' }] } });
    }
    const byName = await t.ok(`query($s: String!) { project(slug: $s) { featureSet(name: "customer-stats") { id ttlSeconds } none: featureSet(name: "nope") { id } } }`, { s: slug });
    expect(byName.project.featureSet).toEqual({ id: data.createFeatureSet.featureSet.id, ttlSeconds: 86400 });
    expect(byName.project.none).toBeNull();

    const names: string[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const page: any = await t.ok(`query($s: String!, $after: String) { project(slug: $s) { featureSets(first: 2, after: $after) {
        edges { cursor node { name } } nodes { name } pageInfo { hasNextPage hasPreviousPage endCursor } } } }`, { s: slug, after });
      const c = page.project.featureSets;
      expect(c.pageInfo.hasPreviousPage).toBe(after !== null);
      names.push(...c.nodes.map((n: { name: string }) => n.name));
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    expect(names).toEqual(['alpha', 'bravo', 'charlie', 'customer-stats', 'delta']);

    const dup = await t.gql(CREATE, { input: { projectSlug: slug, name: 'alpha', entityKey: 'id', features: [{ name: 'x', dtype: 'INT' }] } });
    expect(dup.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'name' });
    // The same name in another project is fine.
    const other = await createProject(t);
    await t.ok(CREATE, { input: { projectSlug: other.slug, name: 'alpha', entityKey: 'id', features: [{ name: 'x', dtype: 'INT' }] } });

    const audit = await t.ok(`query($s: String!) { project(slug: $s) { auditEvents(filter: { action: "featureSet.create" }, first: 10) { nodes { targetId } } } }`, { s: slug });
    expect(audit.project.auditEvents.nodes.map((n: { targetId: string }) => n.targetId)).toContain(data.createFeatureSet.featureSet.id);
    const badCursor = await t.gql(`query($s: String!) { project(slug: $s) { featureSets(after: "nonsense!") { nodes { name } } } }`, { s: slug });
    expect(codeOf(badCursor)).toBe('BAD_USER_INPUT');
  });

  test.each([
    ['a bad name', { name: 'Bad Name' }, 'name'],
    ['no features', { features: [] }, 'features'],
    ['a bad feature name', { features: [{ name: 'Age!', dtype: 'INT' }] }, 'features.0.name'],
    ['a feature defined twice', { features: [{ name: 'a', dtype: 'INT' }, { name: 'a', dtype: 'FLOAT' }] }, 'features.1.name'],
    ['an empty entityKey', { entityKey: '' }, 'entityKey'],
    ['ttlSeconds 0', { ttlSeconds: 0 }, 'ttlSeconds'],
    ['negative ttlSeconds', { ttlSeconds: -5 }, 'ttlSeconds'],
  ])('%s is BAD_USER_INPUT and creates nothing', async (_label, bad, field) => {
    const { slug } = await createProject(t);
    const name = unique('fs');
    const res = await t.gql(CREATE, { input: { projectSlug: slug, name, entityKey: 'id', features: [{ name: 'x', dtype: 'INT' }], ...bad } });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(blamed(res)).toEqual([field]);
    const list = await t.ok(`query($s: String!) { project(slug: $s) { featureSets { nodes { id } } } }`, { s: slug });
    expect(list.project.featureSets.nodes).toEqual([]);
  });
});

describe('writes', () => {
  const ALL_TYPES = [
    { name: 'i', dtype: 'INT' }, { name: 'f', dtype: 'FLOAT' }, { name: 'b', dtype: 'BOOL' }, { name: 's', dtype: 'STRING' },
    { name: 'c', dtype: 'CATEGORY' }, { name: 'ts', dtype: 'TIMESTAMP' }, { name: 'txt', dtype: 'TEXT' },
    { name: 'e', dtype: 'EMBEDDING' }, { name: 'j', dtype: 'JSON' },
  ];
  const BAD: [string, unknown][] = [
    ['i', 1.5], ['i', '3'], ['i', true], ['f', '1.0'], ['f', [1]], ['b', 'true'], ['b', 0],
    ['s', 5], ['c', false], ['txt', { a: 1 }], ['ts', 'yesterday'], ['ts', '2026-11-26'], ['ts', 1764000000],
    ['e', []], ['e', [1, 'x']], ['e', 'not a vector'],
  ];

  test.each(BAD)('a %s value of %j rejects the whole write (naming rows.1.values.<feature>) and writes nothing', async (feature, value) => {
    const { slug } = await createProject(t);
    const fs = await createFeatureSet(slug, { features: ALL_TYPES });
    const res = await write(fs.id, [
      { entityKey: 'c1', eventTimestamp: ago(60), values: { i: 1, f: 2.5 } },
      { entityKey: 'c2', eventTimestamp: ago(60), values: { [feature]: value } },
    ]);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(blamed(res)).toEqual([`rows.1.values.${feature}`]);
    expect(await storedCounts(fs.id)).toEqual({ offline: 0, online: 0 });
  });

  test('unknown features and empty values are BAD_USER_INPUT; every offender is named', async () => {
    const { slug } = await createProject(t);
    const fs = await createFeatureSet(slug);
    const res = await write(fs.id, [
      { entityKey: 'c1', eventTimestamp: ago(1), values: { age: 30, height: 180 } },
      { entityKey: 'c2', eventTimestamp: ago(1), values: {} },
      { entityKey: 'c3', eventTimestamp: ago(1), values: { age: 'old' } },
    ]);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(blamed(res)).toEqual(['rows.0.values.height', 'rows.1.values', 'rows.2.values.age']);
    const noRows = await write(fs.id, []);
    expect(codeOf(noRows)).toBe('BAD_USER_INPUT');
    const emptyKey = await write(fs.id, [{ entityKey: '', eventTimestamp: ago(1), values: { age: 1 } }]);
    expect(codeOf(emptyKey)).toBe('BAD_USER_INPUT');
    const notObject = await write(fs.id, [{ entityKey: 'c1', eventTimestamp: ago(1), values: [1] }]);
    expect(codeOf(notObject)).toBe('BAD_USER_INPUT');
    expect(await storedCounts(fs.id)).toEqual({ offline: 0, online: 0 });
  });

  test('values of every dtype round-trip; null is a written missing value; TIMESTAMP is normalized to UTC', async () => {
    const { slug } = await createProject(t);
    const fs = await createFeatureSet(slug, { features: ALL_TYPES });
    const values = {
      i: 42, f: 0.25, b: false, s: 'abc', c: 'gold', ts: '2026-11-26T21:00:00+01:00', txt: 'long text', e: [0.1, -2, 3e-5],
      j: { nested: [1, { x: null }] },
    };
    const when = ago(30);
    const res = await write(fs.id, [{ entityKey: 'c1', eventTimestamp: when, values }]);
    expect(res.data.writeFeatureValues).toEqual({ written: 1, duplicate: false });
    const [v] = await online(fs.id, ['c1']);
    expect(Object.fromEntries(v.values.map((x: any) => [x.feature, x.value]))).toEqual({ ...values, ts: '2026-11-26T20:00:00.000Z' });
    expect(v.values.every((x: any) => x.status === 'PRESENT' && x.eventTimestamp === when)).toBe(true);
    // A later null hides the older value: the feature was observed missing.
    await write(fs.id, [{ entityKey: 'c1', eventTimestamp: ago(10), values: { i: null } }]);
    const [after] = await online(fs.id, ['c1'], ['i', 'f']);
    expect(after.values).toEqual([
      { feature: 'i', value: null, status: 'PRESENT', eventTimestamp: expect.any(String) },
      { feature: 'f', value: 0.25, status: 'PRESENT', eventTimestamp: when },
    ]);
    const audit = await t.ok(`query($s: String!) { project(slug: $s) { auditEvents(filter: { action: "featureValues.write" }) { nodes { targetId details } } } }`, { s: slug });
    expect(audit.project.auditEvents.nodes[1]).toEqual({ targetId: fs.id, details: { before: null, after: { rows: 1, values: 9, entities: 1, idempotencyKey: null } } });
  });

  test('at most 10,000 rows per call', async () => {
    const { slug } = await createProject(t);
    const fs = await createFeatureSet(slug, { features: [{ name: 'x', dtype: 'INT' }] });
    const rows = Array.from({ length: 10_001 }, (_, i) => ({ entityKey: `${i}`, eventTimestamp: '2026-01-01T00:00:00Z', values: { x: 1 } }));
    const res = await write(fs.id, rows);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(blamed(res)).toEqual(['rows']);
  });

  test('idempotencyKey: a retry writes nothing and returns the first count, also when concurrent', async () => {
    const { slug } = await createProject(t);
    const fs = await createFeatureSet(slug);
    const key = unique('batch');
    const rows = [
      { entityKey: 'c1', eventTimestamp: ago(100), values: { age: 30 } },
      { entityKey: 'c2', eventTimestamp: ago(100), values: { age: 40, spend: 1.5 } },
    ];
    expect((await write(fs.id, rows, key)).data.writeFeatureValues).toEqual({ written: 2, duplicate: false });
    const retry = await write(fs.id, [{ entityKey: 'c1', eventTimestamp: ago(1), values: { age: 99 } }], key);
    expect(retry.data.writeFeatureValues).toEqual({ written: 2, duplicate: true });
    expect((await online(fs.id, ['c1'], ['age']))[0].values[0].value).toBe(30);
    expect(await storedCounts(fs.id)).toEqual({ offline: 3, online: 3 });
    // The same key on another feature set is another write.
    const other = await createFeatureSet(slug);
    expect((await write(other.id, rows, key)).data.writeFeatureValues).toEqual({ written: 2, duplicate: false });

    const raceKey = unique('race');
    const race = await Promise.all(Array.from({ length: 4 }, () => write(fs.id, [{ entityKey: 'c9', eventTimestamp: ago(5), values: { age: 1 } }], raceKey)));
    for (const r of race) expect(r.errors).toBeUndefined();
    const results = race.map((r) => r.data.writeFeatureValues);
    expect(results.filter((r) => !r.duplicate)).toEqual([{ written: 1, duplicate: false }]);
    expect(results.filter((r) => r.duplicate)).toHaveLength(3);
    expect(await storedCounts(fs.id)).toEqual({ offline: 4, online: 4 });
  });

  test('a write costs the same number of SQL statements for 10 rows and for 1000', async () => {
    const { slug } = await createProject(t);
    const fs = await createFeatureSet(slug);
    const rows = (n: number, offset: number) => Array.from({ length: n }, (_, i) => ({
      entityKey: `c${i}`, eventTimestamp: ago(1000 - offset), values: { age: i, spend: i / 2, segment: 'a' },
    }));
    const statements = async (n: number, offset: number, idempotencyKey?: string) => {
      const [statements, res] = await t.countStatements(() => write(fs.id, rows(n, offset), idempotencyKey));
      expect(res.data.writeFeatureValues.written).toBe(n);
      return statements;
    };
    await statements(1, 0); // warm-up: the key's lastUsedAt write happens at most once a minute
    const small = await statements(10, 1);
    const large = await statements(1000, 2);
    expect(large).toBe(small);
    expect(await statements(1000, 3, unique('k'))).toBe(await statements(10, 4, unique('k')));
    // Reads too: online and historical for 10 keys and for 1000 keys.
    const readCount = async (n: number) => {
      const keys = Array.from({ length: n }, (_, i) => `c${i}`);
      const [statements] = await t.countStatements(async () => {
        await online(fs.id, keys);
        await historical(fs.id, keys.map((k) => ({ entityKey: k, asOf: ago(0) })));
      });
      return statements;
    };
    expect(await readCount(1000)).toBe(await readCount(10));
  });
});

describe('online reads', () => {
  test('the newest event wins, a late-arriving older row does not overwrite it; order and duplicates of keys are kept', async () => {
    const { slug } = await createProject(t);
    const fs = await createFeatureSet(slug);
    const t1 = ago(3000);
    const t2 = ago(2000);
    const t3 = ago(1000);
    await write(fs.id, [{ entityKey: 'c1', eventTimestamp: t2, values: { age: 2, segment: 'b' } }]);
    // Late-arriving: older than what is online.
    await write(fs.id, [{ entityKey: 'c1', eventTimestamp: t1, values: { age: 1, spend: 10 } }]);
    let [v] = await online(fs.id, ['c1']);
    expect(v).toEqual({
      entityKey: 'c1', asOf: null,
      values: [
        { feature: 'age', value: 2, status: 'PRESENT', eventTimestamp: t2 },
        { feature: 'spend', value: 10, status: 'PRESENT', eventTimestamp: t1 },
        { feature: 'segment', value: 'b', status: 'PRESENT', eventTimestamp: t2 },
      ],
    });
    // Within one call too: the newest of the rows wins, whatever their order.
    await write(fs.id, [
      { entityKey: 'c1', eventTimestamp: t3, values: { age: 3 } },
      { entityKey: 'c1', eventTimestamp: t1, values: { age: 0 } },
      { entityKey: 'c2', eventTimestamp: t1, values: { age: 7 } },
    ]);
    [v] = await online(fs.id, ['c1'], ['age']);
    expect(v.values).toEqual([{ feature: 'age', value: 3, status: 'PRESENT', eventTimestamp: t3 }]);

    const many = await online(fs.id, ['c2', 'missing', 'c1', 'c2'], ['segment', 'age']);
    expect(many.map((x: any) => x.entityKey)).toEqual(['c2', 'missing', 'c1', 'c2']);
    expect(many[0].values).toEqual([
      { feature: 'segment', value: null, status: 'NOT_FOUND', eventTimestamp: null },
      { feature: 'age', value: 7, status: 'PRESENT', eventTimestamp: t1 },
    ]);
    expect(many[1].values.map((x: any) => x.status)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    expect(many[2].values.map((x: any) => x.value)).toEqual(['b', 3]);
    expect(many[3]).toEqual(many[0]);

    const unknown = await t.gql(ONLINE, { id: fs.id, keys: ['c1'], features: ['age', 'height'] });
    expect(codeOf(unknown)).toBe('BAD_USER_INPUT');
    expect(blamed(unknown)).toEqual(['features']);
    const tooMany = await t.gql(ONLINE, { id: fs.id, keys: Array.from({ length: 1001 }, (_, i) => `${i}`) });
    expect(codeOf(tooMany)).toBe('BAD_USER_INPUT');
    expect(blamed(tooMany)).toEqual(['entityKeys']);
  });

  test('values older than ttlSeconds are EXPIRED, with their event time and no value', async () => {
    const { slug } = await createProject(t);
    const fs = await createFeatureSet(slug, { ttlSeconds: 3600 });
    const old = ago(7200);
    const fresh = ago(600);
    await write(fs.id, [
      { entityKey: 'c1', eventTimestamp: old, values: { age: 1, spend: 2 } },
      { entityKey: 'c1', eventTimestamp: fresh, values: { spend: 3 } },
    ]);
    const [v] = await online(fs.id, ['c1'], ['age', 'spend', 'segment']);
    expect(v.values).toEqual([
      { feature: 'age', value: null, status: 'EXPIRED', eventTimestamp: old },
      { feature: 'spend', value: 3, status: 'PRESENT', eventTimestamp: fresh },
      { feature: 'segment', value: null, status: 'NOT_FOUND', eventTimestamp: null },
    ]);
  });

  test('online reads of several feature sets in one query are batched', async () => {
    const { slug } = await createProject(t);
    const sets = [];
    for (let i = 0; i < 3; i++) {
      const fs = await createFeatureSet(slug);
      await write(fs.id, [{ entityKey: 'c1', eventTimestamp: ago(10), values: { age: i } }]);
      sets.push(fs);
    }
    const query = `query($s: String!) { project(slug: $s) { featureSets { nodes { name onlineFeatures(entityKeys: ["c1"], features: ["age"]) { values { value } }
      historicalFeatures(rows: [{ entityKey: "c1", asOf: "2100-01-01T00:00:00Z" }], features: ["age"]) { values { value } } } } } }`;
    const [used, data] = await t.countStatements(() => t.ok(query, { s: slug }));
    const byName = Object.fromEntries(data.project.featureSets.nodes.map((n: any) => [n.name, [n.onlineFeatures[0].values[0].value, n.historicalFeatures[0].values[0].value]]));
    expect(byName).toEqual(Object.fromEntries(sets.map((s, i) => [s.name, [i, i]])));
    // project, the page, one online and one historical statement (and at most the key check).
    expect(used).toBeLessThanOrEqual(6);
  });
});

describe('historical reads', () => {
  test('point-in-time correct: the newest value at or before asOf, never a later one', async () => {
    const { slug } = await createProject(t);
    const fs = await createFeatureSet(slug);
    const T = (h: number) => at(`2026-06-01T${String(h).padStart(2, '0')}:00:00Z`);
    await write(fs.id, [
      { entityKey: 'c1', eventTimestamp: T(10), values: { age: 10, segment: 'a' } },
      { entityKey: 'c1', eventTimestamp: T(12), values: { age: 12 } },
      { entityKey: 'c1', eventTimestamp: T(14), values: { age: 14, segment: 'c' } },
      { entityKey: 'c2', eventTimestamp: T(11), values: { age: 99 } },
    ]);
    // Late-arriving, written after the newer ones: visible to point-in-time reads at its time.
    await write(fs.id, [{ entityKey: 'c1', eventTimestamp: T(11), values: { age: 11 } }]);
    const rows = [
      { entityKey: 'c1', asOf: T(9) },
      { entityKey: 'c1', asOf: T(10) },
      { entityKey: 'c1', asOf: at('2026-06-01T11:30:00Z') },
      { entityKey: 'c1', asOf: at('2026-06-01T13:59:59.999Z') },
      { entityKey: 'c1', asOf: T(20) },
      { entityKey: 'c2', asOf: T(10) },
      { entityKey: 'c2', asOf: T(12) },
      { entityKey: 'c1', asOf: T(10) },
    ];
    const vectors = await historical(fs.id, rows, ['age', 'segment']);
    expect(vectors.map((v: any) => [v.entityKey, v.asOf])).toEqual(rows.map((r) => [r.entityKey, r.asOf]));
    const summary = vectors.map((v: any) => v.values.map((x: any) => (x.status === 'PRESENT' ? [x.value, x.eventTimestamp] : x.status)));
    expect(summary).toEqual([
      ['NOT_FOUND', 'NOT_FOUND'],
      [[10, T(10)], ['a', T(10)]],
      [[11, T(11)], ['a', T(10)]],
      [[12, T(12)], ['a', T(10)]],
      [[14, T(14)], ['c', T(14)]],
      ['NOT_FOUND', 'NOT_FOUND'],
      [[99, T(11)], 'NOT_FOUND'],
      [[10, T(10)], ['a', T(10)]],
    ]);
    const tooMany = await t.gql(HISTORICAL, { id: fs.id, rows: Array.from({ length: 10_001 }, () => ({ entityKey: 'c1', asOf: T(1) })) });
    expect(codeOf(tooMany)).toBe('BAD_USER_INPUT');
    const unknown = await t.gql(HISTORICAL, { id: fs.id, rows: [{ entityKey: 'c1', asOf: T(1) }], features: ['nope'] });
    expect(codeOf(unknown)).toBe('BAD_USER_INPUT');
  });

  test('EXPIRED when the newest value at asOf is older than asOf - ttl', async () => {
    const { slug } = await createProject(t);
    const fs = await createFeatureSet(slug, { ttlSeconds: 3600 });
    await write(fs.id, [{ entityKey: 'c1', eventTimestamp: '2026-06-01T10:00:00.000Z', values: { age: 1 } }]);
    const [within, edge, expired] = await historical(fs.id, [
      { entityKey: 'c1', asOf: '2026-06-01T10:30:00.000Z' },
      { entityKey: 'c1', asOf: '2026-06-01T11:00:00.000Z' },
      { entityKey: 'c1', asOf: '2026-06-01T11:00:00.001Z' },
    ], ['age']);
    expect(within.values[0]).toEqual({ feature: 'age', value: 1, status: 'PRESENT', eventTimestamp: '2026-06-01T10:00:00.000Z' });
    expect(edge.values[0].status).toBe('PRESENT');
    expect(expired.values[0]).toEqual({ feature: 'age', value: null, status: 'EXPIRED', eventTimestamp: '2026-06-01T10:00:00.000Z' });
  });
});

describe('model versions', () => {
  const VERSION_SETS = `query($id: ID!) { node(id: $id) { ... on ModelVersion { featureSets { id name } } } }`;

  test('a version links the feature sets it reads; duplicates collapse; another project\'s is NOT_FOUND', async () => {
    const { slug } = await createProject(t);
    const a = await createFeatureSet(slug, { name: 'b-set' });
    const b = await createFeatureSet(slug, { name: 'a-set' });
    const model = await createModel(t, slug);
    const v = await createVersion(t, model.id, { featureSetIds: [a.id, b.id, a.id] });
    const data = await t.ok(VERSION_SETS, { id: v.id });
    expect(data.node.featureSets).toEqual([{ id: b.id, name: 'a-set' }, { id: a.id, name: 'b-set' }]);
    const plain = await createVersion(t, model.id);
    expect((await t.ok(VERSION_SETS, { id: plain.id })).node.featureSets).toEqual([]);

    const other = await createProject(t);
    const foreign = await createFeatureSet(other.slug);
    const res = await t.gql(`mutation($input: CreateModelVersionInput!) { createModelVersion(input: $input) { modelVersion { id } } }`,
      { input: { modelId: model.id, artifact: { uri: 's3://x' }, featureSetIds: [a.id, foreign.id] } });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'featureSetIds' });
    const notAnId = await t.gql(`mutation($input: CreateModelVersionInput!) { createModelVersion(input: $input) { modelVersion { id } } }`,
      { input: { modelId: model.id, artifact: { uri: 's3://x' }, featureSetIds: [model.id] } });
    expect(codeOf(notAnId)).toBe('BAD_USER_INPUT');
    // Nothing was registered by the failed calls: the numbering has no gap.
    const latest = await t.ok(`query($id: ID!) { node(id: $id) { ... on Model { latestVersion { number } } } }`, { id: model.id });
    expect(latest.node.latestVersion.number).toBe(2);
  });

  test('featureSets of many versions cost one statement', async () => {
    const { slug } = await createProject(t);
    const fs = await createFeatureSet(slug);
    const model = await createModel(t, slug);
    for (let i = 0; i < 5; i++) await createVersion(t, model.id, { featureSetIds: [fs.id] });
    const query = `query($id: ID!) { node(id: $id) { ... on Model { versions { nodes { featureSets { name } } } } } }`;
    await t.ok(query, { id: model.id });
    const [statements, data] = await t.countStatements(() => t.ok(query, { id: model.id }));
    expect(data.node.versions.nodes).toEqual(Array.from({ length: 5 }, () => ({ featureSets: [{ name: fs.name }] })));
    // model, versions page, feature sets.
    expect(statements).toBeLessThanOrEqual(4);
  });
});

describe('access', () => {
  test('VIEWER reads but cannot write; to keys of another project it does not exist; node(id) resolves', async () => {
    const p = await createProject(t);
    const other = await createProject(t);
    const viewer = await createKey(t, 'VIEWER', p.slug);
    const editor = await createKey(t, 'EDITOR', p.slug);
    const outsider = await createKey(t, 'EDITOR', other.slug);
    const fs = await createFeatureSet(p.slug, {}, editor);
    const row = [{ entityKey: 'c1', eventTimestamp: ago(5), values: { age: 5 } }];

    expect((await write(fs.id, row, undefined, editor)).data.writeFeatureValues.written).toBe(1);
    expect(codeOf(await write(fs.id, row, undefined, viewer))).toBe('FORBIDDEN');
    expect(codeOf(await write(fs.id, row, undefined, outsider))).toBe('NOT_FOUND');
    expect(codeOf(await write(fs.id, row, undefined, null))).toBe('UNAUTHENTICATED');
    const createAsViewer = await t.gql(CREATE, { input: { projectSlug: p.slug, name: unique('fs'), entityKey: 'id', features: [{ name: 'x', dtype: 'INT' }] } }, viewer);
    expect(codeOf(createAsViewer)).toBe('FORBIDDEN');
    const createElsewhere = await t.gql(CREATE, { input: { projectSlug: p.slug, name: unique('fs'), entityKey: 'id', features: [{ name: 'x', dtype: 'INT' }] } }, outsider);
    expect(codeOf(createElsewhere)).toBe('NOT_FOUND');

    const read = await t.ok(ONLINE, { id: fs.id, keys: ['c1'], features: ['age'] }, viewer);
    expect(read.node.onlineFeatures[0].values[0].value).toBe(5);
    const node = await t.ok(`query($id: ID!) { node(id: $id) { __typename id ... on FeatureSet { name project { slug } } } }`, { id: fs.id }, viewer);
    expect(node.node).toEqual({ __typename: 'FeatureSet', id: fs.id, name: fs.name, project: { slug: p.slug } });
    const nodeElsewhere = await t.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: fs.id }, outsider);
    expect(nodeElsewhere).toMatchObject({ data: { node: null } });
    expect(nodeElsewhere.errors).toBeUndefined();
    const missing = await t.ok(`query($id: ID!) { node(id: $id) { id } }`, { id: Buffer.from('FeatureSet:00000000-0000-4000-8000-000000000000').toString('base64url') });
    expect(missing.node).toBeNull();
    const writeMissing = await write(Buffer.from('FeatureSet:00000000-0000-4000-8000-000000000000').toString('base64url'), row);
    expect(codeOf(writeMissing)).toBe('NOT_FOUND');
    const wrongType = await write(p.id, row);
    expect(codeOf(wrongType)).toBe('BAD_USER_INPUT');
  });
});

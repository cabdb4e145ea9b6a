import { GqlResponse, TestServer, createKey, createModel, createProject, createVersion, startTestServer, unique } from './support/harness';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t.stop(); });

const codeOf = (res: GqlResponse) => res.errors?.[0]?.extensions.code;

const RECORD = `mutation($input: RecordColumnProfileInput!) { recordColumnProfile(input: $input) { accepted } }`;
const REPORT = `query($reference: DriftSideInput!, $current: DriftSideInput!, $method: DriftMethod, $features: [String!], $shareThreshold: Float) {
  driftReport(reference: $reference, current: $current, method: $method, features: $features, shareThreshold: $shareThreshold) {
    driftedShare drifted features { name method statistic pValue threshold drifted } } }`;

const EDGES = [0, 10, 20, 30, 40];
const num = (name: string, counts: number[], extra: Record<string, unknown> = {}) => ({
  name, dtype: 'FLOAT',
  statistics: { count: counts.reduce((a, b) => a + b, 0), nullCount: 0, histogram: { edges: EDGES, counts }, ...extra },
});
const cat = (name: string, top: Record<string, number>, dtype = 'CATEGORY') => {
  const count = Object.values(top).reduce((a, b) => a + b, 0);
  return { name, dtype, statistics: { count, nullCount: 0, topValues: Object.entries(top).map(([value, count]) => ({ value, count })) } };
};

const H = (hour: number) => new Date(Date.UTC(2026, 10, 20, hour)).toISOString();

/** A project with a training dataset version and a model version. */
async function setup(columns: unknown[]) {
  const project = await createProject(t, 'drift');
  const ds = await t.ok(`mutation($input: CreateDatasetInput!) { createDataset(input: $input) { dataset { id } } }`,
    { input: { projectSlug: project.slug, name: unique('train') } });
  const dv = await t.ok(`mutation($input: CreateDatasetVersionInput!) { createDatasetVersion(input: $input) { datasetVersion { id } } }`,
    { input: { datasetId: ds.createDataset.dataset.id, digest: unique('sha256'), columns } });
  const model = await createModel(t, project.slug);
  const version = await createVersion(t, model.id);
  return { project, datasetVersionId: dv.createDatasetVersion.datasetVersion.id as string, modelVersionId: version.id };
}

const TRAINING = [
  num('age', [100, 200, 200, 100], { mean: 20, stddev: 10 }),
  cat('country', { us: 300, de: 200, fr: 100 }),
  cat('premium', { true: 30, false: 70 }, 'BOOL'),
  { name: 'notes', dtype: 'TEXT' },
];

test('profiles are recorded (EDITOR, audited, same window replaced) and merged over a window', async () => {
  const { project, datasetVersionId, modelVersionId } = await setup(TRAINING);
  const editor = await createKey(t, 'EDITOR', project.slug);
  const viewer = await createKey(t, 'VIEWER', project.slug);
  const first = await t.ok(RECORD, { input: { modelVersionId, from: H(0), to: H(1), columns: [num('age', [100, 200, 200, 100]), cat('country', { us: 300, de: 200, fr: 100 })] } }, editor);
  expect(first.recordColumnProfile.accepted).toBe(2);
  expect(codeOf(await t.gql(RECORD, { input: { modelVersionId, from: H(1), to: H(2), columns: [num('age', [1, 1, 1, 1])] } }, viewer))).toBe('FORBIDDEN');

  // Second hour: the same distribution of age; together with the first, no drift.
  await t.ok(RECORD, { input: { modelVersionId, from: H(1), to: H(2), columns: [num('age', [10, 20, 20, 10])] } }, editor);
  const same = await t.ok(REPORT, { reference: { datasetVersionId }, current: { modelVersionId, from: H(0), to: H(2) }, features: ['age'], method: 'KS' });
  expect(same.driftReport.features).toEqual([{ name: 'age', method: 'KS', statistic: 0, pValue: 1, threshold: 0.05, drifted: false }]);

  // A third hour entirely in the top bin: merged over three hours the shape moves.
  await t.ok(RECORD, { input: { modelVersionId, from: H(2), to: H(3), columns: [num('age', [0, 0, 0, 660])] } }, editor);
  const moved = await t.ok(REPORT, { reference: { datasetVersionId }, current: { modelVersionId, from: H(0), to: H(3) }, features: ['age'], method: 'KS' });
  // Reference CDF at 30: 5/6; merged current (110, 220, 220, 770 of 1320): 550/1320
  expect(moved.driftReport.features[0].statistic).toBeCloseTo(5 / 6 - 550 / 1320, 10);
  expect(moved.driftReport.features[0].drifted).toBe(true);
  // A window overlapping only the third hour sees only it; windows select whole profiles by overlap.
  const lastHour = await t.ok(REPORT, { reference: { datasetVersionId }, current: { modelVersionId, from: H(2), to: new Date(Date.parse(H(2)) + 60000).toISOString() }, features: ['age'], method: 'KS' });
  expect(lastHour.driftReport.features[0].statistic).toBeCloseTo(5 / 6, 10);

  // Recording the third hour again replaces it (a retry does not double-count).
  await t.ok(RECORD, { input: { modelVersionId, from: H(2), to: H(3), columns: [num('age', [110, 220, 220, 110])] } }, editor);
  const replaced = await t.ok(REPORT, { reference: { datasetVersionId }, current: { modelVersionId, from: H(0), to: H(3) }, features: ['age'], method: 'KS' });
  expect(replaced.driftReport.features[0].statistic).toBeCloseTo(0, 10);

  // Production against production: hour 0 against hours 0..3 of the same model version.
  const prodProd = await t.ok(REPORT, { reference: { modelVersionId, from: H(0), to: H(1) }, current: { modelVersionId, from: H(0), to: H(3) }, method: 'PSI' });
  expect(prodProd.driftReport.features.map((f: any) => [f.name, f.method])).toEqual([['age', 'PSI'], ['country', 'PSI']]);
  expect(prodProd.driftReport.features[0].statistic).toBeCloseTo(0, 10);

  const audit = await t.ok(`query($s: String!) { project(slug: $s) { auditEvents(filter: { action: "columnProfile.record" }) { nodes { targetId details } } } }`, { s: project.slug });
  const nodes = audit.project.auditEvents.nodes;
  expect(nodes).toHaveLength(4);
  expect(nodes.every((n: any) => n.targetId === modelVersionId)).toBe(true);
  expect(nodes.map((n: any) => n.details.after.replaced).sort()).toEqual([false, false, false, true]);
  expect(nodes.find((n: any) => n.details.after.columns.length === 2).details.after).toMatchObject({ from: H(0), to: H(1), columns: ['age', 'country'] });
});

test('recordColumnProfile validates the window and the columns with the dataset rules', async () => {
  const { modelVersionId } = await setup([]);
  const bad = async (input: Record<string, unknown>) => t.gql(RECORD, { input: { modelVersionId, from: H(0), to: H(1), columns: [num('age', [1, 1, 1, 1])], ...input } });
  const sameTime = await bad({ to: H(0) });
  expect(sameTime.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'from' });
  expect(codeOf(await bad({ columns: [] }))).toBe('BAD_USER_INPUT');
  const dup = await bad({ columns: [num('a', [1, 1, 1, 1]), num('a', [1, 1, 1, 1])] });
  expect(dup.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'columns.1.name' });
  const edges = await bad({ columns: [{ name: 'a', dtype: 'FLOAT', statistics: { count: 2, nullCount: 0, histogram: { edges: [0, 1], counts: [1, 1] } } }] });
  expect(edges.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'columns.0.statistics.histogram.edges' });
  const nulls = await bad({ columns: [{ name: 'a', dtype: 'FLOAT', statistics: { count: 1, nullCount: 2 } }] });
  expect(nulls.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'columns.0.statistics.nullCount' });
  expect(codeOf(await bad({ modelVersionId: 'garbage' }))).toBe('BAD_USER_INPUT');
  const { datasetVersionId } = await setup([]);
  expect(codeOf(await bad({ modelVersionId: datasetVersionId }))).toBe('BAD_USER_INPUT');
});

test('each method, and AUTO per dtype, between a dataset version and a production window', async () => {
  const { datasetVersionId, modelVersionId } = await setup(TRAINING);
  await t.ok(RECORD, { input: { modelVersionId, from: H(0), to: H(24), columns: [
    num('age', [50, 100, 200, 250], { mean: 24, stddev: 10 }),
    cat('country', { us: 100, de: 200, fr: 300 }),
    cat('premium', { true: 31, false: 69 }, 'BOOL'),
    { name: 'notes', dtype: 'TEXT' },
  ] } });
  const report = (method: string | null, features?: string[]) =>
    t.ok(REPORT, { reference: { datasetVersionId }, current: { modelVersionId, from: H(0), to: H(24) }, method, features });

  // AUTO with references of at most 1000 values: KS for numeric, chi-squared for categorical and BOOL; TEXT is skipped.
  const auto = (await report(null)).driftReport;
  expect(auto.features.map((f: any) => [f.name, f.method, f.threshold])).toEqual([
    ['age', 'KS', 0.05], ['country', 'CHI_SQUARED', 0.05], ['premium', 'CHI_SQUARED', 0.05],
  ]);
  expect(auto.features.map((f: any) => f.drifted)).toEqual([true, true, false]);
  expect(auto.features[2].pValue).toBeGreaterThan(0.5);
  expect(auto).toMatchObject({ driftedShare: 2 / 3, drifted: true });
  // KS: reference CDF at 20 is 0.5, current 0.25
  expect(auto.features[0].statistic).toBeCloseTo(0.25, 10);

  const psi = (await report('PSI', ['country'])).driftReport.features[0];
  const r = [0.5, 1 / 3, 1 / 6];
  const c = [1 / 6, 1 / 3, 0.5];
  expect(psi).toMatchObject({ method: 'PSI', pValue: null, threshold: 0.1, drifted: true });
  expect(psi.statistic).toBeCloseTo(r.reduce((s, ri, i) => s + (c[i] - ri) * Math.log(c[i] / ri), 0), 10);

  const js = (await report('JENSEN_SHANNON', ['age', 'country'])).driftReport.features;
  expect(js.map((f: any) => f.method)).toEqual(['JENSEN_SHANNON', 'JENSEN_SHANNON']);
  expect(js.every((f: any) => f.statistic > 0 && f.statistic <= 1 && f.pValue === null)).toBe(true);

  const w = (await report('WASSERSTEIN', ['age'])).driftReport.features[0];
  // Normalized by the reference stddev given in its statistics (10).
  expect(w).toMatchObject({ method: 'WASSERSTEIN', threshold: 0.1, drifted: true });
  expect(w.statistic).toBeGreaterThan(0.1);

  const chi = (await report('CHI_SQUARED')).driftReport;
  expect(chi.features.map((f: any) => f.name)).toEqual(['country', 'premium']);
  expect(chi.features[0].pValue).toBeLessThan(1e-10);

  const ks = (await report('KS', ['age'])).driftReport;
  expect(ks.features[0].pValue).toBeLessThan(0.05);
});

test('AUTO picks Wasserstein and Jensen-Shannon for references over 1000 values; shareThreshold', async () => {
  const { datasetVersionId, modelVersionId } = await setup([num('x', [1000, 1000, 1000, 1000]), cat('c', { a: 1000, b: 1000 }, 'STRING')]);
  await t.ok(RECORD, { input: { modelVersionId, from: H(0), to: H(1), columns: [num('x', [1000, 1000, 1000, 1000]), cat('c', { a: 1300, b: 700 }, 'STRING')] } });
  const res = await t.ok(REPORT, { reference: { datasetVersionId }, current: { modelVersionId, from: H(0), to: H(1) }, shareThreshold: 0.6 });
  expect(res.driftReport.features.map((f: any) => [f.name, f.method, f.drifted])).toEqual([['x', 'WASSERSTEIN', false], ['c', 'JENSEN_SHANNON', true]]);
  expect(res.driftReport.features[0].statistic).toBeCloseTo(0, 10);
  expect(res.driftReport).toMatchObject({ driftedShare: 0.5, drifted: false });
  const half = await t.ok(REPORT, { reference: { datasetVersionId }, current: { modelVersionId, from: H(0), to: H(1) } });
  expect(half.driftReport.drifted).toBe(true);
});

test('errors: side forms, windows without profiles, unknown features, method/dtype mismatch, cross-project FORBIDDEN', async () => {
  const { project, datasetVersionId, modelVersionId } = await setup(TRAINING);
  await t.ok(RECORD, { input: { modelVersionId, from: H(0), to: H(1), columns: TRAINING } });
  const current = { modelVersionId, from: H(0), to: H(1) };
  const run = (vars: Record<string, unknown>, key?: string | null) => t.gql(REPORT, { reference: { datasetVersionId }, current, ...vars }, key);
  const expectBad = async (vars: Record<string, unknown>, field: string, message?: string) => {
    const res = await run(vars);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    if (message) expect(res.errors?.[0].message).toContain(message);
  };
  await expectBad({ reference: { datasetVersionId, modelVersionId, from: H(0), to: H(1) } }, 'reference');
  await expectBad({ reference: { datasetVersionId, from: H(0) } }, 'reference');
  await expectBad({ current: {} }, 'current');
  // Without from and to, the window is the last day, where this version has no profile.
  await expectBad({ current: { modelVersionId } }, 'current', 'no column profile');
  await expectBad({ current: { modelVersionId, from: '2025-01-01T00:00:00Z' } }, 'current.from', 'days apart');
  await expectBad({ current: { modelVersionId, from: H(1), to: H(0) } }, 'current.from');
  await expectBad({ current: { modelVersionId, from: H(5), to: H(6) } }, 'current', 'no column profile');
  await expectBad({ reference: { datasetVersionId: modelVersionId } }, 'reference.datasetVersionId');
  await expectBad({ features: ['age', 'nope'] }, 'features.1', '"nope"');
  await expectBad({ method: 'KS', features: ['country'] }, 'features.0', 'KS does not apply to CATEGORY');
  await expectBad({ method: 'CHI_SQUARED', features: ['age'] }, 'features.0', '"age"');
  await expectBad({ method: 'WASSERSTEIN', features: ['premium'] }, 'features.0', '"premium"');
  await expectBad({ features: ['notes'] }, 'features.0', 'TEXT');
  await expectBad({ shareThreshold: 2 }, 'shareThreshold');
  expect(codeOf(await run({ method: 'NOPE' }))).toBe('BAD_USER_INPUT');

  // A key of another project may not read either side.
  const other = await createProject(t, 'other');
  const otherViewer = await createKey(t, 'VIEWER', other.slug);
  expect(codeOf(await run({}, otherViewer))).toBe('FORBIDDEN');
  expect(codeOf(await run({ reference: current }, otherViewer))).toBe('FORBIDDEN');
  const otherSide = await setup(TRAINING);
  const mixedKey = await createKey(t, 'VIEWER', project.slug);
  expect(codeOf(await run({ reference: { datasetVersionId: otherSide.datasetVersionId } }, mixedKey))).toBe('FORBIDDEN');
  // A VIEWER of the project reads; nobody unauthenticated does; a missing version is NOT_FOUND.
  expect((await run({}, mixedKey)).data?.driftReport.features).toHaveLength(3);
  expect(codeOf(await run({}, null))).toBe('UNAUTHENTICATED');
  const gone = Buffer.from('DatasetVersion:00000000-0000-4000-8000-000000000000').toString('base64url');
  expect(codeOf(await run({ reference: { datasetVersionId: gone } }))).toBe('NOT_FOUND');
});

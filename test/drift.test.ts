import { CATEGORICAL_CASES, NUMERIC_CASES, REFERENCE_SOURCE } from '../src/modules/drift/__tests__/drift.reference';
import type { ReferenceColumn } from '../src/modules/drift/__tests__/drift.reference.types';
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

  // AUTO with references of at most 1000 values: KS for numeric, chi-squared goodness-of-fit for categorical, and
  // for two categories (BOOL here) the z test, answered as CHI_SQUARED on the 2 × 2 table; TEXT is skipped.
  const auto = (await report(null)).driftReport;
  expect(auto.features.map((f: any) => [f.name, f.method, f.threshold])).toEqual([
    ['age', 'KS', 0.05], ['country', 'CHI_SQUARED_GOODNESS_OF_FIT', 0.05], ['premium', 'CHI_SQUARED', 0.05],
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

test('errors: side forms, windows without profiles, unknown features, method/dtype mismatch, cross-project NOT_FOUND', async () => {
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

  // A key of another project may not read either side: to it they do not exist (NOT_FOUND).
  const other = await createProject(t, 'other');
  const otherViewer = await createKey(t, 'VIEWER', other.slug);
  expect(codeOf(await run({}, otherViewer))).toBe('NOT_FOUND');
  expect(codeOf(await run({ reference: current }, otherViewer))).toBe('NOT_FOUND');
  const otherSide = await setup(TRAINING);
  const mixedKey = await createKey(t, 'VIEWER', project.slug);
  expect((await run({ reference: { datasetVersionId: otherSide.datasetVersionId } }, mixedKey)).errors?.[0].extensions)
    .toEqual({ code: 'NOT_FOUND', id: otherSide.datasetVersionId });
  // A VIEWER of the project reads; nobody unauthenticated does; a missing version is NOT_FOUND.
  expect((await run({}, mixedKey)).data?.driftReport.features).toHaveLength(3);
  expect(codeOf(await run({}, null))).toBe('UNAUTHENTICATED');
  const gone = Buffer.from('DatasetVersion:00000000-0000-4000-8000-000000000000').toString('base64url');
  expect(codeOf(await run({ reference: { datasetVersionId: gone } }))).toBe('NOT_FOUND');
});

test('reference values (scipy, see REFERENCE_SOURCE) through driftReport: a dataset version against merged production windows', async () => {
  expect(REFERENCE_SOURCE).toContain('scipy');
  const pick = <T extends { scenario: string; n: number }>(cases: T[], scenario: string, n: number) => {
    const c = cases.find((x) => x.scenario === scenario && x.n === n);
    if (!c) throw new Error(`no reference case ${scenario} at n = ${n}`);
    return c;
  };
  const numeric = [pick(NUMERIC_CASES, 'identical', 500), pick(NUMERIC_CASES, 'shift-0.1sd', 5000), pick(NUMERIC_CASES, 'shift-1sd', 50),
    pick(NUMERIC_CASES, 'variance', 500)];
  const categorical = [pick(CATEGORICAL_CASES, 'truncated', 500), pick(CATEGORICAL_CASES, 'truncated', 5000),
    pick(CATEGORICAL_CASES, 'new-category', 5000), pick(CATEGORICAL_CASES, 'binary', 500), pick(CATEGORICAL_CASES, 'few-values', 500)];
  const name = (c: { scenario: string; n: number }) => `${c.scenario}_${c.n}`;
  const hist = (h: { edges: number[]; counts: number[] }) => ({ edges: h.edges, counts: h.counts });
  const col = (colName: string, c: ReferenceColumn) => ({
    name: colName, dtype: c.dtype,
    statistics: { count: c.count, nullCount: 0, topValues: c.topValues, ...(c.histogram ? { histogram: c.histogram } : {}) },
  });
  const reference = [
    ...numeric.map((c) => ({ name: name(c), dtype: 'FLOAT', statistics: { count: c.n, nullCount: 0, stddev: c.reference.stddev, histogram: hist(c.reference) } })),
    ...categorical.map((c) => col(name(c), c.reference)),
  ];
  const { datasetVersionId, modelVersionId } = await setup(reference);
  // Two production windows: the truncated columns are split between them, each window with its own top 3.
  const windows = [0, 1].map((w) => [
    ...(w === 0 ? numeric.map((c) => ({ name: name(c), dtype: 'FLOAT', statistics: { count: c.n, nullCount: 0, histogram: hist(c.current) } })) : []),
    ...categorical.flatMap((c) => (c.windows ? [col(name(c), c.windows[w])] : w === 0 ? [col(name(c), c.current)] : [])),
  ]);
  for (const [w, columns] of windows.entries()) {
    await t.ok(RECORD, { input: { modelVersionId, from: H(w), to: H(w + 1), columns } });
  }
  const report = async (method: string) => {
    const res = await t.ok(REPORT, { reference: { datasetVersionId }, current: { modelVersionId, from: H(0), to: H(2) }, method });
    return new Map<string, any>(res.driftReport.features.map((f: any) => [f.name, f]));
  };
  const close = (actual: number, expected: number, what: string) => {
    // Statistics and p-values within a relative 1e-9 of scipy's, as in the unit tests.
    if (!(actual === expected || Math.abs(actual - expected) <= 1e-9 * Math.abs(expected) + 1e-300)) {
      throw new Error(`${what}: server ${actual}, scipy ${expected}`);
    }
  };
  const check = (f: any, what: string, e: { statistic: number; pValue: number | null; drifted: boolean }) => {
    expect(f).toBeDefined();
    close(f.statistic, Number.isFinite(e.statistic) ? e.statistic : Number.MAX_VALUE, `${what} statistic`);
    if (e.pValue == null) expect(f.pValue).toBeNull();
    else close(f.pValue, e.pValue, `${what} pValue`);
    expect([what, f.drifted]).toEqual([what, e.drifted]);
  };

  const auto = await report('AUTO');
  const byMethod = new Map<string, Map<string, any>>();
  for (const method of ['PSI', 'JENSEN_SHANNON', 'KS', 'WASSERSTEIN', 'CHI_SQUARED', 'CHI_SQUARED_GOODNESS_OF_FIT']) byMethod.set(method, await report(method));
  for (const c of numeric) {
    const e = c.expected;
    const rows: [string, number, number | null][] = [
      ['PSI', e.psi, null], ['JENSEN_SHANNON', e.jensenShannon, null], ['KS', e.ks.statistic, e.ks.pValue], ['WASSERSTEIN', e.wasserstein, null],
    ];
    for (const [method, statistic, pValue] of rows) {
      check(byMethod.get(method)!.get(name(c)), `${c.name} ${method}`, { statistic, pValue, drifted: e.drifted[method as keyof typeof e.drifted] });
    }
    expect([c.name, auto.get(name(c)).method, auto.get(name(c)).drifted]).toEqual([c.name, e.auto.method, e.auto.drifted]);
  }
  for (const c of categorical) {
    const e = c.expected;
    const rows: [string, number, number | null][] = [
      ['PSI', e.psi, null], ['JENSEN_SHANNON', e.jensenShannon, null],
      ['CHI_SQUARED', e.chiSquared.statistic, e.chiSquared.pValue], ['CHI_SQUARED_GOODNESS_OF_FIT', e.goodnessOfFit.statistic, e.goodnessOfFit.pValue],
    ];
    // The few-valued INT column is categorical under AUTO only; the chi-squared methods do not take it.
    for (const [method, statistic, pValue] of c.reference.dtype === 'INT' ? rows.slice(0, 2) : rows) {
      check(byMethod.get(method)!.get(name(c)), `${c.name} ${method}`, { statistic, pValue, drifted: e.drifted[method as keyof typeof e.drifted] });
    }
    expect([c.name, auto.get(name(c)).method, auto.get(name(c)).drifted]).toEqual([c.name, e.auto.method, e.auto.drifted]);
    // Truncated lists merged over two windows: the verdicts of the full counts, which show no drift.
    if (c.full) expect([c.name, auto.get(name(c)).drifted]).toEqual([c.name, false]);
  }
});

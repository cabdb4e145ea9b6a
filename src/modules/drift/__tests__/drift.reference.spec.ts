/**
 * The drift statistics against reference values computed independently with scipy, as
 * Evidently computes them: see REFERENCE_SOURCE (test/reference/drift_reference.py, which
 * generated drift.reference.ts) for the cases and how each value was obtained. Every case is
 * fed to the server's functions on the same histograms and counts that scipy saw.
 *
 * Tolerance: statistics and p-values within a relative 1e-9 of scipy's (the largest error seen
 * is 3e-13: scipy's chi2.sf and exact KS against this module's own gamma function and
 * recursions); Evidently's z test within 1e-14 absolute (its 2 · (1 − Φ(|z|)) cancels digits);
 * asymptotic KS p-values (over 10,000 values a side, where scipy uses kstwo and the server
 * Stephens' approximation) within 1% (0.4% seen). Verdicts must be equal.
 */
import { DataType } from '../../dataset/data-type';
import { DatasetColumn, ValueCount } from '../../dataset/dataset-version.entity';
import { DriftMethod, FeatureDrift } from '../dto/drift.types';
import { mergeProfiles } from '../drift.merge';
import { driftReport } from '../drift.report';
import {
  OTHER, alignHistograms, categoryTable, chiSquaredGoodnessOfFit, chiSquaredTest, jensenShannon, ksPValue, ksTest, psi, wasserstein,
} from '../drift.stats';
import { CATEGORICAL_CASES, KS_P_VALUES, NUMERIC_CASES, REFERENCE_SOURCE } from './drift.reference';
import type { ReferenceColumn } from './drift.reference.types';

const STATISTIC_TOLERANCE = 1e-9;
const P_VALUE_TOLERANCE = 1e-9;
const ASYMPTOTIC_P_VALUE_TOLERANCE = 1e-2;

/** |actual − expected| within a relative tolerance (absolute below 1e-300, where only 0 is left). */
function expectClose(actual: number, expected: number, relative: number, what: string) {
  const ok = actual === expected || Math.abs(actual - expected) <= relative * Math.abs(expected) + 1e-300;
  if (!ok) throw new Error(`${what}: ${actual}, scipy ${expected} (relative error ${Math.abs(actual - expected) / Math.abs(expected)})`);
}

const stats = (s: Partial<NonNullable<DatasetColumn['statistics']>>) => ({
  count: 0, nullCount: 0, distinctCount: null, mean: null, stddev: null, min: null, max: null, quantiles: null, histogram: null, topValues: null, ...s,
});
const numeric = (h: { edges: number[]; counts: number[]; stddev?: number }): DatasetColumn => ({
  name: 'x', dtype: DataType.FLOAT, description: null,
  statistics: stats({ count: h.counts.reduce((a, b) => a + b, 0), stddev: h.stddev ?? null, histogram: { edges: h.edges, counts: h.counts } }),
});
const column = (c: ReferenceColumn): DatasetColumn => ({
  name: 'x', dtype: DataType[c.dtype], description: null,
  statistics: stats({ count: c.count, topValues: c.topValues, histogram: c.histogram }),
});
const report = (reference: DatasetColumn, current: DatasetColumn, method: DriftMethod): FeatureDrift =>
  driftReport({ reference: [reference], current: [current], method, features: ['x'], shareThreshold: 0.5 }).features[0];

test('the reference values name their source', () => {
  expect(REFERENCE_SOURCE).toMatch(/^test\/reference\/drift_reference\.py with scipy \d+\.\d+/);
  expect(NUMERIC_CASES.map((c) => `${c.scenario} ${c.n}`)).toHaveLength(12);
  expect(new Set(CATEGORICAL_CASES.map((c) => c.scenario))).toEqual(new Set(['identical', 'new-category', 'binary', 'few-values', 'truncated']));
});

describe.each(NUMERIC_CASES)('numeric: $name', (c) => {
  const ref = numeric(c.reference);
  const cur = numeric(c.current);
  const e = c.expected;

  test('PSI, Jensen-Shannon, KS and Wasserstein match scipy on the same histograms', () => {
    const { a, b } = alignHistograms(c.reference, c.current);
    expectClose(psi(a, b), e.psi, STATISTIC_TOLERANCE, 'PSI');
    expectClose(jensenShannon(a, b), e.jensenShannon, STATISTIC_TOLERANCE, 'Jensen-Shannon');
    const ks = ksTest(c.reference, c.current);
    expectClose(ks.statistic, e.ks.statistic, STATISTIC_TOLERANCE, 'KS statistic');
    expectClose(ks.pValue, e.ks.pValue, P_VALUE_TOLERANCE, 'KS pValue');
    expectClose(wasserstein(c.reference, c.current) / c.reference.stddev, e.wasserstein, STATISTIC_TOLERANCE, 'Wasserstein');
  });

  test('each method and AUTO through driftReport: statistic, pValue and verdict', () => {
    const expected: [DriftMethod, number, number | null][] = [
      [DriftMethod.PSI, e.psi, null],
      [DriftMethod.JENSEN_SHANNON, e.jensenShannon, null],
      [DriftMethod.KS, e.ks.statistic, e.ks.pValue],
      [DriftMethod.WASSERSTEIN, e.wasserstein, null],
    ];
    for (const [method, statistic, pValue] of expected) {
      const f = report(ref, cur, method);
      expect(f.method).toBe(method);
      expectClose(f.statistic, statistic, STATISTIC_TOLERANCE, `${method} statistic`);
      if (pValue == null) expect(f.pValue).toBeNull();
      else expectClose(f.pValue!, pValue, P_VALUE_TOLERANCE, `${method} pValue`);
      expect([method, f.drifted]).toEqual([method, e.drifted[method as keyof typeof e.drifted]]);
    }
    const auto = report(ref, cur, DriftMethod.AUTO);
    expect([auto.method, auto.drifted]).toEqual([e.auto.method, e.auto.drifted]);
  });

  test('histogram KS is at most the raw statistic, and short of it by at most the fullest bin', () => {
    const d = ksTest(c.reference, c.current).statistic;
    const share = (h: { counts: number[] }) => Math.max(...h.counts) / h.counts.reduce((a, b) => a + b, 0);
    expect(d).toBeLessThanOrEqual(c.raw.ks.statistic + 1e-12);
    expect(c.raw.ks.statistic).toBeLessThanOrEqual(d + Math.max(share(c.reference), share(c.current)) + 1e-12);
  });
});

describe.each(CATEGORICAL_CASES)('categorical: $name', (c) => {
  const ref = column(c.reference);
  const cur = column(c.current);
  const e = c.expected;
  const { a, b } = { a: c.table.reference, b: c.table.current };

  test('the compared table: values both sides\' counts are known for, plus a pooled "other"', () => {
    const t = categoryTable(c.reference.topValues, c.reference.count, c.current.topValues, c.current.count);
    expect(t).toEqual({ values: c.table.values, reference: a, current: b });
  });

  test('PSI, Jensen-Shannon and both chi-squared tests match scipy on the same table', () => {
    expectClose(psi(a, b), e.psi, STATISTIC_TOLERANCE, 'PSI');
    expectClose(jensenShannon(a, b), e.jensenShannon, STATISTIC_TOLERANCE, 'Jensen-Shannon');
    const homogeneity = chiSquaredTest(a, b);
    expectClose(homogeneity.statistic, e.chiSquared.statistic, STATISTIC_TOLERANCE, 'chi-squared statistic');
    expectClose(homogeneity.pValue, e.chiSquared.pValue, P_VALUE_TOLERANCE, 'chi-squared pValue');
    // Evidently's z test is the same test; its 2 · (1 − Φ(|z|)) loses digits to cancellation when p is small.
    if (e.zTestPValue != null) expect(Math.abs(homogeneity.pValue - e.zTestPValue)).toBeLessThan(1e-14);
    const fit = chiSquaredGoodnessOfFit(a, b);
    expectClose(fit.statistic, e.goodnessOfFit.statistic, STATISTIC_TOLERANCE, 'goodness-of-fit statistic');
    expectClose(fit.pValue, e.goodnessOfFit.pValue, P_VALUE_TOLERANCE, 'goodness-of-fit pValue');
  });

  test('each method and AUTO through driftReport: statistic, pValue and verdict', () => {
    const methods: [DriftMethod, number, number | null][] = [
      [DriftMethod.PSI, e.psi, null],
      [DriftMethod.JENSEN_SHANNON, e.jensenShannon, null],
      [DriftMethod.CHI_SQUARED, e.chiSquared.statistic, e.chiSquared.pValue],
      [DriftMethod.CHI_SQUARED_GOODNESS_OF_FIT, e.goodnessOfFit.statistic, e.goodnessOfFit.pValue],
    ];
    // A numeric column is categorical under AUTO only; explicit PSI and JS read its histogram, whose bins are its values here.
    const explicit = c.reference.dtype === 'INT' ? methods.slice(0, 2) : methods;
    for (const [method, statistic, pValue] of explicit) {
      const f = report(ref, cur, method);
      expectClose(f.statistic, Number.isFinite(statistic) ? statistic : Number.MAX_VALUE, STATISTIC_TOLERANCE, `${method} statistic`);
      if (pValue == null) expect(f.pValue).toBeNull();
      else expectClose(f.pValue!, pValue, P_VALUE_TOLERANCE, `${method} pValue`);
      expect([method, f.drifted]).toEqual([method, e.drifted[method as keyof typeof e.drifted]]);
    }
    const auto = report(ref, cur, DriftMethod.AUTO);
    expect([auto.method, auto.drifted]).toEqual([e.auto.method, e.auto.drifted]);
  });

  if (c.scenario === 'truncated') {
    test('truncated lists: merged windows as the script merged them, and the full counts\' verdicts kept', () => {
      const merged = mergeProfiles(c.windows!.map((w) => [column(w)]))[0].statistics!;
      expect(merged.topValues).toEqual(c.current.topValues);
      expect(merged.count).toBe(c.current.count);
      expect(c.table.values).toContain(OTHER);
      const full = c.full!;
      for (const method of [DriftMethod.PSI, DriftMethod.JENSEN_SHANNON, DriftMethod.CHI_SQUARED, DriftMethod.CHI_SQUARED_GOODNESS_OF_FIT] as const) {
        expect([method, report(ref, cur, method).drifted]).toEqual([method, full.drifted[method]]);
      }
      expect(report(ref, cur, DriftMethod.AUTO).drifted).toBe(full.auto.drifted);
    });
  }

  if (c.scenario === 'new-category') {
    test('a category the reference lacks: goodness-of-fit is infinite (answered as the largest double) with pValue 0', () => {
      expect(chiSquaredGoodnessOfFit(a, b)).toEqual({ statistic: Infinity, pValue: 0 });
      expect(report(ref, cur, DriftMethod.CHI_SQUARED_GOODNESS_OF_FIT)).toMatchObject({ statistic: Number.MAX_VALUE, pValue: 0, drifted: true });
    });
  }
});

test.each(KS_P_VALUES)('KS pValue(D = %p, n = %p, m = %p) = scipy ks_2samp %p (exact: %p)', (d, n, m, p, exact) => {
  expectClose(ksPValue(d, n, m), p, exact ? P_VALUE_TOLERANCE : ASYMPTOTIC_P_VALUE_TOLERANCE, 'KS pValue');
});

test('the tests can fail: a value listed on one side only, read as 0 on the other, is caught', () => {
  const c = CATEGORICAL_CASES.find((x) => x.scenario === 'truncated' && x.n === 5000)!;
  // What the server did before: every listed value its own category, unlisted ones 0.
  const values = [...new Set([...c.reference.topValues, ...c.current.topValues].map((v: ValueCount) => v.value))];
  const count = (list: ValueCount[], v: string) => list.find((x) => x.value === v)?.count ?? 0;
  const rest = (list: ValueCount[], n: number) => n - list.reduce((s, x) => s + x.count, 0);
  const a = [...values.map((v) => count(c.reference.topValues, v)), rest(c.reference.topValues, c.n)];
  const b = [...values.map((v) => count(c.current.topValues, v)), rest(c.current.topValues, c.n)];
  expect(chiSquaredTest(a, b).pValue).toBeLessThan(0.05);
  expect(c.full!.drifted.CHI_SQUARED).toBe(false);
});

import { DataType } from '../../dataset/data-type';
import { DatasetColumn } from '../../dataset/dataset-version.entity';
import { DriftMethod } from '../dto/drift.types';
import { mergeProfiles } from '../drift.merge';
import { driftReport } from '../drift.report';

const stats = (s: Record<string, unknown>) => ({
  count: 0, nullCount: 0, distinctCount: null, mean: null, stddev: null, min: null, max: null, quantiles: null, histogram: null, topValues: null, ...s,
});
const num = (name: string, counts: number[], edges = counts.map((_, i) => i).concat(counts.length), extra = {}): DatasetColumn => ({
  name, dtype: DataType.FLOAT, description: null, statistics: stats({ count: counts.reduce((a, b) => a + b, 0), histogram: { edges, counts }, ...extra }),
});
const cat = (name: string, top: Record<string, number>, extra = {}): DatasetColumn => ({
  name, dtype: DataType.CATEGORY, description: null,
  statistics: stats({ count: Object.values(top).reduce((a, b) => a + b, 0), topValues: Object.entries(top).map(([value, count]) => ({ value, count })), ...extra }),
});
const extOf = (fn: () => unknown) => {
  try { fn(); } catch (e) { return (e as { extensions: Record<string, unknown>; message: string }); }
  return null;
};

describe('mergeProfiles', () => {
  test('adds counts, histograms and top values; pools mean and stddev; drops what does not merge', () => {
    const a: DatasetColumn[] = [
      { ...num('x', [1, 1], [0, 1, 2], { mean: 1, stddev: 0, min: 1, max: 1, quantiles: [{ q: 0.5, value: 1 }], distinctCount: 1 }) },
      cat('c', { a: 3, b: 1 }),
    ];
    const b: DatasetColumn[] = [
      cat('c', { b: 4, z: 2 }, { nullCount: 1, count: 7 }),
      { ...num('x', [0, 2], [0, 1, 2], { mean: 3, stddev: 0, min: 3, max: 3 }) },
      num('only-b', [5]),
    ];
    const merged = mergeProfiles([a, b]);
    expect(merged.map((c) => c.name)).toEqual(['x', 'c', 'only-b']);
    expect(merged[0].statistics).toEqual(stats({
      count: 4, mean: 2, stddev: 1, min: 1, max: 3, histogram: { edges: [0, 1, 2], counts: [1, 3] },
    }));
    expect(merged[1].statistics).toMatchObject({ count: 11, nullCount: 1, topValues: [{ value: 'b', count: 5 }, { value: 'a', count: 3 }, { value: 'z', count: 2 }] });
    expect(merged[2]).toEqual(b[2]);
  });

  test('truncated top values merge without invented zeros: a value stays listed only where every profile knows its count', () => {
    const merged = mergeProfiles([
      [cat('c', { a: 30, b: 25, c: 20 }, { count: 100 })],
      [cat('c', { a: 30, b: 25, d: 20 }, { count: 100 })],
    ]);
    expect(merged[0].statistics).toMatchObject({ count: 200, topValues: [{ value: 'a', count: 60 }, { value: 'b', count: 50 }] });
  });

  test('a histogram missing from one profile is not merged; different edges are re-binned; dtype conflicts are refused', () => {
    const noHist = mergeProfiles([[num('x', [1])], [{ ...num('x', [1]), statistics: stats({ count: 1 }) }]]);
    expect(noHist[0].statistics!.histogram).toBeNull();
    const rebinned = mergeProfiles([[num('x', [10], [0, 2])], [num('x', [4, 6], [0, 1, 2])]]);
    expect(rebinned[0].statistics!.histogram).toEqual({ edges: [0, 1, 2], counts: [9, 11] });
    const err = extOf(() => mergeProfiles([[num('x', [1])], [cat('x', { a: 1 })]]));
    expect(err?.extensions.code).toBe('BAD_USER_INPUT');
    expect(err?.message).toContain('"x"');
  });
});

describe('driftReport', () => {
  const base = { method: DriftMethod.AUTO, features: null, shareThreshold: 0.5 };

  test('AUTO: KS / chi-squared for small references, Wasserstein / Jensen-Shannon for large ones', () => {
    const small = driftReport({
      ...base,
      reference: [num('n', [50, 50]), cat('c', { a: 50, b: 50 })],
      current: [num('n', [50, 50]), cat('c', { a: 50, b: 50 })],
    });
    expect(small.features.map((f) => [f.name, f.method, f.statistic, f.pValue, f.threshold, f.drifted])).toEqual([
      ['n', 'KS', 0, 1, 0.05, false], ['c', 'CHI_SQUARED', 0, 1, 0.05, false],
    ]);
    const sides = {
      reference: [num('n', [5000, 5000]), cat('c', { a: 600, b: 600 })],
      current: [num('n', [1000, 9000]), cat('c', { a: 600, b: 600 })],
    };
    const large = driftReport({ ...base, ...sides });
    expect(large.features.map((f) => [f.method, f.threshold])).toEqual([['WASSERSTEIN', 0.1], ['JENSEN_SHANNON', 0.1]]);
    // Histogram stddev 0.5 (midpoints 0.5 and 1.5); W1 = 0.4 moved by 1 → 0.4 / 0.5
    expect(large.features[0]).toMatchObject({ statistic: expect.closeTo(0.8, 10), pValue: null, drifted: true });
    expect(large.features[1].drifted).toBe(false);
    expect(large).toMatchObject({ driftedShare: 0.5, drifted: true });
    expect(driftReport({ ...base, ...sides, shareThreshold: 0.6 })).toMatchObject({ driftedShare: 0.5, drifted: false });
  });

  test('AUTO follows Evidently: goodness-of-fit for more than two categories, numeric columns with few values by value', () => {
    const few = (name: string, top: Record<string, number>, extra = {}) => ({ ...cat(name, top, extra), dtype: DataType.INT });
    const r = driftReport({
      ...base,
      reference: [cat('c', { a: 40, b: 30, c: 30 }), few('k', { 0: 50, 1: 30, 2: 20 }), few('t', { 0: 50, 1: 30, 2: 20 }, { count: 110 })],
      current: [cat('c', { a: 40, b: 30, c: 30 }), few('k', { 0: 50, 1: 30, 2: 20 }), few('t', { 0: 50, 1: 30, 2: 20 }, { count: 110 })],
    });
    // 'k' lists every value on both sides: 3 distinct values, so categorical; 't' leaves values out and has no histogram.
    expect(r.features.map((f) => [f.name, f.method, f.statistic, f.pValue])).toEqual([
      ['c', 'CHI_SQUARED_GOODNESS_OF_FIT', 0, 1], ['k', 'CHI_SQUARED_GOODNESS_OF_FIT', 0, 1],
    ]);
    const six = Object.fromEntries([0, 1, 2, 3, 4, 5].map((v) => [v, 10]));
    const many = driftReport({ ...base, reference: [few('k', six)], current: [few('k', six)] });
    expect(many.features).toEqual([]);
    const err = extOf(() => driftReport({ ...base, method: DriftMethod.KS, features: ['k'], reference: [few('k', { 0: 1 })], current: [few('k', { 0: 1 })] }));
    expect(err?.message).toContain('no statistics.histogram');
    // Over 1000 reference values the few-valued numeric column goes to Jensen-Shannon, like a categorical one.
    const large = driftReport({ ...base, reference: [few('k', { 0: 600, 1: 600 })], current: [few('k', { 0: 600, 1: 600 })] });
    expect(large.features.map((f) => f.method)).toEqual(['JENSEN_SHANNON']);
  });

  test('values outside topValues are pooled as "other"; nulls are left out', () => {
    const r = driftReport({
      ...base, method: DriftMethod.PSI,
      reference: [cat('c', { a: 50 }, { count: 110, nullCount: 10 })],
      current: [cat('c', { a: 50 }, { count: 100, nullCount: 0 })],
    });
    expect(r.features[0].statistic).toBeCloseTo(0, 12);
  });

  test('default features: columns both sides have that the method can compare; named ones must fit', () => {
    const reference = [num('n', [1, 1]), cat('c', { a: 1 }), { name: 't', dtype: DataType.TEXT, description: null, statistics: null }, num('only-ref', [1])];
    const current = [cat('c', { a: 1 }), num('n', [1, 1]), { name: 't', dtype: DataType.TEXT, description: null, statistics: null }];
    expect(driftReport({ ...base, reference, current }).features.map((f) => f.name)).toEqual(['n', 'c']);
    expect(driftReport({ ...base, method: DriftMethod.KS, reference, current }).features.map((f) => f.name)).toEqual(['n']);
    expect(driftReport({ ...base, method: DriftMethod.CHI_SQUARED, reference, current }).features.map((f) => f.name)).toEqual(['c']);
    const cases: [DriftMethod, string, string, string][] = [
      [DriftMethod.KS, 'n', 'c', 'KS does not apply to CATEGORY'],
      [DriftMethod.WASSERSTEIN, 'n', 'c', 'WASSERSTEIN does not apply'],
      [DriftMethod.CHI_SQUARED, 'c', 'n', 'CHI_SQUARED does not apply to FLOAT'],
      [DriftMethod.AUTO, 'n', 't', 'dtype TEXT has no drift method'],
      [DriftMethod.AUTO, 'c', 'only-ref', 'not a column of the current side'],
      [DriftMethod.PSI, 'c', 'nope', 'not a column of the reference side'],
    ];
    for (const [method, ok, feature, message] of cases) {
      const err = extOf(() => driftReport({ ...base, method, features: [ok, feature], reference, current }));
      expect(err?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'features.1' });
      expect(err?.message).toContain(`"${feature}"`);
      expect(err?.message).toContain(message);
    }
    const empty = driftReport({ ...base, reference, current: [] });
    expect(empty).toEqual({ features: [], driftedShare: 0, drifted: false });
    expect(extOf(() => driftReport({ ...base, shareThreshold: 1.5, reference, current }))?.extensions.code).toBe('BAD_USER_INPUT');
  });
});

import {
  Hist, OTHER, alignHistograms, categoryTable, chiSquaredGoodnessOfFit, chiSquaredSurvival, chiSquaredTest, gammaQ, histogramStddev,
  jensenShannon, kolmogorovSurvival, ksAsymptoticPValue, ksExactPValue, ksPValue, ksTest, logGamma, mergeHistograms, mergeTopValueLists,
  MAX_MERGED_BINS, psi, rebin, wasserstein,
} from '../drift.stats';

describe('special functions', () => {
  test('logGamma matches factorials and Γ(1/2) = √π', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(logGamma(101)).toBeCloseTo(363.73937555556347, 8); // ln(100!)
  });

  test.each([
    // [x, df, P(X > x)]: chi-squared table values (and scipy.stats.chi2.sf to 1e-6)
    [3.841459, 1, 0.05],
    [6.634897, 1, 0.01],
    [5.991465, 2, 0.05],
    [11.070498, 5, 0.05],
    [18.307, 10, 0.05000058909139812],
    [23.209, 10, 0.01000086581474075],
    [124.342, 100, 0.05000071576997178],
    [0.5, 3, 0.9188914116546758],
    [0.001, 0.5, 0.8350402492315872],
    [300, 250, 0.016518273157868715],
    [50, 3, 7.989179244951495e-11],
  ])('chi-squared survival(%p, df %p) = %p', (x, df, p) => {
    expect(chiSquaredSurvival(x, df)).toBeCloseTo(p, 6);
    expect(Math.abs(chiSquaredSurvival(x, df) - p) / p).toBeLessThan(1e-5);
  });

  test('closed forms: df 2 is e^(-x/2), df 1 is erfc(√(x/2)), df 4 is e^(-x/2)(1 + x/2)', () => {
    for (const x of [0.1, 1, 2.5, 7, 40]) {
      expect(chiSquaredSurvival(x, 2)).toBeCloseTo(Math.exp(-x / 2), 12);
      expect(chiSquaredSurvival(x, 4)).toBeCloseTo(Math.exp(-x / 2) * (1 + x / 2), 12);
    }
    expect(chiSquaredSurvival(1, 1)).toBeCloseTo(0.31731050786291404, 10);
    expect(chiSquaredSurvival(0, 3)).toBe(1);
    expect(gammaQ(3, 0)).toBe(1);
    expect(() => gammaQ(0, 1)).toThrow(RangeError);
  });

  test('Kolmogorov survival at the textbook critical values', () => {
    expect(kolmogorovSurvival(1.2238)).toBeCloseTo(0.10, 4);
    expect(kolmogorovSurvival(1.3581)).toBeCloseTo(0.05, 4);
    expect(kolmogorovSurvival(1.6276)).toBeCloseTo(0.01, 4);
    expect(kolmogorovSurvival(1)).toBeCloseTo(0.26999967167735456, 8);
    expect(kolmogorovSurvival(0.5)).toBeCloseTo(0.9639452436648751, 8);
    expect(kolmogorovSurvival(0.1)).toBe(1);
    expect(kolmogorovSurvival(0)).toBe(1);
  });

  test('KS p-value: exact up to 10,000 values a side (scipy ks_2samp), asymptotic with Stephens\' correction above', () => {
    // scipy.stats.ks_2samp on 60/40 against 40/60 values at two points: D = 0.2
    expect(ksPValue(0.2, 100, 100)).toBeCloseTo(0.03638428787491733, 12);
    expect(ksExactPValue(0.2, 100, 100)).toBe(ksPValue(0.2, 100, 100));
    // ne = 50: λ = (√50 + 0.12 + 0.11/√50) · 0.2
    expect(ksAsymptoticPValue(0.2, 100, 100)).toBeCloseTo(0.03137665215307253, 8);
    expect(ksPValue(0.2, 10001, 10001)).toBe(ksAsymptoticPValue(0.2, 10001, 10001));
    expect(ksPValue(0, 100, 100)).toBe(1);
    expect(ksPValue(1, 100, 100) / 2.2087606931995054e-59).toBeCloseTo(1, 10);
    // Larger samples make the same gap more significant; sizes are symmetric.
    expect(ksPValue(0.05, 10000, 10000)).toBeLessThan(ksPValue(0.05, 1000, 1000));
    expect(ksPValue(0.1, 300, 500)).toBe(ksPValue(0.1, 500, 300));
    expect(() => ksPValue(0.1, 0, 5)).toThrow(RangeError);
  });
});

describe('histograms', () => {
  test('rebin spreads a bin uniformly and is exact on refined edges', () => {
    expect(rebin({ edges: [0, 2], counts: [10] }, [0, 1, 2])).toEqual([5, 5]);
    expect(rebin({ edges: [0, 1, 2], counts: [4, 6] }, [0, 0.5, 1, 2])).toEqual([2, 2, 6]);
    expect(rebin({ edges: [0, 4], counts: [8] }, [-1, 1, 3, 5])).toEqual([2, 4, 2]);
  });

  test('merge adds counts on identical edges and re-bins onto the union otherwise', () => {
    expect(mergeHistograms([{ edges: [0, 1, 2], counts: [1, 2] }, { edges: [0, 1, 2], counts: [3, 4] }])).toEqual({ edges: [0, 1, 2], counts: [4, 6] });
    expect(mergeHistograms([{ edges: [0, 2], counts: [10] }, { edges: [0, 1, 2], counts: [4, 6] }])).toEqual({ edges: [0, 1, 2], counts: [9, 11] });
    expect(mergeHistograms([{ edges: [0, 1], counts: [3] }, { edges: [2, 3], counts: [5] }])).toEqual({ edges: [0, 1, 2, 3], counts: [3, 0, 5] });
  });

  test('alignment keeps totals when edges differ', () => {
    const { edges, a, b } = alignHistograms({ edges: [0, 10], counts: [100] }, { edges: [5, 15], counts: [50] });
    expect(edges).toEqual([0, 5, 10, 15]);
    expect(a).toEqual([50, 50, 0]);
    expect(b).toEqual([0, 25, 25]);
  });

  test('stddev of a histogram uses bin midpoints', () => {
    expect(histogramStddev({ edges: [0, 2, 4], counts: [5, 5] })).toBeCloseTo(1, 12);
    expect(histogramStddev({ edges: [0, 1], counts: [0] })).toBe(0);
  });
});

describe('drift statistics', () => {
  const same: Hist = { edges: [0, 1, 2, 3, 4], counts: [10, 20, 30, 40] };

  test('identical distributions: no drift by any measure', () => {
    expect(psi(same.counts, same.counts)).toBe(0);
    expect(jensenShannon(same.counts, same.counts)).toBe(0);
    expect(wasserstein(same, same)).toBe(0);
    expect(ksTest(same, same)).toEqual({ statistic: 0, pValue: 1 });
    expect(chiSquaredTest([5, 10, 15], [10, 20, 30])).toEqual({ statistic: 0, pValue: 1 });
    // Shares, not counts, matter.
    expect(psi([1, 2, 3], [100, 200, 300])).toBeCloseTo(0, 12);
  });

  test('PSI: the textbook 4-bin example', () => {
    // (-.15)ln(.4) + (-.05)ln(.8) + .05 ln(1.2) + .15 ln(1.6)
    expect(psi([25, 25, 25, 25], [10, 20, 30, 40])).toBeCloseTo(0.228218, 5);
    // An empty bin counts as 0.0001 instead of making the index infinite.
    const withEmpty = psi([50, 50], [100, 0]);
    expect(withEmpty).toBeCloseTo((1 - 0.5) * Math.log(1 / 0.5) + (1e-4 - 0.5) * Math.log(1e-4 / 0.5), 10);
    expect(Number.isFinite(withEmpty)).toBe(true);
    // When the smallest non-zero share is itself at most 0.0001, a zero becomes a millionth of it (Evidently's get_binned_data).
    expect(psi([1, 99999, 0], [50000, 50000, 0])).toBeCloseTo(5.757954412709379, 10);
  });

  test('Jensen-Shannon distance uses the natural log (scipy\'s default): disjoint is √ln 2; scipy reference value', () => {
    expect(jensenShannon([1, 0], [0, 1])).toBeCloseTo(Math.sqrt(Math.LN2), 12);
    expect(jensenShannon([1, 0], [0, 1])).toBeCloseTo(0.8325546111576977, 12);
    expect(jensenShannon([1, 1], [1, 0])).toBeCloseTo(0.464501404022459, 12);
    expect(jensenShannon([3, 1], [1, 3])).toBeCloseTo(jensenShannon([1, 3], [3, 1]), 12);
  });

  test('Wasserstein on binned distributions, including a CDF crossing inside a bin', () => {
    expect(wasserstein({ edges: [0, 1], counts: [10] }, { edges: [1, 2], counts: [10] })).toBeCloseTo(1, 12);
    // U(0, 2) against U(0, 1): ∫|2u − u| du = 0.5
    expect(wasserstein({ edges: [0, 2], counts: [7] }, { edges: [0, 1, 2], counts: [10, 0] })).toBeCloseTo(0.5, 12);
    // U(0, 3) against U(1, 2): the CDFs cross at 1.5; ∫|3u − (1 + u)| du = 0.5
    expect(wasserstein({ edges: [0, 3], counts: [30] }, { edges: [0, 1, 2, 3], counts: [0, 30, 0] })).toBeCloseTo(0.5, 12);
  });

  test('KS on histograms: the largest CDF gap over the union of edges', () => {
    const disjoint = ksTest({ edges: [0, 1, 2], counts: [100, 0] }, { edges: [0, 1, 2], counts: [0, 100] });
    expect(disjoint.statistic).toBeCloseTo(1, 12);
    expect(disjoint.pValue).toBeLessThan(1e-10);
    // Gap at edge 1: 0.6 − 0.4
    const shifted = ksTest({ edges: [0, 1, 2], counts: [60, 40] }, { edges: [0, 1, 2], counts: [40, 60] });
    expect(shifted.statistic).toBeCloseTo(0.2, 12);
    expect(shifted.pValue).toBeCloseTo(0.03638428787491733, 12);
    // Different edges: U(0, 2) against U(0, 1), largest gap 0.5 at x = 1.
    expect(ksTest({ edges: [0, 2], counts: [50] }, { edges: [0, 1], counts: [50] }).statistic).toBeCloseTo(0.5, 12);
  });

  test('chi-squared test of homogeneity matches scipy chi2_contingency (no correction)', () => {
    const two = chiSquaredTest([50, 50], [30, 70]);
    expect(two.statistic).toBeCloseTo(8.333333333333334, 10);
    expect(two.pValue).toBeCloseTo(0.003892417122778637, 10);
    const three = chiSquaredTest([20, 30, 50], [25, 25, 30]);
    expect(three.statistic).toBeCloseTo(3.8352272727272734, 10);
    expect(three.pValue).toBeCloseTo(0.14695723742950706, 8);
    // A category only one side has is counted, not a division by zero; an absent one is dropped.
    const onlyCurrent = chiSquaredTest([10, 0, 0], [5, 5, 0]);
    expect(onlyCurrent.pValue).toBeLessThan(0.05);
    expect(Number.isFinite(onlyCurrent.statistic)).toBe(true);
  });

  test('chi-squared goodness-of-fit matches scipy chisquare(cur, ref · n_cur / n_ref)', () => {
    // scipy.stats.chisquare([30, 70], [50, 50]) and chisquare([25, 25, 30], [16, 24, 40])
    const two = chiSquaredGoodnessOfFit([50, 50], [30, 70]);
    expect(two.statistic).toBeCloseTo(16, 12);
    expect(two.pValue / 6.334248366623988e-05).toBeCloseTo(1, 10);
    const three = chiSquaredGoodnessOfFit([20, 30, 50], [25, 25, 30]);
    expect(three.statistic).toBeCloseTo(7.604166666666667, 12);
    expect(three.pValue).toBeCloseTo(0.02232421459545112, 12);
    // A category the reference lacks: scipy answers an infinite statistic and p = 0; absent on both sides: dropped.
    expect(chiSquaredGoodnessOfFit([10, 0, 0], [5, 5, 0])).toEqual({ statistic: Infinity, pValue: 0 });
    expect(chiSquaredGoodnessOfFit([10, 10, 0], [10, 10, 0])).toEqual({ statistic: 0, pValue: 1 });
    expect(chiSquaredGoodnessOfFit([10], [3])).toEqual({ statistic: 0, pValue: 1 });
  });
});

describe('truncated top values', () => {
  const tv = (o: Record<string, number>) => Object.entries(o).map(([value, count]) => ({ value, count }));

  test('the issue\'s example: a value listed on one side only is pooled, not read as 0 on the other', () => {
    // Full counts A30 B25 C20 D15 E10 against A30 B25 C15 D20 E10, each side listing its top 3.
    const t = categoryTable(tv({ A: 30, B: 25, C: 20 }), 100, tv({ A: 30, B: 25, D: 20 }), 100);
    expect(t).toEqual({ values: ['A', 'B', OTHER], reference: [30, 25, 45], current: [30, 25, 45] });
    expect(chiSquaredTest(t.reference, t.current).pValue).toBe(1);
    expect(psi(t.reference, t.current)).toBe(0);
    expect(jensenShannon(t.reference, t.current)).toBe(0);
    // On the full counts (scipy chi2_contingency): p = 0.839, no drift either; reading C and D as 0 gave p = 4.3e-8.
    expect(chiSquaredTest([30, 25, 20, 15, 10], [30, 25, 15, 20, 10]).pValue).toBeCloseTo(0.8392142735262054, 12);
    expect(chiSquaredTest([30, 25, 20, 0, 25], [30, 25, 0, 20, 25]).pValue / 4.328422607120966e-08).toBeCloseTo(1, 8);
  });

  test('a list that leaves nothing out makes an absent value a known 0; "other" only when not empty', () => {
    // The reference lists everything: the current side's new value E has a known reference count of 0.
    expect(categoryTable(tv({ A: 6, B: 4 }), 10, tv({ A: 5, E: 3 }), 10))
      .toEqual({ values: ['A', 'E', OTHER], reference: [6, 0, 4], current: [5, 3, 2] });
    expect(categoryTable(tv({ A: 6, B: 4 }), 10, tv({ A: 5, B: 5 }), 10)).toEqual({ values: ['A', 'B'], reference: [6, 4], current: [5, 5] });
    // Duplicated entries add up; a value with a count of 0 on both sides is no category.
    expect(categoryTable(tv({ A: 6 }).concat(tv({ A: 1, Z: 0 })), 7, tv({ A: 7, Z: 0 }), 7)).toEqual({ values: ['A'], reference: [7], current: [7] });
  });

  test('merging truncated lists keeps only values whose count every list knows', () => {
    const merged = mergeTopValueLists([
      { values: tv({ A: 30, B: 25, C: 20 }), nonNull: 100 },
      { values: tv({ A: 28, B: 26, D: 21 }), nonNull: 100 },
      { values: tv({ A: 10, C: 5, D: 5 }), nonNull: 20 },
    ]);
    // The third list is complete, so its B is a known 0; C and D are hidden in the first two lists' remainders.
    expect(merged).toEqual(tv({ A: 68, B: 51 }));
    expect(mergeTopValueLists([
      { values: tv({ A: 30, B: 25, C: 20 }), nonNull: 100 },
      { values: tv({ A: 28, B: 26, C: 21 }), nonNull: 100 },
      { values: tv({ A: 10, C: 10 }), nonNull: 20 },
    ])).toEqual(tv({ A: 68, B: 51, C: 51 }));
  });
});

describe('merging many production histograms', () => {
  // The shape: 60 profiles, each with 10,001 edges of its own. Merged onto their full
  // union this was 600,000 bins re-binned 60 times; the result is now bounded.
  const profiles = Array.from({ length: 60 }, (_, p) => {
    const edges = Array.from({ length: 10_001 }, (_, i) => i + p / 60);
    return { edges, counts: Array.from({ length: 10_000 }, (_, i) => (i % 7) + 1) };
  });

  test('keeps at most MAX_MERGED_BINS bins and every count', () => {
    const merged = mergeHistograms(profiles);
    expect(merged.counts.length).toBeLessThanOrEqual(MAX_MERGED_BINS);
    expect(merged.edges.length).toBe(merged.counts.length + 1);
    const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(total(merged.counts)).toBeCloseTo(total(profiles.flatMap((h) => h.counts)), 3);
    expect(merged.edges[0]).toBe(0);
    expect(merged.edges[merged.edges.length - 1]).toBe(10_000 + 59 / 60);
  });

  test('is exact, on the union of edges, while the union is small', () => {
    const merged = mergeHistograms([{ edges: [0, 1, 2], counts: [1, 1] }, { edges: [0, 0.5, 2], counts: [2, 2] }]);
    expect(merged.edges).toEqual([0, 0.5, 1, 2]);
    // [0,1]:1 and [1,2]:1 split at 0.5; [0.5,2]:2 spreads 1/3 onto [0.5,1] and 2/3 onto [1,2].
    expect(merged.counts).toEqual([0.5 + 2, 0.5 + 2 / 3, 1 + 4 / 3].map((x) => expect.closeTo(x, 12)));
  });
});

import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';

export enum DriftMethod {
  AUTO = 'AUTO',
  PSI = 'PSI',
  KS = 'KS',
  JENSEN_SHANNON = 'JENSEN_SHANNON',
  WASSERSTEIN = 'WASSERSTEIN',
  CHI_SQUARED = 'CHI_SQUARED',
  CHI_SQUARED_GOODNESS_OF_FIT = 'CHI_SQUARED_GOODNESS_OF_FIT',
}
// Figures from test/reference/ks_resolution.py (300 seeds); the full table is at ksTest in drift.stats.ts.
const KS_DESCRIPTION = 'Two-sample Kolmogorov-Smirnov on histograms: statistic = the largest CDF difference at the bin edges of both '
  + 'sides. pValue as scipy\'s ks_2samp computes it by default (Evidently\'s call): exact when neither histogram total '
  + 'exceeds 10,000, else asymptotic (effective size n·m / (n + m), Stephens\' approximation of scipy\'s kstwo). Numeric '
  + 'only. Drifted when pValue is at or below the threshold, 0.05. An approximation of ks_2samp on the raw values that misses '
  + 'drift: the raw CDF gap can peak inside a bin, where a histogram cannot see it. With the same edges on both sides the '
  + 'statistic is at most the raw one, and short of it by at most the largest share of either side\'s values in one bin. '
  + 'Record at least 100 bins at reference quantiles (each at most 1% of the values), the same edges on both sides: at 2,000 '
  + 'values a side and mean shifts of 0.06 to 0.1 sd, these flag 86 to 95% of the cases that KS on the raw values flags, '
  + '10 equal-width bins only 36 to 67%. Histograms with different edges are aligned by interpolation, which can move the '
  + 'statistic either way.';
registerEnumType(DriftMethod, {
  name: 'DriftMethod',
  description: 'How a feature\'s reference and current distributions are compared, on the statistics stored for it, non-null '
    + 'values only. Numeric features (INT, FLOAT) are compared on their histograms, categorical ones (CATEGORY, STRING, BOOL) '
    + 'on their topValues. topValues may be truncated: a value is its own category only where both sides\' counts of it are '
    + 'known (listed there, or absent from a list that leaves nothing out); every other value, including one that only one '
    + 'side lists while the other side\'s list is truncated, is pooled into one "other" category holding the rest of each '
    + 'side\'s non-null count. The methods, thresholds and threshold comparisons are Evidently\'s (its legacy data drift '
    + 'stattests, which call scipy); the differences are named in each value.',
  valuesConfig: {
    AUTO: {
      description: 'Evidently\'s default test per feature, by the reference\'s non-null size n. Numeric: n at most 1000: KS, '
        + 'larger: WASSERSTEIN. Categorical: n at most 1000: CHI_SQUARED_GOODNESS_OF_FIT, or for at most two categories '
        + 'Evidently\'s two-proportion z test, answered as CHI_SQUARED on the 2 × 2 table (chi-squared = z squared, the same '
        + 'pValue); larger: JENSEN_SHANNON. A numeric feature with at most 5 distinct values on both sides together is '
        + 'compared as categorical (on its topValues), as Evidently does; the server can count distinct values only when '
        + 'both sides\' topValues list every non-null value, so otherwise the feature stays numeric. The report names the '
        + 'method chosen.',
    },
    PSI: {
      description: 'Population stability index Σ (cur − ref) · ln(cur / ref) over bin or category shares. A share of 0 '
        + 'counts as 0.0001, or as a millionth of that side\'s smallest non-zero share when that is at most 0.0001 '
        + '(Evidently\'s zero fill). Numeric or categorical. Drifted when at least the threshold, 0.1 (the 0.1 / 0.2 '
        + 'convention: under 0.1 stable, 0.1 to 0.2 moderate, over 0.2 significant). Unlike Evidently, which bins the raw '
        + 'values itself (Sturges\' rule over both samples, or by value when the reference has at most 20 distinct values), '
        + 'the server uses the stored histogram bins (on the union of both sides\' edges).',
    },
    KS: {
      description: KS_DESCRIPTION,
    },
    JENSEN_SHANNON: {
      description: 'Jensen-Shannon distance with the natural log (scipy\'s jensenshannon default, as Evidently calls it): the '
        + 'square root of the divergence, within [0, √ln 2 ≈ 0.833], between bin or category shares. Numeric or '
        + 'categorical. Drifted when at least the threshold, 0.1. Numeric features use the stored histogram bins (see PSI).',
    },
    WASSERSTEIN: {
      description: 'First Wasserstein (earth mover\'s) distance between the binned distributions (values spread uniformly '
        + 'within a bin), divided by the reference stddev: its statistics.stddev, which should be the population stddev '
        + '(Evidently divides by numpy\'s std of the raw reference), else the histogram\'s; at least 0.001. Numeric only. '
        + 'Drifted when at least the threshold, 0.1.',
    },
    CHI_SQUARED: {
      description: 'Chi-squared test of homogeneity on the reference × current table of category counts (no continuity '
        + 'correction); pValue from the chi-squared distribution with categories − 1 degrees of freedom. The sounder '
        + 'two-sample test: both sides are samples, and a category only one side has is evidence, not a division by zero. '
        + 'On two categories it is Evidently\'s two-proportion z test. Categorical only. Drifted when pValue is below the '
        + 'threshold, 0.05.',
    },
    CHI_SQUARED_GOODNESS_OF_FIT: {
      description: 'Chi-squared goodness-of-fit of the current counts to the reference shares, Evidently\'s chisquare test: '
        + 'scipy\'s chisquare(current, reference · n_cur / n_ref), categories − 1 degrees of freedom. It treats the '
        + 'reference shares as exact, so it overstates significance when the reference is a small sample. A category the '
        + 'current side has and the reference lacks makes the statistic infinite (answered as the largest double, '
        + '1.7976931348623157e308) and pValue 0. Categorical only. Drifted when pValue is below the threshold, 0.05.',
    },
  },
});

@ObjectType({ description: 'How one feature\'s distribution moved between the reference and the current side.' })
export class FeatureDrift {
  @Field({ description: 'The feature (column) name.' })
  name: string;

  @Field(() => DriftMethod, { description: 'The method used; never AUTO (AUTO reports the method it chose).' })
  method: DriftMethod;

  @Field(() => Float, {
    description: 'The method\'s statistic: PSI, KS D, Jensen-Shannon distance, normalized Wasserstein distance or chi-squared '
      + '(an infinite goodness-of-fit statistic is answered as the largest double, 1.7976931348623157e308).',
  })
  statistic: number;

  @Field(() => Float, { nullable: true, description: 'p-value, for KS, CHI_SQUARED and CHI_SQUARED_GOODNESS_OF_FIT; null for distance methods.' })
  pValue: number | null;

  @Field(() => Float, {
    description: 'Drift threshold. On pValue for the tests: KS drifted at or below it, the chi-squared tests below it (Evidently\'s '
      + 'ks test uses p ≤ threshold, its chisquare and z tests p < threshold). On statistic for the distances: drifted at or above it.',
  })
  threshold: number;

  @Field({ description: 'Whether this feature drifted.' })
  drifted: boolean;
}

@ObjectType({ description: 'Per-feature drift between a reference and a current side, and whether the data as a whole drifted.' })
export class DriftReport {
  @Field(() => [FeatureDrift], { description: 'One entry per compared feature, in the order asked (default: the reference\'s column order).' })
  features: FeatureDrift[];

  @Field(() => Float, { description: 'Drifted features / features compared; 0 when none were compared.' })
  driftedShare: number;

  @Field({ description: 'Whether driftedShare reaches the report\'s shareThreshold (default 0.5); false when no feature was compared.' })
  drifted: boolean;
}

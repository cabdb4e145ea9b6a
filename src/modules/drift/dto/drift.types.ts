import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';

export enum DriftMethod {
  AUTO = 'AUTO',
  PSI = 'PSI',
  KS = 'KS',
  JENSEN_SHANNON = 'JENSEN_SHANNON',
  WASSERSTEIN = 'WASSERSTEIN',
  CHI_SQUARED = 'CHI_SQUARED',
}
registerEnumType(DriftMethod, {
  name: 'DriftMethod',
  description: 'How a feature\'s reference and current distributions are compared, on the statistics stored for it, non-null '
    + 'values only. Numeric features (INT, FLOAT) are compared on their histograms, categorical ones (CATEGORY, STRING, BOOL) '
    + 'on their topValues. topValues may be truncated: a value is its own category only where both sides\' counts of it are '
    + 'known (listed there, or absent from a list that leaves nothing out); every other value, including one that only one '
    + 'side lists while the other side\'s list is truncated, is pooled into one "other" category holding the rest of each '
    + 'side\'s non-null count.',
  valuesConfig: {
    AUTO: {
      description: 'Evidently\'s defaults, per feature: numeric with a reference of at most 1000 values: KS; larger: WASSERSTEIN. '
        + 'Categorical with a reference of at most 1000 values: CHI_SQUARED; larger: JENSEN_SHANNON.',
    },
    PSI: {
      description: 'Population stability index Σ (cur − ref) · ln(cur / ref) over bin or category shares, an empty bin counting as '
        + '0.0001. Numeric or categorical. Drifted when at least the threshold, 0.1 (the 0.1 / 0.2 convention: under 0.1 stable, '
        + '0.1 to 0.2 moderate, over 0.2 significant).',
    },
    KS: {
      description: 'Two-sample Kolmogorov-Smirnov on histograms: statistic = largest CDF difference over the union of both sides\' '
        + 'edges (values spread uniformly within a bin); pValue from the Kolmogorov distribution with effective size '
        + 'n·m / (n + m) of the histogram totals. Numeric only. Drifted when pValue is below the threshold, 0.05.',
    },
    JENSEN_SHANNON: {
      description: 'Jensen-Shannon distance, base 2 (the square root of the divergence, within [0, 1]) between bin or category '
        + 'shares. Numeric or categorical. Drifted when at least the threshold, 0.1.',
    },
    WASSERSTEIN: {
      description: 'First Wasserstein (earth mover\'s) distance between the binned distributions, divided by the reference '
        + 'stddev (its statistics.stddev, else the histogram\'s; at least 0.001). Numeric only. Drifted when at least the '
        + 'threshold, 0.1.',
    },
    CHI_SQUARED: {
      description: 'Chi-squared test of homogeneity on the reference × current table of category counts; pValue from the '
        + 'chi-squared distribution with categories − 1 degrees of freedom. Categorical only. Drifted when pValue is below the '
        + 'threshold, 0.05.',
    },
  },
});

@ObjectType({ description: 'How one feature\'s distribution moved between the reference and the current side.' })
export class FeatureDrift {
  @Field({ description: 'The feature (column) name.' })
  name: string;

  @Field(() => DriftMethod, { description: 'The method used; never AUTO (AUTO reports the method it chose).' })
  method: DriftMethod;

  @Field(() => Float, { description: 'The method\'s statistic: PSI, KS D, Jensen-Shannon distance, normalized Wasserstein distance or chi-squared.' })
  statistic: number;

  @Field(() => Float, { nullable: true, description: 'p-value, for KS and CHI_SQUARED; null for distance methods.' })
  pValue: number | null;

  @Field(() => Float, { description: 'Drift threshold: on pValue (drifted below it) for KS and CHI_SQUARED, else on statistic (drifted at or above it).' })
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

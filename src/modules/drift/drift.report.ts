import { badInput } from '../../core/graphql/errors';
import { DataType } from '../dataset/data-type';
import { ColumnStatistics, DatasetColumn } from '../dataset/dataset-version.entity';
import { DriftMethod, DriftReport, FeatureDrift } from './dto/drift.types';
import {
  Hist, MIN_NORMALIZING_STDDEV, alignHistograms, categoryTable, chiSquaredGoodnessOfFit, chiSquaredTest, histogramStddev,
  jensenShannon, ksTest, psi, wasserstein,
} from './drift.stats';

type Method = Exclude<DriftMethod, DriftMethod.AUTO>;

/** Evidently's default thresholds: on pValue for the tests, on the statistic for the distances. */
export const THRESHOLDS: Record<Method, number> = {
  PSI: 0.1, KS: 0.05, JENSEN_SHANNON: 0.1, WASSERSTEIN: 0.1, CHI_SQUARED: 0.05, CHI_SQUARED_GOODNESS_OF_FIT: 0.05,
};
/**
 * Whether a pValue equal to the threshold is drift. Evidently's ks test drifts at
 * p ≤ threshold, its chisquare and z tests at p < threshold; CHI_SQUARED stands in for the
 * z test under AUTO, so it follows the z test.
 */
const DRIFTED_AT_THRESHOLD: Partial<Record<Method, boolean>> = { KS: true, CHI_SQUARED: false, CHI_SQUARED_GOODNESS_OF_FIT: false };
/** Evidently switches from the p-value tests to the distances above this many reference values. */
export const AUTO_SMALL_REFERENCE = 1000;
/** Names one drift request may list in `features`. */
export const MAX_DRIFT_FEATURE_NAMES = 1000;
/** Under AUTO, Evidently compares a numeric column with at most this many distinct values (both sides together) as categorical. */
export const AUTO_FEW_VALUES = 5;
/** GraphQL's Float has no infinity: an infinite statistic (a goodness-of-fit against a zero expectation) is answered as this. */
const LARGEST_STATISTIC = Number.MAX_VALUE;

type Kind = 'numeric' | 'categorical';
const KIND: Partial<Record<DataType, Kind>> = {
  INT: 'numeric', FLOAT: 'numeric', CATEGORY: 'categorical', STRING: 'categorical', BOOL: 'categorical',
};
const METHOD_KINDS: Record<Method, Kind[]> = {
  PSI: ['numeric', 'categorical'],
  JENSEN_SHANNON: ['numeric', 'categorical'],
  KS: ['numeric'],
  WASSERSTEIN: ['numeric'],
  CHI_SQUARED: ['categorical'],
  CHI_SQUARED_GOODNESS_OF_FIT: ['categorical'],
};

/** What a comparison reads: the histograms, or the top values as category counts. */
type Basis = 'histogram' | 'values';

export interface DriftRequest {
  reference: DatasetColumn[];
  current: DatasetColumn[];
  method: DriftMethod;
  /** null: every column both sides have that the method can compare. */
  features: string[] | null;
  shareThreshold: number;
  /** Told how many features will be compared, before any is. */
  compared?: (count: number) => void;
}

const nonNull = (s: ColumnStatistics) => s.count - s.nullCount;
const histogramTotal = (s: ColumnStatistics) => s.histogram!.counts.reduce((a, b) => a + b, 0);

/**
 * Whether both sides' topValues list every non-null value, with at most AUTO_FEW_VALUES
 * distinct values on both sides together. Only complete lists tell how many distinct values
 * there are, so a column whose lists are truncated (or absent) stays numeric, whatever its
 * distinctCount says.
 */
function hasFewValues(ref: ColumnStatistics | null | undefined, cur: ColumnStatistics | null | undefined): boolean {
  const values = new Set<string>();
  for (const s of [ref, cur]) {
    if (!s?.topValues || !(nonNull(s) > 0)) return false;
    let listed = 0;
    for (const v of s.topValues) {
      listed += v.count;
      if (v.count > 0) values.add(v.value);
    }
    if (listed < nonNull(s)) return false;
  }
  return values.size <= AUTO_FEW_VALUES;
}

/** What a column pair is compared on with a method, or why it cannot be. */
function basisOf(ref: DatasetColumn, cur: DatasetColumn, method: DriftMethod): { basis: Basis } | { why: string } {
  const why = (text: string) => ({ why: text });
  const kind = KIND[ref.dtype];
  if (!kind) return why(`its dtype ${ref.dtype} has no drift method (numeric: INT, FLOAT; categorical: CATEGORY, STRING, BOOL)`);
  if (KIND[cur.dtype] !== kind) return why(`it is ${ref.dtype} on the reference side but ${cur.dtype} on the current side`);
  if (method !== DriftMethod.AUTO && !METHOD_KINDS[method].includes(kind)) {
    return why(`${method} does not apply to ${ref.dtype} (${kind}) features`);
  }
  if (method === DriftMethod.AUTO && kind === 'numeric' && hasFewValues(ref.statistics, cur.statistics)) return { basis: 'values' };
  const basis: Basis = kind === 'numeric' ? 'histogram' : 'values';
  const what = basis === 'histogram' ? 'histogram' : 'topValues';
  for (const [side, c] of [['reference', ref], ['current', cur]] as const) {
    const s = c.statistics;
    if (!s || !s[what]) return why(`it has no statistics.${what} on the ${side} side`);
    const n = basis === 'histogram' ? histogramTotal(s) : nonNull(s);
    if (!(n > 0)) return why(`it has no non-null values on the ${side} side`);
  }
  return { basis };
}

/** Category counts of both sides (see categoryTable: values both sides' counts are known for, plus a pooled "other"). */
function categoryCounts(ref: ColumnStatistics, cur: ColumnStatistics): { a: number[]; b: number[] } {
  const t = categoryTable(ref.topValues!, nonNull(ref), cur.topValues!, nonNull(cur));
  return { a: t.reference, b: t.current };
}

/**
 * AUTO as Evidently's _get_default_stattest chooses, per feature, with the reference's
 * non-null size n: compared by value (categorical, or numeric with few values), n ≤ 1000
 * takes the chi-squared goodness-of-fit, or for at most two categories the two-proportion
 * z test, which is CHI_SQUARED on the 2 × 2 table (χ² = z², the same pValue); larger n
 * takes Jensen-Shannon. Compared by histogram, n ≤ 1000 takes KS, larger n Wasserstein.
 */
function autoMethod(basis: Basis, n: number, categories: number): Method {
  const small = n <= AUTO_SMALL_REFERENCE;
  if (basis === 'histogram') return small ? DriftMethod.KS : DriftMethod.WASSERSTEIN;
  if (!small) return DriftMethod.JENSEN_SHANNON;
  return categories <= 2 ? DriftMethod.CHI_SQUARED : DriftMethod.CHI_SQUARED_GOODNESS_OF_FIT;
}

function compare(name: string, ref: DatasetColumn, cur: DatasetColumn, requested: DriftMethod, basis: Basis): FeatureDrift {
  const rs = ref.statistics!;
  const cs = cur.statistics!;
  const rh = rs.histogram as Hist;
  const ch = cs.histogram as Hist;
  const table = basis === 'values' ? categoryCounts(rs, cs) : null;
  const method = requested !== DriftMethod.AUTO ? requested
    : autoMethod(basis, basis === 'histogram' ? histogramTotal(rs) : nonNull(rs), table ? table.a.length : 0);
  const threshold = THRESHOLDS[method];
  const byDistance = (statistic: number): FeatureDrift => ({ name, method, statistic, pValue: null, threshold, drifted: statistic >= threshold });
  const byPValue = (r: { statistic: number; pValue: number }): FeatureDrift => ({
    name, method, statistic: Number.isFinite(r.statistic) ? r.statistic : LARGEST_STATISTIC, pValue: r.pValue, threshold,
    drifted: DRIFTED_AT_THRESHOLD[method] ? r.pValue <= threshold : r.pValue < threshold,
  });
  const counts = () => table ?? alignHistograms(rh, ch);
  switch (method) {
    case DriftMethod.PSI: {
      const { a, b } = counts();
      return byDistance(psi(a, b));
    }
    case DriftMethod.JENSEN_SHANNON: {
      const { a, b } = counts();
      return byDistance(jensenShannon(a, b));
    }
    case DriftMethod.KS:
      return byPValue(ksTest(rh, ch));
    case DriftMethod.WASSERSTEIN: {
      const sd = rs.stddev ?? histogramStddev(rh);
      return byDistance(wasserstein(rh, ch) / Math.max(sd, MIN_NORMALIZING_STDDEV));
    }
    case DriftMethod.CHI_SQUARED_GOODNESS_OF_FIT:
      return byPValue(chiSquaredGoodnessOfFit(table!.a, table!.b));
    default:
      return byPValue(chiSquaredTest(table!.a, table!.b));
  }
}

/**
 * The drift report between two sets of columns. Named features must be on both sides and
 * comparable with the method (else BAD_USER_INPUT naming them); without names, every column
 * both sides have that the method can compare, in the reference's order.
 */
export function driftReport(req: DriftRequest): DriftReport {
  if (!(req.shareThreshold >= 0 && req.shareThreshold <= 1)) throw badInput('shareThreshold must be within [0, 1]', 'shareThreshold');
  const refByName = new Map(req.reference.map((c) => [c.name, c]));
  const curByName = new Map(req.current.map((c) => [c.name, c]));
  let pairs: [string, DatasetColumn, DatasetColumn, Basis][];
  if (req.features) {
    if (req.features.length > MAX_DRIFT_FEATURE_NAMES) throw badInput(`features takes at most ${MAX_DRIFT_FEATURE_NAMES} names`, 'features');
    const names = [...new Set(req.features)];
    pairs = names.map((name) => {
      const field = `features.${req.features!.indexOf(name)}`;
      const ref = refByName.get(name);
      const cur = curByName.get(name);
      if (!ref) throw badInput(`Feature "${name}" is not a column of the reference side`, field);
      if (!cur) throw badInput(`Feature "${name}" is not a column of the current side`, field);
      const plan = basisOf(ref, cur, req.method);
      if ('why' in plan) throw badInput(`Feature "${name}" cannot be compared: ${plan.why}`, field);
      return [name, ref, cur, plan.basis];
    });
  } else {
    pairs = [];
    for (const ref of req.reference) {
      const cur = curByName.get(ref.name);
      const plan = cur && basisOf(ref, cur, req.method);
      if (plan && 'basis' in plan) pairs.push([ref.name, ref, cur!, plan.basis]);
    }
  }
  req.compared?.(pairs.length);
  const features = pairs.map(([name, ref, cur, basis]) => compare(name, ref, cur, req.method, basis));
  const driftedShare = features.length ? features.filter((f) => f.drifted).length / features.length : 0;
  return { features, driftedShare, drifted: features.length > 0 && driftedShare >= req.shareThreshold };
}

import { badInput } from '../../core/graphql/errors';
import { DataType } from '../dataset/data-type';
import { DatasetColumn } from '../dataset/dataset-version.entity';
import { DriftMethod, DriftReport, FeatureDrift } from './dto/drift.types';
import {
  Hist, MIN_NORMALIZING_STDDEV, alignHistograms, chiSquaredTest, histogramStddev, jensenShannon, ksTest, psi, wasserstein,
} from './drift.stats';

/** Evidently's defaults: p-value tests drift below 0.05, distances at or above 0.1. */
export const THRESHOLDS: Record<Exclude<DriftMethod, DriftMethod.AUTO>, number> = {
  PSI: 0.1, KS: 0.05, JENSEN_SHANNON: 0.1, WASSERSTEIN: 0.1, CHI_SQUARED: 0.05,
};
/** Evidently switches from the p-value tests to the distances above this many reference values. */
export const AUTO_SMALL_REFERENCE = 1000;
/** Names one drift request may list in `features`. */
export const MAX_DRIFT_FEATURE_NAMES = 1000;

type Kind = 'numeric' | 'categorical';
const KIND: Partial<Record<DataType, Kind>> = {
  INT: 'numeric', FLOAT: 'numeric', CATEGORY: 'categorical', STRING: 'categorical', BOOL: 'categorical',
};
const METHOD_KINDS: Record<Exclude<DriftMethod, DriftMethod.AUTO>, Kind[]> = {
  PSI: ['numeric', 'categorical'],
  JENSEN_SHANNON: ['numeric', 'categorical'],
  KS: ['numeric'],
  WASSERSTEIN: ['numeric'],
  CHI_SQUARED: ['categorical'],
};

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

/** Why a column cannot be compared with a method, or null when it can. */
function unusable(ref: DatasetColumn, cur: DatasetColumn, method: DriftMethod): string | null {
  const kind = KIND[ref.dtype];
  if (!kind) return `its dtype ${ref.dtype} has no drift method (numeric: INT, FLOAT; categorical: CATEGORY, STRING, BOOL)`;
  if (KIND[cur.dtype] !== kind) return `it is ${ref.dtype} on the reference side but ${cur.dtype} on the current side`;
  if (method !== DriftMethod.AUTO && !METHOD_KINDS[method].includes(kind)) {
    return `${method} does not apply to ${ref.dtype} (${kind}) features`;
  }
  const what = kind === 'numeric' ? 'histogram' : 'topValues';
  for (const [side, c] of [['reference', ref], ['current', cur]] as const) {
    const s = c.statistics;
    if (!s || !s[what]) return `it has no statistics.${what} on the ${side} side`;
    const n = kind === 'numeric' ? s.histogram!.counts.reduce((a, b) => a + b, 0) : s.count - s.nullCount;
    if (!(n > 0)) return `it has no non-null values on the ${side} side`;
  }
  return null;
}

/** Category counts of both sides on one list of values; what topValues leave out pooled as "other". */
function categoryCounts(ref: DatasetColumn, cur: DatasetColumn): { a: number[]; b: number[] } {
  const values = [...new Set([...ref.statistics!.topValues!, ...cur.statistics!.topValues!].map((v) => v.value))];
  const vector = (c: DatasetColumn) => {
    const s = c.statistics!;
    const byValue = new Map<string, number>();
    for (const v of s.topValues!) byValue.set(v.value, (byValue.get(v.value) ?? 0) + v.count);
    const counts = values.map((v) => byValue.get(v) ?? 0);
    const listed = counts.reduce((x, y) => x + y, 0);
    return { counts, other: Math.max(0, s.count - s.nullCount - listed) };
  };
  const a = vector(ref);
  const b = vector(cur);
  if (a.other > 0 || b.other > 0) return { a: [...a.counts, a.other], b: [...b.counts, b.other] };
  return { a: a.counts, b: b.counts };
}

function compare(name: string, ref: DatasetColumn, cur: DatasetColumn, requested: DriftMethod): FeatureDrift {
  const numeric = KIND[ref.dtype] === 'numeric';
  let method = requested;
  if (method === DriftMethod.AUTO) {
    const n = numeric ? ref.statistics!.histogram!.counts.reduce((a, b) => a + b, 0) : ref.statistics!.count - ref.statistics!.nullCount;
    const small = n <= AUTO_SMALL_REFERENCE;
    method = numeric ? (small ? DriftMethod.KS : DriftMethod.WASSERSTEIN) : (small ? DriftMethod.CHI_SQUARED : DriftMethod.JENSEN_SHANNON);
  }
  const threshold = THRESHOLDS[method as keyof typeof THRESHOLDS];
  const byDistance = (statistic: number): FeatureDrift => ({ name, method, statistic, pValue: null, threshold, drifted: statistic >= threshold });
  const byPValue = (r: { statistic: number; pValue: number }): FeatureDrift => ({ name, method, ...r, threshold, drifted: r.pValue < threshold });
  const rh = ref.statistics!.histogram as Hist;
  const ch = cur.statistics!.histogram as Hist;
  const counts = () => (numeric ? alignHistograms(rh, ch) : categoryCounts(ref, cur));
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
      const sd = ref.statistics!.stddev ?? histogramStddev(rh);
      return byDistance(wasserstein(rh, ch) / Math.max(sd, MIN_NORMALIZING_STDDEV));
    }
    default: {
      const { a, b } = categoryCounts(ref, cur);
      return byPValue(chiSquaredTest(a, b));
    }
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
  let pairs: [string, DatasetColumn, DatasetColumn][];
  if (req.features) {
    if (req.features.length > MAX_DRIFT_FEATURE_NAMES) throw badInput(`features takes at most ${MAX_DRIFT_FEATURE_NAMES} names`, 'features');
    const names = [...new Set(req.features)];
    pairs = names.map((name) => {
      const field = `features.${req.features!.indexOf(name)}`;
      const ref = refByName.get(name);
      const cur = curByName.get(name);
      if (!ref) throw badInput(`Feature "${name}" is not a column of the reference side`, field);
      if (!cur) throw badInput(`Feature "${name}" is not a column of the current side`, field);
      const why = unusable(ref, cur, req.method);
      if (why) throw badInput(`Feature "${name}" cannot be compared: ${why}`, field);
      return [name, ref, cur];
    });
  } else {
    pairs = req.reference
      .filter((ref) => curByName.has(ref.name) && !unusable(ref, curByName.get(ref.name)!, req.method))
      .map((ref) => [ref.name, ref, curByName.get(ref.name)!]);
  }
  req.compared?.(pairs.length);
  const features = pairs.map(([name, ref, cur]) => compare(name, ref, cur, req.method));
  const driftedShare = features.length ? features.filter((f) => f.drifted).length / features.length : 0;
  return { features, driftedShare, drifted: features.length > 0 && driftedShare >= req.shareThreshold };
}

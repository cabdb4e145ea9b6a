import { badInput } from '../../core/graphql/errors';
import { groupBy } from '../../core/util/group-by';
import { ColumnStatistics, DatasetColumn } from '../dataset/dataset-version.entity';
import { Hist, mergeHistograms, mergeTopValueLists } from './drift.stats';

/**
 * Several production profiles of one model version as one set of columns, the way one
 * profile of the whole window would read: counts add up, histograms with identical edges add
 * bin by bin (otherwise they are re-binned onto the union of their edges by linear
 * interpolation, see `rebin`), top values add up by value where every profile's count of the
 * value is known (see `mergeTopValueLists`), mean and stddev are pooled and
 * min / max widen. A statistic is merged only when every profile that has the column
 * carries it; quantiles and distinctCount do not merge and are dropped when there are
 * several profiles. Columns keep the order in which they first appear.
 */
export function mergeProfiles(profiles: DatasetColumn[][]): DatasetColumn[] {
  if (profiles.length === 1) return profiles[0];
  return [...groupBy(profiles.flat(), (c) => c.name).entries()].map(([name, cols]) => {
    const dtype = cols[0].dtype;
    const other = cols.find((c) => c.dtype !== dtype);
    if (other) throw badInput(`Column "${name}" is ${dtype} in one production profile and ${other.dtype} in another`);
    const stats = cols.map((c) => c.statistics);
    const statistics = stats.every((s): s is ColumnStatistics => s != null) ? mergeStatistics(stats) : null;
    return { name, dtype, description: cols.find((c) => c.description)?.description ?? null, statistics };
  });
}

function mergeStatistics(stats: ColumnStatistics[]): ColumnStatistics {
  if (stats.length === 1) return stats[0];
  const all = <T>(pick: (s: ColumnStatistics) => T | null | undefined): T[] | null => {
    const values = stats.map(pick);
    return values.every((v) => v != null) ? (values as T[]) : null;
  };
  const count = stats.reduce((s, x) => s + x.count, 0);
  const nullCount = stats.reduce((s, x) => s + x.nullCount, 0);
  const mins = all((s) => s.min);
  const maxs = all((s) => s.max);
  const hists = all((s) => s.histogram);
  const tops = all((s) => s.topValues);
  return {
    count,
    nullCount,
    distinctCount: null,
    ...pooledMoments(stats),
    // A loop, not Math.min(...mins): spreading passes every value as an argument.
    min: mins ? mins.reduce((a, b) => Math.min(a, b)) : null,
    max: maxs ? maxs.reduce((a, b) => Math.max(a, b)) : null,
    quantiles: null,
    histogram: hists ? mergeHistograms(hists as Hist[]) : null,
    topValues: tops ? mergeTopValueLists(stats.map((s, i) => ({ values: tops[i], nonNull: s.count - s.nullCount }))) : null,
  };
}

/** Mean and (population) stddev of the union, from each part's non-null size, mean and stddev. */
function pooledMoments(stats: ColumnStatistics[]): { mean: number | null; stddev: number | null } {
  const parts = stats.map((s) => ({ n: s.count - s.nullCount, mean: s.mean, sd: s.stddev })).filter((p) => p.n > 0);
  if (!parts.length || parts.some((p) => p.mean == null)) return { mean: null, stddev: null };
  const n = parts.reduce((s, p) => s + p.n, 0);
  const mean = parts.reduce((s, p) => s + p.n * p.mean!, 0) / n;
  if (parts.some((p) => p.sd == null)) return { mean, stddev: null };
  const variance = parts.reduce((s, p) => s + p.n * (p.sd! ** 2 + (p.mean! - mean) ** 2), 0) / n;
  return { mean, stddev: Math.sqrt(variance) };
}

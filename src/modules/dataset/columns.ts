import { badInput } from '../../core/graphql/errors';
import { DatasetColumn } from './dataset-version.entity';
import { ColumnInput } from './dto/dataset.input';

/**
 * Checks what class-validator cannot see field by field (unique names, counts against each
 * other, ordered quantiles and histogram edges) and returns the columns as stored: plain JSON
 * with every optional field present, so a read never has to tell undefined from null.
 */
export function checkColumns(columns: ColumnInput[], rowCount: number | null | undefined): DatasetColumn[] {
  const seen = new Set<string>();
  return columns.map((c, i) => {
    const at = `columns.${i}`;
    if (seen.has(c.name)) throw badInput(`Column "${c.name}" is given twice`, `${at}.name`);
    seen.add(c.name);
    const s = c.statistics;
    if (!s) return { name: c.name, dtype: c.dtype, description: c.description ?? null, statistics: null };
    const st = `${at}.statistics`;
    if (rowCount != null && s.count > rowCount) throw badInput('count cannot exceed the version\'s rowCount', `${st}.count`);
    if (s.nullCount > s.count) throw badInput('nullCount cannot exceed count', `${st}.nullCount`);
    if (s.distinctCount != null && s.distinctCount > s.count) throw badInput('distinctCount cannot exceed count', `${st}.distinctCount`);
    if (s.min != null && s.max != null && s.min > s.max) throw badInput('min cannot exceed max', `${st}.min`);
    (s.quantiles ?? []).forEach((q, j) => {
      if (q.q < 0 || q.q > 1) throw badInput('q must be within [0, 1]', `${st}.quantiles.${j}.q`);
      const prev = j > 0 ? s.quantiles![j - 1] : null;
      if (prev && q.q <= prev.q) throw badInput('quantiles must be in strictly ascending q', `${st}.quantiles.${j}.q`);
      if (prev && q.value < prev.value) throw badInput('quantile values cannot decrease as q grows', `${st}.quantiles.${j}.value`);
    });
    if (s.histogram) {
      const { edges, counts } = s.histogram;
      if (edges.length !== counts.length + 1) {
        throw badInput(`a histogram needs one more edge than counts; got ${edges.length} edges, ${counts.length} counts`, `${st}.histogram.edges`);
      }
      edges.forEach((e, j) => {
        if (j > 0 && e <= edges[j - 1]) throw badInput('histogram edges must be strictly ascending', `${st}.histogram.edges.${j}`);
      });
      counts.forEach((n, j) => {
        if (n < 0) throw badInput('histogram counts must be at least 0', `${st}.histogram.counts.${j}`);
      });
    }
    (s.topValues ?? []).forEach((v, j) => {
      if (v.count > s.count) throw badInput('a top value cannot occur more often than count', `${st}.topValues.${j}.count`);
    });
    return {
      name: c.name,
      dtype: c.dtype,
      description: c.description ?? null,
      statistics: {
        count: s.count,
        nullCount: s.nullCount,
        distinctCount: s.distinctCount ?? null,
        mean: s.mean ?? null,
        stddev: s.stddev ?? null,
        min: s.min ?? null,
        max: s.max ?? null,
        quantiles: s.quantiles ? s.quantiles.map((q) => ({ q: q.q, value: q.value })) : null,
        histogram: s.histogram ? { edges: [...s.histogram.edges], counts: [...s.histogram.counts] } : null,
        topValues: s.topValues ? s.topValues.map((v) => ({ value: v.value, count: v.count })) : null,
      },
    };
  });
}

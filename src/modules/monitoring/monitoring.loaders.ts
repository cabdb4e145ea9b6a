import DataLoader from 'dataloader';
import { DataSource } from 'typeorm';
import { hydrate } from '../../core/db/sql';
import { pageLoader, rowLoader } from '../../core/graphql/page-loader';
import { groupBy } from '../../core/util/group-by';
import { AGGREGATION_SQL, Aggregation, MetricPoint, MetricSeries } from './metric-series.entity';
import { Alert, Monitor } from './monitor.entity';

/** A series' points downsampled: null bounds default to the series' first and last point. */
export interface PointsKey {
  seriesId: string;
  from: Date | null;
  to: Date | null;
  maxPoints: number;
  aggregation: Aggregation;
}

const argsKey = (k: PointsKey) => `${k.from?.toISOString() ?? ''}\u0000${k.to?.toISOString() ?? ''}\u0000${k.maxPoints}\u0000${k.aggregation}`;

/**
 * Downsamples many series with the same arguments in one statement. [lo, hi) is cut into
 * maxPoints equal-width buckets by epoch arithmetic; each non-empty bucket becomes one row,
 * stamped with its start. The range scan per series walks (series_id, ts).
 */
const pointsSql = (aggregation: Aggregation) => `
  WITH k AS (
    SELECT k.sid, k.ord,
           coalesce($2::timestamptz, (SELECT min(ts) FROM metric_point WHERE series_id = k.sid)) AS lo,
           coalesce($3::timestamptz, (SELECT max(ts) FROM metric_point WHERE series_id = k.sid) + interval '1 millisecond') AS hi
      FROM unnest($1::uuid[]) WITH ORDINALITY k(sid, ord))
  SELECT k.ord, k.lo + b.bucket * ((k.hi - k.lo) / $4::int) AS ts, b.value, b.min, b.max, b.count
    FROM k CROSS JOIN LATERAL (
      SELECT least(floor(extract(epoch FROM p.ts - k.lo) * $4::int / extract(epoch FROM k.hi - k.lo)), $4::int - 1)::int AS bucket,
             ${AGGREGATION_SQL[aggregation]('p')} AS value, min(p.value) AS min, max(p.value) AS max, count(*)::int AS count
        FROM metric_point p
       WHERE p.series_id = k.sid AND p.ts >= k.lo AND p.ts < k.hi AND k.hi > k.lo
       GROUP BY 1) b
   ORDER BY k.ord, b.bucket`;

export function monitoringLoaders(db: DataSource, batch: boolean) {
  const metricSeriesById = rowLoader(db, MetricSeries, batch,
    (ids) => `SELECT * FROM metric_series WHERE id = ANY(${ids}::uuid[])`, (s) => s.id);
  const monitorById = rowLoader(db, Monitor, batch, (ids) => `SELECT * FROM monitor WHERE id = ANY(${ids}::uuid[])`, (mo) => mo.id);
  const primeSeries = (rows: MetricSeries[]) => { for (const s of rows) metricSeriesById.prime(s.id, s); };
  const primeMonitors = (rows: Monitor[]) => { for (const mo of rows) monitorById.prime(mo.id, mo); };
  return {
    metricSeriesById,
    metricSeriesPages: pageLoader(db, MetricSeries, batch, primeSeries),
    /** Series of many versions (optionally of one name each), by name, in one statement. */
    metricSeriesByVersion: new DataLoader<[string, string | null], MetricSeries[], string>(
      async (keys) => {
        const rows: Record<string, unknown>[] = await db.query(
          `SELECT s.*, k.i AS __key FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY k(v, n, i)
             JOIN metric_series s ON s.model_version_id = k.v AND (k.n IS NULL OR s.name = k.n)
            ORDER BY k.i, s.name, s.id`,
          [keys.map((k) => k[0]), keys.map((k) => k[1])],
        );
        const series = hydrate(db, MetricSeries, rows);
        primeSeries(series);
        const byKey = groupBy(series, (_, i) => Number(rows[i].__key) - 1);
        return keys.map((_, i) => byKey.get(i) ?? []);
      },
      { batch, cache: batch, cacheKeyFn: (k) => `${k[0]}\u0000${k[1] ?? '\u0001'}` },
    ),
    /** Downsampled points; keys with the same arguments share a statement. */
    metricPoints: new DataLoader<PointsKey, MetricPoint[], string>(
      async (keys) => {
        const groups = groupBy(keys.map((_, i) => i), (i) => argsKey(keys[i]));
        const out: MetricPoint[][] = keys.map(() => []);
        await Promise.all([...groups.values()].map(async (idx) => {
          const k0 = keys[idx[0]];
          const rows: { ord: string; ts: Date; value: number; min: number; max: number; count: number }[] = await db.query(
            pointsSql(k0.aggregation),
            [idx.map((i) => keys[i].seriesId), k0.from?.toISOString() ?? null, k0.to?.toISOString() ?? null, k0.maxPoints],
          );
          for (const r of rows) {
            out[idx[Number(r.ord) - 1]].push({ timestamp: r.ts, value: Number(r.value), min: r.min, max: r.max, count: r.count });
          }
        }));
        return out;
      },
      { batch, cache: batch, cacheKeyFn: (k) => `${k.seriesId}\u0000${argsKey(k)}` },
    ),
    monitorById,
    monitorPages: pageLoader(db, Monitor, batch, primeMonitors),
    alertById: rowLoader(db, Alert, batch, (ids) => `SELECT * FROM alert WHERE id = ANY(${ids}::bigint[])`, (a) => String(a.id)),
    alertPages: pageLoader(db, Alert, batch),
  };
}

declare module '../../core/graphql/context' {
  // This module's loaders join the per-request bag (see Loaders in core/graphql/context.ts).
  interface Loaders extends ReturnType<typeof monitoringLoaders> {}
}

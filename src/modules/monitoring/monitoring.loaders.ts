import DataLoader from 'dataloader';
import { DataSource } from 'typeorm';
import { hydrate } from '../../core/db/sql';
import { pageLoader, rowLoader } from '../../core/graphql/page-loader';
import { groupBy } from '../../core/util/group-by';
import { AGGREGATION_SQL, Aggregation, MetricPoint, MetricSeries } from './metric-series.entity';
import { Alert, Monitor } from './monitor.entity';
import { RollupRead, lockPointsForSnapshot, planWindow, readRollups } from './history';
import { ROLLUP_UNITS } from './rollups';
import { retentionLoader } from './retention.service';

/**
 * A series' points downsampled over [from, to). Without from, the buckets start at the series'
 * first point at or after `since` (the window's default start).
 */
export interface PointsKey {
  seriesId: string;
  from: Date | null;
  since: Date;
  to: Date;
  maxPoints: number;
  aggregation: Aggregation;
}

/** Reads with these in common share a statement; their windows differ per series. */
const groupKey = (k: PointsKey) => `${k.maxPoints}\u0000${k.aggregation}`;
const argsKey = (k: PointsKey) => `${k.from?.toISOString() ?? ''}\u0000${k.since.toISOString()}\u0000${k.to.toISOString()}\u0000${groupKey(k)}`;

/**
 * Downsamples many windows (of many series, or of one) with the same bucket count and
 * aggregation in one statement, from raw points: windows whose buckets are under a minute
 * (longer ones read the rollups, history.ts). [lo, hi) is cut into maxPoints equal-width buckets by epoch
 * arithmetic; each non-empty bucket becomes one row, stamped with its start. The range scan per
 * window walks (series_id, ts).
 */
const pointsSql = (aggregation: Aggregation) => `
  WITH k AS (
    SELECT k.sid, k.ord, k.hi,
           coalesce(k.lo, (SELECT min(ts) FROM metric_point WHERE series_id = k.sid AND ts >= k.since AND ts < k.hi)) AS lo
      FROM unnest($1::uuid[], $2::timestamptz[], $5::timestamptz[], $3::timestamptz[]) WITH ORDINALITY k(sid, lo, since, hi, ord))
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
    /**
     * Downsampled points; keys with the same bucket count and aggregation share a statement.
     * The statements run one after another: however many windows one request asks for, it
     * holds one connection of the pool at a time, so it cannot starve other callers.
     */
    metricPoints: new DataLoader<PointsKey, MetricPoint[], string>(
      async (keys) => {
        const groups = groupBy(keys.map((_, i) => i), (i) => groupKey(keys[i]));
        const out: MetricPoint[][] = keys.map(() => []);
        for (const idx of groups.values()) {
          const k0 = keys[idx[0]];
          // Windows of buckets of a minute or more read the rollups (history.ts); the rest read raw points.
          const raw: { i: number; from: Date | null }[] = [];
          const rolled: { i: number; from: Date | null }[] = [];
          for (const i of idx) {
            const k = keys[i];
            const start = k.from ?? k.since;
            if ((k.to.getTime() - start.getTime()) / k.maxPoints < ROLLUP_UNITS[0].ms) raw.push({ i, from: k.from });
            else rolled.push({ i, from: k.from });
          }
          if (rolled.length) {
            await db.transaction('REPEATABLE READ', async (m) => {
              await lockPointsForSnapshot(m);
              const unknown = rolled.filter((r) => !r.from);
              if (unknown.length) {
                // Without from, the window starts at the first point at or after since.
                const firsts: { lo: Date | null }[] = await m.query(
                  `SELECT (SELECT min(ts) FROM metric_point WHERE series_id = k.sid AND ts >= k.since AND ts < k.hi) AS lo
                     FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY k(sid, since, hi, ord) ORDER BY k.ord`,
                  [unknown.map((r) => keys[r.i].seriesId), unknown.map((r) => keys[r.i].since.toISOString()), unknown.map((r) => keys[r.i].to.toISOString())],
                );
                unknown.forEach((r, j) => { r.from = firsts[j].lo; });
              }
              const reads: (RollupRead & { i: number })[] = [];
              for (const r of rolled) {
                if (!r.from) continue; // no point in the window
                const k = keys[r.i];
                const plan = planWindow(r.from.getTime(), k.to.getTime(), k.maxPoints);
                if (plan) reads.push({ i: r.i, seriesId: k.seriesId, lo: r.from, hi: k.to, plan });
                else raw.push(r);
              }
              if (reads.length) (await readRollups(m, reads, k0.aggregation)).forEach((pts, j) => { out[reads[j].i] = pts; });
            });
          }
          if (!raw.length) continue;
          const rows: { ord: string; ts: Date; value: number; min: number; max: number; count: number }[] = await db.query(
            pointsSql(k0.aggregation),
            [raw.map((r) => keys[r.i].seriesId), raw.map((r) => r.from?.toISOString() ?? null), raw.map((r) => keys[r.i].to.toISOString()),
              k0.maxPoints, raw.map((r) => keys[r.i].since.toISOString())],
          );
          for (const r of rows) {
            out[raw[Number(r.ord) - 1].i].push({ timestamp: r.ts, value: Number(r.value), min: r.min, max: r.max, count: r.count });
          }
        }
        return out;
      },
      { batch, cache: batch, cacheKeyFn: (k) => `${k.seriesId}\u0000${argsKey(k)}` },
    ),
    /** Per project, the days of metric points kept (null: everything). */
    metricRetentionByProject: retentionLoader(db, batch),
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

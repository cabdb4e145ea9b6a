import type { DataSource, EntityManager } from 'typeorm';
import { Aggregation, MetricPoint } from './metric-series.entity';
import { ROLLUP_UNITS, RollupUnit, rollupWatermark } from './rollups';
import { DDSketch } from './sketch';

/**
 * Reads of MetricSeries.points over long windows, from the rollups.
 *
 * A window [lo, hi) read into maxPoints buckets of width (hi - lo) / maxPoints:
 * - under a minute: raw points, in equal-width buckets from lo (monitoring.loaders.ts);
 * - a minute or more (an hour or more): buckets whose width is a whole number of minutes
 *   (hours), on a grid of clock minutes (hours) that starts at the minute (hour) of lo; as few
 *   as fit in maxPoints. The first bucket is stamped lo (it holds no point before it). Each
 *   bucket is the merge of the rollup rows wholly inside [lo, hi), of the minute rollups of the
 *   partial hours at the edges, of the raw points of the partial minutes at the edges, and of
 *   the points the rollup round has not reached yet (id above the watermark), read raw. All of
 *   it is read in one REPEATABLE READ transaction, so the watermark and the rollups agree.
 *
 * count, sum, min, max, AVG and LAST are then exactly those of the raw points (up to the order
 * of floating-point additions); P50/P95/P99 come from the merged DDSketch, within its relative
 * accuracy of percentile_cont.
 */

export interface RollupPlan {
  unit: RollupUnit;
  unitMs: number;
  /** Grid origin: lo floored to the unit. */
  origin: number;
  widthMs: number;
  /** [from, to, source] pieces that tile [lo, hi). */
  segments: [number, number, RollupUnit | 'raw'][];
}

const floorTo = (t: number, u: number) => Math.floor(t / u) * u;
const ceilTo = (t: number, u: number) => Math.ceil(t / u) * u;

/** The rollup plan of a window, or null when its buckets are under a minute (read raw). */
export function planWindow(lo: number, hi: number, maxPoints: number): RollupPlan | null {
  const raw = (hi - lo) / maxPoints;
  const unit = [...ROLLUP_UNITS].reverse().find((u) => raw >= u.ms);
  if (!unit) return null;
  const origin = floorTo(lo, unit.ms);
  const widthMs = unit.ms * Math.max(1, Math.ceil((hi - origin) / (unit.ms * maxPoints)));
  const M = 60_000;
  const segments: RollupPlan['segments'] = [];
  const push = (a: number, b: number, src: RollupUnit | 'raw') => { if (b > a) segments.push([a, b, src]); };
  const am = Math.min(ceilTo(lo, M), hi);
  const bm = Math.max(floorTo(hi, M), am);
  push(lo, am, 'raw');
  if (unit.name === '1h') {
    const ah = Math.min(ceilTo(lo, unit.ms), bm);
    const bh = Math.max(floorTo(hi, unit.ms), ah);
    push(am, ah, '1m');
    push(ah, bh, '1h');
    push(bh, bm, '1m');
  } else {
    push(am, bm, '1m');
  }
  push(bm, hi, 'raw');
  return { unit: unit.name, unitMs: unit.ms, origin, widthMs, segments };
}

export interface RollupRead {
  seriesId: string;
  lo: Date;
  hi: Date;
  plan: RollupPlan;
}

const QUANTILE: Partial<Record<Aggregation, number>> = { [Aggregation.P50]: 0.5, [Aggregation.P95]: 0.95, [Aggregation.P99]: 0.99 };

/**
 * The first statement of a REPEATABLE READ transaction that reads metric_point. Its snapshot is
 * taken by the first query after this lock (LOCK takes none), and a partition move (or drop) of
 * the storage round, which locks metric_point ACCESS EXCLUSIVE, then commits either before the
 * snapshot or after the transaction. Without it, a move committed between the snapshot and a
 * later statement's plan would prune DEFAULT (where the snapshot still sees the rows) and skip
 * the new partition (where it does not see them yet): points would be missed.
 */
export async function lockPointsForSnapshot(m: EntityManager): Promise<void> {
  await m.query(`LOCK TABLE metric_point IN ACCESS SHARE MODE`);
}

/**
 * Reads many windows (same aggregation) from the rollups in `m`, which must be a REPEATABLE READ
 * transaction that began with lockPointsForSnapshot (the watermark and the rows it covers are
 * read in one snapshot).
 */
export async function readRollups(m: EntityManager, reads: RollupRead[], aggregation: Aggregation): Promise<MetricPoint[][]> {
  const watermark = await rollupWatermark(m);
  const q = QUANTILE[aggregation];
  // Each piece is its own branch with its own parameters, so the planner sees the series and the
  // range of each: partitions outside it are pruned and each branch is one index range scan.
  const params: unknown[] = [watermark, reads.map((r) => r.seriesId)];
  const add = (v: unknown) => `$${params.push(v)}`;
  const branches: string[] = [];
  reads.forEach((r, i) => {
    const ord = i + 1;
    const sid = `${add(r.seriesId)}::uuid`;
    const bucket = (col: string) =>
      `floor((extract(epoch FROM ${col} - ${add(new Date(r.plan.origin).toISOString())}::timestamptz) * 1000) / ${r.plan.widthMs})::int`;
    for (const [a, b, src] of r.plan.segments) {
      const range = (col: string) => `${col} >= ${add(new Date(a).toISOString())}::timestamptz AND ${col} < ${add(new Date(b).toISOString())}::timestamptz`;
      const point = (table: string) => `SELECT ${ord} AS ord, ${bucket('p.ts')} AS bucket, 1::float8 AS count, p.value AS sum, p.value AS min, p.value AS max,
          p.ts AS last_ts, p.id AS last_id, p.value AS last_value, NULL::bytea AS sketch FROM ${table} p WHERE p.series_id = ${sid} AND ${range('p.ts')}`;
      if (src === 'raw') {
        branches.push(point('metric_point'));
      } else {
        branches.push(`SELECT ${ord}, ${bucket('r.bucket')}, r.count::float8, r.sum, r.min, r.max, r.last_ts, r.last_id, r.last_value, r.sketch
          FROM metric_rollup_${src} r WHERE r.series_id = ${sid} AND ${range('r.bucket')}`);
        // The points the rollup round has not reached yet.
        branches.push(point('tail'));
      }
    }
  });
  const rows: Record<string, unknown>[] = await m.query(
    `WITH tail AS MATERIALIZED (SELECT p.id, p.series_id, p.ts, p.value FROM metric_point p WHERE p.id > $1::bigint AND p.series_id = ANY($2::uuid[])),
          parts (ord, bucket, count, sum, min, max, last_ts, last_id, last_value, sketch) AS (${branches.join('\n UNION ALL ')})
     SELECT ord, bucket, sum(count)::float8 AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max,
            (array_agg(last_value ORDER BY last_ts DESC, last_id DESC))[1] AS last
            ${q === undefined ? '' : `, array_agg(sketch) FILTER (WHERE sketch IS NOT NULL) AS sketches,
            string_agg(float8send(sum), ''::bytea) FILTER (WHERE sketch IS NULL) AS vals`}
       FROM parts GROUP BY 1, 2 ORDER BY 1, 2`,
    params,
  );
  const out: MetricPoint[][] = reads.map(() => []);
  for (const r of rows) {
    const read = reads[Number(r.ord) - 1];
    const start = read.plan.origin + Number(r.bucket) * read.plan.widthMs;
    const count = r.count as number;
    let value: number;
    switch (aggregation) {
      case Aggregation.AVG: value = (r.sum as number) / count; break;
      case Aggregation.MIN: value = r.min as number; break;
      case Aggregation.MAX: value = r.max as number; break;
      case Aggregation.SUM: value = r.sum as number; break;
      case Aggregation.COUNT: value = count; break;
      case Aggregation.LAST: value = r.last as number; break;
      default: {
        const sketch = new DDSketch();
        for (const b of (r.sketches as Buffer[] | null) ?? []) sketch.merge(DDSketch.decode(b));
        const vals = r.vals as Buffer | null;
        if (vals) for (let o = 0; o < vals.length; o += 8) sketch.add(vals.readDoubleBE(o));
        value = sketch.quantile(q!)!;
      }
    }
    out[Number(r.ord) - 1].push({
      timestamp: new Date(Math.max(start, read.lo.getTime())), value, min: r.min as number, max: r.max as number, count,
    });
  }
  return out;
}

/** For callers outside a request (tests, the benchmark): one window in its own transaction. */
export function readRollupWindow(db: DataSource, read: RollupRead, aggregation: Aggregation): Promise<MetricPoint[]> {
  return db.transaction('REPEATABLE READ', async (m) => {
    await lockPointsForSnapshot(m);
    return (await readRollups(m, [read], aggregation))[0];
  });
}

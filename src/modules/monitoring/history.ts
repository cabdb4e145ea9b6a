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
 * Reads many windows (same aggregation) from the rollups in `m`, which must be a REPEATABLE READ
 * transaction (the watermark and the rows it covers are read in one snapshot).
 */
export async function readRollups(m: EntityManager, reads: RollupRead[], aggregation: Aggregation): Promise<MetricPoint[][]> {
  const watermark = await rollupWatermark(m);
  const seg = reads.flatMap((r, i) => r.plan.segments.map(([a, b, src]) => ({ ord: i + 1, a, b, src })));
  const q = QUANTILE[aggregation];
  const rows: Record<string, unknown>[] = await m.query(
    `WITH seg AS (SELECT s.ord, s.src, s.a, s.b, k.sid FROM unnest($1::int[], $2::text[], $3::timestamptz[], $4::timestamptz[]) s(ord, src, a, b)
                    JOIN unnest($5::uuid[]) WITH ORDINALITY k(sid, ord) ON k.ord = s.ord),
          -- the points the rollup round has not reached: few, found by id
          tail AS MATERIALIZED (SELECT p.id, p.series_id, p.ts, p.value FROM metric_point p WHERE p.id > $6::bigint AND p.series_id = ANY($5::uuid[])),
          parts AS (
            SELECT seg.ord, r.bucket AS ts, r.count::float8 AS count, r.sum, r.min, r.max, r.last_ts, r.last_id, r.last_value, r.sketch
              FROM seg JOIN metric_rollup_1h r ON r.series_id = seg.sid AND r.bucket >= seg.a AND r.bucket < seg.b WHERE seg.src = '1h'
            UNION ALL
            SELECT seg.ord, r.bucket, r.count::float8, r.sum, r.min, r.max, r.last_ts, r.last_id, r.last_value, r.sketch
              FROM seg JOIN metric_rollup_1m r ON r.series_id = seg.sid AND r.bucket >= seg.a AND r.bucket < seg.b WHERE seg.src = '1m'
            UNION ALL
            SELECT seg.ord, p.ts, 1, p.value, p.value, p.value, p.ts, p.id, p.value, NULL
              FROM seg JOIN metric_point p ON p.series_id = seg.sid AND p.ts >= seg.a AND p.ts < seg.b WHERE seg.src = 'raw'
            UNION ALL
            SELECT seg.ord, p.ts, 1, p.value, p.value, p.value, p.ts, p.id, p.value, NULL
              FROM seg JOIN tail p ON p.series_id = seg.sid AND p.ts >= seg.a AND p.ts < seg.b WHERE seg.src <> 'raw')
     SELECT parts.ord, floor((extract(epoch FROM parts.ts - o.origin) * 1000) / o.width)::int AS bucket,
            sum(count)::float8 AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max,
            (array_agg(last_value ORDER BY last_ts DESC, last_id DESC))[1] AS last
            ${q === undefined ? '' : `, array_agg(sketch) FILTER (WHERE sketch IS NOT NULL) AS sketches,
            string_agg(float8send(sum), ''::bytea) FILTER (WHERE sketch IS NULL) AS vals`}
       FROM parts JOIN unnest($7::timestamptz[], $8::float8[]) WITH ORDINALITY o(origin, width, ord) ON o.ord = parts.ord
      GROUP BY 1, 2 ORDER BY 1, 2`,
    [seg.map((s) => s.ord), seg.map((s) => s.src), seg.map((s) => new Date(s.a).toISOString()), seg.map((s) => new Date(s.b).toISOString()),
      reads.map((r) => r.seriesId), watermark, reads.map((r) => new Date(r.plan.origin).toISOString()), reads.map((r) => r.plan.widthMs)],
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
  return db.transaction('REPEATABLE READ', async (m) => (await readRollups(m, [read], aggregation))[0]);
}

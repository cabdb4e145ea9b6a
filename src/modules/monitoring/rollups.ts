import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, EntityManager } from 'typeorm';
import { stillWriting, writersOf } from '../../core/events/event-hub';
import { DDSketch } from './sketch';

/**
 * The rollup round: merges the points committed since the watermark into metric_rollup_1m and
 * metric_rollup_1h (per series and clock minute / hour: count, sum, min, max, newest point and
 * a DDSketch of the values).
 *
 * Points are taken by id, not by ts: a late point (an old ts, a new id) is merged into the old
 * buckets it falls in, which then answer as if it had always been there. Ids are drawn at
 * insert, not at commit, so "every id up to the largest visible" is not final: a transaction
 * that drew a smaller id may still commit. The round reads only up to a settled bound, computed
 * as the event hub's horizon is (see the comment at the top of src/core/events/event-hub.ts):
 * one statement takes the snapshot and the largest visible id, then the round waits until every
 * transaction in progress in that snapshot that writes metric_point has ended. Every id at or below the bound is then
 * committed or never will be, and the watermark moves to it in the same transaction as the
 * rollups it covers: a reader that sees the watermark W sees exactly the points with id <= W in
 * the rollups, and reads the points above W raw. Like the hub's horizon, it does not wait for
 * transactions of other databases, nor for this database's that hold no write lock on
 * metric_point (settledBound).
 *
 * One process at a time runs it (pg_try_advisory_xact_lock); the others skip their turn.
 */

export const ROLLUP_UNITS = [
  { name: '1m', ms: 60_000 },
  { name: '1h', ms: 3_600_000 },
] as const;
export type RollupUnit = (typeof ROLLUP_UNITS)[number]['name'];

export const ROLLUP_LOCK = 0x6d67_726f; // "mgro"
/** Ids per transaction: bounds the memory and the length of one transaction when far behind. */
export const ROLLUP_CHUNK = 250_000;

interface Agg {
  seriesId: string;
  projectId: string;
  bucket: Date;
  count: number;
  sum: number;
  min: number;
  max: number;
  lastTs: Date;
  lastId: bigint;
  lastValue: number;
  sketch: DDSketch;
}

const newer = (a: Agg, b: Agg) => a.lastTs.getTime() > b.lastTs.getTime() || (a.lastTs.getTime() === b.lastTs.getTime() && a.lastId > b.lastId);

function mergeInto(into: Agg, from: Agg): void {
  into.count += from.count;
  into.sum += from.sum;
  if (from.min < into.min) into.min = from.min;
  if (from.max > into.max) into.max = from.max;
  if (newer(from, into)) {
    into.lastTs = from.lastTs;
    into.lastId = from.lastId;
    into.lastValue = from.lastValue;
  }
  into.sketch.merge(from.sketch);
}

/** The largest id of metric_point below which every row is final (see the file comment). */
export async function settledBound(db: DataSource, stopped: () => boolean = () => false): Promise<string | null> {
  // The same rule as the live streams' horizon (EventHub): wait only for the transactions of the
  // snapshot that hold a write lock on metric_point in this database (the ones that can still
  // commit a point with an id at or below the bound); a transaction left open elsewhere, or one
  // that never wrote a point, does not hold the rollups back. `text[]` so pg parses the array.
  const [{ bound, pending }]: { bound: string; pending: string[] }[] = await db.query(
    `SELECT coalesce(max(id), 0)::text AS bound, ARRAY(${writersOf('$1')})::text[] AS pending FROM metric_point`, ['metric_point']);
  let waiting = pending;
  for (let delay = 2; waiting.length; delay = Math.min(delay * 2, 100)) {
    if (stopped()) return null;
    await sleep(delay);
    const rows: { xid: string }[] = await db.query(stillWriting('$1', '$2'), [waiting, 'metric_point']);
    waiting = rows.map((r) => r.xid);
  }
  return bound;
}

export async function rollupWatermark(m: EntityManager | DataSource): Promise<string> {
  const [{ watermark }] = await m.query(`SELECT watermark::text AS watermark FROM metric_rollup_state WHERE name = 'points'`);
  return watermark;
}

/** Reads the existing buckets of `aggs`, merges `aggs` into them and writes them back. */
async function upsert(m: EntityManager, unit: RollupUnit, aggs: Agg[]): Promise<void> {
  if (aggs.length === 0) return;
  const existing: Record<string, unknown>[] = await m.query(
    `SELECT r.series_id, r.project_id, r.bucket, r.count::float8 AS count, r.sum, r.min, r.max, r.last_ts, r.last_id::text AS last_id, r.last_value, r.sketch
       FROM unnest($1::uuid[], $2::timestamptz[]) k(s, b) JOIN metric_rollup_${unit} r ON r.series_id = k.s AND r.bucket = k.b`,
    [aggs.map((a) => a.seriesId), aggs.map((a) => a.bucket.toISOString())],
  );
  const byKey = new Map(aggs.map((a) => [`${a.seriesId}|${a.bucket.getTime()}`, a]));
  for (const r of existing) {
    const a = byKey.get(`${r.series_id}|${(r.bucket as Date).getTime()}`)!;
    mergeInto(a, {
      seriesId: a.seriesId, projectId: a.projectId, bucket: a.bucket, count: r.count as number, sum: r.sum as number, min: r.min as number,
      max: r.max as number, lastTs: r.last_ts as Date, lastId: BigInt(r.last_id as string), lastValue: r.last_value as number,
      sketch: DDSketch.decode(r.sketch as Buffer),
    });
  }
  await m.query(
    `INSERT INTO metric_rollup_${unit} AS r (series_id, bucket, project_id, count, sum, min, max, last_ts, last_id, last_value, sketch)
     SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::uuid[], $4::bigint[], $5::float8[], $6::float8[], $7::float8[],
                          $8::timestamptz[], $9::bigint[], $10::float8[], $11::bytea[])
     ON CONFLICT (series_id, bucket) DO UPDATE SET count = EXCLUDED.count, sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max,
       last_ts = EXCLUDED.last_ts, last_id = EXCLUDED.last_id, last_value = EXCLUDED.last_value, sketch = EXCLUDED.sketch`,
    [aggs.map((a) => a.seriesId), aggs.map((a) => a.bucket.toISOString()), aggs.map((a) => a.projectId), aggs.map((a) => a.count),
      aggs.map((a) => a.sum), aggs.map((a) => a.min), aggs.map((a) => a.max), aggs.map((a) => a.lastTs.toISOString()),
      aggs.map((a) => a.lastId.toString()), aggs.map((a) => a.lastValue), aggs.map((a) => a.sketch.encode())],
  );
}

/** Merges the points with lo < id <= hi into the rollups and moves the watermark to hi, in `m`'s transaction. */
async function rollUp(m: EntityManager, lo: string, hi: string): Promise<number> {
  const rows: Record<string, unknown>[] = await m.query(
    `SELECT series_id, project_id, date_bin('1 minute', ts, 'epoch') AS bucket, count(*)::float8 AS count, sum(value) AS sum,
            min(value) AS min, max(value) AS max, (array_agg(ts ORDER BY ts DESC, id DESC))[1] AS last_ts,
            (array_agg(id ORDER BY ts DESC, id DESC))[1]::text AS last_id, (array_agg(value ORDER BY ts DESC, id DESC))[1] AS last_value,
            string_agg(float8send(value), ''::bytea) AS vals
       FROM metric_point WHERE id > $1 AND id <= $2
      GROUP BY 1, 2, 3`,
    [lo, hi],
  );
  const minutes: Agg[] = rows.map((r) => {
    const vals = r.vals as Buffer;
    const sketch = new DDSketch();
    for (let o = 0; o < vals.length; o += 8) sketch.add(vals.readDoubleBE(o));
    return {
      seriesId: r.series_id as string, projectId: r.project_id as string, bucket: r.bucket as Date, count: r.count as number,
      sum: r.sum as number, min: r.min as number, max: r.max as number, lastTs: r.last_ts as Date, lastId: BigInt(r.last_id as string),
      lastValue: r.last_value as number, sketch,
    };
  });
  // The hours are the merge of their minutes (before the minutes are merged with what is stored).
  const hours = new Map<string, Agg>();
  for (const a of minutes) {
    const bucket = new Date(Math.floor(a.bucket.getTime() / 3_600_000) * 3_600_000);
    const key = `${a.seriesId}|${bucket.getTime()}`;
    const h = hours.get(key);
    if (h) mergeInto(h, a);
    else hours.set(key, { ...a, bucket, sketch: new DDSketch().merge(a.sketch) });
  }
  await upsert(m, '1h', [...hours.values()]);
  await upsert(m, '1m', minutes);
  await m.query(`UPDATE metric_rollup_state SET watermark = $1 WHERE name = 'points'`, [hi]);
  return minutes.reduce((n, a) => n + a.count, 0);
}

export interface RollupRoundResult {
  /** Points merged. */
  points: number;
  /** The watermark after the round. */
  watermark: string;
  /** False when another process held the round's lock. */
  ran: boolean;
}

/** One rollup round: everything committed up to a settled bound, in chunks of ROLLUP_CHUNK ids. */
export async function rollupRound(db: DataSource, stopped: () => boolean = () => false): Promise<RollupRoundResult> {
  const result: RollupRoundResult = { points: 0, watermark: '0', ran: true };
  const settled = await settledBound(db, stopped);
  if (settled === null) return { ...result, ran: false };
  const bound = BigInt(settled);
  // A stop ends the round between chunks; the watermark keeps what was done.
  while (!stopped()) {
    const more = await db.transaction(async (m) => {
      const [{ locked }] = await m.query(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [ROLLUP_LOCK]);
      if (!locked) {
        result.ran = false;
        return false;
      }
      const lo = BigInt(await rollupWatermark(m));
      result.watermark = lo.toString();
      if (lo >= bound) return false;
      const hi = lo + BigInt(ROLLUP_CHUNK) < bound ? lo + BigInt(ROLLUP_CHUNK) : bound;
      result.points += await rollUp(m, lo.toString(), hi.toString());
      result.watermark = hi.toString();
      return hi < bound;
    });
    if (!more) return result;
  }
  return result;
}

import { DataSource, EntityManager } from 'typeorm';
import { LRUCache } from 'lru-cache';
import { AppError, badInput } from '../../core/graphql/errors';
import { parseGlobalId, toGlobalId } from '../../core/graphql/ids';
import { recordAudit } from '../../core/events/audit';
import { Principal } from '../../core/auth/principal';
import { declareStreamWriter } from '../../core/events/stream-writers';
import { RecordMetricColumnsInput, RecordMetricsInput } from './dto/metrics.input';
import { METRIC_SERIES_NAME, METRIC_SERIES_NAME_RULE, canonicalLabels, labelsProblem } from './labels';
import { copyPoints, encodePoints, uuidBytes } from './points-copy';

export const MAX_POINTS_PER_CALL = 10_000;
/** Most series blocks in one recordMetricColumns call (each may hold many points). */
export const MAX_SERIES_PER_CALL = 1_000;
/** Points may be stamped a little ahead of the server's clock (client skew), no more. */
const MAX_FUTURE_MS = 5 * 60 * 1000;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const NO_LABELS = '{}';
/** Series ids remembered per server (data source); about 200 bytes each. */
const SERIES_ID_CACHE_SIZE = 100_000;
/** PostgreSQL's foreign_key_violation. */
const FOREIGN_KEY_VIOLATION = '23503';
/** Taken first by every batch: see storeBatch. */
const LOCK_SERIES_TABLE = 'LOCK TABLE metric_series IN ROW EXCLUSIVE MODE';

interface SeriesKey {
  key: string;
  versionId: string | null;
  name: string;
  labels: string;
  /** The batch's newest point of this series, for last_value / last_ts. */
  lastTs: number;
  lastValue: number;
}

/**
 * A checked batch, column by column: per point the index of its series, its time (epoch ms)
 * and its value. Typed arrays, so 10,000 points are three allocations, not 10,000 objects.
 */
interface ParsedBatch {
  series: SeriesKey[];
  seriesOf: Int32Array;
  tsMs: Float64Array;
  values: Float64Array;
  /** Version key -> the field of the first point naming it, for a NOT_FOUND error. */
  versions: Map<string, string>;
}

/** Collects series and points; the field names of errors are spelled out only when one is thrown. */
class BatchBuilder {
  private readonly byKey = new Map<string, number>();
  /** Global id as sent -> version key, so each distinct id is decoded once per batch. */
  private readonly versionIds = new Map<string, string>();
  readonly out: ParsedBatch;
  private n = 0;

  constructor(size: number, readonly latest: number) {
    this.out = { series: [], seriesOf: new Int32Array(size), tsMs: new Float64Array(size), values: new Float64Array(size), versions: new Map() };
  }

  /** The version key of a global id; `field` names the place for an error (a function: built only then). */
  version(id: string, field: () => string): string {
    let key = this.versionIds.get(id);
    if (key === undefined) {
      const parsed = parseGlobalId(id, field());
      if (parsed.type !== 'ModelVersion') throw badInput(`${field()} must be a ModelVersion id`, field());
      key = parsed.key;
      this.versionIds.set(id, key);
      if (!this.out.versions.has(key)) this.out.versions.set(key, field());
    }
    return key;
  }

  /** The index of a series, made on its first point with that point as its newest. */
  series(versionId: string | null, name: string, labels: string, ts: number, value: number): number {
    const key = `${versionId ?? ''}\u0000${name}\u0000${labels}`;
    let s = this.byKey.get(key);
    if (s === undefined) {
      s = this.out.series.push({ key, versionId, name, labels, lastTs: ts, lastValue: value }) - 1;
      this.byKey.set(key, s);
    } else {
      const known = this.out.series[s];
      // On equal timestamps the later point of the batch wins, as it does in storage (by id).
      if (ts >= known.lastTs) {
        known.lastTs = ts;
        known.lastValue = value;
      }
    }
    return s;
  }

  push(series: number, ts: number, value: number): void {
    const i = this.n++;
    this.out.seriesOf[i] = series;
    this.out.tsMs[i] = ts;
    this.out.values[i] = value;
  }
}

/** Canonical text of a point's labels, or a BAD_USER_INPUT naming `field()`. */
function labelsText(labels: Record<string, unknown> | null | undefined, field: () => string): string {
  if (labels == null) return NO_LABELS;
  const problem = labelsProblem(labels);
  if (problem) throw badInput(`${field()} ${problem}`, field());
  // One label (the common case) is already in canonical order: no sort, no copy.
  let keys = 0;
  for (const _ in labels) if (++keys > 1) break;
  return keys === 1 ? JSON.stringify(labels) : canonicalLabels(labels as Record<string, string>);
}

/** Checks every point before anything is written; the first problem fails the whole call. */
function parseBatch(input: RecordMetricsInput, now: number): ParsedBatch {
  const points = input.points;
  if (points.length === 0 || points.length > MAX_POINTS_PER_CALL) {
    throw badInput(`points must hold 1 to ${MAX_POINTS_PER_CALL} points, not ${points.length}`, 'points');
  }
  const b = new BatchBuilder(points.length, now + MAX_FUTURE_MS);
  // Points of one series usually repeat the same labels: the last one's text is reused when
  // the object has the same entries, which skips the sort and the JSON of most points.
  let lastLabels: Record<string, unknown> | null = null;
  let lastText = NO_LABELS;
  for (let i = 0; i < points.length; i++) {
    const pt = points[i];
    if (typeof pt.name !== 'string' || !METRIC_SERIES_NAME.test(pt.name)) throw badInput(`points.${i}.name ${METRIC_SERIES_NAME_RULE}`, `points.${i}.name`);
    if (!Number.isFinite(pt.value)) throw badInput(`points.${i}.value must be a finite number`, `points.${i}.value`);
    let text = NO_LABELS;
    if (pt.labels != null) {
      if (lastLabels !== null && sameLabels(lastLabels, pt.labels)) text = lastText;
      else {
        text = labelsText(pt.labels, () => `points.${i}.labels`);
        lastLabels = pt.labels;
        lastText = text;
      }
    }
    const ts = pt.timestamp == null ? now : pt.timestamp.getTime();
    if (ts > b.latest) throw badInput(`points.${i}.timestamp is more than 5 minutes in the future`, `points.${i}.timestamp`);
    const versionId = pt.modelVersionId == null ? null : b.version(pt.modelVersionId, () => `points.${i}.modelVersionId`);
    b.push(b.series(versionId, pt.name, text, ts, pt.value), ts, pt.value);
  }
  return b.out;
}

/**
 * True when `b` holds exactly the entries of `a`, which passed the checks: then both have the
 * same canonical text (it does not depend on key order). Counts without allocating.
 */
function sameLabels(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in b) {
    if (typeof b[k] !== 'string' || !Object.prototype.hasOwnProperty.call(a, k) || a[k] !== b[k]) return false;
    n++;
  }
  for (const k in a) if (Object.prototype.hasOwnProperty.call(a, k)) n--;
  return n === 0;
}

/** The columnar input checked into the same batch shape; fields are named `series.<i>.<field>`. */
function parseColumns(input: RecordMetricColumnsInput, now: number): ParsedBatch {
  const blocks = input.series;
  if (blocks.length === 0 || blocks.length > MAX_SERIES_PER_CALL) {
    throw badInput(`series must hold 1 to ${MAX_SERIES_PER_CALL} series, not ${blocks.length}`, 'series');
  }
  let total = 0;
  for (let i = 0; i < blocks.length; i++) {
    const { timestamps, values } = blocks[i];
    if (timestamps.length !== values.length) {
      throw badInput(`series.${i}.values must hold as many values as series.${i}.timestamps has timestamps (${timestamps.length}), not ${values.length}`, `series.${i}.values`);
    }
    if (timestamps.length === 0) throw badInput(`series.${i}.timestamps must hold at least one point`, `series.${i}.timestamps`);
    total += timestamps.length;
  }
  if (total > MAX_POINTS_PER_CALL) throw badInput(`series must hold at most ${MAX_POINTS_PER_CALL} points in all, not ${total}`, 'series');

  const b = new BatchBuilder(total, now + MAX_FUTURE_MS);
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i];
    if (typeof block.name !== 'string' || !METRIC_SERIES_NAME.test(block.name)) throw badInput(`series.${i}.name ${METRIC_SERIES_NAME_RULE}`, `series.${i}.name`);
    const text = labelsText(block.labels, () => `series.${i}.labels`);
    const versionId = block.modelVersionId == null ? null : b.version(block.modelVersionId, () => `series.${i}.modelVersionId`);
    const { timestamps, values } = block;
    let s = -1;
    for (let j = 0; j < timestamps.length; j++) {
      const v = values[j];
      if (!Number.isFinite(v)) throw badInput(`series.${i}.values.${j} must be a finite number`, `series.${i}.values.${j}`);
      const ts = timestamps[j].getTime();
      if (ts > b.latest) throw badInput(`series.${i}.timestamps.${j} is more than 5 minutes in the future`, `series.${i}.timestamps.${j}`);
      // The block is one series: found once, then only its newest point is kept up to date.
      if (s < 0) s = b.series(versionId, block.name, text, ts, v);
      else {
        const known = b.out.series[s];
        if (ts >= known.lastTs) { known.lastTs = ts; known.lastValue = v; }
      }
      b.push(s, ts, v);
    }
  }
  return b.out;
}

/**
 * One series of points that a later module derives from what it records (the usage.* series of
 * recordUsage): the version key is already checked as the project's, the name and labels are
 * the module's own, `tsMs[i]` (epoch ms) and `values[i]` make point i.
 */
export interface DerivedSeries {
  versionId: string | null;
  name: string;
  labels?: Record<string, string> | null;
  tsMs: ArrayLike<number>;
  values: ArrayLike<number>;
}

/**
 * Stores derived series in the caller's transaction, through the same storage as recordMetrics
 * (series found or created, binary COPY, newest points), so history, rollups, monitors and the
 * metricPoints stream see them as any other points. No cap here: the caller bounds its input
 * (and so the points it derives). No audit record either: the caller writes its mutation's.
 * A bad name or value is the caller's bug, not the client's: a plain Error.
 */
export function recordDerivedSeries(m: EntityManager, actor: Principal, projectId: string, series: DerivedSeries[]): Promise<RecordMetricsResult> {
  let total = 0;
  for (const s of series) {
    if (!METRIC_SERIES_NAME.test(s.name)) throw new Error(`derived series name ${s.name} ${METRIC_SERIES_NAME_RULE}`);
    if (s.labels && labelsProblem(s.labels)) throw new Error(`derived series ${s.name}: labels ${labelsProblem(s.labels)}`);
    if (s.tsMs.length !== s.values.length) throw new Error(`derived series ${s.name}: ${s.tsMs.length} timestamps, ${s.values.length} values`);
    total += s.tsMs.length;
  }
  const b = new BatchBuilder(total, Infinity);
  for (const s of series) {
    if (s.versionId !== null && !b.out.versions.has(s.versionId)) b.out.versions.set(s.versionId, 'modelVersionId');
    const text = s.labels ? canonicalLabels(s.labels) : NO_LABELS;
    for (let j = 0; j < s.tsMs.length; j++) {
      const v = s.values[j];
      if (!Number.isFinite(v)) throw new Error(`derived series ${s.name}: value ${j} is not finite`);
      b.push(b.series(s.versionId, s.name, text, s.tsMs[j], v), s.tsMs[j], v);
    }
  }
  if (total === 0) return Promise.resolve({ accepted: 0, duplicate: false, names: [] });
  return storeBatch(m, actor, projectId, b.out, null, false);
}

export interface RecordMetricsResult {
  accepted: number;
  duplicate: boolean;
  /** Metric names written, for evaluating their monitors after commit. */
  names: string[];
}

/** Stores a batch of point objects all or nothing; see `storeBatch`. */
export function recordMetrics(m: EntityManager, actor: Principal, projectId: string, input: RecordMetricsInput): Promise<RecordMetricsResult> {
  return storeBatch(m, actor, projectId, parseBatch(input, Date.now()), input.idempotencyKey);
}

/** Stores series blocks of parallel timestamps and values all or nothing; see `storeBatch`. */
export function recordMetricColumns(m: EntityManager, actor: Principal, projectId: string, input: RecordMetricColumnsInput): Promise<RecordMetricsResult> {
  return storeBatch(m, actor, projectId, parseColumns(input, Date.now()), input.idempotencyKey);
}

type SeriesRow = { id: string; model_version_id: string | null; name: string; labels: Record<string, string>; created: boolean };

/**
 * Series ids this server has already resolved, by project and series identity. A series row is
 * never updated in its identity and the application never deletes one, so a known id stays
 * right; a steady writer then skips the series lookup (1,000 index probes on a jsonb digest for
 * a batch over 1,000 series) and the version check, and its batch is the COPY and the update of
 * the newest points. Kept per data source, so two servers in one process (tests) share nothing.
 *
 * If a remembered series is gone after all (deleted by hand, or with its version or project by
 * a later feature), the COPY's foreign key refuses the batch: the write is then rolled back to a
 * savepoint taken before it, the batch's entries are forgotten, and it is written again with
 * every series looked up. A series created by a transaction that then rolls back is remembered
 * too, and takes the same path on its next batch.
 */
const seriesIdCaches = new WeakMap<DataSource, LRUCache<string, string>>();

function seriesIdCache(m: EntityManager): LRUCache<string, string> {
  let cache = seriesIdCaches.get(m.connection);
  if (!cache) seriesIdCaches.set(m.connection, (cache = new LRUCache({ max: SERIES_ID_CACHE_SIZE })));
  return cache;
}

/**
 * Stores a checked batch in a fixed number of statements whatever its size: find or create the
 * distinct series this server does not know yet (no row locks on existing ones), the audit
 * record, one binary COPY of the points, and the update of each series' newest point.
 *
 * The update of last_value / last_ts is the last statement before COMMIT: it locks the series
 * rows it moves, and two batches writing the same series wait for each other only from there
 * to commit, not for the whole COPY. The live-points wake-up is not sent here: the caller
 * announces after commit (see core/events/points-announcer.ts).
 */
async function storeBatch(
  m: EntityManager, actor: Principal, projectId: string, batch: ParsedBatch, idempotencyKey: string | null | undefined, audit = true,
): Promise<RecordMetricsResult> {
  const accepted = batch.tsMs.length;

  if (idempotencyKey) {
    // The claim comes first: a concurrent call with the same key waits on this row until we
    // commit (then sees the conflict) or roll back (then claims it itself).
    const claimed = await m.query(
      `INSERT INTO metric_batch (project_id, idempotency_key, accepted, recorded_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (project_id, idempotency_key) DO NOTHING RETURNING accepted`,
      [projectId, idempotencyKey, accepted, actor.name],
    );
    if (claimed.length === 0) {
      const [first] = await m.query(`SELECT accepted FROM metric_batch WHERE project_id = $1 AND idempotency_key = $2`, [projectId, idempotencyKey]);
      return { accepted: first.accepted, duplicate: true, names: [] };
    }
  }

  const cache = seriesIdCache(m);
  const cacheKeys = batch.series.map((s) => `${projectId}\u0000${s.key}`);
  const known = cacheKeys.map((k) => cache.get(k));
  // First, in one round trip (no parameters, so several statements may go together):
  // - metric_series before metric_point, the order in which partition DDL takes them (lockForDdl
  //   in point-storage.ts). A batch whose series all exist would otherwise touch metric_series
  //   (ROW EXCLUSIVE) only at its last statement, after the COPY into metric_point: against a
  //   storage round holding metric_series and waiting for metric_point, a deadlock. ROW
  //   EXCLUSIVE is what the batch's UPDATE takes anyway; writers do not conflict on it.
  // - the declaration that this transaction writes the project's points, with its xid, before
  //   any point id is drawn: live streams of other projects then do not wait for this batch.
  const begin = `${LOCK_SERIES_TABLE}; ${declareStreamWriter(projectId)}`;
  if (known.every((id) => id === undefined)) {
    await m.query(begin);
    return writeBatch(m, actor, projectId, batch, known, cacheKeys, cache, audit);
  }
  // The locks are kept across a rollback to the savepoint (taken before it).
  await m.query(`${begin}; SAVEPOINT remembered_series`);
  try {
    return await writeBatch(m, actor, projectId, batch, known, cacheKeys, cache, audit);
  } catch (err) {
    if ((err as { code?: string }).code !== FOREIGN_KEY_VIOLATION) throw err;
    await m.query('ROLLBACK TO SAVEPOINT remembered_series');
    for (const k of cacheKeys) cache.delete(k);
    return writeBatch(m, actor, projectId, batch, known.map(() => undefined), cacheKeys, cache, audit);
  }
}

/** The rest of storeBatch, with the series ids already known (`known[i]`, else looked up). */
async function writeBatch(
  m: EntityManager, actor: Principal, projectId: string, batch: ParsedBatch,
  known: (string | undefined)[], cacheKeys: string[], cache: LRUCache<string, string>, audit: boolean,
): Promise<RecordMetricsResult> {
  const accepted = batch.tsMs.length;
  const unknown = batch.series.filter((_, i) => known[i] === undefined);

  // Only the versions of series not known yet: a remembered series proves its version is this
  // project's (the series' foreign key to model_version includes the project).
  const versions = new Set(unknown.map((s) => s.versionId).filter((v): v is string => v !== null));
  if (versions.size) {
    const found: { id: string }[] = await m.query(
      `SELECT id FROM model_version WHERE id = ANY($1::uuid[]) AND project_id = $2`, [[...versions], projectId],
    );
    const have = new Set(found.map((r) => r.id));
    for (const [id, field] of batch.versions) {
      // Another project's version is reported like a missing one: its existence is not ours to tell.
      if (versions.has(id) && !have.has(id)) throw new AppError('NOT_FOUND', `${field} names no version of this project`, { field });
    }
  }

  const rows = unknown.length ? await resolveSeries(m, projectId, unknown) : [];
  const idByKey = new Map(rows.map((r) => [`${r.model_version_id ?? ''}\u0000${r.name}\u0000${canonicalLabels(r.labels)}`, r.id]));
  const seriesIds = batch.series.map((s, i) => {
    const id = known[i] ?? idByKey.get(s.key);
    if (!id) throw new Error(`series lookup returned no row for ${s.name}`);
    if (known[i] === undefined) cache.set(cacheKeys[i], id);
    return id;
  });

  if (audit) {
    await recordAudit(m, {
      projectId, actor: actor.name, action: 'metrics.record', targetType: 'Project', targetId: toGlobalId('Project', projectId),
      after: { points: accepted, series: batch.series.length, newSeries: rows.filter((r) => r.created).length },
    });
  }
  await copyPoints(m, encodePoints(uuidBytes(projectId), seriesIds.map(uuidBytes), batch.seriesOf, batch.tsMs, batch.values));

  // Locked in id order (no deadlock between batches sharing series), and only the rows whose
  // newest point moves: a backfill of old points locks nothing. The lock re-reads a row a
  // concurrent batch changed, so the comparison is made against its committed newest point.
  // NO KEY UPDATE (what the UPDATE itself takes), not UPDATE: the points' foreign key holds
  // KEY SHARE on these rows in every batch writing them, and FOR UPDATE would wait on those
  // (two batches, each waiting for the other's KEY SHARE: a deadlock).
  const order = seriesIds.map((_, i) => i);
  await m.query(
    `WITH k AS (SELECT * FROM unnest($1::uuid[], $2::float8[], $3::timestamptz[]) AS k(id, val, ts)),
          locked AS (
            SELECT s.id FROM metric_series s JOIN k ON k.id = s.id
             WHERE s.last_ts IS NULL OR k.ts >= s.last_ts ORDER BY s.id FOR NO KEY UPDATE OF s)
     UPDATE metric_series s SET last_value = k.val, last_ts = k.ts
       FROM k JOIN locked l ON l.id = k.id
      WHERE s.id = k.id AND (s.last_ts IS NULL OR k.ts >= s.last_ts)`,
    [order.map((i) => seriesIds[i]), order.map((i) => batch.series[i].lastValue), order.map((i) => new Date(batch.series[i].lastTs).toISOString())],
  );
  return { accepted, duplicate: false, names: [...new Set(batch.series.map((s) => s.name))] };
}

/**
 * The ids of the batch's series, creating those that do not exist. Existing series are read,
 * not upserted, so no row lock is taken on them here. A series another transaction creates
 * between our read and our insert is re-read by a second statement (rare: only a race on a
 * series' very first points).
 */
async function resolveSeries(m: EntityManager, projectId: string, series: SeriesKey[]): Promise<SeriesRow[]> {
  // Sorted so that concurrent batches creating the same series insert in the same order.
  const keys = [...series].sort((a, b) => (a.key < b.key ? -1 : 1));
  const params = [projectId, keys.map((k) => k.versionId), keys.map((k) => k.name), keys.map((k) => k.labels)];
  const identity = `s.project_id = $1 AND s.name = k.n AND coalesce(s.model_version_id, '${NIL_UUID}'::uuid) = coalesce(k.v, '${NIL_UUID}'::uuid)
                    AND md5(s.labels::text) = md5(k.l::text)`;
  const rows: SeriesRow[] = await m.query(
    `WITH k AS (SELECT * FROM unnest($2::uuid[], $3::text[], $4::jsonb[]) WITH ORDINALITY k(v, n, l, ord)),
          known AS (SELECT s.id, s.model_version_id, s.name, s.labels, false AS created FROM metric_series s JOIN k ON ${identity}),
          added AS (
            INSERT INTO metric_series (project_id, model_version_id, name, labels)
            SELECT $1, k.v, k.n, k.l FROM k WHERE NOT EXISTS (SELECT 1 FROM known s WHERE s.name = k.n
              AND coalesce(s.model_version_id, '${NIL_UUID}'::uuid) = coalesce(k.v, '${NIL_UUID}'::uuid) AND md5(s.labels::text) = md5(k.l::text))
            ORDER BY k.ord
            ON CONFLICT (project_id, name, (coalesce(model_version_id, '${NIL_UUID}'::uuid)), (md5(labels::text))) DO NOTHING
            RETURNING id, model_version_id, name, labels, true AS created)
     SELECT * FROM known UNION ALL SELECT * FROM added`,
    params,
  );
  if (rows.length === keys.length) return rows;
  // Created and committed by a concurrent batch after this statement's snapshot: read again.
  const again: SeriesRow[] = await m.query(
    `SELECT s.id, s.model_version_id, s.name, s.labels, false AS created
       FROM unnest($2::uuid[], $3::text[], $4::jsonb[]) k(v, n, l) JOIN metric_series s ON ${identity}`,
    params,
  );
  const created = rows.filter((r) => r.created);
  return [...again.filter((r) => !created.some((c) => c.id === r.id)), ...created];
}

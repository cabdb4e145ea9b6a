import { EntityManager } from 'typeorm';
import { AppError, badInput } from '../../core/graphql/errors';
import { parseGlobalId, toGlobalId } from '../../core/graphql/ids';
import { recordAudit } from '../../core/events/audit';
import { NOTIFY_POINTS } from '../../core/events/registry-events';
import { Principal } from '../../core/auth/principal';
import { RecordMetricsInput } from './dto/metrics.input';
import { METRIC_SERIES_NAME, METRIC_SERIES_NAME_RULE, canonicalLabels, labelsProblem } from './labels';

export const MAX_POINTS_PER_CALL = 10_000;
/** Points may be stamped a little ahead of the server's clock (client skew), no more. */
const MAX_FUTURE_MS = 5 * 60 * 1000;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

interface SeriesKey {
  key: string;
  versionId: string | null;
  name: string;
  labels: string;
  /** The batch's newest point of this series, for last_value / last_ts. */
  lastTs: Date;
  lastValue: number;
}

interface ParsedBatch {
  series: SeriesKey[];
  /** Per point: index into `series`, timestamp, value. */
  seriesIndex: number[];
  ts: string[];
  values: number[];
  /** Version key -> the first point naming it, for the error's field. */
  versions: Map<string, number>;
}

/** Checks every point before anything is written; the first problem fails the whole call. */
function parseBatch(input: RecordMetricsInput, now: Date): ParsedBatch {
  const points = input.points;
  if (points.length === 0 || points.length > MAX_POINTS_PER_CALL) {
    throw badInput(`points must hold 1 to ${MAX_POINTS_PER_CALL} points, not ${points.length}`, 'points');
  }
  const latest = now.getTime() + MAX_FUTURE_MS;
  const series = new Map<string, number>();
  const out: ParsedBatch = { series: [], seriesIndex: [], ts: [], values: [], versions: new Map() };
  points.forEach((pt, i) => {
    const field = (f: string) => `points.${i}.${f}`;
    if (!METRIC_SERIES_NAME.test(pt.name)) throw badInput(`${field('name')} ${METRIC_SERIES_NAME_RULE}`, field('name'));
    if (!Number.isFinite(pt.value)) throw badInput(`${field('value')} must be a finite number`, field('value'));
    const labels = pt.labels ?? {};
    const problem = labelsProblem(labels);
    if (problem) throw badInput(`${field('labels')} ${problem}`, field('labels'));
    const ts = pt.timestamp ?? now;
    if (ts.getTime() > latest) throw badInput(`${field('timestamp')} is more than 5 minutes in the future`, field('timestamp'));
    let versionId: string | null = null;
    if (pt.modelVersionId != null) {
      const parsed = parseGlobalId(pt.modelVersionId, field('modelVersionId'));
      if (parsed.type !== 'ModelVersion') throw badInput(`${field('modelVersionId')} must be a ModelVersion id`, field('modelVersionId'));
      versionId = parsed.key;
      if (!out.versions.has(versionId)) out.versions.set(versionId, i);
    }
    const labelsText = canonicalLabels(labels as Record<string, string>);
    const key = `${versionId ?? ''}\u0000${pt.name}\u0000${labelsText}`;
    let s = series.get(key);
    if (s === undefined) {
      s = out.series.push({ key, versionId, name: pt.name, labels: labelsText, lastTs: ts, lastValue: pt.value }) - 1;
      series.set(key, s);
    } else if (ts.getTime() >= out.series[s].lastTs.getTime()) {
      // On equal timestamps the later point of the batch wins, as it does in storage (by id).
      out.series[s].lastTs = ts;
      out.series[s].lastValue = pt.value;
    }
    out.seriesIndex.push(s);
    out.ts.push(ts.toISOString());
    out.values.push(pt.value);
  });
  return out;
}

export interface RecordMetricsResult {
  accepted: number;
  duplicate: boolean;
  /** Metric names written, for evaluating their monitors after commit. */
  names: string[];
}

/**
 * Stores a batch of points all or nothing, in a fixed number of statements whatever its size:
 * one upsert of the distinct series (which also keeps each series' newest point) and one
 * INSERT ... SELECT FROM unnest of the points.
 */
export async function recordMetrics(m: EntityManager, actor: Principal, projectId: string, input: RecordMetricsInput): Promise<RecordMetricsResult> {
  const batch = parseBatch(input, new Date());
  const accepted = input.points.length;

  if (input.idempotencyKey) {
    // The claim comes first: a concurrent call with the same key waits on this row until we
    // commit (then sees the conflict) or roll back (then claims it itself).
    const claimed = await m.query(
      `INSERT INTO metric_batch (project_id, idempotency_key, accepted, recorded_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (project_id, idempotency_key) DO NOTHING RETURNING accepted`,
      [projectId, input.idempotencyKey, accepted, actor.name],
    );
    if (claimed.length === 0) {
      const [first] = await m.query(`SELECT accepted FROM metric_batch WHERE project_id = $1 AND idempotency_key = $2`, [projectId, input.idempotencyKey]);
      return { accepted: first.accepted, duplicate: true, names: [] };
    }
  }

  if (batch.versions.size) {
    const found: { id: string }[] = await m.query(
      `SELECT id FROM model_version WHERE id = ANY($1::uuid[]) AND project_id = $2`, [[...batch.versions.keys()], projectId],
    );
    const have = new Set(found.map((r) => r.id));
    for (const [id, i] of batch.versions) {
      // Another project's version is reported like a missing one: its existence is not ours to tell.
      if (!have.has(id)) {
        throw new AppError('NOT_FOUND', `points.${i}.modelVersionId names no version of this project`, { field: `points.${i}.modelVersionId` });
      }
    }
  }

  // Sorted so that concurrent batches lock shared series in the same order (no deadlock).
  const order = batch.series.map((_, i) => i).sort((a, b) => (batch.series[a].key < batch.series[b].key ? -1 : 1));
  const keys = order.map((i) => batch.series[i]);
  const upserted: { id: string; model_version_id: string | null; name: string; labels: Record<string, string>; created: boolean }[] = await m.query(
    `INSERT INTO metric_series AS s (project_id, model_version_id, name, labels, last_value, last_ts)
     SELECT $1, k.v, k.n, k.l, k.val, k.ts
       FROM unnest($2::uuid[], $3::text[], $4::jsonb[], $5::float8[], $6::timestamptz[]) WITH ORDINALITY k(v, n, l, val, ts, ord)
      ORDER BY k.ord
     ON CONFLICT (project_id, name, (coalesce(model_version_id, '${NIL_UUID}'::uuid)), (md5(labels::text)))
     DO UPDATE SET last_value = CASE WHEN s.last_ts IS NULL OR EXCLUDED.last_ts >= s.last_ts THEN EXCLUDED.last_value ELSE s.last_value END,
                   last_ts = greatest(s.last_ts, EXCLUDED.last_ts)
     RETURNING s.id, s.model_version_id, s.name, s.labels, (s.xmax = 0) AS created`,
    [projectId, keys.map((k) => k.versionId), keys.map((k) => k.name), keys.map((k) => k.labels),
      keys.map((k) => k.lastValue), keys.map((k) => k.lastTs.toISOString())],
  );
  const idByKey = new Map(upserted.map((r) => [`${r.model_version_id ?? ''}\u0000${r.name}\u0000${canonicalLabels(r.labels)}`, r.id]));
  const seriesIds = batch.series.map((s) => {
    const id = idByKey.get(s.key);
    if (!id) throw new Error(`series upsert returned no row for ${s.name}`);
    return id;
  });

  // The NOTIFY for live subscriptions rides on the same statement (delivered on commit, once per call).
  await m.query(
    `WITH p AS (INSERT INTO metric_point (project_id, series_id, ts, value)
                SELECT $4::uuid, k.* FROM unnest($1::uuid[], $2::timestamptz[], $3::float8[]) AS k)
     ${NOTIFY_POINTS('$4')}`,
    [batch.seriesIndex.map((i) => seriesIds[i]), batch.ts, batch.values, projectId],
  );
  await recordAudit(m, {
    projectId, actor: actor.name, action: 'metrics.record', targetType: 'Project', targetId: toGlobalId('Project', projectId),
    after: { points: accepted, series: batch.series.length, newSeries: upserted.filter((r) => r.created).length },
  });
  return { accepted, duplicate: false, names: [...new Set(batch.series.map((s) => s.name))] };
}

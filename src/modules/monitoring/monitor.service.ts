import { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { isUniqueViolation } from '../../core/db/errors';
import { inBackground } from '../../core/db/data-source';
import { hydrate } from '../../core/db/sql';
import { groupBy } from '../../core/util/group-by';
import { AppError, badInput, notFound } from '../../core/graphql/errors';
import { keyOf, toGlobalId } from '../../core/graphql/ids';
import { refuseNull } from '../../core/graphql/patch';
import { recordAudit } from '../../core/events/audit';
import { recordEvent } from '../../core/events/registry-events';
import { RegistryEventType } from '../../core/events/registry-event-type';
import { Principal } from '../../core/auth/principal';
import { CreateMonitorInput, UpdateMonitorInput } from './dto/monitor.input';
import { METRIC_SERIES_NAME, METRIC_SERIES_NAME_RULE, checkLabels } from './labels';
import { AGGREGATION_SQL, Aggregation } from './metric-series.entity';
import { Alert, Comparator, Monitor, MonitorStatus } from './monitor.entity';

const crosses = (c: Comparator, value: number, threshold: number) =>
  c === Comparator.GT ? value > threshold : c === Comparator.GTE ? value >= threshold : c === Comparator.LT ? value < threshold : value <= threshold;

const SYMBOL: Record<Comparator, string> = { GT: '>', GTE: '>=', LT: '<', LTE: '<=' };

/** The warning threshold must be crossed before the alert threshold, or WARNING could never show. */
function checkThresholds(comparator: Comparator, threshold: number, warning: number | null | undefined): void {
  if (warning == null) return;
  const safe = comparator === Comparator.GT || comparator === Comparator.GTE ? warning < threshold : warning > threshold;
  if (!safe) {
    throw badInput(
      `warningThreshold must be ${comparator === Comparator.GT || comparator === Comparator.GTE ? 'below' : 'above'} threshold for ${comparator}`,
      'warningThreshold',
    );
  }
}

export function statusOf(mo: Monitor, n: number, value: number | null): MonitorStatus {
  if (mo.paused) return MonitorStatus.PAUSED;
  if (n === 0 || value === null) return MonitorStatus.NO_DATA;
  if (crosses(mo.comparator, value, mo.threshold)) return MonitorStatus.ALERT;
  if (mo.warningThreshold !== null && crosses(mo.comparator, value, mo.warningThreshold)) return MonitorStatus.WARNING;
  return MonitorStatus.OK;
}

/**
 * The value of monitors with one aggregation over their trailing windows, in one statement for
 * any number of them. An alias is resolved through model_alias here, at evaluation time, so a
 * monitor follows the alias across moves; a removed alias matches no series (NO_DATA).
 */
const evaluateSql = (aggregation: Aggregation) => `
  SELECT mo.*, a.id AS open_alert_id, a.status AS open_alert_status, w.n, w.value AS window_value
    FROM monitor mo
    LEFT JOIN alert a ON a.monitor_id = mo.id AND a.resolved_at IS NULL
    CROSS JOIN LATERAL (
      SELECT count(p.id)::int AS n, ${AGGREGATION_SQL[aggregation]('p')} AS value
        FROM metric_series s
        JOIN metric_point p ON p.series_id = s.id AND p.ts > now() - make_interval(secs => mo.window_seconds)
       WHERE NOT mo.paused AND s.project_id = mo.project_id AND s.name = mo.metric
         AND (mo.labels IS NULL OR s.labels @> mo.labels)
         AND (mo.model_version_id IS NULL OR s.model_version_id = mo.model_version_id)
         AND (mo.alias IS NULL OR s.model_version_id = (SELECT version_id FROM model_alias WHERE model_id = mo.model_id AND name = mo.alias))
    ) w
   WHERE mo.id = ANY($1::uuid[])`;

interface Target {
  id: string;
  aggregation: Aggregation;
}

/**
 * Evaluates monitors (already locked by the caller's transaction) and stores status, value and
 * time. Entering WARNING or ALERT opens an alert (resolving one of the other severity);
 * returning to OK, or pausing, resolves the open one; NO_DATA leaves it open, since missing
 * data says nothing about recovery. Costs one statement per aggregation in use (at most nine),
 * a few writes, and one audit record per alert opened or resolved: bounded by the monitors,
 * never by the points. One statement per aggregation rather than a CASE over all of them, since
 * PostgreSQL would compute every aggregate (percentile sorts included) for every monitor.
 */
async function evaluateLocked(m: EntityManager, actor: string, targets: Target[]): Promise<Monitor[]> {
  if (!targets.length) return [];
  const ids = targets.map((x) => x.id);
  const rows: Record<string, unknown>[] = [];
  for (const [aggregation, group] of groupBy(targets, (x) => x.aggregation)) {
    rows.push(...(await m.query(evaluateSql(aggregation), [group.map((x) => x.id)])));
  }
  const monitors = hydrate(m, Monitor, rows);
  const statuses: MonitorStatus[] = [];
  const values: (number | null)[] = [];
  const toResolve: { alertId: string; monitor: Monitor; status: string }[] = [];
  const toOpen: { monitor: Monitor; status: MonitorStatus; value: number; message: string }[] = [];
  monitors.forEach((mo, i) => {
    const row = rows[i];
    const value = row.window_value === null ? null : Number(row.window_value);
    const status = statusOf(mo, row.n as number, value);
    statuses.push(status);
    // A paused monitor keeps the value it last saw.
    values.push(status === MonitorStatus.PAUSED ? mo.lastValue : value);
    const open = (row.open_alert_status as MonitorStatus | null) ?? null;
    if (status === MonitorStatus.NO_DATA) return;
    const want = status === MonitorStatus.WARNING || status === MonitorStatus.ALERT ? status : null;
    if (want === open) return;
    if (open) toResolve.push({ alertId: String(row.open_alert_id), monitor: mo, status: open });
    if (want) {
      const crossed = want === MonitorStatus.ALERT ? mo.threshold : mo.warningThreshold!;
      toOpen.push({
        monitor: mo, status: want, value: value!,
        message: `${mo.name}: ${mo.aggregation.toLowerCase()}(${mo.metric}) over ${mo.windowSeconds}s = ${value} ${SYMBOL[mo.comparator]} ${crossed}`,
      });
    }
  });

  // TypeORM answers an UPDATE with [rows, affected].
  const [updatedRows]: [Record<string, unknown>[], number] = await m.query(
    `UPDATE monitor mo SET status = u.status, last_value = u.value, last_evaluated_at = now()
       FROM unnest($1::uuid[], $2::text[], $3::float8[]) u(id, status, value)
      WHERE mo.id = u.id RETURNING mo.*`,
    [monitors.map((mo) => mo.id), statuses, values],
  );
  const updated = hydrate(m, Monitor, updatedRows);
  if (toResolve.length) {
    await m.query(`UPDATE alert SET resolved_at = now() WHERE id = ANY($1::bigint[])`, [toResolve.map((r) => r.alertId)]);
  }
  let opened: Alert[] = [];
  if (toOpen.length) {
    opened = hydrate(m, Alert, await m.query(
      `INSERT INTO alert (monitor_id, project_id, status, value, message, opened_at)
       SELECT u.m, u.p, u.s, u.v, u.msg, now() FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::float8[], $5::text[]) u(m, p, s, v, msg)
       RETURNING *`,
      [toOpen.map((o) => o.monitor.id), toOpen.map((o) => o.monitor.projectId), toOpen.map((o) => o.status),
        toOpen.map((o) => o.value), toOpen.map((o) => o.message)],
    ));
  }
  for (const r of toResolve) {
    await recordAudit(m, {
      projectId: r.monitor.projectId, actor, action: 'alert.resolve', targetType: 'Alert', targetId: toGlobalId('Alert', r.alertId),
      after: { monitorId: r.monitor.nodeId, status: r.status },
    });
    await recordEvent(m, { projectId: r.monitor.projectId, type: RegistryEventType.ALERT_RESOLVED, actor, subjectType: 'Alert', subjectId: r.alertId });
  }
  for (const a of opened) {
    await recordAudit(m, {
      projectId: a.projectId, actor, action: 'alert.open', targetType: 'Alert', targetId: a.nodeId,
      after: { monitorId: toGlobalId('Monitor', a.monitorId), status: a.status, value: a.value, message: a.message },
    });
    await recordEvent(m, { projectId: a.projectId, type: RegistryEventType.ALERT_OPENED, actor, subjectType: 'Alert', subjectId: String(a.id) });
  }
  const byId = new Map(updated.map((mo) => [mo.id, mo]));
  return ids.map((id) => byId.get(id)!).filter(Boolean);
}

/**
 * Evaluates the running monitors of the metrics a committed write touched, in a transaction of
 * its own. The points are already stored whatever happens here, so a failure is logged rather
 * than reported to a client that would then retry a write that succeeded; the next write of
 * the metric evaluates again.
 */
export async function evaluateAfterWrite(db: DataSource, log: Logger, actor: Principal, projectId: string, names: string[]): Promise<void> {
  if (!names.length) return;
  try {
    await db.transaction(async (m) => {
      // Locked in id order, so concurrent evaluations never deadlock; evaluated in statements
      // after the lock, so they see points committed while we waited.
      const locked: Target[] = await m.query(
        `SELECT id, aggregation FROM monitor WHERE project_id = $1 AND metric = ANY($2::text[]) AND NOT paused ORDER BY id FOR UPDATE`,
        [projectId, names],
      );
      await evaluateLocked(m, actor.name, locked);
    });
  } catch (err) {
    log.error({ err, projectId }, 'monitor evaluation after recordMetrics failed');
  }
}

/** The actor that audit records name for evaluations the timer makes. */
export const MONITOR_TIMER_ACTOR = 'monitor-timer';

export interface DueOptions {
  /** Checked between batches: a shutdown does not wait for a backlog to be worked off. */
  signal?: AbortSignal;
  /** Told of a monitor whose evaluation failed; it is skipped for the rest of the call. */
  onFailure?: (err: unknown, monitorId: string) => void;
}

/**
 * Evaluates every running monitor not evaluated in the last `staleMs` (by a write, an alias
 * move or an earlier tick), `batchSize` per transaction, until none is left; answers how many.
 * This is what brings a series that went silent to NO_DATA, and what resolves an alert whose
 * points the window has slid past, since no write comes to evaluate either.
 *
 * Each batch is claimed with FOR UPDATE SKIP LOCKED: a monitor that a write's evaluation (or
 * another timer, in the moment two replicas both think they lead) holds is skipped, never
 * waited for, so the timer takes part in no lock cycle and nothing is evaluated twice at once;
 * a skipped one is being evaluated right now anyway. The evaluation itself only records a
 * change of state, so evaluating a monitor again, whoever does it, opens or resolves nothing.
 * The cutoff is fixed at the start of the call, so monitors evaluated during it are not claimed
 * again however long it takes.
 *
 * A batch that fails (one monitor's window too heavy for the statement timeout) is taken again
 * one monitor at a time, so that the monitor at fault, oldest first, cannot hold back every
 * other at every tick; it is reported and left for the next call.
 */
export async function evaluateDue(db: DataSource, staleMs: number, batchSize: number, opts: DueOptions = {}): Promise<number> {
  const [{ cutoff }]: { cutoff: Date }[] = await inBackground(db, (m) =>
    m.query(`SELECT now() - make_interval(secs => $1::float8 / 1000) AS cutoff`, [staleMs]));
  let total = 0;
  let size = batchSize;
  // After a failed batch: how many monitors are still to go one by one (the failed batch's), before whole batches again.
  let singles = 0;
  const failed: string[] = [];
  while (!opts.signal?.aborted) {
    let claimedIds: string[] = [];
    try {
      const claimed = await inBackground(db, async (m) => {
        // Oldest first, on monitor_due_idx: a backlog larger than one tick is worked off fairly.
        const due: Target[] = await m.query(
          `SELECT id, aggregation FROM monitor
            WHERE NOT paused AND coalesce(last_evaluated_at, '-infinity'::timestamptz) < $1 AND NOT (id = ANY($3::uuid[]))
            ORDER BY coalesce(last_evaluated_at, '-infinity'::timestamptz), id LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [cutoff, size, failed],
        );
        claimedIds = due.map((x) => x.id);
        await evaluateLocked(m, MONITOR_TIMER_ACTOR, due);
        return due.length;
      });
      total += claimed;
      if (claimed < size) break;
      if (singles > 0 && --singles === 0) size = batchSize;
    } catch (err) {
      // Nothing claimed: the database itself failed, not a monitor; the next call tries again.
      if (!claimedIds.length) throw err;
      // A lock wait that timed out (55P03) is the database being busy (a storage step, say),
      // not this batch's monitors: the tick ends and the next one tries them again.
      const code = (err as { code?: string; driverError?: { code?: string } }).driverError?.code ?? (err as { code?: string }).code;
      if (code === '55P03') break;
      if (size > 1) {
        size = 1;
        singles = claimedIds.length;
        continue;
      }
      failed.push(claimedIds[0]);
      opts.onFailure?.(err, claimedIds[0]);
      if (singles > 0 && --singles === 0) size = batchSize;
    }
  }
  return total;
}

/**
 * Evaluates the running monitors that follow `alias` of a model, after the move (or removal)
 * committed: they watch another version now, or none (NO_DATA). Locked in id order like the
 * evaluation after a write, so the two never deadlock.
 */
export async function evaluateAliasFollowers(db: DataSource, modelId: string, alias: string, actor: string): Promise<void> {
  await inBackground(db, async (m) => {
    const locked: Target[] = await m.query(
      `SELECT id, aggregation FROM monitor WHERE model_id = $1 AND alias = $2 AND NOT paused ORDER BY id FOR UPDATE`,
      [modelId, alias],
    );
    await evaluateLocked(m, actor, locked);
  });
}

async function checkTarget(m: EntityManager, projectId: string, input: CreateMonitorInput): Promise<{ versionId: string | null; modelId: string | null }> {
  if (input.modelVersionId && (input.modelId || input.alias)) {
    throw badInput('Give either modelVersionId, or modelId with alias, not both', 'modelVersionId');
  }
  if (input.alias && !input.modelId) throw badInput('alias needs modelId', 'modelId');
  if (input.modelId && !input.alias) throw badInput('modelId needs alias (or give modelVersionId, or neither for every series of the project)', 'alias');
  if (input.modelVersionId) {
    const id = keyOf(input.modelVersionId, 'ModelVersion', 'modelVersionId');
    const [found] = await m.query(`SELECT id FROM model_version WHERE id = $1 AND project_id = $2`, [id, projectId]);
    if (!found) throw new AppError('NOT_FOUND', 'modelVersionId names no version of this project', { field: 'modelVersionId' });
    return { versionId: id, modelId: null };
  }
  if (input.modelId) {
    const id = keyOf(input.modelId, 'Model', 'modelId');
    const [found] = await m.query(`SELECT id FROM model WHERE id = $1 AND project_id = $2`, [id, projectId]);
    if (!found) throw new AppError('NOT_FOUND', 'modelId names no model of this project', { field: 'modelId' });
    return { versionId: null, modelId: id };
  }
  return { versionId: null, modelId: null };
}

const auditView = (mo: Monitor) => ({
  name: mo.name, metric: mo.metric, labels: mo.labels, aggregation: mo.aggregation, windowSeconds: mo.windowSeconds,
  comparator: mo.comparator, threshold: mo.threshold, warningThreshold: mo.warningThreshold, paused: mo.paused,
  modelVersionId: mo.modelVersionId ? toGlobalId('ModelVersion', mo.modelVersionId) : null,
  modelId: mo.modelId ? toGlobalId('Model', mo.modelId) : null, alias: mo.alias,
});

/** Creates a monitor and evaluates it at once, so its status is meaningful from the start. */
export async function createMonitor(m: EntityManager, actor: Principal, projectId: string, input: CreateMonitorInput): Promise<Monitor> {
  if (!METRIC_SERIES_NAME.test(input.metric)) throw badInput(`metric ${METRIC_SERIES_NAME_RULE}`, 'metric');
  const labels = checkLabels(input.labels, 'labels');
  checkThresholds(input.comparator, input.threshold, input.warningThreshold);
  const target = await checkTarget(m, projectId, input);
  let created: Monitor;
  try {
    [created] = hydrate(m, Monitor, await m.query(
      `INSERT INTO monitor (project_id, name, metric, labels, model_version_id, model_id, alias, aggregation, window_seconds,
                            comparator, threshold, warning_threshold, status, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'NO_DATA', $13) RETURNING *`,
      [projectId, input.name, input.metric, labels && Object.keys(labels).length ? JSON.stringify(labels) : null, target.versionId,
        target.modelId, target.modelId ? input.alias : null, input.aggregation, input.windowSeconds, input.comparator,
        input.threshold, input.warningThreshold ?? null, actor.name],
    ));
  } catch (err) {
    if (isUniqueViolation(err, 'monitor_project_name_key')) {
      throw new AppError('CONFLICT', `A monitor named "${input.name}" already exists in this project`, { field: 'name' });
    }
    throw err;
  }
  await recordAudit(m, {
    projectId, actor: actor.name, action: 'monitor.create', targetType: 'Monitor', targetId: created.nodeId, after: auditView(created),
  });
  // The row is ours until commit: no lock to take before evaluating it.
  const [evaluated] = await evaluateLocked(m, actor.name, [created]);
  return evaluated;
}

/**
 * Changes thresholds, window or pause, then evaluates again with the new settings. Absent
 * fields keep their value; null clears warningThreshold and is refused for the others.
 */
export async function updateMonitor(m: EntityManager, actor: Principal, id: string, input: UpdateMonitorInput): Promise<Monitor> {
  refuseNull(input, ['threshold', 'windowSeconds', 'paused']);
  const [before] = hydrate(m, Monitor, await m.query(`SELECT * FROM monitor WHERE id = $1 FOR UPDATE`, [id]));
  if (!before) throw notFound('Monitor', input.id);
  const after = {
    threshold: input.threshold ?? before.threshold,
    warningThreshold: input.warningThreshold === undefined ? before.warningThreshold : input.warningThreshold,
    windowSeconds: input.windowSeconds ?? before.windowSeconds,
    paused: input.paused ?? before.paused,
  };
  checkThresholds(before.comparator, after.threshold, after.warningThreshold);
  const changed = (Object.keys(after) as (keyof typeof after)[]).some((k) => after[k] !== before[k]);
  if (changed) {
    await m.query(
      `UPDATE monitor SET threshold = $2, warning_threshold = $3, window_seconds = $4, paused = $5, updated_at = now() WHERE id = $1`,
      [id, after.threshold, after.warningThreshold, after.windowSeconds, after.paused],
    );
    await recordAudit(m, {
      projectId: before.projectId, actor: actor.name, action: 'monitor.update', targetType: 'Monitor', targetId: before.nodeId,
      before: auditView(before), after: auditView(Object.assign(new Monitor(), before, after)),
    });
  }
  const [evaluated] = await evaluateLocked(m, actor.name, [before]);
  return evaluated;
}

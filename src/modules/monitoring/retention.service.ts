import DataLoader from 'dataloader';
import type { DataSource, EntityManager } from 'typeorm';
import { badInput } from '../../core/graphql/errors';
import { toGlobalId } from '../../core/graphql/ids';
import { recordAudit } from '../../core/events/audit';
import { Principal } from '../../core/auth/principal';

/** The longest retention one may name: 100 years (the metric_retention CHECK). */
export const MAX_RETENTION_DAYS = 36600;

export const RETENTION_RULE =
  `Days of metric points (and their rollups) to keep, 1 to ${MAX_RETENTION_DAYS}; null keeps everything (the default). ` +
  'A point is removed by the storage round once its whole UTC day is older than that (so at most a day later); ' +
  'days every project lets go are dropped as whole partitions, otherwise the project\'s rows are deleted in batches.';

/** Sets (or with null, clears) a project's retention of metric points; returns the days now in force. */
export async function setMetricRetention(m: EntityManager, actor: Principal, projectId: string, days: number | null): Promise<number | null> {
  if (days !== null && (!Number.isInteger(days) || days < 1 || days > MAX_RETENTION_DAYS)) {
    throw badInput(`days must be an integer from 1 to ${MAX_RETENTION_DAYS}, or null to keep everything`, 'days');
  }
  const [before] = await m.query(`SELECT days FROM metric_retention WHERE project_id = $1 FOR UPDATE`, [projectId]);
  if (days === null) await m.query(`DELETE FROM metric_retention WHERE project_id = $1`, [projectId]);
  else {
    await m.query(
      `INSERT INTO metric_retention (project_id, days, updated_by) VALUES ($1, $2, $3)
       ON CONFLICT (project_id) DO UPDATE SET days = EXCLUDED.days, updated_at = now(), updated_by = EXCLUDED.updated_by`,
      [projectId, days, actor.name]);
  }
  await recordAudit(m, {
    projectId, actor: actor.name, action: 'metrics.retention', targetType: 'Project', targetId: toGlobalId('Project', projectId),
    before: { days: before?.days ?? null }, after: { days },
  });
  return days;
}

/** Per project, its retention in days (null: keep everything), in one statement per batch. */
export function retentionLoader(db: DataSource, batch: boolean) {
  return new DataLoader<string, number | null>(async (ids) => {
    const rows: { project_id: string; days: number }[] = await db.query(
      `SELECT project_id, days FROM metric_retention WHERE project_id = ANY($1::uuid[])`, [ids]);
    const map = new Map(rows.map((r) => [r.project_id, r.days]));
    return ids.map((id) => map.get(id) ?? null);
  }, { batch, cache: batch });
}

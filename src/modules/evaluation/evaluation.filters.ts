import { Params } from '../../core/db/sql';
import { keyOf } from '../../core/graphql/ids';
import { EvaluationStatus } from './evaluation.entity';

/** A bound on a metric, as ModelVersionFilter.metric gives it. */
export interface MetricBound {
  name: string;
  datasetVersionId?: string | null;
  slice?: string | null;
  gte?: number | null;
  lte?: number | null;
}

/** `e.slice`-style condition: null asks for the overall value, which is stored with slice NULL. */
export const sliceSql = (column: string, slice: string | null | undefined, p: Params) =>
  slice === null || slice === undefined ? `${column} IS NULL` : `${column} = ${p.add(slice)}`;

/**
 * SQL condition on `t` (a model_version row): some COMPLETED evaluation of the version has the
 * metric within the bound. Walks evaluation (model_version_id, ...) then the metric key, so it
 * costs two index probes per candidate version.
 */
export function metricBoundSql(b: MetricBound, p: Params, field: string): string {
  const conds = [
    'e.model_version_id = t.id',
    `e.status = '${EvaluationStatus.COMPLETED}'`,
    `em.name = ${p.add(b.name)}`,
    sliceSql('em.slice', b.slice, p),
  ];
  if (b.datasetVersionId) {
    conds.push(`e.dataset_version_id = ${p.add(keyOf(b.datasetVersionId, 'DatasetVersion', `${field}.datasetVersionId`))}`);
  }
  if (b.gte !== null && b.gte !== undefined) conds.push(`em.value >= ${p.add(b.gte)}`);
  if (b.lte !== null && b.lte !== undefined) conds.push(`em.value <= ${p.add(b.lte)}`);
  return `EXISTS (SELECT 1 FROM evaluation e JOIN evaluation_metric em ON em.evaluation_id = e.id WHERE ${conds.join(' AND ')})`;
}

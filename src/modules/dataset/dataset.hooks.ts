import type { Params } from '../../core/db/sql';
import { keyOf } from '../../core/graphql/ids';
import { on } from '../../core/hooks';
import type { ModelVersionFilter } from '../model/dto/model-version.input';
import { versionCreated, versionFilterConditions } from '../model/model.hooks';
import { linkVersionDatasets } from './dataset.service';

/** `ModelVersionFilter.trainedOnDatasetVersionId`, as a condition on `t` (a model_version row). */
function trainedOnSql(f: ModelVersionFilter, p: Params, field: string): string | null {
  if (!f.trainedOnDatasetVersionId) return null;
  // "Trained on" covers fine-tuning: both are data the weights were fitted to. The lineage
  // primary key (model_version_id, dataset_version_id, role) answers this per version.
  const dv = p.add(keyOf(f.trainedOnDatasetVersionId, 'DatasetVersion', `${field}.trainedOnDatasetVersionId`));
  return `EXISTS (SELECT 1 FROM model_version_dataset u WHERE u.model_version_id = t.id AND u.dataset_version_id = ${dv}
                  AND u.role IN ('TRAINING', 'FINE_TUNING'))`;
}

/** A new model version records the datasets it used; version filters can ask for that lineage. */
export const datasetHooks = [on(versionCreated, linkVersionDatasets), on(versionFilterConditions, trainedOnSql)];

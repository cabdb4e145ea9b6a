import { DataSource } from 'typeorm';
import { auditLoaders } from '../modules/audit/audit.loaders';
import { authLoaders } from '../modules/auth/auth.loaders';
import { datasetLoaders } from '../modules/dataset/dataset.loaders';
import { evaluationLoaders } from '../modules/evaluation/evaluation.loaders';
import { modelLoaders } from '../modules/model/model.loaders';
import { feedbackLoaders } from '../modules/feedback/feedback.loaders';
import { driftLoaders } from '../modules/drift/drift.loaders';
import { monitoringLoaders } from '../modules/monitoring/monitoring.loaders';
import { promotionLoaders } from '../modules/promotion/promotion.loaders';
import { projectLoaders } from '../modules/project/project.loaders';
import { featureSetLoaders } from '../modules/feature-set/feature-set.loaders';

/**
 * The per-request loaders bag. A new one per HTTP request and per subscription event, so a
 * cache never outlives the request that filled it.
 */
export function createLoaders(db: DataSource, batch = true) {
  return {
    ...projectLoaders(db, batch),
    ...authLoaders(db, batch),
    ...auditLoaders(db, batch),
    ...modelLoaders(db, batch),
    ...featureSetLoaders(db, batch),
    ...datasetLoaders(db, batch),
    ...evaluationLoaders(db, batch),
    ...feedbackLoaders(db, batch),
    ...driftLoaders(db, batch),
    ...monitoringLoaders(db, batch),
    ...promotionLoaders(db, batch),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

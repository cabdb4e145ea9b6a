import { DataSource } from 'typeorm';
import { auditLoaders } from '../modules/audit/audit.loaders';
import { authLoaders } from '../modules/auth/auth.loaders';
import { modelLoaders } from '../modules/model/model.loaders';
import { feedbackLoaders } from '../modules/feedback/feedback.loaders';
import { projectLoaders } from '../modules/project/project.loaders';

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
    ...feedbackLoaders(db, batch),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

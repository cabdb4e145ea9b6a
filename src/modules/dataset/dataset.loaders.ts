import DataLoader from 'dataloader';
import { DataSource } from 'typeorm';
import { hydrate } from '../../core/db/sql';
import { pageLoader, pairLoader, rowLoader } from '../../core/graphql/page-loader';
import { groupBy } from '../../core/util/group-by';
import { DatasetRole } from '../model/dataset-role';
import { DatasetUsage, DatasetVersion } from './dataset-version.entity';
import { Dataset } from './dataset.entity';

const ROLE_ORDER = Object.values(DatasetRole);

export function datasetLoaders(db: DataSource, batch: boolean) {
  const datasetById = rowLoader(db, Dataset, batch, (ids) => `SELECT * FROM dataset WHERE id = ANY(${ids}::uuid[])`, (d) => d.id);
  const datasetVersionById = rowLoader(db, DatasetVersion, batch,
    (ids) => `SELECT * FROM dataset_version WHERE id = ANY(${ids}::uuid[])`, (v) => v.id);
  // Rows read by any loader fill the by-id caches, so `dataset` and `datasetVersion` fields
  // under a list find their rows already loaded.
  const primeDatasets = (rows: Dataset[]) => { for (const d of rows) datasetById.prime(d.id, d); };
  const primeVersions = (rows: DatasetVersion[]) => { for (const v of rows) datasetVersionById.prime(v.id, v); };
  return {
    datasetById,
    datasetByProjectAndName: pairLoader(db, Dataset, batch,
      `SELECT d.* FROM unnest($1::uuid[], $2::text[]) k(p, n) JOIN dataset d ON d.project_id = k.p AND d.name = k.n`,
      (d) => [d.projectId, d.name], primeDatasets),
    datasetVersionById,
    datasetVersionByNumber: pairLoader(db, DatasetVersion, batch,
      `SELECT v.* FROM unnest($1::uuid[], $2::int[]) k(d, n) JOIN dataset_version v ON v.dataset_id = k.d AND v.number = k.n`,
      (v) => [v.datasetId, String(v.number)], primeVersions),
    latestVersionByDataset: rowLoader(db, DatasetVersion, batch,
      (ids) => `SELECT DISTINCT ON (dataset_id) * FROM dataset_version WHERE dataset_id = ANY(${ids}::uuid[]) ORDER BY dataset_id, number DESC`,
      (v) => v.datasetId, primeVersions),
    datasetPages: pageLoader(db, Dataset, batch, primeDatasets),
    datasetVersionPages: pageLoader(db, DatasetVersion, batch, primeVersions),
    /**
     * Every lineage edge of each model version, all roles (a role argument filters in memory,
     * so every `datasets(role:)` shares one statement). The dataset versions come in the same
     * statement and prime datasetVersionById. Ordered by role, then dataset and version number.
     */
    usagesByModelVersion: new DataLoader<string, DatasetUsage[]>(
      async (ids) => {
        const rows: Record<string, unknown>[] = await db.query(
          `SELECT v.*, u.model_version_id AS usage_model_version_id, u.role AS usage_role
             FROM model_version_dataset u JOIN dataset_version v ON v.id = u.dataset_version_id
            WHERE u.model_version_id = ANY($1::uuid[])
            ORDER BY u.model_version_id, v.dataset_id, v.number DESC`,
          [ids],
        );
        const versions = hydrate(db, DatasetVersion, rows);
        primeVersions(versions);
        const usages = rows.map((row, i) => Object.assign(new DatasetUsage(), {
          modelVersionId: row.usage_model_version_id as string, datasetVersionId: versions[i].id, role: row.usage_role as DatasetRole,
        }));
        const byModelVersion = groupBy(usages, (u) => u.modelVersionId);
        for (const list of byModelVersion.values()) {
          list.sort((a, b) => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role));
        }
        return ids.map((id) => byModelVersion.get(id) ?? []);
      },
      { batch, cache: batch },
    ),
    /** Reverse lineage: the model versions that used each dataset version, newest first, all roles. */
    usagesByDatasetVersion: new DataLoader<string, DatasetUsage[]>(
      async (ids) => {
        const rows: { model_version_id: string; dataset_version_id: string; role: DatasetRole }[] = await db.query(
          `SELECT u.model_version_id, u.dataset_version_id, u.role
             FROM model_version_dataset u JOIN model_version mv ON mv.id = u.model_version_id
            WHERE u.dataset_version_id = ANY($1::uuid[])
            ORDER BY u.dataset_version_id, mv.created_at DESC, mv.id DESC, u.role`,
          [ids],
        );
        const usages = rows.map((row) => Object.assign(new DatasetUsage(), {
          modelVersionId: row.model_version_id, datasetVersionId: row.dataset_version_id, role: row.role,
        }));
        const byDatasetVersion = groupBy(usages, (u) => u.datasetVersionId);
        return ids.map((id) => byDatasetVersion.get(id) ?? []);
      },
      { batch, cache: batch },
    ),
  };
}

declare module '../../core/graphql/context' {
  // This module's loaders join the per-request bag (see Loaders in core/graphql/context.ts).
  interface Loaders extends ReturnType<typeof datasetLoaders> {}
}

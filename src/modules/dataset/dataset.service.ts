import { EntityManager } from 'typeorm';
import { isUniqueViolation } from '../../core/db/errors';
import { hydrate, insertReturning } from '../../core/db/sql';
import { AppError, notFound } from '../../core/graphql/errors';
import { keyOf, toGlobalId } from '../../core/graphql/ids';
import { normalizeTags } from '../../core/graphql/tag';
import { recordAudit } from '../../core/events/audit';
import { recordEvent } from '../../core/events/registry-events';
import { RegistryEventType } from '../../core/events/registry-event-type';
import { Principal } from '../../core/auth/principal';
import { checkColumns } from './columns';
import { DatasetRole } from '../model/dataset-role';
import type { VersionCreated } from '../model/model.hooks';
import { DatasetVersion } from './dataset-version.entity';
import { Dataset } from './dataset.entity';
import { CreateDatasetInput, CreateDatasetVersionInput } from './dto/dataset.input';

export async function createDataset(m: EntityManager, actor: Principal, projectId: string, input: CreateDatasetInput): Promise<Dataset> {
  let created: Dataset;
  try {
    created = await insertReturning(m, Dataset, {
      projectId,
      name: input.name,
      description: input.description ?? null,
      tags: normalizeTags(input.tags),
    });
  } catch (err) {
    if (isUniqueViolation(err, 'dataset_project_name_key')) {
      throw new AppError('CONFLICT', `A dataset named "${input.name}" already exists in this project`, { field: 'name' });
    }
    throw err;
  }
  await recordAudit(m, { projectId, actor: actor.name, action: 'dataset.create', targetType: 'Dataset', targetId: created.nodeId, after: created });
  return created;
}

/**
 * Registers a version. The number is the dataset's counter plus one, taken under the dataset's
 * row lock, so concurrent registrations get 1..n with no gap. The same lock makes the digest
 * check exact: a digest the dataset already has returns that version (same data, same
 * version), with no new number and no audit record.
 */
export async function createDatasetVersion(
  m: EntityManager, actor: Principal, datasetId: string, input: CreateDatasetVersionInput,
): Promise<{ version: DatasetVersion; created: boolean }> {
  const columns = checkColumns(input.columns, input.rowCount);
  const [dataset] = hydrate(m, Dataset, await m.query(`SELECT * FROM dataset WHERE id = $1 FOR UPDATE`, [datasetId]));
  if (!dataset) throw notFound('Dataset', toGlobalId('Dataset', datasetId));
  const [same] = hydrate(m, DatasetVersion, await m.query(
    `SELECT * FROM dataset_version WHERE dataset_id = $1 AND digest = $2`, [datasetId, input.digest],
  ));
  if (same) return { version: same, created: false };
  const number = dataset.versionCount + 1;
  await m.query(`UPDATE dataset SET version_count = $2 WHERE id = $1`, [datasetId, number]);
  const created = await insertReturning(m, DatasetVersion, {
    datasetId,
    projectId: dataset.projectId,
    number,
    uri: input.uri ?? null,
    digest: input.digest,
    rowCount: input.rowCount ?? null,
    columns,
    createdBy: actor.name,
  });
  await recordAudit(m, {
    projectId: dataset.projectId, actor: actor.name, action: 'datasetVersion.create', targetType: 'DatasetVersion',
    targetId: created.nodeId, after: { ...created, columns: columns.map((c) => c.name) },
  });
  await recordEvent(m, {
    projectId: dataset.projectId, type: RegistryEventType.DATASET_VERSION_CREATED, actor: actor.name, subjectType: 'DatasetVersion', subjectId: created.id,
  });
  return { version: created, created: true };
}

export interface UsageInput {
  datasetVersionId: string;
  role: DatasetRole;
}

/** A lineage entry with its id decoded; `index` is where it was given, for error fields. */
export interface ParsedUsage {
  datasetVersionId: string;
  role: DatasetRole;
  index: number;
}

/**
 * Decodes the ids of a lineage list (BAD_USER_INPUT naming the entry) and collapses repeated
 * (dataset version, role) pairs, without touching the database.
 */
export function parseUsages(usages: UsageInput[] | null | undefined, field = 'datasets'): ParsedUsage[] {
  const byKey = new Map<string, ParsedUsage>();
  (usages ?? []).forEach((u, index) => {
    const datasetVersionId = keyOf(u.datasetVersionId, 'DatasetVersion', `${field}.${index}.datasetVersionId`);
    const key = `${datasetVersionId}|${u.role}`;
    if (!byKey.has(key)) byKey.set(key, { datasetVersionId, role: u.role, index });
  });
  return [...byKey.values()];
}

/**
 * Checks that every dataset version of a lineage list belongs to the project. One of another
 * project is NOT_FOUND, as if it did not exist, so ids never reveal other projects' data.
 */
export async function checkUsages(m: EntityManager, projectId: string, usages: ParsedUsage[], field = 'datasets'): Promise<void> {
  if (!usages.length) return;
  const found: { id: string }[] = await m.query(
    `SELECT id FROM dataset_version WHERE id = ANY($1::uuid[]) AND project_id = $2`,
    [usages.map((u) => u.datasetVersionId), projectId],
  );
  const known = new Set(found.map((r) => r.id));
  const missing = usages.find((u) => !known.has(u.datasetVersionId));
  if (missing) {
    const at = `${field}.${missing.index}.datasetVersionId`;
    throw new AppError('NOT_FOUND', `${at} names no dataset version of this project`, { field: at });
  }
}

/** Links a model version to the dataset versions it used: one set-based insert, in the caller's transaction. */
export async function linkUsages(m: EntityManager, modelVersionId: string, projectId: string, usages: ParsedUsage[]): Promise<void> {
  if (!usages.length) return;
  await m.query(
    `INSERT INTO model_version_dataset (project_id, model_version_id, dataset_version_id, role)
     SELECT $4, $1, k.d, k.r FROM unnest($2::uuid[], $3::text[]) AS k(d, r)
     ON CONFLICT DO NOTHING`,
    [modelVersionId, usages.map((u) => u.datasetVersionId), usages.map((u) => u.role), projectId],
  );
}

/**
 * Links a new model version to the dataset versions its input names (the model module's
 * `versionCreated` hook), and answers them for its audit record.
 */
export async function linkVersionDatasets(m: EntityManager, v: VersionCreated): Promise<Record<string, unknown> | void> {
  const usages = parseUsages(v.input.datasets);
  if (!usages.length) return;
  await checkUsages(m, v.projectId, usages);
  await linkUsages(m, v.versionId, v.projectId, usages);
  return { datasets: usages.map((u) => ({ datasetVersionId: toGlobalId('DatasetVersion', u.datasetVersionId), role: u.role })) };
}

import { EntityManager } from 'typeorm';
import { isUniqueViolation } from '../../core/db/errors';
import { insertReturning } from '../../core/db/sql';
import { AppError } from '../../core/graphql/errors';
import { keyOf } from '../../core/graphql/ids';
import { recordAudit } from '../../core/events/audit';
import { Principal } from '../../core/auth/principal';
import { CreateFeatureSetInput, WriteFeatureValuesInput } from './dto/feature-set.input';
import { FeatureSet } from './feature-set.entity';
import { flattenRows } from './feature-values';
import type { VersionCreated } from '../model/model.hooks';

export async function createFeatureSet(m: EntityManager, actor: Principal, projectId: string, input: CreateFeatureSetInput): Promise<FeatureSet> {
  const seen = new Set<string>();
  input.features.forEach((f, i) => {
    if (seen.has(f.name)) throw new AppError('BAD_USER_INPUT', `Feature "${f.name}" is defined twice`, { field: `features.${i}.name` });
    seen.add(f.name);
  });
  let created: FeatureSet;
  try {
    created = await insertReturning(m, FeatureSet, {
      projectId,
      name: input.name,
      description: input.description ?? null,
      entityKey: input.entityKey,
      features: input.features.map((f) => ({ name: f.name, dtype: f.dtype, description: f.description ?? null })),
      ttlSeconds: input.ttlSeconds ?? null,
      createdBy: actor.name,
    });
  } catch (err) {
    if (isUniqueViolation(err, 'feature_set_project_name_key')) {
      throw new AppError('CONFLICT', `A feature set named "${input.name}" already exists in this project`, { field: 'name' });
    }
    throw err;
  }
  await recordAudit(m, {
    projectId, actor: actor.name, action: 'featureSet.create', targetType: 'FeatureSet', targetId: created.nodeId, after: created,
  });
  return created;
}

/**
 * Writes rows of feature values in a fixed number of statements, whatever the row count: the
 * offline log gets every value, the online table keeps per entity and feature only the value
 * with the newest event time, so a late-arriving older row never replaces a newer one (on
 * equal event times the later write wins, in both tables).
 *
 * With an idempotencyKey the key is claimed first; a concurrent call with the same key waits
 * on the claim's unique index and, once the first commits, finds it taken and writes nothing.
 */
export async function writeFeatureValues(
  m: EntityManager, actor: Principal, fs: FeatureSet, input: WriteFeatureValuesInput,
): Promise<{ written: number; duplicate: boolean }> {
  const flat = flattenRows(fs, input.rows);
  const written = input.rows.length;
  if (input.idempotencyKey) {
    const claimed: unknown[] = await m.query(
      `INSERT INTO feature_write (project_id, feature_set_id, idempotency_key, written) VALUES ($4, $1, $2, $3)
       ON CONFLICT (feature_set_id, idempotency_key) DO NOTHING RETURNING written`,
      [fs.id, input.idempotencyKey, written, fs.projectId],
    );
    if (claimed.length === 0) {
      const [first]: { written: number }[] = await m.query(
        `SELECT written FROM feature_write WHERE feature_set_id = $1 AND idempotency_key = $2`, [fs.id, input.idempotencyKey],
      );
      return { written: first.written, duplicate: true };
    }
  }
  // One statement: the data-modifying CTE fills the log, the main INSERT upserts online. The
  // online rows are deduplicated first (one statement may not update a row twice) and sorted
  // by key, so concurrent writers lock rows in the same order.
  await m.query(
    `WITH input AS (
       SELECT r.entity_key, r.feature, r.event_ts, r.value::jsonb AS value, r.ord
         FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::text[]) WITH ORDINALITY AS r(entity_key, feature, event_ts, value, ord)
     ), logged AS (
       INSERT INTO feature_value (project_id, feature_set_id, entity_key, feature, event_ts, value)
       SELECT $6::uuid, $1::uuid, entity_key, feature, event_ts, value FROM input ORDER BY ord
     )
     INSERT INTO feature_online AS o (project_id, feature_set_id, entity_key, feature, event_ts, value)
     SELECT DISTINCT ON (entity_key, feature) $6::uuid, $1::uuid, entity_key, feature, event_ts, value
       FROM input ORDER BY entity_key, feature, event_ts DESC, ord DESC
     ON CONFLICT (feature_set_id, entity_key, feature) DO UPDATE
        SET event_ts = EXCLUDED.event_ts, value = EXCLUDED.value, written_at = EXCLUDED.written_at
      WHERE o.event_ts <= EXCLUDED.event_ts`,
    [fs.id, flat.entityKeys, flat.features, flat.eventTimestamps, flat.values, fs.projectId],
  );
  await recordAudit(m, {
    projectId: fs.projectId, actor: actor.name, action: 'featureValues.write', targetType: 'FeatureSet', targetId: fs.nodeId,
    after: { rows: written, values: flat.values.length, entities: flat.entities, idempotencyKey: input.idempotencyKey ?? null },
  });
  return { written, duplicate: false };
}

/** Decodes feature set ids given with a model version; duplicates collapse. */
export function featureSetKeys(ids: string[] | null | undefined, field = 'featureSetIds'): string[] {
  return [...new Set((ids ?? []).map((id) => keyOf(id, 'FeatureSet', field)))];
}

/**
 * Records that a model version reads these feature sets, in one statement; every one must be
 * a feature set of the version's project, else NOT_FOUND (and the caller's transaction rolls
 * the version back with it).
 */
export async function linkFeatureSets(m: EntityManager, modelVersionId: string, projectId: string, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  const linked: unknown[] = await m.query(
    `INSERT INTO model_version_feature_set (project_id, model_version_id, feature_set_id)
     SELECT $3, $1::uuid, f.id FROM feature_set f WHERE f.id = ANY($2::uuid[]) AND f.project_id = $3
     ON CONFLICT DO NOTHING RETURNING feature_set_id`,
    [modelVersionId, keys, projectId],
  );
  if (linked.length !== keys.length) {
    throw new AppError('NOT_FOUND', 'featureSetIds names a feature set that is not in this project', { field: 'featureSetIds' });
  }
}

/** Links a new model version to the feature sets its input names (the model module's `versionCreated` hook). */
export async function linkVersionFeatureSets(m: EntityManager, v: VersionCreated): Promise<void> {
  await linkFeatureSets(m, v.versionId, v.projectId, featureSetKeys(v.input.featureSetIds));
}

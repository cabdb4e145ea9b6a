import { DataSource } from 'typeorm';
import { filledRowLoader, pageLoader, pairLoader, rowLoader } from '../../core/graphql/page-loader';
import { asOfLoader } from '../../core/graphql/as-of-loader';
import { currentAliasesLoader } from '../../core/aliases/alias-loader';
import { AliasEvent, ModelAlias } from './model-alias.entity';
import { ModelVersion } from './model-version.entity';
import { Model } from './model.entity';

/** The moves of model aliases, for as-of lookups (core/graphql/as-of-loader.ts). */
export const MODEL_ALIAS_MOVES = { table: 'alias_event', parentColumn: 'model_id' } as const;

export function modelLoaders(db: DataSource, batch: boolean) {
  // Rows read by any other loader fill the by-id caches, so `baseVersion`, `alias.version`
  // and `model` find most rows already loaded instead of reading them again; a by-id load
  // waits for the loaders that feed it (fedBy), so what it finds does not depend on which
  // statement answered first (filledRowLoader).
  const modelById = filledRowLoader(db, Model, batch, (ids) => `SELECT * FROM model WHERE id = ANY(${ids}::uuid[])`, (m) => m.id);
  const modelVersionById = filledRowLoader(db, ModelVersion, batch,
    (ids) => `SELECT * FROM model_version WHERE id = ANY(${ids}::uuid[])`, (v) => v.id);
  const primeModels = (rows: Model[]) => modelById.fill(rows);
  const primeVersions = (rows: ModelVersion[]) => modelVersionById.fill(rows);
  return {
    modelById,
    modelByProjectAndName: modelById.fedBy(pairLoader(db, Model, batch,
      `SELECT m.* FROM unnest($1::uuid[], $2::text[]) k(p, n) JOIN model m ON m.project_id = k.p AND m.name = k.n`,
      (m) => [m.projectId, m.name], primeModels)),
    modelVersionById,
    modelVersionByNumber: modelVersionById.fedBy(pairLoader(db, ModelVersion, batch,
      `SELECT v.* FROM unnest($1::uuid[], $2::int[]) k(m, n) JOIN model_version v ON v.model_id = k.m AND v.number = k.n`,
      (v) => [v.modelId, String(v.number)], primeVersions)),
    latestVersionByModel: modelVersionById.fedBy(rowLoader(db, ModelVersion, batch,
      (ids) => `SELECT DISTINCT ON (model_id) * FROM model_version WHERE model_id = ANY(${ids}::uuid[]) ORDER BY model_id, number DESC`,
      (v) => v.modelId, primeVersions)),
    /** Aliases currently set on each model, by name, with their versions in the same statement. */
    aliasesByModel: modelVersionById.fedBy(currentAliasesLoader(db, batch, {
      table: 'model_alias', parentColumn: 'model_id', versionTable: 'model_version', version: ModelVersion, alias: ModelAlias,
      parentKey: 'modelId', parentOf: (v) => v.modelId,
    }, primeVersions)),
    /**
     * The version an alias pointed to at a time: its last move at or before then. Its answers
     * are version ids that modelVersionById is asked for next, so a by-id batch waits for these
     * lookups, and takes their versions along with the ones asked for directly.
     */
    aliasAsOf: modelVersionById.fedBy(asOfLoader(db, batch, MODEL_ALIAS_MOVES)),
    aliasEventById: rowLoader(db, AliasEvent, batch,
      (ids) => `SELECT * FROM alias_event WHERE id = ANY(${ids}::bigint[])`, (e) => String(e.id)),
    modelPages: modelById.fedBy(pageLoader(db, Model, batch, primeModels)),
    versionPages: modelVersionById.fedBy(pageLoader(db, ModelVersion, batch, primeVersions)),
    aliasEventPages: pageLoader(db, AliasEvent, batch),
  };
}

declare module '../../core/graphql/context' {
  // This module's loaders join the per-request bag (see Loaders in core/graphql/context.ts).
  interface Loaders extends ReturnType<typeof modelLoaders> {}
}

import DataLoader from 'dataloader';
import { DataSource } from 'typeorm';
import { hydrate } from '../../core/db/sql';
import { filledRowLoader, pageLoader, pairLoader, rowLoader } from '../../core/graphql/page-loader';
import { groupBy } from '../../core/util/group-by';
import { asOfLoader } from '../../core/graphql/as-of-loader';
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
    /** Aliases currently set on each model, by name. */
    /**
     * Aliases currently set on each model, by name. The statement also returns the version each
     * points to and primes modelVersionById with it, so `alias.version` never costs a statement
     * of its own (and the count stays the same whichever batch answers first).
     */
    aliasesByModel: modelVersionById.fedBy(new DataLoader<string, ModelAlias[]>(
      async (ids) => {
        const rows: Record<string, unknown>[] = await db.query(
          `SELECT v.*, a.name AS alias_name, a.revision AS alias_revision, a.updated_at AS alias_updated_at,
                  a.updated_by AS alias_updated_by
             FROM model_alias a JOIN model_version v ON v.id = a.version_id
            WHERE a.model_id = ANY($1::uuid[]) ORDER BY a.name`,
          [ids],
        );
        const versions = hydrate(db, ModelVersion, rows);
        primeVersions(versions);
        const aliases = rows.map((row, i) => Object.assign(new ModelAlias(), {
          modelId: versions[i].modelId, name: row.alias_name, versionId: versions[i].id,
          revision: row.alias_revision, updatedAt: row.alias_updated_at, updatedBy: row.alias_updated_by,
        }));
        const byModel = groupBy(aliases, (a) => a.modelId);
        return ids.map((id) => byModel.get(id) ?? []);
      },
      { batch, cache: batch },
    )),
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

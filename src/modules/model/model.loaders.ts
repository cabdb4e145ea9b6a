import DataLoader from 'dataloader';
import { DataSource } from 'typeorm';
import { hydrate } from '../../db/sql';
import { listLoader, pageLoader, rowLoader } from '../../graphql/page-loader';
import { AliasEvent, ModelAlias } from './model-alias.entity';
import { ModelVersion } from './model-version.entity';
import { Model } from './model.entity';

/** A loader keyed by (uuid, text) pairs, e.g. (project, model name); answers in key order. */
function pairLoader<T extends object>(
  db: DataSource,
  cls: { new (): T },
  batch: boolean,
  sql: string,
  pairOf: (row: T) => [string, string],
) {
  return new DataLoader<[string, string], T | null, string>(
    async (keys) => {
      const rows = hydrate(db, cls, await db.query(sql, [keys.map((k) => k[0]), keys.map((k) => k[1])]));
      const map = new Map(rows.map((r) => [pairOf(r).join('\u0000'), r]));
      return keys.map((k) => map.get(k.join('\u0000')) ?? null);
    },
    { batch, cacheKeyFn: (k) => k.join('\u0000') },
  );
}

export function modelLoaders(db: DataSource, batch: boolean) {
  return {
    modelById: rowLoader(db, Model, batch, (ids) => `SELECT * FROM model WHERE id = ANY(${ids}::uuid[])`, (m) => m.id),
    modelByProjectAndName: pairLoader(db, Model, batch,
      `SELECT m.* FROM unnest($1::uuid[], $2::text[]) k(p, n) JOIN model m ON m.project_id = k.p AND m.name = k.n`,
      (m) => [m.projectId, m.name]),
    modelVersionById: rowLoader(db, ModelVersion, batch,
      (ids) => `SELECT * FROM model_version WHERE id = ANY(${ids}::uuid[])`, (v) => v.id),
    modelVersionByNumber: pairLoader(db, ModelVersion, batch,
      `SELECT v.* FROM unnest($1::uuid[], $2::int[]) k(m, n) JOIN model_version v ON v.model_id = k.m AND v.number = k.n`,
      (v) => [v.modelId, String(v.number)]),
    latestVersionByModel: rowLoader(db, ModelVersion, batch,
      (ids) => `SELECT DISTINCT ON (model_id) * FROM model_version WHERE model_id = ANY(${ids}::uuid[]) ORDER BY model_id, number DESC`,
      (v) => v.modelId),
    /** Aliases currently set on each model, by name. */
    aliasesByModel: listLoader(db, ModelAlias, batch,
      (ids) => `SELECT * FROM model_alias WHERE model_id = ANY(${ids}::uuid[]) AND version_id IS NOT NULL ORDER BY name`,
      (a) => a.modelId),
    /** Aliases currently pointing at each version. */
    aliasesByVersion: listLoader(db, ModelAlias, batch,
      (ids) => `SELECT * FROM model_alias WHERE version_id = ANY(${ids}::uuid[]) ORDER BY name`,
      (a) => a.versionId!),
    /** The version an alias pointed to at a time: its last move at or before then. */
    aliasAsOf: new DataLoader<[string, string, Date], string | null, string>(
      async (keys) => {
        const rows: { i: string; to_version_id: string | null }[] = await db.query(
          `SELECT k.i, e.to_version_id
             FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) WITH ORDINALITY k(m, a, t, i)
             CROSS JOIN LATERAL (SELECT to_version_id FROM alias_event
                                  WHERE model_id = k.m AND alias = k.a AND at <= k.t
                                  ORDER BY at DESC, id DESC LIMIT 1) e`,
          [keys.map((k) => k[0]), keys.map((k) => k[1]), keys.map((k) => k[2].toISOString())],
        );
        const byIndex = new Map(rows.map((r) => [Number(r.i) - 1, r.to_version_id]));
        return keys.map((_, i) => byIndex.get(i) ?? null);
      },
      { batch, cacheKeyFn: (k) => `${k[0]}\u0000${k[1]}\u0000${k[2].toISOString()}` },
    ),
    aliasEventById: rowLoader(db, AliasEvent, batch,
      (ids) => `SELECT * FROM alias_event WHERE id = ANY(${ids}::bigint[])`, (e) => String(e.id)),
    modelPages: pageLoader(db, Model, batch),
    versionPages: pageLoader(db, ModelVersion, batch),
    aliasEventPages: pageLoader(db, AliasEvent, batch),
  };
}

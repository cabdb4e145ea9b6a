import DataLoader from 'dataloader';
import { DataSource } from 'typeorm';
import { hydrate } from '../../core/db/sql';
import { pageLoader, rowLoader } from '../../core/graphql/page-loader';
import { groupBy } from '../../core/util/group-by';
import { FeatureSet } from './feature-set.entity';
import type { StoredValue } from './feature-values';

/** An online read: the newest value of these features for these entities. */
export interface OnlineRequest {
  featureSetId: string;
  entityKeys: string[];
  features: string[];
}

/** A point-in-time read: per row, the newest value at or before its asOf. */
export interface HistoricalRequest {
  featureSetId: string;
  rows: { entityKey: string; asOf: Date }[];
  features: string[];
}

const SEP = '\u0000';
export const onlineKey = (fsId: string, entityKey: string, feature: string) => [fsId, entityKey, feature].join(SEP);
export const historicalKey = (fsId: string, entityKey: string, asOf: Date, feature: string) =>
  [fsId, entityKey, asOf.toISOString(), feature].join(SEP);

/** Features requested per feature set, as parallel arrays for `unnest`. */
function featurePairs(requests: readonly { featureSetId: string; features: string[] }[]): [string[], string[]] {
  const pairs = new Map<string, [string, string]>();
  for (const r of requests) for (const f of r.features) pairs.set(r.featureSetId + SEP + f, [r.featureSetId, f]);
  return [[...pairs.values()].map((p) => p[0]), [...pairs.values()].map((p) => p[1])];
}

const toStored = (row: { value: unknown; event_ts: Date }): StoredValue => ({ value: row.value, eventTs: row.event_ts });

export function featureSetLoaders(db: DataSource, batch: boolean) {
  const featureSetById = rowLoader(db, FeatureSet, batch,
    (ids) => `SELECT * FROM feature_set WHERE id = ANY(${ids}::uuid[])`, (f) => f.id);
  const primeFeatureSets = (rows: FeatureSet[]) => { for (const f of rows) featureSetById.prime(f.id, f); };
  return {
    featureSetById,
    featureSetByProjectAndName: new DataLoader<[string, string], FeatureSet | null, string>(
      async (keys) => {
        const rows = hydrate(db, FeatureSet, await db.query(
          `SELECT f.* FROM unnest($1::uuid[], $2::text[]) k(p, n) JOIN feature_set f ON f.project_id = k.p AND f.name = k.n`,
          [keys.map((k) => k[0]), keys.map((k) => k[1])],
        ));
        primeFeatureSets(rows);
        const map = new Map(rows.map((r) => [r.projectId + SEP + r.name, r]));
        return keys.map((k) => map.get(k.join(SEP)) ?? null);
      },
      { batch, cache: batch, cacheKeyFn: (k) => k.join(SEP) },
    ),
    featureSetPages: pageLoader(db, FeatureSet, batch, primeFeatureSets),
    /** The feature sets each model version reads, by name. */
    featureSetsByModelVersion: new DataLoader<string, FeatureSet[]>(
      async (ids) => {
        const rows: Record<string, unknown>[] = await db.query(
          `SELECT f.*, l.model_version_id AS __version FROM model_version_feature_set l JOIN feature_set f ON f.id = l.feature_set_id
            WHERE l.model_version_id = ANY($1::uuid[]) ORDER BY f.name`,
          [ids],
        );
        const sets = hydrate(db, FeatureSet, rows);
        primeFeatureSets(sets);
        const byVersion = groupBy(sets, (_, i) => rows[i].__version as string);
        return ids.map((id) => byVersion.get(id) ?? []);
      },
      { batch, cache: batch },
    ),
    /**
     * Online reads of every feature set in the batch in one statement: primary-key lookups of
     * (feature set, entity, feature). Every request gets the same map, keyed by onlineKey.
     * Not cached: the arguments differ per field and a second read should see new writes.
     */
    onlineValues: new DataLoader<OnlineRequest, Map<string, StoredValue>>(
      async (requests) => {
        const entities = new Map<string, [string, string]>();
        for (const r of requests) for (const k of r.entityKeys) entities.set(r.featureSetId + SEP + k, [r.featureSetId, k]);
        const [fsOfFeature, features] = featurePairs(requests);
        const rows: { feature_set_id: string; entity_key: string; feature: string; value: unknown; event_ts: Date }[] = await db.query(
          `SELECT o.feature_set_id, o.entity_key, o.feature, o.value, o.event_ts
             FROM unnest($1::uuid[], $2::text[]) k(fs, ek)
             JOIN unnest($3::uuid[], $4::text[]) f(fs, name) ON f.fs = k.fs
             JOIN feature_online o ON o.feature_set_id = k.fs AND o.entity_key = k.ek AND o.feature = f.name`,
          [[...entities.values()].map((e) => e[0]), [...entities.values()].map((e) => e[1]), fsOfFeature, features],
        );
        const found = new Map(rows.map((r) => [onlineKey(r.feature_set_id, r.entity_key, r.feature), toStored(r)]));
        return requests.map(() => found);
      },
      { batch, cache: false },
    ),
    /**
     * Point-in-time reads of every feature set in the batch in one statement: per (entity,
     * asOf, feature) a LATERAL probe of the (feature set, entity, feature, event_ts DESC) index
     * for the newest value at or before asOf, so no value from after asOf can leak in.
     */
    historicalValues: new DataLoader<HistoricalRequest, Map<string, StoredValue>>(
      async (requests) => {
        const points = new Map<string, [string, string, Date]>();
        for (const r of requests) {
          for (const row of r.rows) points.set([r.featureSetId, row.entityKey, row.asOf.toISOString()].join(SEP), [r.featureSetId, row.entityKey, row.asOf]);
        }
        const list = [...points.values()];
        const [fsOfFeature, features] = featurePairs(requests);
        const rows: { i: string; feature: string; value: unknown; event_ts: Date }[] = await db.query(
          `SELECT k.i, f.name AS feature, v.value, v.event_ts
             FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) WITH ORDINALITY k(fs, ek, t, i)
             JOIN unnest($4::uuid[], $5::text[]) f(fs, name) ON f.fs = k.fs
             CROSS JOIN LATERAL (SELECT x.value, x.event_ts FROM feature_value x
                                  WHERE x.feature_set_id = k.fs AND x.entity_key = k.ek AND x.feature = f.name AND x.event_ts <= k.t
                                  ORDER BY x.event_ts DESC, x.id DESC LIMIT 1) v`,
          [list.map((p) => p[0]), list.map((p) => p[1]), list.map((p) => p[2].toISOString()), fsOfFeature, features],
        );
        const found = new Map(rows.map((r) => {
          const [fsId, entityKey, asOf] = list[Number(r.i) - 1];
          return [historicalKey(fsId, entityKey, asOf, r.feature), toStored(r)];
        }));
        return requests.map(() => found);
      },
      { batch, cache: false },
    ),
  };
}

declare module '../../core/graphql/context' {
  // This module's loaders join the per-request bag (see Loaders in core/graphql/context.ts).
  interface Loaders extends ReturnType<typeof featureSetLoaders> {}
}

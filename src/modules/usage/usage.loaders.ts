import DataLoader from 'dataloader';
import { DataSource } from 'typeorm';
import { hydrate } from '../../core/db/sql';
import { groupBy } from '../../core/util/group-by';
import { ModelVersionPrice } from './model-version-price.entity';
import { USAGE_AGGREGATES_SQL, usageFigures } from './cost-report.service';
import { UsageSummary } from './dto/cost-report';
import { experimentSummariesLoader } from './experiment.service';

/** (deployment, route name, from, to): a route's records in [from, to). */
export type RouteUsageKey = [string, string, Date, Date];

/** Most prices ModelVersion.pricingHistory answers. */
export const MAX_PRICE_HISTORY = 100;

export function usageLoaders(db: DataSource, batch: boolean) {
  return {
    /** The price of a version in force at a time (key: version id, ISO time): its latest price from at or before then. */
    priceAt: new DataLoader<[string, string], ModelVersionPrice | null, string>(
      async (keys) => {
        const raw: Record<string, unknown>[] = await db.query(
          `SELECT k.ord, p.* FROM unnest($1::uuid[], $2::timestamptz[]) WITH ORDINALITY k(v, at, ord)
             JOIN LATERAL (SELECT * FROM model_version_price p WHERE p.model_version_id = k.v AND p.valid_from <= k.at
                            ORDER BY p.valid_from DESC LIMIT 1) p ON true`,
          [keys.map((k) => k[0]), keys.map((k) => k[1])],
        );
        const rows = hydrate(db, ModelVersionPrice, raw);
        const byOrd = new Map(rows.map((r, i) => [Number(raw[i].ord), r]));
        return keys.map((_, i) => byOrd.get(i + 1) ?? null);
      },
      { batch, cache: batch, cacheKeyFn: (k) => k.join('\u0000') },
    ),
    /**
     * The usage of many deployment routes (and windows) in one statement, an aggregate per key
     * on the (deployment_id, route, ts) index: every route read in a request costs one statement.
     */
    routeUsage: new DataLoader<RouteUsageKey, UsageSummary, string>(
      async (keys) => {
        const rows: Record<string, unknown>[] = await db.query(
          `SELECT k.i, a.* FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY k(d, r, f, t, i)
             CROSS JOIN LATERAL (SELECT ${USAGE_AGGREGATES_SQL} FROM usage_record u
                                  WHERE u.deployment_id = k.d AND u.route = k.r AND u.ts >= k.f AND u.ts < k.t) a`,
          [keys.map((k) => k[0]), keys.map((k) => k[1]), keys.map((k) => k[2].toISOString()), keys.map((k) => k[3].toISOString())],
        );
        const byIndex = new Map(rows.map((r) => [Number(r.i) - 1, r]));
        return keys.map((_, i) => usageFigures(byIndex.get(i)!));
      },
      { batch, cache: batch, cacheKeyFn: (k) => `${k[0]}\u0000${k[1]}\u0000${k[2].toISOString()}\u0000${k[3].toISOString()}` },
    ),
    /** The per-route summaries of Deployment.experiment, one statement per metric asked in the request. */
    experimentSummaries: experimentSummariesLoader(db, batch),
    /** The latest MAX_PRICE_HISTORY prices of each version, newest first. */
    priceHistory: new DataLoader<string, ModelVersionPrice[]>(
      async (ids) => {
        const rows = hydrate(db, ModelVersionPrice, await db.query(
          `SELECT * FROM (SELECT p.*, row_number() OVER (PARTITION BY model_version_id ORDER BY valid_from DESC) AS n
                            FROM model_version_price p WHERE model_version_id = ANY($1::uuid[])) p
            WHERE n <= ${MAX_PRICE_HISTORY} ORDER BY model_version_id, valid_from DESC`,
          [ids],
        ));
        const byVersion = groupBy(rows, (r) => r.modelVersionId);
        return ids.map((id) => byVersion.get(id) ?? []);
      },
      { batch, cache: batch },
    ),
  };
}

declare module '../../core/graphql/context' {
  // This module's loaders join the per-request bag (see Loaders in core/graphql/context.ts).
  interface Loaders extends ReturnType<typeof usageLoaders> {}
}

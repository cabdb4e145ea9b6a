import DataLoader from 'dataloader';
import { DataSource } from 'typeorm';
import { EngagementSummary } from './feedback.entity';

/** (model version, from, to): the window [from, to). */
export type EngagementKey = [string, Date, Date];

export function feedbackLoaders(db: DataSource, batch: boolean) {
  return {
    /** Engagement of many versions (and ranges) in one statement, an aggregate per key. */
    engagement: new DataLoader<EngagementKey, EngagementSummary, string>(
      async (keys) => {
        const rows: { i: string; n: number; thumbs: number; up: number; mean_rating: number | null; sessions: number }[] = await db.query(
          `SELECT k.i, a.n, a.thumbs, a.up, a.mean_rating, a.sessions
             FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY k(v, f, t, i)
             CROSS JOIN LATERAL (
               SELECT count(*)::int AS n,
                      (count(*) FILTER (WHERE kind = 'THUMBS'))::int AS thumbs,
                      (count(*) FILTER (WHERE kind = 'THUMBS' AND value > 0))::int AS up,
                      avg(value) FILTER (WHERE kind = 'RATING') AS mean_rating,
                      count(DISTINCT session_id)::int AS sessions
                 FROM feedback
                WHERE model_version_id = k.v AND at >= k.f AND at < k.t) a`,
          [keys.map((k) => k[0]), keys.map((k) => k[1].toISOString()), keys.map((k) => k[2].toISOString())],
        );
        const byIndex = new Map(rows.map((r) => [Number(r.i) - 1, r]));
        return keys.map((_, i) => {
          const r = byIndex.get(i)!;
          return {
            feedbackCount: r.n,
            positiveRate: r.thumbs > 0 ? r.up / r.thumbs : null,
            meanRating: r.mean_rating === null ? null : Number(r.mean_rating),
            sessions: r.sessions,
          };
        });
      },
      { batch, cache: batch, cacheKeyFn: (k) => `${k[0]}\u0000${k[1].toISOString()}\u0000${k[2].toISOString()}` },
    ),
  };
}

declare module '../../core/graphql/context' {
  // This module's loaders join the per-request bag (see Loaders in core/graphql/context.ts).
  interface Loaders extends ReturnType<typeof feedbackLoaders> {}
}

import DataLoader from 'dataloader';
import { DataSource } from 'typeorm';
import { DatasetColumn } from '../dataset/dataset-version.entity';

/** (model version, from, to, most): the profiles whose window overlaps [from, to), at most `most` + 1 of them. */
export type ProfileWindowKey = [string, Date, Date, number];

export function driftLoaders(db: DataSource, batch: boolean) {
  return {
    /**
     * The columns of the production profiles overlapping each window, oldest window first; one
     * statement per batch. One more than the most asked for is read, so the caller can tell
     * that a window holds too many without reading them all.
     */
    columnProfilesOverlapping: new DataLoader<ProfileWindowKey, DatasetColumn[][], string>(
      async (keys) => {
        const rows: { i: string; columns: DatasetColumn[] }[] = await db.query(
          `SELECT k.i, p.columns
             FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::int[]) WITH ORDINALITY k(v, f, t, most, i)
             CROSS JOIN LATERAL (
               SELECT p.columns, p.window_from, p.id FROM column_profile p
                WHERE p.model_version_id = k.v AND p.window_from < k.t AND p.window_to > k.f
                ORDER BY p.window_from, p.id LIMIT k.most + 1) p
            ORDER BY k.i, p.window_from, p.id`,
          [keys.map((k) => k[0]), keys.map((k) => k[1].toISOString()), keys.map((k) => k[2].toISOString()), keys.map((k) => k[3])],
        );
        const byIndex = keys.map((): DatasetColumn[][] => []);
        for (const r of rows) byIndex[Number(r.i) - 1].push(r.columns);
        return byIndex;
      },
      { batch, cache: batch, cacheKeyFn: (k) => `${k[0]}\u0000${k[1].toISOString()}\u0000${k[2].toISOString()}\u0000${k[3]}` },
    ),
  };
}

declare module '../../core/graphql/context' {
  // This module's loaders join the per-request bag (see Loaders in core/graphql/context.ts).
  interface Loaders extends ReturnType<typeof driftLoaders> {}
}

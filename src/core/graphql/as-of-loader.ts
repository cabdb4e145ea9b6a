import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';

/**
 * The subquery of one (parent, alias, time) lookup, for a LATERAL join: one row (to_version_id)
 * when the alias had a move at or before the time, none otherwise. Shared by asOfLoader and by
 * statements that resolve aliases at many moments inside a larger query (usage records served
 * through an alias-following deployment route). The expressions are the caller's SQL, never input.
 */
export function aliasAtSql(moves: { table: string; parentColumn: string }, parent: string, alias: string, at: string): string {
  return `(SELECT to_version_id FROM ${moves.table}
            WHERE ${moves.parentColumn} = ${parent} AND alias = ${alias} AND at <= ${at}
            ORDER BY at DESC, id DESC LIMIT 1)`;
}

/**
 * Where a movable name (an alias) pointed at a time, for many (parent, name, time) keys in one
 * statement: the value of its last move at or before then, from a table of moves such as
 * `alias_event` (`parent_col, alias, at, id, to_version_id`), walked backwards on its
 * (parent, alias, at DESC, id DESC) index. Null when it had not been set yet, or was removed.
 * The table and column names are the caller's constants, never input.
 */
export function asOfLoader(db: DataSource, batch: boolean, moves: { table: string; parentColumn: string }) {
  return new DataLoader<[string, string, Date], string | null, string>(
    async (keys) => {
      const rows: { i: string; to_version_id: string | null }[] = await db.query(
        `SELECT k.i, e.to_version_id
           FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) WITH ORDINALITY k(p, a, t, i)
           CROSS JOIN LATERAL ${aliasAtSql(moves, 'k.p', 'k.a', 'k.t')} e`,
        [keys.map((k) => k[0]), keys.map((k) => k[1]), keys.map((k) => k[2].toISOString())],
      );
      const byIndex = new Map(rows.map((r) => [Number(r.i) - 1, r.to_version_id]));
      return keys.map((_, i) => byIndex.get(i) ?? null);
    },
    { batch, cache: batch, cacheKeyFn: (k) => `${k[0]}\u0000${k[1]}\u0000${k[2].toISOString()}` },
  );
}

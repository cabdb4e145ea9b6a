import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { hydrate } from '../db/sql';
import { groupBy } from '../util/group-by';
import type { AliasBase } from './alias.base';

/** Where one kind of alias and its versions are stored (model_alias over model_version ...). */
export interface AliasTables<V extends { id: string; projectId: string }, A extends AliasBase> {
  /** The alias table and its parent's key column (`model_alias`, `model_id`). */
  table: string;
  parentColumn: string;
  versionTable: string;
  version: new () => V;
  alias: new () => A;
  /** The parent's key property of the alias entity (`modelId`), and its value on a version. */
  parentKey: keyof A & string;
  parentOf: (v: V) => string;
}

/**
 * The aliases currently set on each parent, by name. The one statement also returns the version
 * each points to and gives it to `primeVersions` (the by-id loader), so `alias.version` never
 * costs a statement of its own (and the count stays the same whichever batch answers first).
 */
export function currentAliasesLoader<V extends { id: string; projectId: string }, A extends AliasBase>(
  db: DataSource, batch: boolean, tables: AliasTables<V, A>, primeVersions: (rows: V[]) => void,
): DataLoader<string, A[]> {
  return new DataLoader<string, A[]>(
    async (ids) => {
      const rows: Record<string, unknown>[] = await db.query(
        `SELECT v.*, a.name AS alias_name, a.revision AS alias_revision, a.updated_at AS alias_updated_at,
                a.updated_by AS alias_updated_by
           FROM ${tables.table} a JOIN ${tables.versionTable} v ON v.id = a.version_id
          WHERE a.${tables.parentColumn} = ANY($1::uuid[]) ORDER BY a.name`,
        [ids],
      );
      const versions = hydrate(db, tables.version, rows);
      primeVersions(versions);
      const aliases = rows.map((row, i) => Object.assign(new tables.alias(), {
        [tables.parentKey]: tables.parentOf(versions[i]), projectId: versions[i].projectId, name: row.alias_name, versionId: versions[i].id,
        revision: row.alias_revision, updatedAt: row.alias_updated_at, updatedBy: row.alias_updated_by,
      }));
      const byParent = groupBy(aliases, (a) => String(a[tables.parentKey]));
      return ids.map((id) => byParent.get(id) ?? []);
    },
    { batch, cache: batch },
  );
}

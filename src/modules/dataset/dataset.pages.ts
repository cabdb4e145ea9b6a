import { Params, likeEscape } from '../../core/db/sql';
import { PageSpec, SortKey, pageSpec } from '../../core/graphql/page-loader';
import { pageSize } from '../../core/graphql/pagination';
import { normalizeTags } from '../../core/graphql/tag';
import { DatasetFilter } from './dto/dataset.input';

/** Newest first, on dataset_created_idx (project_id, created_at DESC, id DESC). */
const DATASET_SORT: SortKey = {
  tag: 'd.created', desc: true,
  columns: [{ column: 'created_at', type: 'timestamptz', prop: 'createdAt' }, { column: 'id', type: 'uuid', prop: 'id' }],
};

/** Highest number first, on dataset_version_number_key (dataset_id, number). */
const DATASET_VERSION_SORT: SortKey = { tag: 'dv.num', desc: true, columns: [{ column: 'number', type: 'int', prop: 'number' }] };

function datasetFilterSql(f: DatasetFilter | null | undefined, p: Params): string | null {
  const conds: string[] = [];
  if (f?.nameContains) conds.push(`t.name ILIKE ${p.add(`%${likeEscape(f.nameContains)}%`)}`);
  if (f?.tags?.length) conds.push(`t.tags @> ${p.add(JSON.stringify(normalizeTags(f.tags)))}::jsonb`);
  return conds.length ? conds.join(' AND ') : null;
}

export function datasetPage(args: { first?: number | null; after?: string | null; filter?: DatasetFilter | null }): PageSpec {
  return pageSpec({
    table: 'dataset', parentColumn: 'project_id', sort: DATASET_SORT,
    first: pageSize(args.first), after: args.after, filterKey: args.filter ?? null,
    where: (p) => datasetFilterSql(args.filter, p),
  });
}

export function datasetVersionPage(args: { first?: number | null; after?: string | null }): PageSpec {
  return pageSpec({
    table: 'dataset_version', parentColumn: 'dataset_id', sort: DATASET_VERSION_SORT,
    first: pageSize(args.first), after: args.after, filterKey: null,
    where: () => null,
  });
}

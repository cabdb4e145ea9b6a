import { PageSpec, SortKey, pageSpec } from '../../core/graphql/page-loader';
import { pageSize } from '../../core/graphql/pagination';

/** By name, on the (project_id, name) unique index. */
const FEATURE_SET_SORT: SortKey = { tag: 'fs.name', desc: false, columns: [{ column: 'name', type: 'text', prop: 'name' }] };

export function featureSetPage(args: { first?: number | null; after?: string | null }): PageSpec {
  return pageSpec({
    table: 'feature_set', parentColumn: 'project_id', sort: FEATURE_SET_SORT,
    first: pageSize(args.first), after: args.after, filterKey: null, where: () => null,
  });
}

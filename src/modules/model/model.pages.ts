import { Params } from '../../core/db/sql';
import { PageSpec, SortKey, pageSpec } from '../../core/graphql/page-loader';
import { pageSize } from '../../core/graphql/pagination';
import { ModelFilter } from './dto/model.input';
import { ModelVersionFilter } from './dto/model-version.input';
import { ModelOrder } from './model.entity';
import { ModelVersionOrder } from './model-version.entity';
import { checkVersionFilterSize, modelFilterSql, versionFilterSql } from './model.filters';

/** Each order matches an index: (project_id, name), (project_id, updated_at, id) ... */
const MODEL_SORT: Record<ModelOrder, SortKey> = {
  NAME_ASC: { tag: 'm.name', desc: false, columns: [{ column: 'name', type: 'text', prop: 'name' }] },
  UPDATED_AT_DESC: {
    tag: 'm.updated', desc: true,
    columns: [{ column: 'updated_at', type: 'timestamptz', prop: 'updatedAt' }, { column: 'id', type: 'uuid', prop: 'id' }],
  },
  CREATED_AT_DESC: {
    tag: 'm.created', desc: true,
    columns: [{ column: 'created_at', type: 'timestamptz', prop: 'createdAt' }, { column: 'id', type: 'uuid', prop: 'id' }],
  },
};

const VERSION_SORT: Record<ModelVersionOrder, SortKey> = {
  NUMBER_DESC: { tag: 'v.num', desc: true, columns: [{ column: 'number', type: 'int', prop: 'number' }] },
  NUMBER_ASC: { tag: 'v.num', desc: false, columns: [{ column: 'number', type: 'int', prop: 'number' }] },
  CREATED_AT_DESC: {
    tag: 'v.created', desc: true,
    columns: [{ column: 'created_at', type: 'timestamptz', prop: 'createdAt' }, { column: 'id', type: 'uuid', prop: 'id' }],
  },
};

export function modelPage(args: { first?: number | null; after?: string | null; filter?: ModelFilter | null; orderBy?: ModelOrder | null }): PageSpec {
  // Validate the filter once here, so a bad id fails before any statement is sent.
  modelFilterSql(args.filter, new Params());
  return pageSpec({
    table: 'model', parentColumn: 'project_id', sort: MODEL_SORT[args.orderBy ?? ModelOrder.UPDATED_AT_DESC],
    first: pageSize(args.first), after: args.after, filterKey: args.filter ?? null,
    where: (p) => modelFilterSql(args.filter, p),
  });
}

/** Versions of one parent: a model (`model_id`), a project (`project_id`) or a base version. */
export function versionPage(
  parentColumn: 'model_id' | 'project_id' | 'base_version_id',
  args: { first?: number | null; after?: string | null; filter?: ModelVersionFilter | null; orderBy?: ModelVersionOrder | null },
  filterLimits: { maxDepth: number; maxConditions: number },
): PageSpec {
  checkVersionFilterSize(args.filter, filterLimits);
  versionFilterSql(args.filter, new Params());
  return pageSpec({
    table: 'model_version', parentColumn, sort: VERSION_SORT[args.orderBy ?? ModelVersionOrder.NUMBER_DESC],
    first: pageSize(args.first), after: args.after, filterKey: args.filter ?? null,
    where: (p) => versionFilterSql(args.filter, p),
  });
}

const ALIAS_EVENT_SORT: SortKey = { tag: 'ae', desc: true, columns: [{ column: 'id', type: 'bigint', prop: 'id' }] };

export function aliasEventPage(args: { name?: string | null; first?: number | null; after?: string | null }): PageSpec {
  return pageSpec({
    table: 'alias_event', parentColumn: 'model_id', sort: ALIAS_EVENT_SORT,
    first: pageSize(args.first), after: args.after, filterKey: args.name ?? null,
    where: (p) => (args.name ? `t.alias = ${p.add(args.name)}` : null),
  });
}

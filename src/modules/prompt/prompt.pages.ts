import { PageSpec, SortKey, pageSpec } from '../../core/graphql/page-loader';
import { pageSize } from '../../core/graphql/pagination';
import { PromptOrder } from './prompt.entity';
import { PromptVersionOrder } from './prompt-version.entity';

/** Each order matches an index: (project_id, name) and (project_id, updated_at, id). */
const PROMPT_SORT: Record<PromptOrder, SortKey> = {
  NAME_ASC: { tag: 'p.name', desc: false, columns: [{ column: 'name', type: 'text', prop: 'name' }] },
  UPDATED_AT_DESC: {
    tag: 'p.updated', desc: true,
    columns: [{ column: 'updated_at', type: 'timestamptz', prop: 'updatedAt' }, { column: 'id', type: 'uuid', prop: 'id' }],
  },
};

const VERSION_SORT: Record<PromptVersionOrder, SortKey> = {
  NUMBER_DESC: { tag: 'pv.num', desc: true, columns: [{ column: 'number', type: 'int', prop: 'number' }] },
  NUMBER_ASC: { tag: 'pv.num', desc: false, columns: [{ column: 'number', type: 'int', prop: 'number' }] },
};

const ALIAS_EVENT_SORT: SortKey = { tag: 'pae', desc: true, columns: [{ column: 'id', type: 'bigint', prop: 'id' }] };

export function promptPage(args: { first?: number | null; after?: string | null; orderBy?: PromptOrder | null }): PageSpec {
  return pageSpec({
    table: 'prompt', parentColumn: 'project_id', sort: PROMPT_SORT[args.orderBy ?? PromptOrder.UPDATED_AT_DESC],
    first: pageSize(args.first), after: args.after, filterKey: null, where: () => null,
  });
}

export function promptVersionPage(args: { first?: number | null; after?: string | null; orderBy?: PromptVersionOrder | null }): PageSpec {
  return pageSpec({
    table: 'prompt_version', parentColumn: 'prompt_id', sort: VERSION_SORT[args.orderBy ?? PromptVersionOrder.NUMBER_DESC],
    first: pageSize(args.first), after: args.after, filterKey: null, where: () => null,
  });
}

export function promptAliasEventPage(args: { name?: string | null; first?: number | null; after?: string | null }): PageSpec {
  return pageSpec({
    table: 'prompt_alias_event', parentColumn: 'prompt_id', sort: ALIAS_EVENT_SORT,
    first: pageSize(args.first), after: args.after, filterKey: args.name ?? null,
    where: (p) => (args.name ? `t.alias = ${p.add(args.name)}` : null),
  });
}

import { PageSpec, SortKey, pageSpec } from '../../core/graphql/page-loader';
import { pageSize } from '../../core/graphql/pagination';

/**
 * A project's deployments by name: on (project_id, name), or with an environment on
 * (project_id, environment, name).
 */
const DEPLOYMENT_SORT: SortKey = { tag: 'd.name', desc: false, columns: [{ column: 'name', type: 'text', prop: 'name' }] };

/** A deployment's revisions, newest first, on (deployment_id, revision). */
const REVISION_SORT: SortKey = { tag: 'dr', desc: true, columns: [{ column: 'revision', type: 'int', prop: 'revision' }] };

export function deploymentPage(args: { environment?: string | null; first?: number | null; after?: string | null }): PageSpec {
  const environment = args.environment ?? null;
  return pageSpec({
    table: 'deployment', parentColumn: 'project_id', sort: DEPLOYMENT_SORT,
    first: pageSize(args.first), after: args.after, filterKey: environment,
    where: (p) => (environment !== null ? `t.environment = ${p.add(environment)}` : null),
  });
}

export function deploymentRevisionPage(args: { first?: number | null; after?: string | null }): PageSpec {
  return pageSpec({
    table: 'deployment_revision', parentColumn: 'deployment_id', sort: REVISION_SORT,
    first: pageSize(args.first), after: args.after, filterKey: null, where: () => null,
  });
}

import { PageSpec, SortKey, pageSpec } from '../../core/graphql/page-loader';
import { pageSize } from '../../core/graphql/pagination';
import { checkLabels } from './labels';
import { MonitorStatus } from './monitor.entity';

/** Each order matches an index: metric_series (project_id, name, id), monitor (project_id, name) ... */
const SERIES_SORT: SortKey = {
  tag: 'ms', desc: false,
  columns: [{ column: 'name', type: 'text', prop: 'name' }, { column: 'id', type: 'uuid', prop: 'id' }],
};
const MONITOR_SORT: SortKey = { tag: 'mo', desc: false, columns: [{ column: 'name', type: 'text', prop: 'name' }] };
const ALERT_SORT: SortKey = { tag: 'al', desc: true, columns: [{ column: 'id', type: 'bigint', prop: 'id' }] };

/** A project's series by name; `labels` keeps those having every given label (containment). */
export function seriesPage(args: { first?: number | null; after?: string | null; name?: string | null; labels?: unknown }): PageSpec {
  const labels = checkLabels(args.labels, 'labels');
  const name = args.name ?? null;
  return pageSpec({
    table: 'metric_series', parentColumn: 'project_id', sort: SERIES_SORT,
    first: pageSize(args.first, 100, 100), after: args.after, filterKey: [name, labels],
    where: (p) => {
      const conds: string[] = [];
      if (name !== null) conds.push(`t.name = ${p.add(name)}`);
      if (labels && Object.keys(labels).length) conds.push(`t.labels @> ${p.add(JSON.stringify(labels))}::jsonb`);
      return conds.length ? conds.join(' AND ') : null;
    },
  });
}

export function monitorPage(args: { first?: number | null; after?: string | null; status?: MonitorStatus | null }): PageSpec {
  const status = args.status ?? null;
  return pageSpec({
    table: 'monitor', parentColumn: 'project_id', sort: MONITOR_SORT,
    first: pageSize(args.first), after: args.after, filterKey: status,
    where: (p) => (status ? `t.status = ${p.add(status)}` : null),
  });
}

/** A monitor's alerts, newest first. */
export function alertPage(args: { first?: number | null; after?: string | null }): PageSpec {
  return pageSpec({
    table: 'alert', parentColumn: 'monitor_id', sort: ALERT_SORT,
    first: pageSize(args.first), after: args.after, filterKey: null, where: () => null,
  });
}

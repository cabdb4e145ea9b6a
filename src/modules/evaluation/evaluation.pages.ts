import { PageSpec, SortKey, pageSpec } from '../../core/graphql/page-loader';
import { pageSize } from '../../core/graphql/pagination';
import { keyOf } from '../../core/graphql/ids';
import { EvaluationFilter } from './dto/evaluation.input';

/** Newest first, on evaluation (model_version_id, started_at DESC, id DESC). */
const EVALUATION_SORT: SortKey = {
  tag: 'ev', desc: true,
  columns: [{ column: 'started_at', type: 'timestamptz', prop: 'startedAt' }, { column: 'id', type: 'uuid', prop: 'id' }],
};

/** Logged order, on eval_sample (evaluation_id, id). */
const SAMPLE_SORT: SortKey = { tag: 'es', desc: false, columns: [{ column: 'id', type: 'bigint', prop: 'id' }] };

export function evaluationPage(args: { first?: number | null; after?: string | null; filter?: EvaluationFilter | null }): PageSpec {
  const f = args.filter;
  // Decoded before any statement, so a bad id fails as BAD_USER_INPUT on its own.
  const datasetVersionId = f?.datasetVersionId ? keyOf(f.datasetVersionId, 'DatasetVersion', 'filter.datasetVersionId') : null;
  return pageSpec({
    table: 'evaluation', parentColumn: 'model_version_id', sort: EVALUATION_SORT,
    first: pageSize(args.first), after: args.after, filterKey: f ?? null,
    where: (p) => {
      const conds: string[] = [];
      if (datasetVersionId) conds.push(`t.dataset_version_id = ${p.add(datasetVersionId)}`);
      if (f?.status) conds.push(`t.status = ${p.add(f.status)}`);
      if (f?.name) conds.push(`t.name = ${p.add(f.name)}`);
      return conds.length ? conds.join(' AND ') : null;
    },
  });
}

export function samplePage(args: { first?: number | null; after?: string | null }): PageSpec {
  return pageSpec({
    table: 'eval_sample', parentColumn: 'evaluation_id', sort: SAMPLE_SORT,
    first: pageSize(args.first), after: args.after, filterKey: null, where: () => null,
  });
}

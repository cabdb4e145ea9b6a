import { PageSpec, pageSpec } from '../../core/graphql/page-loader';
import { pageSize } from '../../core/graphql/pagination';
import { PromotionStatus } from './promotion.entity';

/** A model's promotion requests, newest first (keyset on created_at, id), optionally of one status. */
export function promotionRequestPage(args: { first?: number | null; after?: string | null; status?: PromotionStatus | null }): PageSpec {
  const status = args.status ?? null;
  return pageSpec({
    table: 'promotion_request', parentColumn: 'model_id',
    sort: { tag: 'pr', desc: true, columns: [{ column: 'created_at', type: 'timestamptz', prop: 'createdAt' }, { column: 'id', type: 'uuid', prop: 'id' }] },
    first: pageSize(args.first), after: args.after, filterKey: status,
    where: (p) => (status ? `t.status = ${p.add(status)}` : null),
  });
}

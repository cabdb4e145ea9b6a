import DataLoader from 'dataloader';
import { DataSource } from 'typeorm';
import { hydrate } from '../../core/db/sql';
import { pageLoader, rowLoader } from '../../core/graphql/page-loader';
import { groupBy } from '../../core/util/group-by';
import { AliasPolicy, PromotionRequest } from './promotion.entity';

export function promotionLoaders(db: DataSource, batch: boolean) {
  return {
    aliasPoliciesByModel: new DataLoader<string, AliasPolicy[]>(
      async (ids) => {
        const rows = hydrate(db, AliasPolicy, await db.query(`SELECT * FROM alias_policy WHERE model_id = ANY($1::uuid[]) ORDER BY alias`, [ids]));
        const byModel = groupBy(rows, (r) => r.modelId);
        return ids.map((id) => byModel.get(id) ?? []);
      },
      { batch, cache: batch },
    ),
    promotionRequestById: rowLoader(db, PromotionRequest, batch,
      (ids) => `SELECT * FROM promotion_request WHERE id = ANY(${ids}::uuid[])`, (r) => r.id),
    promotionRequestPages: pageLoader(db, PromotionRequest, batch),
    /** Names of the approvers of each request, in the order they approved. */
    approverNames: new DataLoader<string, string[]>(
      async (ids) => {
        const rows: { request_id: string; key_name: string }[] = await db.query(
          `SELECT request_id, key_name FROM promotion_approval WHERE request_id = ANY($1::uuid[]) ORDER BY at, key_name`, [ids],
        );
        const byRequest = groupBy(rows, (r) => r.request_id);
        return ids.map((id) => (byRequest.get(id) ?? []).map((r) => r.key_name));
      },
      { batch, cache: batch },
    ),
  };
}

declare module '../../core/graphql/context' {
  // This module's loaders join the per-request bag (see Loaders in core/graphql/context.ts).
  interface Loaders extends ReturnType<typeof promotionLoaders> {}
}

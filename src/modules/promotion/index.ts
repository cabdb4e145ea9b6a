import type { ModuleDescriptor } from '../../core/module';
import { defineNodeType } from '../../core/graphql/ids';
import { AliasPolicy, PromotionRequest } from './promotion.entity';
import { promotionHooks } from './promotion.hooks';
import { promotionLoaders } from './promotion.loaders';
import { AliasPolicyResolver, EvaluationGateResolver, ModelPromotionResolver, PromotionRequestResolver } from './promotion.resolver';

/** Promotion policies on aliases: evaluation gates and approvals. */
export const promotionModule: ModuleDescriptor = {
  name: 'promotion',
  entities: [AliasPolicy, PromotionRequest],
  resolvers: [ModelPromotionResolver, AliasPolicyResolver, EvaluationGateResolver, PromotionRequestResolver],
  loaders: promotionLoaders,
  nodeTypes: [
    defineNodeType({
      name: 'PromotionRequest', cls: PromotionRequest, key: 'uuid', load: (l, k) => l.promotionRequestById.load(k),
      projectOf: async (r, l) => (await l.modelById.load(r.modelId))?.projectId ?? null,
    }),
  ],
  hooks: promotionHooks,
};

import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { badInput } from '../../core/graphql/errors';
import { firstArg } from '../../core/graphql/pagination';
import { ModelVersion } from '../model/model-version.entity';
import { ModelVersionPrice } from './model-version-price.entity';
import { MAX_PRICE_HISTORY } from './usage.loaders';

/** The fields this module adds to ModelVersion: its prices. */
@Resolver(() => ModelVersion)
export class ModelVersionPricingResolver {
  @FieldResolver(() => ModelVersionPrice, { nullable: true, description: 'The price in force at a moment (default now); null when the version had none then.' })
  pricing(
    @Root() v: ModelVersion,
    @Ctx() ctx: Context,
    @Arg('at', () => Date, { nullable: true, description: 'The moment; default now.' }) at: Date | null,
  ): Promise<ModelVersionPrice | null> {
    return ctx.loaders.priceAt.load([v.id, (at ?? new Date()).toISOString()]);
  }

  @FieldResolver(() => [ModelVersionPrice], { description: `The version's prices, newest validFrom first (the registration price, if any, last); the latest \`first\` of them.` })
  async pricingHistory(
    @Root() v: ModelVersion,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, firstArg(20, MAX_PRICE_HISTORY)) first: number,
  ): Promise<ModelVersionPrice[]> {
    if (!(first >= 0 && first <= MAX_PRICE_HISTORY)) throw badInput(`first must be 0 to ${MAX_PRICE_HISTORY}`, 'first');
    return (await ctx.loaders.priceHistory.load(v.id)).slice(0, first);
  }
}

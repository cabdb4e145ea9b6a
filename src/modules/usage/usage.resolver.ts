import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { loadByGlobalId } from '../../core/graphql/ids';
import { SizedArgs } from '../../core/graphql/sized-args';
import { PlainArgs } from '../../core/graphql/plain-args';
import { pointsAnnouncer } from '../../core/events/points-announcer';
import { Allow } from '../../core/auth/permission';
import { fromId } from '../../core/auth/locators';
import { Role } from '../../core/auth/role';
import { ModelVersion } from '../model/model-version.entity';
import { fromSlug, loadProjectBySlug } from '../project/project.locators';
import { evaluateAfterWrite } from '../monitoring/monitor.service';
import { ModelVersionPricingPayload, SetModelVersionPricingInput } from './dto/pricing.input';
import { RecordUsageInput, RecordUsagePayload } from './dto/usage.input';
import { ModelVersionPrice } from './model-version-price.entity';
import { setModelVersionPricing } from './pricing.service';
import { MAX_RECORDS_PER_CALL, recordUsage } from './usage.service';

@Resolver(() => ModelVersionPrice)
export class UsageResolver {
  @Allow(Role.EDITOR, fromSlug('input.projectSlug'))
  @PlainArgs()
  @SizedArgs({ 'input.records': { max: MAX_RECORDS_PER_CALL, duplicates: 'kept' } })
  @Mutation(() => RecordUsagePayload, {
    description: `Stores up to ${MAX_RECORDS_PER_CALL} usage records (requests served by model versions), all or nothing. A requestId the `
      + 'project already has is skipped (a replay is not counted twice) and answered in duplicates. Each record stores the price of its '
      + 'version in force at its timestamp and the cost it gives. The stored records feed the metric series usage.requests, '
      + 'usage.input_tokens, usage.output_tokens, usage.cost_usd and usage.errors (one point per version and second, the second\'s total: '
      + 'aggregate them with SUM) and usage.latency_ms (one point per request: P50/P95/P99, AVG, COUNT), whose monitors are evaluated '
      + 'after commit. A record may name the deployment route that served it (deploymentId and route) instead of its version: the '
      + 'version is the one the route served at the record\'s timestamp, and the record also feeds the same series of the route '
      + '(project series labelled {deployment: <name>, route: <name>}). Needs EDITOR.',
  })
  async recordUsage(@Arg('input', { description: 'The project and the records to store.' }) input: RecordUsageInput, @Ctx() ctx: Context): Promise<RecordUsagePayload> {
    const project = await loadProjectBySlug(ctx.loaders, input.projectSlug);
    const actor = ctx.principal!;
    const result = await ctx.db.transaction((m) => recordUsage(m, actor, project.id, input));
    // As after recordMetrics: wake live subscribers of the points (not awaited, see
    // points-announcer.ts), then evaluate the monitors of the series written.
    if (result.points) {
      ctx.metrics.pointsIngested(result.points);
      void pointsAnnouncer(ctx.db, ctx.log).announce(project.id);
    }
    await evaluateAfterWrite(ctx.db, ctx.log, actor, project.id, result.names);
    return { accepted: result.accepted, duplicates: result.duplicates, unpriced: result.unpriced };
  }

  @Allow(Role.EDITOR, fromId('input.modelVersionId', 'ModelVersion'))
  @Mutation(() => ModelVersionPricingPayload, {
    description: 'Sets a model version\'s price from validFrom (default now) on; its earlier prices stay in pricingHistory, and usage records '
      + 'already stored keep the price they were stored with. Token prices for a version of an external API, selfHosted for an artifact. '
      + 'A second price from the same moment is CONFLICT. Needs EDITOR.',
  })
  async setModelVersionPricing(
    @Arg('input', { description: 'The version and its new price.' }) input: SetModelVersionPricingInput, @Ctx() ctx: Context,
  ): Promise<ModelVersionPricingPayload> {
    const version = await loadByGlobalId(ctx.loaders, ModelVersion, input.modelVersionId, 'modelVersionId');
    const price = await ctx.db.transaction((m) => setModelVersionPricing(m, ctx.principal!, version, input));
    return { modelVersion: version, price };
  }
}

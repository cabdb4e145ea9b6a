import { Arg, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { DeploymentRoute } from '../deployment/deployment.entity';
import { UsageSummary } from './dto/cost-report';
import { MAX_REPORT_DAYS, checkReportWindow } from './cost-report.service';

/** The field this module adds to DeploymentRoute: its usage over a window. */
@Resolver(() => DeploymentRoute)
export class DeploymentRouteUsageResolver {
  @FieldResolver(() => UsageSummary, {
    description: 'Requests, errors, tokens, cost and p50/p95 latency of the usage records served through this route (by deployment and route '
      + `name, whatever revision or version served them) with timestamps in [from, to), at most ${MAX_REPORT_DAYS} days. Every route read in `
      + 'one request is summed in one statement.',
  })
  usage(
    @Root() route: DeploymentRoute,
    @Ctx() ctx: Context,
    @Arg('from', () => Date, { description: 'Start of the window (inclusive).' }) from: Date,
    @Arg('to', () => Date, { description: `End of the window (exclusive); after from, at most ${MAX_REPORT_DAYS} days later.` }) to: Date,
  ): Promise<UsageSummary> {
    checkReportWindow(from, to);
    return ctx.loaders.routeUsage.load([route.deploymentId, route.name, from, to]);
  }
}

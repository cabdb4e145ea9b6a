import { Arg, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { Project } from '../project/project.entity';
import { CostGroupBy, CostReport } from './dto/cost-report';
import { MAX_REPORT_DAYS, MAX_REPORT_ROWS, costReport } from './cost-report.service';

/** The field this module adds to Project: its cost report. */
@Resolver(() => Project)
export class ProjectUsageResolver {
  @FieldResolver(() => CostReport, {
    description: `Requests, tokens, cost, p50/p95 latency and error rate of the usage records served in [from, to) (at most ${MAX_REPORT_DAYS} days), `
      + `per group and in total, computed by the database in one statement. At most ${MAX_REPORT_ROWS.toLocaleString('en-US')} groups. `
      + 'Cost is what each request cost at the price stored with it; requests without a price are counted in unpricedRequests, not as 0.',
  })
  costReport(
    @Root() project: Project,
    @Ctx() ctx: Context,
    @Arg('from', () => Date, { description: 'Start of the window (inclusive).' }) from: Date,
    @Arg('to', () => Date, { description: `End of the window (exclusive); after from, at most ${MAX_REPORT_DAYS} days later.` }) to: Date,
    @Arg('groupBy', () => CostGroupBy, { description: 'What each row is about.' }) groupBy: CostGroupBy,
  ): Promise<CostReport> {
    return costReport(ctx.db.manager, project.id, from, to, groupBy);
  }
}

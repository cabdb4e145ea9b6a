import { Arg, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { Deployment, DeploymentRoute } from '../deployment/deployment.entity';
import { MAX_REPORT_DAYS, checkReportWindow } from './cost-report.service';
import { Experiment, ExperimentMetric } from './dto/experiment';
import { experimentOf } from './experiment.service';

/** The field this module adds to Deployment: the A/B comparison of its routes. */
@Resolver(() => Deployment)
export class DeploymentExperimentResolver {
  @FieldResolver(() => Experiment, {
    description: 'Compares the routes of the revision in force at the end of the window (just before `to`), each against the first (the '
      + 'control), over [from, to) (at most ' + MAX_REPORT_DAYS + ' days) on one metric: the thumbs-up share (two-proportion z-test) or '
      + 'the mean rating (Welch\'s t-test) of the feedback given in the window on the requests each route served (feedback.requestId = '
      + 'the usage record\'s requestId), or the latency or cost per request of the requests served in the window (Welch\'s t-test). Each '
      + 'route answers its estimate with a 95% interval; each other route its difference, p-value and verdict against the control, with '
      + 'the minimum sample a verdict needs (docs/experiments.md). A request belongs to the route its usage record names.',
  })
  async experiment(
    @Root() deployment: Deployment,
    @Ctx() ctx: Context,
    @Arg('from', () => Date, { description: 'Start of the window (inclusive).' }) from: Date,
    @Arg('to', () => Date, { description: `End of the window (exclusive); after from, at most ${MAX_REPORT_DAYS} days later.` }) to: Date,
    @Arg('metric', () => ExperimentMetric, { description: 'What the routes are compared on.' }) metric: ExperimentMetric,
  ): Promise<Experiment> {
    checkReportWindow(from, to);
    // The last moment of the window (times are stored to the millisecond).
    const end = new Date(to.getTime() - 1);
    const revision = await ctx.loaders.deploymentRevisionAt.load([deployment.id, end]);
    const rows = revision ? await ctx.loaders.deploymentRoutesByRevision.load(String(revision.id)) : [];
    const routes = rows.map((r) => Object.assign(new DeploymentRoute(), r, { at: end, deploymentId: deployment.id }));
    const key = { deploymentId: deployment.id, routes: routes.map((r) => r.name), from, to, metric };
    return experimentOf(key, revision, routes, routes.length ? await ctx.loaders.experimentSummaries.load(key) : []);
  }
}

import { Arg, Ctx, FieldResolver, Int, Mutation, Resolver, Root } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import type { Context } from '../../core/graphql/context';
import { badInput } from '../../core/graphql/errors';
import { pageConnection } from '../../core/graphql/page-loader';
import { Connection } from '../../core/graphql/pagination';
import { Allow } from '../../core/auth/permission';
import { Role } from '../../core/auth/role';
import { ModelVersion } from '../model/model-version.entity';
import { Project } from '../project/project.entity';
import { fromSlug, loadProjectBySlug } from '../project/project.locators';
import { MetricSeriesConnection, MonitorConnection } from './dto/connections';
import { RecordMetricsInput, RecordMetricsPayload } from './dto/metrics.input';
import { Aggregation, MetricPoint, MetricSeries } from './metric-series.entity';
import { MAX_POINTS_PER_CALL, recordMetrics } from './metrics.service';
import { Monitor, MonitorStatus } from './monitor.entity';
import { evaluateAfterWrite } from './monitor.service';
import { monitorPage, seriesPage } from './monitoring.pages';

@Resolver(() => MetricSeries)
export class MetricSeriesResolver {
  @Allow(Role.EDITOR, fromSlug('input.projectSlug'))
  @Mutation(() => RecordMetricsPayload, {
    description: `Stores up to ${MAX_POINTS_PER_CALL} metric points, all or nothing; a series is created by its first point. ` +
      'Monitors of the metrics written are evaluated after the points are committed. Needs EDITOR.',
  })
  async recordMetrics(@Arg('input', { description: 'The project and the points to store.' }) input: RecordMetricsInput, @Ctx() ctx: Context): Promise<RecordMetricsPayload> {
    const project = await loadProjectBySlug(ctx.loaders, input.projectSlug);
    const actor = ctx.principal!;
    const result = await ctx.db.transaction((m) => recordMetrics(m, actor, project.id, input));
    await evaluateAfterWrite(ctx.db, ctx.log, actor, project.id, result.names);
    return { accepted: result.accepted, duplicate: result.duplicate };
  }

  @FieldResolver(() => ModelVersion, { nullable: true, description: 'The model version observed; null for a project-level series.' })
  modelVersion(@Root() s: MetricSeries, @Ctx() ctx: Context): Promise<ModelVersion | null> | null {
    return s.modelVersionId ? ctx.loaders.modelVersionById.load(s.modelVersionId) : null;
  }

  @FieldResolver(() => [MetricPoint], {
    description: 'Points from (inclusive) to (exclusive), default the first to the last point, downsampled into at most maxPoints ' +
      '(1 to 10000) equal-width buckets; one point per non-empty bucket, oldest first.',
    // The query cost limit counts points too: a default dashboard of 100 series fits, 100
    // series of 10,000 points each (a million rows) does not.
    complexity: ({ args }) => 1 + Math.ceil((typeof args.maxPoints === 'number' ? args.maxPoints : 1000) / 20),
  })
  points(
    @Root() s: MetricSeries,
    @Ctx() ctx: Context,
    @Arg('from', () => Date, { nullable: true }) from: Date | null,
    @Arg('to', () => Date, { nullable: true }) to: Date | null,
    @Arg('maxPoints', () => Int, { nullable: true, defaultValue: 1000 }) maxPoints: number,
    @Arg('aggregation', () => Aggregation, { nullable: true, defaultValue: Aggregation.AVG }) aggregation: Aggregation,
  ): Promise<MetricPoint[]> {
    const n = maxPoints ?? 1000;
    if (!Number.isInteger(n) || n < 1 || n > 10000) throw badInput('maxPoints must be between 1 and 10000', 'maxPoints');
    if (from && to && from >= to) throw badInput('from must be before to', 'from');
    return ctx.loaders.metricPoints.load({ seriesId: s.id, from: from ?? null, to: to ?? null, maxPoints: n, aggregation: aggregation ?? Aggregation.AVG });
  }
}

@Resolver(() => Project)
export class MonitoringProjectResolver {
  @FieldResolver(() => MetricSeriesConnection, {
    description: 'Every series of the project (of its model versions and of none), by name; labels keeps series having all the given labels.',
  })
  async metricSeries(
    @Root() project: Project,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true, defaultValue: 100 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('name', () => String, { nullable: true }) name: string | null,
    @Arg('labels', () => GraphQLJSONObject, { nullable: true }) labels: Record<string, unknown> | null,
  ): Promise<Connection<MetricSeries>> {
    const spec = seriesPage({ first, after, name, labels });
    return pageConnection(await ctx.loaders.metricSeriesPages.load({ parentId: project.id, spec }), spec);
  }

  @FieldResolver(() => MonitorConnection, { description: 'Monitors of the project by name, optionally only those in one status.' })
  async monitors(
    @Root() project: Project,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('status', () => MonitorStatus, { nullable: true }) status: MonitorStatus | null,
  ): Promise<Connection<Monitor>> {
    const spec = monitorPage({ first, after, status });
    return pageConnection(await ctx.loaders.monitorPages.load({ parentId: project.id, spec }), spec);
  }
}

@Resolver(() => ModelVersion)
export class MonitoringVersionResolver {
  @FieldResolver(() => [MetricSeries], { description: 'Live metric series of this version (or those of one name), by name.' })
  metricSeries(
    @Root() v: ModelVersion,
    @Ctx() ctx: Context,
    @Arg('name', () => String, { nullable: true }) name: string | null,
  ): Promise<MetricSeries[]> {
    return ctx.loaders.metricSeriesByVersion.load([v.id, name ?? null]);
  }
}

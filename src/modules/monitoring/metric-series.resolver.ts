import { Arg, Ctx, FieldResolver, Int, Mutation, Resolver, Root } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import type { Context } from '../../core/graphql/context';
import { pageConnection } from '../../core/graphql/page-loader';
import { SizedArgs } from '../../core/graphql/sized-args';
import { PlainArgs } from '../../core/graphql/plain-args';
import { Connection, FIRST_ARG, AFTER_ARG, firstArg } from '../../core/graphql/pagination';
import { pointsAnnouncer } from '../../core/events/points-announcer';
import { Allow } from '../../core/auth/permission';
import { Role } from '../../core/auth/role';
import { ModelVersion } from '../model/model-version.entity';
import { Project } from '../project/project.entity';
import { fromSlug, loadProjectBySlug } from '../project/project.locators';
import { MetricSeriesConnection, MonitorConnection } from './dto/connections';
import { RecordMetricColumnsInput, RecordMetricsInput, RecordMetricsPayload } from './dto/metrics.input';
import { Aggregation, MetricPoint, MetricSeries } from './metric-series.entity';
import { MAX_POINTS_PER_CALL, MAX_SERIES_PER_CALL, RecordMetricsResult, recordMetricColumns, recordMetrics } from './metrics.service';
import { Monitor, MonitorStatus } from './monitor.entity';
import { evaluateAfterWrite } from './monitor.service';
import { monitorPage, seriesPage } from './monitoring.pages';
import { DEFAULT_POINTS, MAX_POINTS, POINTS_WINDOW_RULE, ROLLUP_READ_RULE, pointsRequest } from './points-window';

/**
 * What follows a committed write of points: wake live subscribers (outside the transaction, see
 * points-announcer.ts), then evaluate the monitors of the metrics written before answering.
 * The wake-up is not awaited: it is coalesced with those of concurrent writes into one
 * statement, and waiting for it added a round trip to every write (8 writers of small batches
 * went from 1.0x to 0.6x of no NOTIFY at all); subscribers read by id, so its timing changes
 * when they see the points, never which.
 */
async function afterCommit(ctx: Context, projectId: string, result: RecordMetricsResult): Promise<RecordMetricsPayload> {
  if (!result.duplicate) {
    ctx.metrics.pointsIngested(result.accepted);
    void pointsAnnouncer(ctx.db, ctx.log).announce(projectId);
  }
  await evaluateAfterWrite(ctx.db, ctx.log, ctx.principal!, projectId, result.names);
  return { accepted: result.accepted, duplicate: result.duplicate };
}

@Resolver(() => MetricSeries)
export class MetricSeriesResolver {
  @Allow(Role.EDITOR, fromSlug('input.projectSlug'))
  @PlainArgs()
  @SizedArgs({ 'input.points': { max: MAX_POINTS_PER_CALL, duplicates: 'kept' } })
  @Mutation(() => RecordMetricsPayload, {
    description: `Stores up to ${MAX_POINTS_PER_CALL} metric points, all or nothing; a series is created by its first point. ` +
      'Monitors of the metrics written are evaluated after the points are committed. Needs EDITOR.',
  })
  async recordMetrics(@Arg('input', { description: 'The project and the points to store.' }) input: RecordMetricsInput, @Ctx() ctx: Context): Promise<RecordMetricsPayload> {
    const project = await loadProjectBySlug(ctx.loaders, input.projectSlug);
    const actor = ctx.principal!;
    return afterCommit(ctx, project.id, await ctx.db.transaction((m) => recordMetrics(m, actor, project.id, input)));
  }

  @Allow(Role.EDITOR, fromSlug('input.projectSlug'))
  @PlainArgs()
  @SizedArgs({ 'input.series': { max: MAX_SERIES_PER_CALL, duplicates: 'kept' } })
  @Mutation(() => RecordMetricsPayload, {
    description: `Stores up to ${MAX_POINTS_PER_CALL} metric points given as columns (per series: parallel timestamps and values), all or nothing; ` +
      'the same storage, idempotency, audit record and monitor evaluation as recordMetrics, for bulk writers: parsing costs per number, not per object. Needs EDITOR.',
  })
  async recordMetricColumns(
    @Arg('input', { description: 'The project and the series blocks to store.' }) input: RecordMetricColumnsInput, @Ctx() ctx: Context,
  ): Promise<RecordMetricsPayload> {
    const project = await loadProjectBySlug(ctx.loaders, input.projectSlug);
    const actor = ctx.principal!;
    return afterCommit(ctx, project.id, await ctx.db.transaction((m) => recordMetricColumns(m, actor, project.id, input)));
  }

  @FieldResolver(() => ModelVersion, { nullable: true, description: 'The model version observed; null for a project-level series.' })
  modelVersion(@Root() s: MetricSeries, @Ctx() ctx: Context): Promise<ModelVersion | null> | null {
    return s.modelVersionId ? ctx.loaders.modelVersionById.load(s.modelVersionId) : null;
  }

  @SizedArgs({ maxPoints: { max: MAX_POINTS, sizes: [''] } })
  @FieldResolver(() => [MetricPoint], {
    description: `Points from (inclusive) to (exclusive), downsampled into at most maxPoints (1 to ${MAX_POINTS}) equal-width buckets; ` +
      `one point per non-empty bucket, oldest first. ${POINTS_WINDOW_RULE} ${ROLLUP_READ_RULE} Each of the maxPoints buckets counts its selection in the query cost.`,
  })
  async points(
    @Root() s: MetricSeries,
    @Ctx() ctx: Context,
    @Arg('from', () => Date, { nullable: true, description: 'Start of the window (inclusive).' }) from: Date | null,
    @Arg('to', () => Date, { nullable: true, description: 'End of the window (exclusive).' }) to: Date | null,
    @Arg('maxPoints', () => Int, { nullable: true, defaultValue: DEFAULT_POINTS, description: `Most buckets, 1 to ${MAX_POINTS}.` }) maxPoints: number,
    @Arg('aggregation', () => Aggregation, { nullable: true, defaultValue: Aggregation.AVG, description: 'How the points of a bucket become its value.' })
    aggregation: Aggregation,
  ): Promise<MetricPoint[]> {
    const request = pointsRequest(s, { from, to, maxPoints, aggregation }, ctx.limits.points);
    return request ? ctx.loaders.metricPoints.load(request) : [];
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
    @Arg('first', () => Int, firstArg(100)) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
    @Arg('name', () => String, { nullable: true, description: 'Only the series of this metric name; omitted: every name.' }) name: string | null,
    @Arg('labels', () => GraphQLJSONObject, { nullable: true, description: 'Only series that have every one of these labels (string values; at most 16, each value at most 256 characters), else BAD_USER_INPUT.' }) labels: Record<string, unknown> | null,
  ): Promise<Connection<MetricSeries>> {
    const spec = seriesPage({ first, after, name, labels });
    return pageConnection(await ctx.loaders.metricSeriesPages.load({ parentId: project.id, spec }), spec);
  }

  @FieldResolver(() => MonitorConnection, { description: 'Monitors of the project by name, optionally only those in one status.' })
  async monitors(
    @Root() project: Project,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
    @Arg('status', () => MonitorStatus, { nullable: true, description: 'Only monitors in this status; omitted: every monitor.' }) status: MonitorStatus | null,
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
    @Arg('name', () => String, { nullable: true, description: 'Only the series of this metric name; omitted: every series of the version.' }) name: string | null,
  ): Promise<MetricSeries[]> {
    return ctx.loaders.metricSeriesByVersion.load([v.id, name ?? null]);
  }
}

import { Arg, Ctx, Field, FieldResolver, ID, InputType, ObjectType, Resolver, Root, Subscription } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import type { Context } from '../../core/graphql/context';
import { AppError, badInput, notFound } from '../../core/graphql/errors';
import { keyOf, nodeTypeSpec } from '../../core/graphql/ids';
import { Node } from '../../core/graphql/node';
import { Allow } from '../../core/auth/permission';
import { Role } from '../../core/auth/role';
import { fromSlug, loadProjectBySlug } from '../project/project.locators';
import { activeKeys, isKeyActive } from '../auth/api-key.service';
import { MetricPoint, MetricSeries } from '../monitoring/metric-series.entity';
import { checkLabels } from '../monitoring/labels';
import { Alert } from '../monitoring/monitor.entity';
import {
  MetricPointsItem, POINT_PAGE, PointFilter, RegistryEventItem, Revoked, StreamDeps, metricPointStream, parseEventCursor, parsePointCursor,
  registryEventCursor, registryEventStream,
} from './event-streams';
import { RegistryEventType } from '../../core/events/registry-event-type';
import { SizedArgs } from '../../core/graphql/sized-args';

@ObjectType({ description: 'A change in the registry, as the registryEvents subscription delivers it.' })
export class RegistryEvent {
  @Field({ description: 'Resume point: pass it as `since` to continue after this event. Events are totally ordered per project.' })
  cursor: string;

  @Field(() => RegistryEventType, { description: 'What happened.' })
  type: RegistryEventType;

  @Field({ description: 'When the change was made.' })
  at: Date;

  @Field({ description: 'Name of the API key that made the change (for alerts: whose write or monitor change led to the evaluation).' })
  actor: string;

  item: RegistryEventItem;
}

@ObjectType({ description: 'New points of one series, as the metricPoints subscription delivers them.' })
export class MetricPointsEvent {
  @Field({ description: 'Pass as `since` to resume with nothing missed and nothing twice.' })
  cursor: string;

  @Field(() => [MetricPoint], { description: 'The new points, in the order they were stored; each its own bucket (count 1).' })
  points: MetricPoint[];

  seriesId: string;
}

/** Metric names one metricPoints subscription may follow. */
const MAX_STREAM_NAMES = 100;
const EVENT_TYPES = Object.keys(RegistryEventType).length;

@InputType({ description: 'Which series a metricPoints subscription follows; every condition given must hold.' })
export class MetricStreamFilter {
  @Field(() => ID, { nullable: true, description: 'Only series of this model version.' })
  modelVersionId?: string | null;

  @Field(() => String, { nullable: true, description: 'Only series of versions of this model (with alias: of the version it points to).' })
  modelName?: string | null;

  @Field(() => String, { nullable: true, description: 'With modelName: follow the version the alias points to, across moves; checked as each point is read.' })
  alias?: string | null;

  @Field(() => [String], { nullable: true, description: `Only series with one of these metric names (at most ${MAX_STREAM_NAMES}, repeats ignored).` })
  names?: string[] | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Only series having every one of these labels.' })
  labels?: Record<string, unknown> | null;
}

/** Each event is executed with a new loaders bag: nothing cached outlives its event. */
const depsOf = (ctx: Context): StreamDeps => ({
  db: ctx.db,
  hub: ctx.events,
  log: ctx.log,
  onDeliver: () => { ctx.loaders = ctx.freshLoaders(); },
  authorized: () => isKeyActive(ctx.db, ctx.principal!.keyId),
  keyId: ctx.principal!.keyId,
  activeKeys: (ids) => activeKeys(ctx.db, ids),
  sendBound: ctx.sendBound,
});

/** The item, or UNAUTHENTICATED when the stream ended because its key was revoked. */
function live<T>(item: T | Revoked): T {
  if (item instanceof Revoked) throw new AppError('UNAUTHENTICATED', 'The API key of this subscription was revoked');
  return item;
}

type Args = Record<string, unknown>;

async function subscribeRegistryEvents(ctx: Context, args: Args, types: RegistryEventType[] | null) {
  const since = (args.since as string | null | undefined) ?? null;
  const sinceId = since === null ? null : parseEventCursor(since);
  const { id: projectId } = await loadProjectBySlug(ctx.loaders, args.projectSlug as string);
  return registryEventStream(depsOf(ctx), projectId, types, sinceId);
}

async function pointFilter(ctx: Context, projectId: string, f: MetricStreamFilter): Promise<PointFilter> {
  if (f.modelVersionId && f.modelName) throw badInput('Give either modelVersionId or modelName, not both', 'filter.modelName');
  if (f.alias && !f.modelName) throw badInput('alias needs modelName', 'filter.modelName');
  const labels = checkLabels(f.labels, 'filter.labels');
  let versionId: string | null = null;
  let modelId: string | null = null;
  if (f.modelVersionId) {
    versionId = keyOf(f.modelVersionId, 'ModelVersion', 'filter.modelVersionId');
    const version = await ctx.loaders.modelVersionById.load(versionId);
    if (!version || version.projectId !== projectId) {
      throw new AppError('NOT_FOUND', 'filter.modelVersionId names no version of this project', { field: 'filter.modelVersionId' });
    }
  }
  if (f.modelName) {
    const model = await ctx.loaders.modelByProjectAndName.load([projectId, f.modelName]);
    if (!model) throw new AppError('NOT_FOUND', `The project has no model "${f.modelName}"`, { field: 'filter.modelName' });
    modelId = model.id;
  }
  return { versionId, modelId, alias: f.alias ?? null, names: f.names ?? null, labels };
}

/** Said of every subscription: how many may run at once is limited (server.ts, SubscriptionRegistry). */
const LIMITED = ' Concurrent subscriptions are limited per connection, per API key and per server; one over a limit is refused with '
  + 'RATE_LIMITED, `extensions.limit` naming the limit and `max` its value.';

/** Every subscription follows one project, named by slug; its VIEWERs may subscribe. */
const PROJECT_SLUG = { description: 'The project to follow.' };

@Resolver()
export class SubscriptionResolver {
  @Allow(Role.VIEWER, fromSlug('projectSlug'))
  @SizedArgs({ types: { max: EVENT_TYPES, duplicates: 'removed' } })
  @Subscription(() => RegistryEvent, {
    description: 'Changes in a project as they commit, in order. With `since` (the cursor of an earlier event) the stream first ' +
      'replays every event after it, then goes live, with nothing missed and nothing twice; a malformed cursor, or one past the ' +
      'stream\'s end, is BAD_USER_INPUT. Only `types`, when given. Needs VIEWER.' + LIMITED,
    subscribe: ({ args, context }) => subscribeRegistryEvents(context, args, (args.types as RegistryEventType[] | null) ?? null),
  })
  registryEvents(
    @Root() root: RegistryEventItem | Revoked,
    @Arg('projectSlug', PROJECT_SLUG) _projectSlug: string,
    @Arg('types', () => [RegistryEventType], { nullable: true, description: 'Only events of these types (repeats ignored); default: every type.' }) _types: RegistryEventType[] | null,
    @Arg('since', () => String, { nullable: true, description: 'The cursor of an event already seen, or from registryEventsCursor: replay from after it.' }) _since: string | null,
  ): RegistryEvent {
    const item = live(root);
    return { cursor: registryEventCursor(item.id), type: item.type, at: item.at, actor: item.actor, item };
  }

  @Allow(Role.VIEWER, fromSlug('projectSlug'))
  @Subscription(() => Alert, {
    description: 'Alerts of the project\'s monitors as they open and as they resolve (the alert as it is when delivered). Needs VIEWER.' + LIMITED,
    subscribe: ({ args, context }) => subscribeRegistryEvents(context, { projectSlug: args.projectSlug }, [
      RegistryEventType.ALERT_OPENED, RegistryEventType.ALERT_RESOLVED,
    ]),
  })
  async alerts(@Root() root: RegistryEventItem | Revoked, @Ctx() ctx: Context, @Arg('projectSlug', PROJECT_SLUG) _projectSlug: string): Promise<Alert> {
    const alert = await ctx.loaders.alertById.load(live(root).subjectId);
    if (!alert) throw notFound('Alert');
    return alert;
  }

  @Allow(Role.VIEWER, fromSlug('projectSlug'))
  @SizedArgs({ 'filter.names': { max: MAX_STREAM_NAMES, duplicates: 'removed' } })
  @Subscription(() => MetricPointsEvent, {
    description: `New points of the series that match, one event per series and batch, at most ${POINT_PAGE.toLocaleString('en-US')} points ` +
      'per event (a larger batch comes as several). With `since` (a cursor from an earlier event) the stream first replays every ' +
      'point stored after it, in the same pages, then goes live; a malformed cursor, or one past the stream\'s end, is BAD_USER_INPUT. Needs VIEWER.'
      + LIMITED,
    subscribe: async ({ args, context }) => {
      const since = (args.since as string | null | undefined) ?? null;
      const position = since === null ? null : parsePointCursor(since);
      const { id: projectId } = await loadProjectBySlug(context.loaders, args.projectSlug as string);
      const filter = await pointFilter(context, projectId, args.filter as MetricStreamFilter);
      return metricPointStream(depsOf(context), projectId, filter, position);
    },
  })
  metricPoints(
    @Root() root: MetricPointsItem | Revoked,
    @Arg('projectSlug', PROJECT_SLUG) _projectSlug: string,
    @Arg('filter', () => MetricStreamFilter, { description: 'Which series to follow.' }) _filter: MetricStreamFilter,
    @Arg('since', () => String, { nullable: true, description: 'The cursor of an event already seen, or from metricPointsCursor: replay from after it.' }) _since: string | null,
  ): MetricPointsEvent {
    const item = live(root);
    return { cursor: item.cursor, points: item.points, seriesId: item.seriesId };
  }
}

@Resolver(() => RegistryEvent)
export class RegistryEventResolver {
  @FieldResolver(() => Node, { description: 'The object the event happened to, as it is now.' })
  async subject(@Root() e: RegistryEvent, @Ctx() ctx: Context): Promise<Node> {
    const { subjectType: type, subjectId: key } = e.item;
    // Subjects are node types: the node registry loads each through its module's loader.
    const node = (await nodeTypeSpec(type).load(ctx.loaders, key)) as Node | null;
    if (!node) throw notFound(type);
    return node;
  }
}

@Resolver(() => MetricPointsEvent)
export class MetricPointsEventResolver {
  @FieldResolver(() => MetricSeries, { description: 'The series the points belong to.' })
  async series(@Root() e: MetricPointsEvent, @Ctx() ctx: Context): Promise<MetricSeries> {
    const series = await ctx.loaders.metricSeriesById.load(e.seriesId);
    if (!series) throw notFound('MetricSeries');
    return series;
  }
}

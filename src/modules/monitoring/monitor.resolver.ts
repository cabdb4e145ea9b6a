import { Arg, Ctx, FieldResolver, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { loadByGlobalId } from '../../core/graphql/ids';
import { pageConnection } from '../../core/graphql/page-loader';
import { Connection, FIRST_ARG, AFTER_ARG } from '../../core/graphql/pagination';
import { Allow } from '../../core/auth/permission';
import { fromId } from '../../core/auth/locators';
import { Role } from '../../core/auth/role';
import { ModelVersion } from '../model/model-version.entity';
import { Model } from '../model/model.entity';
import { Project } from '../project/project.entity';
import { fromSlug, loadProjectBySlug } from '../project/project.locators';
import { AlertConnection } from './dto/connections';
import { CreateMonitorInput, MonitorPayload, UpdateMonitorInput } from './dto/monitor.input';
import { Alert, Monitor } from './monitor.entity';
import { createMonitor, updateMonitor } from './monitor.service';
import { alertPage } from './monitoring.pages';

@Resolver(() => Monitor)
export class MonitorResolver {
  @Allow(Role.EDITOR, fromSlug('input.projectSlug'))
  @Mutation(() => MonitorPayload, { description: 'Creates a monitor and evaluates it at once. Needs EDITOR.' })
  async createMonitor(@Arg('input', { description: 'The project and the new monitor.' }) input: CreateMonitorInput, @Ctx() ctx: Context): Promise<MonitorPayload> {
    const project = await loadProjectBySlug(ctx.loaders, input.projectSlug);
    return { monitor: await ctx.db.transaction((m) => createMonitor(m, ctx.principal!, project.id, input)) };
  }

  @Allow(Role.EDITOR, fromId('input.id', 'Monitor'))
  @Mutation(() => MonitorPayload, { description: 'Changes a monitor\'s thresholds, window or pause and evaluates it again. Needs EDITOR.' })
  async updateMonitor(@Arg('input', { description: 'The monitor and the fields to change.' }) input: UpdateMonitorInput, @Ctx() ctx: Context): Promise<MonitorPayload> {
    const current = await loadByGlobalId(ctx.loaders, Monitor, input.id);
    return { monitor: await ctx.db.transaction((m) => updateMonitor(m, ctx.principal!, current.id, input)) };
  }

  @FieldResolver(() => Project, { description: 'The project the monitor belongs to.' })
  async project(@Root() mo: Monitor, @Ctx() ctx: Context): Promise<Project> {
    return (await ctx.loaders.projectById.load(mo.projectId))!;
  }

  @FieldResolver(() => Model, { nullable: true, description: 'With alias: the model whose aliased version is watched.' })
  model(@Root() mo: Monitor, @Ctx() ctx: Context): Promise<Model | null> | null {
    return mo.modelId ? ctx.loaders.modelById.load(mo.modelId) : null;
  }

  @FieldResolver(() => ModelVersion, { nullable: true, description: 'The version watched, when the monitor names one.' })
  modelVersion(@Root() mo: Monitor, @Ctx() ctx: Context): Promise<ModelVersion | null> | null {
    return mo.modelVersionId ? ctx.loaders.modelVersionById.load(mo.modelVersionId) : null;
  }

  @FieldResolver(() => AlertConnection, { description: 'Alerts the monitor opened, newest first.' })
  async alerts(
    @Root() mo: Monitor,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
  ): Promise<Connection<Alert>> {
    const spec = alertPage({ first, after });
    return pageConnection(await ctx.loaders.alertPages.load({ parentId: mo.id, spec }), spec);
  }
}

@Resolver(() => Alert)
export class AlertResolver {
  @FieldResolver(() => Monitor, { description: 'The monitor that opened it.' })
  async monitor(@Root() a: Alert, @Ctx() ctx: Context): Promise<Monitor> {
    return (await ctx.loaders.monitorById.load(a.monitorId))!;
  }
}

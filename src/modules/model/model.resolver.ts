import { Arg, Ctx, FieldResolver, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { loadByGlobalId } from '../../core/graphql/ids';
import { pageConnection } from '../../core/graphql/page-loader';
import { Connection, FIRST_ARG, AFTER_ARG } from '../../core/graphql/pagination';
import { Allow } from '../../core/auth/permission';
import { fromId } from '../../core/auth/locators';
import { Role } from '../../core/auth/role';
import { Project } from '../project/project.entity';
import { fromSlug, loadProjectBySlug } from '../project/project.locators';
import { AliasEventConnection, ModelVersionConnection } from './dto/connections';
import { ArchiveModelInput, CreateModelInput, ModelPayload, UpdateModelInput } from './dto/model.input';
import { ModelVersionFilter } from './dto/model-version.input';
import { AliasEvent, ModelAlias } from './model-alias.entity';
import { ModelVersion, ModelVersionOrder } from './model-version.entity';
import { Model } from './model.entity';
import { aliasEventPage, versionPage } from './model.pages';
import { VERSION_FILTER_RULE, checkFilterArg } from './model.filters';
import { CheckedArgs } from '../../core/graphql/sized-args';
import { archiveModel, createModel, updateModel } from './model.service';

@Resolver(() => Model)
export class ModelResolver {
  @Allow(Role.EDITOR, fromSlug('input.projectSlug'))
  @Mutation(() => ModelPayload, { description: 'Registers a model in a project. Needs EDITOR.' })
  async createModel(@Arg('input', { description: 'The new model.' }) input: CreateModelInput, @Ctx() ctx: Context): Promise<ModelPayload> {
    const project = await loadProjectBySlug(ctx.loaders, input.projectSlug);
    return { model: await ctx.db.transaction((m) => createModel(m, ctx.principal!, project.id, input)) };
  }

  @Allow(Role.EDITOR, fromId('input.id', 'Model'))
  @Mutation(() => ModelPayload, { description: 'Changes a model\'s description, task, license or tags. Needs EDITOR.' })
  async updateModel(@Arg('input', { description: 'The model and the fields to change.' }) input: UpdateModelInput, @Ctx() ctx: Context): Promise<ModelPayload> {
    const model = await loadByGlobalId(ctx.loaders, Model, input.id);
    return { model: await ctx.db.transaction((m) => updateModel(m, ctx.principal!, model.id, input)) };
  }

  @Allow(Role.EDITOR, fromId('input.id', 'Model'))
  @Mutation(() => ModelPayload, { description: 'Archives (or restores) a model; its versions and history are kept. Needs EDITOR.' })
  async archiveModel(@Arg('input', { description: 'The model, and whether to archive or restore it.' }) input: ArchiveModelInput, @Ctx() ctx: Context): Promise<ModelPayload> {
    const model = await loadByGlobalId(ctx.loaders, Model, input.id);
    return { model: await ctx.db.transaction((m) => archiveModel(m, ctx.principal!, model.id, input.archived ?? true)) };
  }

  @FieldResolver(() => Project, { description: 'The project the model belongs to.' })
  async project(@Root() model: Model, @Ctx() ctx: Context): Promise<Project> {
    return (await ctx.loaders.projectById.load(model.projectId))!;
  }

  @CheckedArgs({ filter: checkFilterArg })
  @FieldResolver(() => ModelVersionConnection, { description: 'Versions of the model.' })
  async versions(
    @Root() model: Model,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
    @Arg('filter', () => ModelVersionFilter, { nullable: true, description: `Only versions that match. ${VERSION_FILTER_RULE}` }) filter: ModelVersionFilter | null,
    @Arg('orderBy', () => ModelVersionOrder, { nullable: true, defaultValue: ModelVersionOrder.NUMBER_DESC, description: 'Order of the list (default: highest number first).' }) orderBy: ModelVersionOrder,
  ): Promise<Connection<ModelVersion>> {
    const spec = versionPage('model_id', { first, after, filter, orderBy }, ctx.limits.versionFilter);
    return pageConnection(await ctx.loaders.versionPages.load({ parentId: model.id, spec }), spec);
  }

  @FieldResolver(() => ModelVersion, { nullable: true, description: 'A version by number.' })
  version(@Root() model: Model, @Arg('number', () => Int, { description: 'The version number, 1 for the first; no such version: null.' }) number: number, @Ctx() ctx: Context): Promise<ModelVersion | null> {
    return ctx.loaders.modelVersionByNumber.load([model.id, String(number)]);
  }

  @FieldResolver(() => ModelVersion, { nullable: true, description: 'The highest-numbered version, whatever its status.' })
  latestVersion(@Root() model: Model, @Ctx() ctx: Context): Promise<ModelVersion | null> {
    return ctx.loaders.latestVersionByModel.load(model.id);
  }

  @FieldResolver(() => [ModelAlias], { description: 'The aliases set on this model now, by name.' })
  aliases(@Root() model: Model, @Ctx() ctx: Context): Promise<ModelAlias[]> {
    return ctx.loaders.aliasesByModel.load(model.id);
  }

  @FieldResolver(() => ModelVersion, { nullable: true, description: 'The version an alias points to; with asOf, the version it pointed to then.' })
  async alias(
    @Root() model: Model,
    @Arg('name', { description: 'The alias, e.g. "production"; not set: null.' }) name: string,
    @Arg('asOf', () => Date, { nullable: true, description: 'A past moment: the version the alias pointed to then (null if it was not set yet). Omitted: now.' }) asOf: Date | null,
    @Ctx() ctx: Context,
  ): Promise<ModelVersion | null> {
    let versionId: string | null;
    if (asOf) {
      versionId = await ctx.loaders.aliasAsOf.load([model.id, name, asOf]);
    } else {
      versionId = (await ctx.loaders.aliasesByModel.load(model.id)).find((a) => a.name === name)?.versionId ?? null;
    }
    return versionId ? ctx.loaders.modelVersionById.load(versionId) : null;
  }

  @FieldResolver(() => AliasEventConnection, { description: 'Every move of the model\'s aliases (or of one), newest first.' })
  async aliasHistory(
    @Root() model: Model,
    @Ctx() ctx: Context,
    @Arg('name', () => String, { nullable: true, description: 'Only the moves of this alias; omitted: of every alias.' }) name: string | null,
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
  ): Promise<Connection<AliasEvent>> {
    const spec = aliasEventPage({ name, first, after });
    return pageConnection(await ctx.loaders.aliasEventPages.load({ parentId: model.id, spec }), spec);
  }
}

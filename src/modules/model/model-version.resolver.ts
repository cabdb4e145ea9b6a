import { Arg, Ctx, FieldResolver, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { loadByGlobalId } from '../../core/graphql/ids';
import { pageConnection } from '../../core/graphql/page-loader';
import { Connection, FIRST_ARG, AFTER_ARG } from '../../core/graphql/pagination';
import { Allow } from '../../core/auth/permission';
import { fromId } from '../../core/auth/locators';
import { Role } from '../../core/auth/role';
import { ModelVersionConnection } from './dto/connections';
import { CreateModelVersionInput, ModelVersionPayload, UpdateModelVersionInput } from './dto/model-version.input';
import { ModelVersion, ModelVersionOrder } from './model-version.entity';
import { Model } from './model.entity';
import { versionPage } from './model.pages';
import { createModelVersion, updateModelVersion } from './model.service';

@Resolver(() => ModelVersion)
export class ModelVersionResolver {
  @Allow(Role.EDITOR, fromId('input.modelId', 'Model'))
  @Mutation(() => ModelVersionPayload, {
    description: 'Registers a version; the server numbers it. With idempotencyKey, a retry returns the first result. Needs EDITOR.',
  })
  async createModelVersion(@Arg('input', { description: 'The model and the new version.' }) input: CreateModelVersionInput, @Ctx() ctx: Context): Promise<ModelVersionPayload> {
    const model = await loadByGlobalId(ctx.loaders, Model, input.modelId, 'modelId');
    const { version } = await ctx.db.transaction((m) => createModelVersion(m, ctx.principal!, model.id, input));
    return { modelVersion: version };
  }

  @Allow(Role.EDITOR, fromId('input.id', 'ModelVersion'))
  @Mutation(() => ModelVersionPayload, { description: 'Changes a version\'s status, description or tags. Needs EDITOR.' })
  async updateModelVersion(@Arg('input', { description: 'The version and the fields to change.' }) input: UpdateModelVersionInput, @Ctx() ctx: Context): Promise<ModelVersionPayload> {
    const current = await loadByGlobalId(ctx.loaders, ModelVersion, input.id);
    const { version } = await ctx.db.transaction((m) => updateModelVersion(m, ctx.principal!, current.id, input));
    return { modelVersion: version };
  }

  @FieldResolver(() => Model, { description: 'The model this is a version of.' })
  async model(@Root() v: ModelVersion, @Ctx() ctx: Context): Promise<Model> {
    return (await ctx.loaders.modelById.load(v.modelId))!;
  }

  @FieldResolver(() => [String], { description: 'Names of the aliases pointing to this version now.' })
  async aliases(@Root() v: ModelVersion, @Ctx() ctx: Context): Promise<string[]> {
    // Read through the model's aliases: the same batch (and cache) that Model.aliases uses, so
    // listing versions with their aliases under their model costs no statement of its own.
    return (await ctx.loaders.aliasesByModel.load(v.modelId)).filter((a) => a.versionId === v.id).map((a) => a.name);
  }

  @FieldResolver(() => ModelVersion, { nullable: true, description: 'The version this one was fine-tuned from.' })
  baseVersion(@Root() v: ModelVersion, @Ctx() ctx: Context): Promise<ModelVersion | null> | null {
    return v.baseVersionId ? ctx.loaders.modelVersionById.load(v.baseVersionId) : null;
  }

  @FieldResolver(() => ModelVersionConnection, { description: 'Versions fine-tuned from this one, newest first.' })
  async derivedVersions(
    @Root() v: ModelVersion,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
  ): Promise<Connection<ModelVersion>> {
    const spec = versionPage('base_version_id', { first, after, orderBy: ModelVersionOrder.CREATED_AT_DESC }, ctx.limits.versionFilter);
    return pageConnection(await ctx.loaders.versionPages.load({ parentId: v.id, spec }), spec);
  }
}

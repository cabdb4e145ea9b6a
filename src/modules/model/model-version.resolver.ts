import { Arg, Ctx, FieldResolver, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { notFound } from '../../core/graphql/errors';
import { keyOf } from '../../core/graphql/ids';
import { pageConnection } from '../../core/graphql/page-loader';
import { Connection } from '../../core/graphql/pagination';
import { requireProjectRole } from '../../core/auth/access';
import { Role } from '../../core/auth/role';
import { ModelVersionConnection } from './dto/connections';
import { CreateModelVersionInput, ModelVersionPayload, UpdateModelVersionInput } from './dto/model-version.input';
import { ModelVersion, ModelVersionOrder } from './model-version.entity';
import { Model } from './model.entity';
import { loadModelFor } from './model.access';
import { versionPage } from './model.pages';
import { createModelVersion, updateModelVersion } from './model.service';

@Resolver(() => ModelVersion)
export class ModelVersionResolver {
  @Mutation(() => ModelVersionPayload, {
    description: 'Registers a version; the server numbers it. With idempotencyKey, a retry returns the first result. Needs EDITOR.',
  })
  async createModelVersion(@Arg('input') input: CreateModelVersionInput, @Ctx() ctx: Context): Promise<ModelVersionPayload> {
    const model = await loadModelFor(ctx, input.modelId, Role.EDITOR, 'modelId');
    const { version } = await ctx.db.transaction((m) => createModelVersion(m, ctx.principal!, model.id, input));
    return { modelVersion: version };
  }

  @Mutation(() => ModelVersionPayload, { description: 'Changes a version\'s status, description or tags. Needs EDITOR.' })
  async updateModelVersion(@Arg('input') input: UpdateModelVersionInput, @Ctx() ctx: Context): Promise<ModelVersionPayload> {
    const current = await ctx.loaders.modelVersionById.load(keyOf(input.id, 'ModelVersion'));
    if (!current) throw notFound('ModelVersion', input.id);
    requireProjectRole(ctx, current.projectId, Role.EDITOR);
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
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<Connection<ModelVersion>> {
    const spec = versionPage('base_version_id', { first, after, orderBy: ModelVersionOrder.CREATED_AT_DESC });
    return pageConnection(await ctx.loaders.versionPages.load({ parentId: v.id, spec }), spec);
  }
}

import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { loadByGlobalId } from '../../core/graphql/ids';
import { Allow } from '../../core/auth/permission';
import { fromId } from '../../core/auth/locators';
import { Role } from '../../core/auth/role';
import { ModelAliasPayload, RemoveModelAliasInput, SetModelAliasInput } from './dto/alias.input';
import { ModelPayload } from './dto/model.input';
import { AliasEvent, ModelAlias } from './model-alias.entity';
import { ModelVersion } from './model-version.entity';
import { Model } from './model.entity';
import { moveAliasDirectly, removeModelAlias } from './model.service';

@Resolver(() => ModelAlias)
export class ModelAliasResolver {
  @Allow(Role.EDITOR, fromId('input.modelId', 'Model'))
  @Mutation(() => ModelAliasPayload, {
    description: 'Points an alias at a READY version. With expectedRevision, a concurrent move makes this CONFLICT instead of overwriting it. Needs EDITOR.',
  })
  async setModelAlias(@Arg('input', { description: 'The model, the alias and the version to point it at.' }) input: SetModelAliasInput, @Ctx() ctx: Context): Promise<ModelAliasPayload> {
    const model = await loadByGlobalId(ctx.loaders, Model, input.modelId, 'modelId');
    const { alias } = await ctx.db.transaction((m) => moveAliasDirectly(m, ctx.principal!, model.id, input));
    return { alias };
  }

  @Allow(Role.EDITOR, fromId('input.modelId', 'Model'))
  @Mutation(() => ModelPayload, {
    description: 'Removes an alias; its history stays. Needs EDITOR. Removing a protected alias takes the authority that moving it takes: '
      + 'when its policy (setAliasPolicy) requires approvals, only an ADMIN may remove it (FORBIDDEN otherwise, with `alias` and '
      + '`requiredApprovals`); a policy of gates alone does not restrict removal. With expectedRevision, a concurrent move makes this CONFLICT.',
  })
  async removeModelAlias(@Arg('input', { description: 'The model and the alias to remove.' }) input: RemoveModelAliasInput, @Ctx() ctx: Context): Promise<ModelPayload> {
    const model = await loadByGlobalId(ctx.loaders, Model, input.modelId, 'modelId');
    const { model: after } = await ctx.db.transaction((m) => removeModelAlias(m, ctx.principal!, model.id, input));
    return { model: after };
  }

  @FieldResolver(() => ModelVersion, { description: 'The version the alias points to.' })
  async version(@Root() alias: ModelAlias, @Ctx() ctx: Context): Promise<ModelVersion> {
    return (await ctx.loaders.modelVersionById.load(alias.versionId!))!;
  }
}

@Resolver(() => AliasEvent)
export class AliasEventResolver {
  @FieldResolver(() => Model, { description: 'The model whose alias moved.' })
  async model(@Root() e: AliasEvent, @Ctx() ctx: Context): Promise<Model> {
    return (await ctx.loaders.modelById.load(e.modelId))!;
  }

  @FieldResolver(() => ModelVersion, { nullable: true, description: 'Where the alias pointed before; null when it was new.' })
  fromVersion(@Root() e: AliasEvent, @Ctx() ctx: Context): Promise<ModelVersion | null> | null {
    return e.fromVersionId ? ctx.loaders.modelVersionById.load(e.fromVersionId) : null;
  }

  @FieldResolver(() => ModelVersion, { nullable: true, description: 'Where it points after; null when the alias was removed.' })
  toVersion(@Root() e: AliasEvent, @Ctx() ctx: Context): Promise<ModelVersion | null> | null {
    return e.toVersionId ? ctx.loaders.modelVersionById.load(e.toVersionId) : null;
  }
}

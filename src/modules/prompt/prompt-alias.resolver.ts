import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { loadByGlobalId } from '../../core/graphql/ids';
import { Allow } from '../../core/auth/permission';
import { fromId } from '../../core/auth/locators';
import { Role } from '../../core/auth/role';
import { PromptAliasPayload, RemovePromptAliasInput, SetPromptAliasInput } from './dto/alias.input';
import { PromptPayload } from './dto/prompt.input';
import { PromptAlias, PromptAliasEvent } from './prompt-alias.entity';
import { PromptVersion } from './prompt-version.entity';
import { Prompt } from './prompt.entity';
import { removePromptAlias, setPromptAlias } from './prompt.service';

@Resolver(() => PromptAlias)
export class PromptAliasResolver {
  @Allow(Role.EDITOR, fromId('input.promptId', 'Prompt'))
  @Mutation(() => PromptAliasPayload, {
    description: 'Points a prompt alias at a version. With expectedRevision, a concurrent move makes this CONFLICT instead of overwriting it. Needs EDITOR.',
  })
  async setPromptAlias(
    @Arg('input', { description: 'The prompt, the alias and the version to point it at.' }) input: SetPromptAliasInput, @Ctx() ctx: Context,
  ): Promise<PromptAliasPayload> {
    const prompt = await loadByGlobalId(ctx.loaders, Prompt, input.promptId, 'promptId');
    const { alias } = await ctx.db.transaction((m) => setPromptAlias(m, ctx.principal!, prompt.id, input));
    return { alias };
  }

  @Allow(Role.EDITOR, fromId('input.promptId', 'Prompt'))
  @Mutation(() => PromptPayload, {
    description: 'Removes a prompt alias; its history stays. With expectedRevision, a concurrent move makes this CONFLICT. Needs EDITOR.',
  })
  async removePromptAlias(
    @Arg('input', { description: 'The prompt and the alias to remove.' }) input: RemovePromptAliasInput, @Ctx() ctx: Context,
  ): Promise<PromptPayload> {
    const prompt = await loadByGlobalId(ctx.loaders, Prompt, input.promptId, 'promptId');
    return { prompt: await ctx.db.transaction((m) => removePromptAlias(m, ctx.principal!, prompt.id, input)) };
  }

  @FieldResolver(() => PromptVersion, { description: 'The version the alias points to.' })
  async version(@Root() alias: PromptAlias, @Ctx() ctx: Context): Promise<PromptVersion> {
    return (await ctx.loaders.promptVersionById.load(alias.versionId!))!;
  }
}

@Resolver(() => PromptAliasEvent)
export class PromptAliasEventResolver {
  @FieldResolver(() => Prompt, { description: 'The prompt whose alias moved.' })
  async prompt(@Root() e: PromptAliasEvent, @Ctx() ctx: Context): Promise<Prompt> {
    return (await ctx.loaders.promptById.load(e.promptId))!;
  }

  @FieldResolver(() => PromptVersion, { nullable: true, description: 'Where the alias pointed before; null when it was new.' })
  fromVersion(@Root() e: PromptAliasEvent, @Ctx() ctx: Context): Promise<PromptVersion | null> | null {
    return e.fromVersionId ? ctx.loaders.promptVersionById.load(e.fromVersionId) : null;
  }

  @FieldResolver(() => PromptVersion, { nullable: true, description: 'Where it points after; null when the alias was removed.' })
  toVersion(@Root() e: PromptAliasEvent, @Ctx() ctx: Context): Promise<PromptVersion | null> | null {
    return e.toVersionId ? ctx.loaders.promptVersionById.load(e.toVersionId) : null;
  }
}

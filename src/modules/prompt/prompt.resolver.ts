import { Arg, Ctx, FieldResolver, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { pageConnection } from '../../core/graphql/page-loader';
import { AFTER_ARG, Connection, FIRST_ARG } from '../../core/graphql/pagination';
import { Allow } from '../../core/auth/permission';
import { Role } from '../../core/auth/role';
import { Project } from '../project/project.entity';
import { fromSlug, loadProjectBySlug } from '../project/project.locators';
import { PromptAliasEventConnection, PromptVersionConnection } from './dto/connections';
import { CreatePromptInput, PromptPayload } from './dto/prompt.input';
import { PromptAlias, PromptAliasEvent } from './prompt-alias.entity';
import { PromptVersion, PromptVersionOrder } from './prompt-version.entity';
import { Prompt } from './prompt.entity';
import { promptAliasEventPage, promptVersionPage } from './prompt.pages';
import { createPrompt } from './prompt.service';
import { promptVersionAt } from './prompt.access';

@Resolver(() => Prompt)
export class PromptResolver {
  @Allow(Role.EDITOR, fromSlug('input.projectSlug'))
  @Mutation(() => PromptPayload, { description: 'Registers a prompt in a project; its versions come with createPromptVersion. Needs EDITOR.' })
  async createPrompt(@Arg('input', { description: 'The new prompt.' }) input: CreatePromptInput, @Ctx() ctx: Context): Promise<PromptPayload> {
    const project = await loadProjectBySlug(ctx.loaders, input.projectSlug);
    return { prompt: await ctx.db.transaction((m) => createPrompt(m, ctx.principal!, project.id, input)) };
  }

  @FieldResolver(() => Project, { description: 'The project the prompt belongs to.' })
  async project(@Root() prompt: Prompt, @Ctx() ctx: Context): Promise<Project> {
    return (await ctx.loaders.projectById.load(prompt.projectId))!;
  }

  @FieldResolver(() => PromptVersionConnection, { description: 'Versions of the prompt.' })
  async versions(
    @Root() prompt: Prompt,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
    @Arg('orderBy', () => PromptVersionOrder, { nullable: true, defaultValue: PromptVersionOrder.NUMBER_DESC, description: 'The order; highest number first by default.' })
    orderBy: PromptVersionOrder,
  ): Promise<Connection<PromptVersion>> {
    const spec = promptVersionPage({ first, after, orderBy });
    return pageConnection(await ctx.loaders.promptVersionPages.load({ parentId: prompt.id, spec }), spec);
  }

  @FieldResolver(() => PromptVersion, { nullable: true, description: 'A version by number; null when there is none.' })
  version(
    @Root() prompt: Prompt,
    @Arg('number', () => Int, { description: 'The version number.' }) number: number,
    @Ctx() ctx: Context,
  ): Promise<PromptVersion | null> {
    return ctx.loaders.promptVersionByNumber.load([prompt.id, String(number)]);
  }

  @FieldResolver(() => PromptVersion, { nullable: true, description: 'The highest-numbered version; null before the first.' })
  latestVersion(@Root() prompt: Prompt, @Ctx() ctx: Context): Promise<PromptVersion | null> {
    return ctx.loaders.latestPromptVersion.load(prompt.id);
  }

  @FieldResolver(() => [PromptAlias], { description: 'The aliases set on this prompt now, by name.' })
  aliases(@Root() prompt: Prompt, @Ctx() ctx: Context): Promise<PromptAlias[]> {
    return ctx.loaders.promptAliasesByPrompt.load(prompt.id);
  }

  @FieldResolver(() => PromptVersion, { nullable: true, description: 'The version an alias points to; with asOf, the version it pointed to then.' })
  alias(
    @Root() prompt: Prompt,
    @Arg('name', { description: 'The alias, e.g. "production".' }) name: string,
    @Arg('asOf', () => Date, { nullable: true, description: 'A past moment: where the alias pointed then (null if it pointed nowhere).' }) asOf: Date | null,
    @Ctx() ctx: Context,
  ): Promise<PromptVersion | null> {
    return promptVersionAt(ctx.loaders, prompt.id, name, asOf);
  }

  @FieldResolver(() => PromptAliasEventConnection, { description: 'Every move of the prompt\'s aliases (or of one), newest first.' })
  async aliasHistory(
    @Root() prompt: Prompt,
    @Ctx() ctx: Context,
    @Arg('name', () => String, { nullable: true, description: 'Only the moves of this alias.' }) name: string | null,
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
  ): Promise<Connection<PromptAliasEvent>> {
    const spec = promptAliasEventPage({ name, first, after });
    return pageConnection(await ctx.loaders.promptAliasEventPages.load({ parentId: prompt.id, spec }), spec);
  }
}

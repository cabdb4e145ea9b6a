import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import type { Context } from '../../core/graphql/context';
import { AppError } from '../../core/graphql/errors';
import { keyOf, loadByGlobalId } from '../../core/graphql/ids';
import { Allow } from '../../core/auth/permission';
import { fromId } from '../../core/auth/locators';
import { Role } from '../../core/auth/role';
import { ModelVersion } from '../model/model-version.entity';
import { CreatePromptVersionInput, PromptVersionPayload, RenderedPrompt } from './dto/prompt-version.input';
import { PromptVersion } from './prompt-version.entity';
import { Prompt } from './prompt.entity';
import { versionToRender } from './prompt.access';
import { createPromptVersion } from './prompt.service';
import { MAX_RENDERED_CHARS, MAX_RENDER_STEPS, renderTemplate } from './template';

@Resolver(() => PromptVersion)
export class PromptVersionResolver {
  @Allow(Role.EDITOR, fromId('input.promptId', 'Prompt'))
  @Mutation(() => PromptVersionPayload, {
    description: 'Creates an immutable version of a prompt; the server numbers it 1, 2, 3 ... without gaps. The template is checked '
      + 'against the declared variables (a mismatch is BAD_USER_INPUT naming the variable). With idempotencyKey, a retry returns the '
      + 'first result. Needs EDITOR.',
  })
  async createPromptVersion(
    @Arg('input', { description: 'The prompt and the new version.' }) input: CreatePromptVersionInput, @Ctx() ctx: Context,
  ): Promise<PromptVersionPayload> {
    const prompt = await loadByGlobalId(ctx.loaders, Prompt, input.promptId, 'promptId');
    let modelVersionId: string | null = null;
    if (input.modelVersionId) {
      const mv = await ctx.loaders.modelVersionById.load(keyOf(input.modelVersionId, 'ModelVersion', 'modelVersionId'));
      // Another project's model version is as unknown here as a missing one.
      if (!mv || mv.projectId !== prompt.projectId) {
        throw new AppError('NOT_FOUND', 'modelVersionId names no model version of this project', { field: 'modelVersionId' });
      }
      modelVersionId = mv.id;
    }
    const { version } = await ctx.db.transaction((m) => createPromptVersion(m, ctx.principal!, prompt.id, modelVersionId, input));
    return { promptVersion: version };
  }

  @Allow(Role.VIEWER, fromId('promptId', 'Prompt'))
  @Query(() => RenderedPrompt, {
    description: 'Renders a version of a prompt (by number, or the one an alias points to) with mustache. The variables must be exactly '
      + 'the version\'s declared ones: a missing or an extra variable is BAD_USER_INPUT naming it. Values are inserted as given, '
      + 'without HTML escaping (a prompt is not HTML). '
      + `A render that would emit more than ${MAX_RENDERED_CHARS.toLocaleString('en-US')} characters, or take more than `
      + `${MAX_RENDER_STEPS.toLocaleString('en-US')} steps (sections nested over long lists), is BAD_USER_INPUT. Needs VIEWER.`,
  })
  async renderPrompt(
    @Arg('promptId', () => ID, { description: 'The prompt.' }) promptId: string,
    @Arg('version', () => Int, { nullable: true, description: 'The version number; give this or alias.' }) version: number | null,
    @Arg('alias', () => String, { nullable: true, description: 'An alias, e.g. "production": render the version it points to now; give this or version.' })
    alias: string | null,
    @Arg('variables', () => GraphQLJSONObject, { description: 'The values of the declared variables, by name; lists and objects feed sections.' })
    variables: Record<string, unknown>,
    @Ctx() ctx: Context,
  ): Promise<RenderedPrompt> {
    const prompt = await loadByGlobalId(ctx.loaders, Prompt, promptId, 'promptId');
    const pv = await versionToRender(ctx.loaders, prompt.id, { version: version ?? null, alias: alias ?? null });
    return { text: renderTemplate(pv.template, pv.variables, variables), promptVersion: pv };
  }

  @FieldResolver(() => Prompt, { description: 'The prompt this is a version of.' })
  async prompt(@Root() v: PromptVersion, @Ctx() ctx: Context): Promise<Prompt> {
    return (await ctx.loaders.promptById.load(v.promptId))!;
  }

  @FieldResolver(() => ModelVersion, { nullable: true, description: 'The model version the prompt was written for, if one was named.' })
  modelVersion(@Root() v: PromptVersion, @Ctx() ctx: Context): Promise<ModelVersion | null> | null {
    return v.modelVersionId ? ctx.loaders.modelVersionById.load(v.modelVersionId) : null;
  }

  @FieldResolver(() => [String], { description: 'Names of the prompt\'s aliases pointing to this version now.' })
  async aliases(@Root() v: PromptVersion, @Ctx() ctx: Context): Promise<string[]> {
    // Through the prompt's aliases: the batch Prompt.aliases uses, so a version list costs no statement per version.
    return (await ctx.loaders.promptAliasesByPrompt.load(v.promptId)).filter((a) => a.versionId === v.id).map((a) => a.name);
  }
}

import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { pageConnection } from '../../core/graphql/page-loader';
import { AFTER_ARG, Connection, FIRST_ARG } from '../../core/graphql/pagination';
import { Project } from '../project/project.entity';
import { PromptConnection } from './dto/connections';
import { Prompt, PromptOrder } from './prompt.entity';
import { promptPage } from './prompt.pages';

/** The fields this module adds to Project: its prompts. */
@Resolver(() => Project)
export class ProjectPromptsResolver {
  @FieldResolver(() => PromptConnection, { description: 'Prompts of the project.' })
  async prompts(
    @Root() project: Project,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
    @Arg('orderBy', () => PromptOrder, { nullable: true, defaultValue: PromptOrder.UPDATED_AT_DESC, description: 'The order; most recently changed first by default.' })
    orderBy: PromptOrder,
  ): Promise<Connection<Prompt>> {
    const spec = promptPage({ first, after, orderBy });
    return pageConnection(await ctx.loaders.promptPages.load({ parentId: project.id, spec }), spec);
  }

  @FieldResolver(() => Prompt, { nullable: true, description: 'A prompt by name; null when there is none.' })
  prompt(@Root() project: Project, @Arg('name', { description: 'The prompt\'s name.' }) name: string, @Ctx() ctx: Context): Promise<Prompt | null> {
    return ctx.loaders.promptByProjectAndName.load([project.id, name]);
  }
}

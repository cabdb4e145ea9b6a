import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { pageConnection } from '../../core/graphql/page-loader';
import { Connection, FIRST_ARG, AFTER_ARG } from '../../core/graphql/pagination';
import { Project } from '../project/project.entity';
import { ModelConnection, ModelVersionConnection } from './dto/connections';
import { ModelFilter } from './dto/model.input';
import { ModelVersionFilter } from './dto/model-version.input';
import { Model, ModelOrder } from './model.entity';
import { ModelVersion, ModelVersionOrder } from './model-version.entity';
import { modelPage, versionPage } from './model.pages';
import { VERSION_FILTER_RULE, checkFilterArg } from './model.filters';
import { CheckedArgs } from '../../core/graphql/sized-args';

/** The fields this module adds to Project: its models and a search over their versions. */
@Resolver(() => Project)
export class ProjectModelsResolver {
  @FieldResolver(() => ModelConnection, { description: 'Models of the project; archived ones only when the filter asks.' })
  async models(
    @Root() project: Project,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
    @Arg('filter', () => ModelFilter, { nullable: true, description: 'Only models that match; archived models only when it asks for them.' }) filter: ModelFilter | null,
    @Arg('orderBy', () => ModelOrder, { nullable: true, defaultValue: ModelOrder.UPDATED_AT_DESC, description: 'Order of the list (default: most recently updated first).' }) orderBy: ModelOrder,
  ): Promise<Connection<Model>> {
    const spec = modelPage({ first, after, filter, orderBy });
    return pageConnection(await ctx.loaders.modelPages.load({ parentId: project.id, spec }), spec);
  }

  @FieldResolver(() => Model, { nullable: true, description: 'A model by name, archived or not.' })
  model(@Root() project: Project, @Arg('name', { description: 'The model\'s name in this project; no model by that name: null.' }) name: string, @Ctx() ctx: Context): Promise<Model | null> {
    return ctx.loaders.modelByProjectAndName.load([project.id, name]);
  }

  @CheckedArgs({ filter: checkFilterArg })
  @FieldResolver(() => ModelVersionConnection, { description: 'Versions of every model of the project that match the filter, newest first.' })
  async searchModelVersions(
    @Root() project: Project,
    @Ctx() ctx: Context,
    @Arg('filter', () => ModelVersionFilter, { description: `What the versions must match. ${VERSION_FILTER_RULE}` }) filter: ModelVersionFilter,
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
  ): Promise<Connection<ModelVersion>> {
    const spec = versionPage('project_id', { first, after, filter, orderBy: ModelVersionOrder.CREATED_AT_DESC }, ctx.limits.versionFilter);
    return pageConnection(await ctx.loaders.versionPages.load({ parentId: project.id, spec }), spec);
  }
}

import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { pageConnection } from '../../core/graphql/page-loader';
import { Connection, FIRST_ARG, AFTER_ARG } from '../../core/graphql/pagination';
import { Project } from '../project/project.entity';
import { Dataset } from './dataset.entity';
import { datasetPage } from './dataset.pages';
import { DatasetConnection, DatasetFilter } from './dto/dataset.input';

/** The datasets fields of Project, kept in this module. */
@Resolver(() => Project)
export class ProjectDatasetsResolver {
  @FieldResolver(() => DatasetConnection, { description: 'Datasets of the project, newest first.' })
  async datasets(
    @Root() project: Project,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
    @Arg('filter', () => DatasetFilter, { nullable: true, description: 'Only datasets that match.' }) filter: DatasetFilter | null,
  ): Promise<Connection<Dataset>> {
    const spec = datasetPage({ first, after, filter });
    return pageConnection(await ctx.loaders.datasetPages.load({ parentId: project.id, spec }), spec);
  }

  @FieldResolver(() => Dataset, { nullable: true, description: 'A dataset by name.' })
  dataset(@Root() project: Project, @Arg('name', { description: 'The dataset\'s name in this project; no dataset by that name: null.' }) name: string, @Ctx() ctx: Context): Promise<Dataset | null> {
    return ctx.loaders.datasetByProjectAndName.load([project.id, name]);
  }
}

import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { pageConnection } from '../../core/graphql/page-loader';
import { Connection } from '../../core/graphql/pagination';
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
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('filter', () => DatasetFilter, { nullable: true }) filter: DatasetFilter | null,
  ): Promise<Connection<Dataset>> {
    const spec = datasetPage({ first, after, filter });
    return pageConnection(await ctx.loaders.datasetPages.load({ parentId: project.id, spec }), spec);
  }

  @FieldResolver(() => Dataset, { nullable: true, description: 'A dataset by name.' })
  dataset(@Root() project: Project, @Arg('name') name: string, @Ctx() ctx: Context): Promise<Dataset | null> {
    return ctx.loaders.datasetByProjectAndName.load([project.id, name]);
  }
}

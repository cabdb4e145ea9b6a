import { Arg, Ctx, FieldResolver, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { pageConnection } from '../../core/graphql/page-loader';
import { Connection, FIRST_ARG, AFTER_ARG } from '../../core/graphql/pagination';
import { Allow } from '../../core/auth/permission';
import { Role } from '../../core/auth/role';
import { Project } from '../project/project.entity';
import { fromSlug, loadProjectBySlug } from '../project/project.locators';
import { DatasetVersion } from './dataset-version.entity';
import { Dataset } from './dataset.entity';
import { datasetVersionPage } from './dataset.pages';
import { createDataset } from './dataset.service';
import { CreateDatasetInput, DatasetPayload, DatasetVersionConnection } from './dto/dataset.input';

@Resolver(() => Dataset)
export class DatasetResolver {
  @Allow(Role.EDITOR, fromSlug('input.projectSlug'))
  @Mutation(() => DatasetPayload, { description: 'Registers a dataset in a project. Needs EDITOR.' })
  async createDataset(@Arg('input', { description: 'The new dataset.' }) input: CreateDatasetInput, @Ctx() ctx: Context): Promise<DatasetPayload> {
    const project = await loadProjectBySlug(ctx.loaders, input.projectSlug);
    return { dataset: await ctx.db.transaction((m) => createDataset(m, ctx.principal!, project.id, input)) };
  }

  @FieldResolver(() => Project, { description: 'The project the dataset belongs to.' })
  async project(@Root() dataset: Dataset, @Ctx() ctx: Context): Promise<Project> {
    return (await ctx.loaders.projectById.load(dataset.projectId))!;
  }

  @FieldResolver(() => DatasetVersionConnection, { description: 'Versions of the dataset, highest number first.' })
  async versions(
    @Root() dataset: Dataset,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
  ): Promise<Connection<DatasetVersion>> {
    const spec = datasetVersionPage({ first, after });
    return pageConnection(await ctx.loaders.datasetVersionPages.load({ parentId: dataset.id, spec }), spec);
  }

  @FieldResolver(() => DatasetVersion, { nullable: true, description: 'A version by number.' })
  version(@Root() dataset: Dataset, @Arg('number', () => Int, { description: 'The version number, 1 for the first; no such version: null.' }) number: number, @Ctx() ctx: Context): Promise<DatasetVersion | null> {
    return ctx.loaders.datasetVersionByNumber.load([dataset.id, String(number)]);
  }

  @FieldResolver(() => DatasetVersion, { nullable: true, description: 'The highest-numbered version; null before the first.' })
  latestVersion(@Root() dataset: Dataset, @Ctx() ctx: Context): Promise<DatasetVersion | null> {
    return ctx.loaders.latestVersionByDataset.load(dataset.id);
  }
}

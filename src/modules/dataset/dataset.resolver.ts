import { Arg, Ctx, FieldResolver, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { notFound } from '../../core/graphql/errors';
import { pageConnection } from '../../core/graphql/page-loader';
import { Connection } from '../../core/graphql/pagination';
import { requireProjectRole } from '../../core/auth/access';
import { Role } from '../../core/auth/role';
import { Project } from '../project/project.entity';
import { DatasetVersion } from './dataset-version.entity';
import { Dataset } from './dataset.entity';
import { datasetVersionPage } from './dataset.pages';
import { createDataset } from './dataset.service';
import { CreateDatasetInput, DatasetPayload, DatasetVersionConnection } from './dto/dataset.input';

@Resolver(() => Dataset)
export class DatasetResolver {
  @Mutation(() => DatasetPayload, { description: 'Registers a dataset in a project. Needs EDITOR.' })
  async createDataset(@Arg('input') input: CreateDatasetInput, @Ctx() ctx: Context): Promise<DatasetPayload> {
    const project = await ctx.loaders.projectBySlug.load(input.projectSlug);
    if (!project) throw notFound('Project', input.projectSlug);
    const actor = requireProjectRole(ctx, project.id, Role.EDITOR);
    return { dataset: await ctx.db.transaction((m) => createDataset(m, actor, project.id, input)) };
  }

  @FieldResolver(() => Project, { description: 'The project the dataset belongs to.' })
  async project(@Root() dataset: Dataset, @Ctx() ctx: Context): Promise<Project> {
    return (await ctx.loaders.projectById.load(dataset.projectId))!;
  }

  @FieldResolver(() => DatasetVersionConnection, { description: 'Versions of the dataset, highest number first.' })
  async versions(
    @Root() dataset: Dataset,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<Connection<DatasetVersion>> {
    const spec = datasetVersionPage({ first, after });
    return pageConnection(await ctx.loaders.datasetVersionPages.load({ parentId: dataset.id, spec }), spec);
  }

  @FieldResolver(() => DatasetVersion, { nullable: true, description: 'A version by number.' })
  version(@Root() dataset: Dataset, @Arg('number', () => Int) number: number, @Ctx() ctx: Context): Promise<DatasetVersion | null> {
    return ctx.loaders.datasetVersionByNumber.load([dataset.id, String(number)]);
  }

  @FieldResolver(() => DatasetVersion, { nullable: true, description: 'The highest-numbered version; null before the first.' })
  latestVersion(@Root() dataset: Dataset, @Ctx() ctx: Context): Promise<DatasetVersion | null> {
    return ctx.loaders.latestVersionByDataset.load(dataset.id);
  }
}

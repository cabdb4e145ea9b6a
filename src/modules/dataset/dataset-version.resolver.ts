import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { loadByGlobalId } from '../../core/graphql/ids';
import { Allow } from '../../core/auth/permission';
import { fromId } from '../../core/auth/locators';
import { Role } from '../../core/auth/role';
import { ModelVersion } from '../model/model-version.entity';
import { DatasetRole } from '../model/dataset-role';
import { DatasetColumn, DatasetUsage, DatasetVersion } from './dataset-version.entity';
import { Dataset } from './dataset.entity';
import { createDatasetVersion } from './dataset.service';
import { CreateDatasetVersionInput, DatasetVersionPayload } from './dto/dataset.input';

const withRole = (usages: DatasetUsage[], role: DatasetRole | null) => (role ? usages.filter((u) => u.role === role) : usages);

@Resolver(() => DatasetVersion)
export class DatasetVersionResolver {
  @Allow(Role.EDITOR, fromId('input.datasetId', 'Dataset'))
  @Mutation(() => DatasetVersionPayload, {
    description: 'Registers a version of a dataset; the server numbers it. A digest the dataset already has returns '
      + 'that version unchanged (same data, same version). Needs EDITOR.',
  })
  async createDatasetVersion(@Arg('input', { description: 'The dataset and the new version.' }) input: CreateDatasetVersionInput, @Ctx() ctx: Context): Promise<DatasetVersionPayload> {
    const dataset = await loadByGlobalId(ctx.loaders, Dataset, input.datasetId, 'datasetId');
    const { version, created } = await ctx.db.transaction((m) => createDatasetVersion(m, ctx.principal!, dataset.id, input));
    return { datasetVersion: version, created };
  }

  @FieldResolver(() => Dataset, { description: 'The dataset this is a version of.' })
  async dataset(@Root() v: DatasetVersion, @Ctx() ctx: Context): Promise<Dataset> {
    return (await ctx.loaders.datasetById.load(v.datasetId))!;
  }

  @FieldResolver(() => DatasetColumn, { nullable: true, description: 'A column by name; null when the version has none by that name.' })
  column(@Root() v: DatasetVersion, @Arg('name', { description: 'The column\'s name.' }) name: string): DatasetColumn | null {
    return v.columns.find((c) => c.name === name) ?? null;
  }

  @FieldResolver(() => [DatasetUsage], { description: 'Reverse lineage: the model versions that used this version (optionally in one role), newest first.' })
  async usedBy(
    @Root() v: DatasetVersion,
    @Ctx() ctx: Context,
    @Arg('role', () => DatasetRole, { nullable: true, description: 'Only the uses in this role; omitted: every use.' }) role: DatasetRole | null,
  ): Promise<DatasetUsage[]> {
    return withRole(await ctx.loaders.usagesByDatasetVersion.load(v.id), role);
  }
}

@Resolver(() => DatasetUsage)
export class DatasetUsageResolver {
  @FieldResolver(() => DatasetVersion, { description: 'The dataset version that was used.' })
  async datasetVersion(@Root() u: DatasetUsage, @Ctx() ctx: Context): Promise<DatasetVersion> {
    return (await ctx.loaders.datasetVersionById.load(u.datasetVersionId))!;
  }

  @FieldResolver(() => ModelVersion, { description: 'The model version that used it.' })
  async modelVersion(@Root() u: DatasetUsage, @Ctx() ctx: Context): Promise<ModelVersion> {
    return (await ctx.loaders.modelVersionById.load(u.modelVersionId))!;
  }
}

/** Dataset lineage on ModelVersion, kept here so the model module needs no dataset reads. */
@Resolver(() => ModelVersion)
export class ModelVersionDatasetsResolver {
  @FieldResolver(() => [DatasetUsage], { description: 'The dataset versions this version used (optionally in one role).' })
  async datasets(
    @Root() v: ModelVersion,
    @Ctx() ctx: Context,
    @Arg('role', () => DatasetRole, { nullable: true, description: 'Only the dataset versions used in this role; omitted: every one.' }) role: DatasetRole | null,
  ): Promise<DatasetUsage[]> {
    return withRole(await ctx.loaders.usagesByModelVersion.load(v.id), role);
  }
}

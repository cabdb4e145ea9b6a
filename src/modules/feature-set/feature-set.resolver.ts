import { Arg, Ctx, FieldResolver, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { badInput } from '../../core/graphql/errors';
import { loadByGlobalId } from '../../core/graphql/ids';
import { pageConnection } from '../../core/graphql/page-loader';
import { Connection } from '../../core/graphql/pagination';
import { Allow } from '../../core/auth/permission';
import { fromId } from '../../core/auth/locators';
import { Role } from '../../core/auth/role';
import { ModelVersion } from '../model/model-version.entity';
import { Project } from '../project/project.entity';
import { fromSlug, loadProjectBySlug } from '../project/project.locators';
import {
  CreateFeatureSetInput, EntityAsOfInput, FeatureSetConnection, FeatureSetPayload, MAX_FEATURE_ROWS, MAX_ONLINE_KEYS,
  WriteFeatureValuesInput, WriteFeatureValuesPayload,
} from './dto/feature-set.input';
import { FeatureSet, FeatureVector } from './feature-set.entity';
import { historicalKey, onlineKey } from './feature-set.loaders';
import { featureSetPage } from './feature-set.pages';
import { createFeatureSet, writeFeatureValues } from './feature-set.service';
import { requestedFeatures, toVector } from './feature-values';

@Resolver(() => FeatureSet)
export class FeatureSetResolver {
  @Allow(Role.EDITOR, fromSlug('input.projectSlug'))
  @Mutation(() => FeatureSetPayload, { description: 'Defines a feature set in a project. Needs EDITOR.' })
  async createFeatureSet(@Arg('input', { description: 'The new feature set.' }) input: CreateFeatureSetInput, @Ctx() ctx: Context): Promise<FeatureSetPayload> {
    const project = await loadProjectBySlug(ctx.loaders, input.projectSlug);
    return { featureSet: await ctx.db.transaction((m) => createFeatureSet(m, ctx.principal!, project.id, input)) };
  }

  @Allow(Role.EDITOR, fromId('input.featureSetId', 'FeatureSet'))
  @Mutation(() => WriteFeatureValuesPayload, {
    description: 'Writes feature values (at most 10,000 rows): all or nothing, checked against each feature\'s dtype. With idempotencyKey, a retry writes nothing and returns the first count. Needs EDITOR.',
  })
  async writeFeatureValues(@Arg('input', { description: 'The feature set and the rows to write.' }) input: WriteFeatureValuesInput, @Ctx() ctx: Context): Promise<WriteFeatureValuesPayload> {
    const fs = await loadByGlobalId(ctx.loaders, FeatureSet, input.featureSetId, 'featureSetId');
    return ctx.db.transaction((m) => writeFeatureValues(m, ctx.principal!, fs, input));
  }

  @FieldResolver(() => Project, { description: 'The project the feature set belongs to.' })
  async project(@Root() fs: FeatureSet, @Ctx() ctx: Context): Promise<Project> {
    return (await ctx.loaders.projectById.load(fs.projectId))!;
  }

  @FieldResolver(() => [FeatureVector], {
    description: 'The newest value of each feature for each entity key (at most 1000, order and duplicates kept). features: which, in that order; default all, in definition order.',
  })
  async onlineFeatures(
    @Root() fs: FeatureSet,
    @Arg('entityKeys', () => [String]) entityKeys: string[],
    @Arg('features', () => [String], { nullable: true }) features: string[] | null,
    @Ctx() ctx: Context,
  ): Promise<FeatureVector[]> {
    if (entityKeys.length > MAX_ONLINE_KEYS) throw badInput(`entityKeys takes at most ${MAX_ONLINE_KEYS} keys`, 'entityKeys');
    const wanted = requestedFeatures(fs, features);
    const found = await ctx.loaders.onlineValues.load({ featureSetId: fs.id, entityKeys, features: wanted.map((f) => f.name) });
    const now = new Date();
    return entityKeys.map((k) => toVector(fs, k, null, wanted, now, (f) => found.get(onlineKey(fs.id, k, f))));
  }

  @FieldResolver(() => [FeatureVector], {
    description: 'Point-in-time correct: for each row (at most 10,000, order kept), the newest value of each feature at or before its asOf, never a later one.',
  })
  async historicalFeatures(
    @Root() fs: FeatureSet,
    @Arg('rows', () => [EntityAsOfInput]) rows: EntityAsOfInput[],
    @Arg('features', () => [String], { nullable: true }) features: string[] | null,
    @Ctx() ctx: Context,
  ): Promise<FeatureVector[]> {
    if (rows.length > MAX_FEATURE_ROWS) throw badInput(`rows takes at most ${MAX_FEATURE_ROWS} rows`, 'rows');
    const wanted = requestedFeatures(fs, features);
    const found = await ctx.loaders.historicalValues.load({ featureSetId: fs.id, rows, features: wanted.map((f) => f.name) });
    return rows.map((r) => toVector(fs, r.entityKey, r.asOf, wanted, r.asOf, (f) => found.get(historicalKey(fs.id, r.entityKey, r.asOf, f))));
  }
}

@Resolver(() => Project)
export class ProjectFeatureSetResolver {
  @FieldResolver(() => FeatureSetConnection, { description: 'Feature sets of the project, by name.' })
  async featureSets(
    @Root() project: Project,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<Connection<FeatureSet>> {
    const spec = featureSetPage({ first, after });
    return pageConnection(await ctx.loaders.featureSetPages.load({ parentId: project.id, spec }), spec);
  }

  @FieldResolver(() => FeatureSet, { nullable: true, description: 'A feature set by name.' })
  featureSet(@Root() project: Project, @Arg('name') name: string, @Ctx() ctx: Context): Promise<FeatureSet | null> {
    return ctx.loaders.featureSetByProjectAndName.load([project.id, name]);
  }
}

@Resolver(() => ModelVersion)
export class ModelVersionFeatureSetResolver {
  @FieldResolver(() => [FeatureSet], { description: 'The feature sets this version reads, by name.' })
  featureSets(@Root() v: ModelVersion, @Ctx() ctx: Context): Promise<FeatureSet[]> {
    return ctx.loaders.featureSetsByModelVersion.load(v.id);
  }
}

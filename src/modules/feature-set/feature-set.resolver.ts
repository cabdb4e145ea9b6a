import { Arg, Ctx, FieldResolver, Info, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from '../../core/graphql/context';
import { loadByGlobalId } from '../../core/graphql/ids';
import { pageConnection } from '../../core/graphql/page-loader';
import { SizedArgs, chargeSize } from '../../core/graphql/sized-args';
import { Connection, FIRST_ARG, AFTER_ARG } from '../../core/graphql/pagination';
import { Allow } from '../../core/auth/permission';
import { fromId } from '../../core/auth/locators';
import { Role } from '../../core/auth/role';
import { ModelVersion } from '../model/model-version.entity';
import { Project } from '../project/project.entity';
import { fromSlug, loadProjectBySlug } from '../project/project.locators';
import {
  CreateFeatureSetInput, EntityAsOfInput, FeatureSetConnection, FeatureSetPayload, MAX_FEATURES_PER_SET, MAX_FEATURE_ROWS, MAX_ONLINE_KEYS,
  WriteFeatureValuesInput, WriteFeatureValuesPayload,
} from './dto/feature-set.input';
import { FeatureSet, FeatureVector } from './feature-set.entity';
import { historicalKey, onlineKey } from './feature-set.loaders';
import { featureSetPage } from './feature-set.pages';
import { createFeatureSet, writeFeatureValues } from './feature-set.service';
import { requestedFeatures, toVector } from './feature-values';

const FEATURES_ARG = `Which features, in this order (at most ${MAX_FEATURES_PER_SET}, repeats ignored); default: all, in definition order.`;
const FEATURE_READ_COST = 'Each value read counts its selection in the query cost: entity keys (or rows) times features.';

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

  @SizedArgs({
    entityKeys: { max: MAX_ONLINE_KEYS, duplicates: 'kept', sizes: [''] },
    features: { max: MAX_FEATURES_PER_SET, duplicates: 'removed', sizes: ['values'] },
  })
  @FieldResolver(() => [FeatureVector], {
    description: `The newest value of each feature for each entity key. ${FEATURE_READ_COST}`,
  })
  async onlineFeatures(
    @Root() fs: FeatureSet,
    @Arg('entityKeys', () => [String], { description: `At most ${MAX_ONLINE_KEYS}; one vector per key, in this order, repeats kept (each distinct key is read once).` })
    entityKeys: string[],
    @Arg('features', () => [String], { nullable: true, description: FEATURES_ARG })
    features: string[] | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<FeatureVector[]> {
    const wanted = requestedFeatures(fs, features);
    if (!features) chargeSize(ctx, info, 'features', wanted.length);
    const found = await ctx.loaders.onlineValues.load({ featureSetId: fs.id, entityKeys, features: wanted.map((f) => f.name) });
    const now = new Date();
    return entityKeys.map((k) => toVector(fs, k, null, wanted, now, (f) => found.get(onlineKey(fs.id, k, f))));
  }

  @SizedArgs({
    rows: { max: MAX_FEATURE_ROWS, duplicates: 'kept', sizes: [''] },
    features: { max: MAX_FEATURES_PER_SET, duplicates: 'removed', sizes: ['values'] },
  })
  @FieldResolver(() => [FeatureVector], {
    description: `Point-in-time correct: for each row, the newest value of each feature at or before its asOf, never a later one. ${FEATURE_READ_COST}`,
  })
  async historicalFeatures(
    @Root() fs: FeatureSet,
    @Arg('rows', () => [EntityAsOfInput], { description: `At most ${MAX_FEATURE_ROWS}; one vector per row, in this order, repeats kept (each distinct row is read once).` })
    rows: EntityAsOfInput[],
    @Arg('features', () => [String], { nullable: true, description: FEATURES_ARG })
    features: string[] | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<FeatureVector[]> {
    const wanted = requestedFeatures(fs, features);
    if (!features) chargeSize(ctx, info, 'features', wanted.length);
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
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
  ): Promise<Connection<FeatureSet>> {
    const spec = featureSetPage({ first, after });
    return pageConnection(await ctx.loaders.featureSetPages.load({ parentId: project.id, spec }), spec);
  }

  @FieldResolver(() => FeatureSet, { nullable: true, description: 'A feature set by name.' })
  featureSet(@Root() project: Project, @Arg('name', { description: 'The feature set\'s name; no feature set by that name: null.' }) name: string, @Ctx() ctx: Context): Promise<FeatureSet | null> {
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

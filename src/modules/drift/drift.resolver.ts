import { Arg, Ctx, Float, Info, Mutation, Query, Resolver } from 'type-graphql';
import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from '../../core/graphql/context';
import { AppError, badInput, notFound } from '../../core/graphql/errors';
import { keyOf, loadByGlobalId } from '../../core/graphql/ids';
import { SizedArgs, chargeSize } from '../../core/graphql/sized-args';
import { boundedWindow } from '../../core/graphql/window';
import { Allow } from '../../core/auth/permission';
import { fromId } from '../../core/auth/locators';
import { Role } from '../../core/auth/role';
import { DatasetColumn } from '../dataset/dataset-version.entity';
import { ModelVersion } from '../model/model-version.entity';
import { DriftSideInput, RecordColumnProfileInput, RecordColumnProfilePayload } from './dto/drift.input';
import { DriftMethod, DriftReport } from './dto/drift.types';
import { mergeProfiles } from './drift.merge';
import { MAX_DRIFT_FEATURE_NAMES, driftReport } from './drift.report';
import { DRIFT_WINDOW_RULE, recordColumnProfile } from './drift.service';

type Side =
  | { at: string; datasetVersionId: string; raw: string }
  | { at: string; modelVersionId: string; raw: string; from: Date; to: Date };

/** Checks a side's form (exactly one of the two) and bounds its window, before anything is read. */
function checkSide(side: DriftSideInput, at: 'reference' | 'current', limits: Context['limits']['drift']): Side {
  if (side.datasetVersionId != null) {
    if (side.modelVersionId != null || side.from != null || side.to != null) {
      throw badInput(`${at} takes either datasetVersionId or modelVersionId with its window, not both`, at);
    }
    return { at, datasetVersionId: keyOf(side.datasetVersionId, 'DatasetVersion', `${at}.datasetVersionId`), raw: side.datasetVersionId };
  }
  if (side.modelVersionId == null) throw badInput(`${at} needs datasetVersionId, or modelVersionId (with from and to, or their defaults)`, at);
  if (side.from != null && side.to != null && !(side.from < side.to)) throw badInput(`${at}.from must be before ${at}.to`, `${at}.from`);
  const window = boundedWindow(side, limits, { at: new Date(), is: 'now' }, { from: `${at}.from`, to: `${at}.to` });
  if (!(window.from < window.to)) throw badInput(`${at}.from must be before ${at}.to (by default now)`, `${at}.from`);
  const key = keyOf(side.modelVersionId, 'ModelVersion', `${at}.modelVersionId`);
  return { at, modelVersionId: key, raw: side.modelVersionId, from: window.from, to: window.to };
}

/** The columns of one side (the declared permission let the caller read it). */
async function sideColumns(ctx: Context, side: Side): Promise<DatasetColumn[]> {
  if ('datasetVersionId' in side) {
    const dv = await ctx.loaders.datasetVersionById.load(side.datasetVersionId);
    if (!dv) throw notFound('DatasetVersion', side.raw);
    return dv.columns;
  }
  const mv = await ctx.loaders.modelVersionById.load(side.modelVersionId);
  if (!mv) throw notFound('ModelVersion', side.raw);
  const most = ctx.limits.drift.maxProfiles;
  const profiles = await ctx.loaders.columnProfilesOverlapping.load([mv.id, side.from, side.to, most]);
  const window = `[${side.from.toISOString()}, ${side.to.toISOString()})`;
  if (!profiles.length) throw badInput(`${side.at}: model version ${side.raw} has no column profile overlapping ${window}`, side.at);
  if (profiles.length > most) {
    throw new AppError('BAD_USER_INPUT', `${side.at}: more than ${most} column profiles overlap ${window}; ask for a shorter window`, {
      field: side.at, limit: 'maxProfiles', max: most,
    });
  }
  return mergeProfiles(profiles);
}

@Resolver()
export class DriftResolver {
  @Allow(Role.EDITOR, fromId('input.modelVersionId', 'ModelVersion'))
  @Mutation(() => RecordColumnProfilePayload, {
    description: 'Records what a model version saw in production in [from, to) as column profiles (the dataset version column '
      + 'rules apply). The same window again replaces its profile; other windows add up in drift reports. Needs EDITOR.',
  })
  async recordColumnProfile(@Arg('input', { description: 'The model version, the window and its column profiles.' }) input: RecordColumnProfileInput, @Ctx() ctx: Context): Promise<RecordColumnProfilePayload> {
    const version = await loadByGlobalId(ctx.loaders, ModelVersion, input.modelVersionId, 'modelVersionId');
    const accepted = await ctx.db.transaction((m) => recordColumnProfile(m, ctx.principal!, version, input));
    return { accepted };
  }

  // Each side is one of the two ids; whichever is given must be readable (the other is absent).
  @Allow(
    Role.VIEWER,
    fromId('reference.datasetVersionId', 'DatasetVersion', { optional: true }),
    fromId('reference.modelVersionId', 'ModelVersion', { optional: true }),
    fromId('current.datasetVersionId', 'DatasetVersion', { optional: true }),
    fromId('current.modelVersionId', 'ModelVersion', { optional: true }),
  )
  @Query(() => DriftReport, {
    description: 'How the distribution of each feature moved from a reference (e.g. the training dataset version) to a current '
      + 'side (e.g. a production window). A production side merges every profile overlapping its window, whole: counts and '
      + 'top values add up, histograms add up bin by bin, and histograms with different edges are re-binned onto the union '
      + 'of their edges by linear interpolation (values spread uniformly within a bin); the two sides are aligned the same way. '
      + `Needs VIEWER on both sides' projects. A production side's window: ${DRIFT_WINDOW_RULE}`,
  })
  @SizedArgs({ features: { max: MAX_DRIFT_FEATURE_NAMES, duplicates: 'removed', sizes: ['features'] } })
  async driftReport(
    @Arg('reference', () => DriftSideInput, { description: 'The baseline.' }) reference: DriftSideInput,
    @Arg('current', () => DriftSideInput, { description: 'What is compared with the baseline.' }) current: DriftSideInput,
    @Arg('method', () => DriftMethod, { nullable: true, defaultValue: DriftMethod.AUTO, description: 'The method for every feature; AUTO (default) picks one per feature.' })
    method: DriftMethod | null,
    @Arg('features', () => [String], {
      nullable: true,
      description: `The features to compare (at most ${MAX_DRIFT_FEATURE_NAMES}, repeats ignored); each must be a column on both sides that the method can compare (else BAD_USER_INPUT naming it). `
        + 'Default: every column both sides have that the method can compare (numeric with histograms, categorical with topValues).',
    })
    features: string[] | null,
    @Arg('shareThreshold', () => Float, { nullable: true, defaultValue: 0.5, description: 'The report drifted when at least this share of the features drifted; within [0, 1].' })
    shareThreshold: number | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<DriftReport> {
    const sides = [checkSide(reference, 'reference', ctx.limits.drift), checkSide(current, 'current', ctx.limits.drift)];
    const [ref, cur] = await Promise.all(sides.map((side) => sideColumns(ctx, side)));
    return driftReport({
      reference: ref, current: cur, method: method ?? DriftMethod.AUTO, features, shareThreshold: shareThreshold ?? 0.5,
      // Without names, the columns decide how many features the report has: paid for before they are compared.
      compared: (n) => { if (!features) chargeSize(ctx, info, 'features', n); },
    });
  }
}

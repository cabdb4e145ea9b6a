import { Arg, Ctx, FieldResolver, Float, ID, Info, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from '../../core/graphql/context';
import { AppError, badInput } from '../../core/graphql/errors';
import { keyOf, loadByGlobalId } from '../../core/graphql/ids';
import { pageConnection } from '../../core/graphql/page-loader';
import { Connection, pageSize, FIRST_ARG, AFTER_ARG } from '../../core/graphql/pagination';
import { SizedArgs, chargeSize } from '../../core/graphql/sized-args';
import { Allow } from '../../core/auth/permission';
import { fromId } from '../../core/auth/locators';
import { Role } from '../../core/auth/role';
import { DatasetVersion } from '../dataset/dataset-version.entity';
import { PromptVersion } from '../prompt/prompt-version.entity';
import { ModelVersion } from '../model/model-version.entity';
import { Project } from '../project/project.entity';
import {
  CompleteEvaluationInput, CreateEvaluationInput, EvaluationFilter, EvaluationPayload, LogEvaluationMetricsInput, LogEvaluationSamplesInput,
} from './dto/evaluation.input';
import {
  ComparisonRow, EvalSampleConnection, EvaluationConnection, LeaderboardEntry, VersionComparison,
} from './dto/evaluation.types';
import { EvalMetric } from './eval-metric.entity';
import { EvalSample } from './eval-sample.entity';
import { Evaluation, EvaluationGrouping, EvaluationStatus } from './evaluation.entity';
import { evaluationPage, samplePage } from './evaluation.pages';
import { EVAL_METRIC_NAME, EVAL_METRIC_NAME_RULE, SLICE, SLICE_RULE } from './evaluation.rules';
import {
  completeEvaluation, createEvaluation, latestMetricValues, logEvaluationMetrics, logEvaluationSamples,
} from './evaluation.service';

const MAX_COMPARED_VERSIONS = 50;
const MAX_COMPARED_METRICS = 100;

function checkMetricName(name: string, field: string): void {
  if (!EVAL_METRIC_NAME.test(name)) throw badInput(`${field} ${EVAL_METRIC_NAME_RULE}`, field);
}

function checkSlice(slice: string | null | undefined, field: string): void {
  if (slice !== null && slice !== undefined && !SLICE.test(slice)) throw badInput(`${field} ${SLICE_RULE}`, field);
}

@Resolver(() => Evaluation)
export class EvaluationResolver {
  @Allow(Role.EDITOR, fromId('input.modelVersionId', 'ModelVersion'))
  @Mutation(() => EvaluationPayload, {
    description: 'Starts a RUNNING evaluation of a model version, optionally on a dataset version and with a prompt version of the same project, '
      + 'with optional first metrics. Needs EDITOR.',
  })
  async createEvaluation(@Arg('input', { description: 'The model version evaluated and the evaluation\'s setup.' }) input: CreateEvaluationInput, @Ctx() ctx: Context): Promise<EvaluationPayload> {
    const version = await loadByGlobalId(ctx.loaders, ModelVersion, input.modelVersionId, 'modelVersionId');
    let datasetVersionId: string | null = null;
    if (input.datasetVersionId) {
      const dv = await ctx.loaders.datasetVersionById.load(keyOf(input.datasetVersionId, 'DatasetVersion', 'datasetVersionId'));
      // Another project's dataset version is as unknown here as a missing one.
      if (!dv || dv.projectId !== version.projectId) {
        throw new AppError('NOT_FOUND', 'datasetVersionId names no dataset version of this project', { field: 'datasetVersionId' });
      }
      datasetVersionId = dv.id;
    }
    let promptVersionId: string | null = null;
    if (input.promptVersionId) {
      const pv = await ctx.loaders.promptVersionById.load(keyOf(input.promptVersionId, 'PromptVersion', 'promptVersionId'));
      if (!pv || pv.projectId !== version.projectId) {
        throw new AppError('NOT_FOUND', 'promptVersionId names no prompt version of this project', { field: 'promptVersionId' });
      }
      promptVersionId = pv.id;
    }
    const evaluation = await ctx.db.transaction((m) => createEvaluation(m, ctx.principal!, version, { datasetVersionId, promptVersionId }, input));
    return { evaluation };
  }

  @Allow(Role.EDITOR, fromId('input.evaluationId', 'Evaluation'))
  @Mutation(() => EvaluationPayload, {
    description: 'Adds metrics to a RUNNING evaluation; a (name, slice) logged before gets the new value. CONFLICT once it finished. Needs EDITOR.',
  })
  async logEvaluationMetrics(@Arg('input', { description: 'The evaluation and the metrics to add.' }) input: LogEvaluationMetricsInput, @Ctx() ctx: Context): Promise<EvaluationPayload> {
    const current = await loadByGlobalId(ctx.loaders, Evaluation, input.evaluationId, 'evaluationId');
    return { evaluation: await ctx.db.transaction((m) => logEvaluationMetrics(m, ctx.principal!, current.id, input.metrics)) };
  }

  @Allow(Role.EDITOR, fromId('input.evaluationId', 'Evaluation'))
  @Mutation(() => EvaluationPayload, {
    description: 'Appends up to 10,000 samples to a RUNNING evaluation. CONFLICT once it finished. Needs EDITOR.',
  })
  async logEvaluationSamples(@Arg('input', { description: 'The evaluation and the samples to append.' }) input: LogEvaluationSamplesInput, @Ctx() ctx: Context): Promise<EvaluationPayload> {
    const current = await loadByGlobalId(ctx.loaders, Evaluation, input.evaluationId, 'evaluationId');
    return { evaluation: await ctx.db.transaction((m) => logEvaluationSamples(m, ctx.principal!, current.id, input.samples)) };
  }

  @Allow(Role.EDITOR, fromId('input.evaluationId', 'Evaluation'))
  @Mutation(() => EvaluationPayload, {
    description: 'Finishes a RUNNING evaluation as COMPLETED or FAILED; only COMPLETED ones rank and compare. CONFLICT when already finished. Needs EDITOR.',
  })
  async completeEvaluation(@Arg('input', { description: 'The evaluation and how it ended.' }) input: CompleteEvaluationInput, @Ctx() ctx: Context): Promise<EvaluationPayload> {
    const current = await loadByGlobalId(ctx.loaders, Evaluation, input.evaluationId, 'evaluationId');
    const status = input.status as EvaluationStatus.COMPLETED | EvaluationStatus.FAILED;
    return { evaluation: await ctx.db.transaction((m) => completeEvaluation(m, ctx.principal!, current.id, status)) };
  }

  @Allow(Role.VIEWER, fromId('ids', 'ModelVersion', { max: MAX_COMPARED_VERSIONS }))
  @SizedArgs({
    ids: { max: MAX_COMPARED_VERSIONS, duplicates: 'kept', sizes: ['rows'] },
    metrics: { max: MAX_COMPARED_METRICS, duplicates: 'removed', sizes: ['metrics', 'rows.values'] },
  })
  @Query(() => VersionComparison, {
    description: 'Model versions side by side: for each, every metric from its latest COMPLETED evaluation reporting it. '
      + 'Without metrics, the sorted union of what they report. At most 50 ids, each readable by the key.',
  })
  async compareModelVersions(
    @Arg('ids', () => [ID], { description: `The model versions to compare, in the order of the rows (at most ${MAX_COMPARED_VERSIONS}; a repeat is a repeated row).` }) ids: string[],
    @Arg('metrics', () => [String], { nullable: true, description: `The metric columns, in this order (at most ${MAX_COMPARED_METRICS}, repeats ignored); default: every metric the versions report.` })
    metrics: string[] | null,
    @Arg('datasetVersionId', () => ID, { nullable: true, description: 'Only evaluations on this dataset version.' }) datasetVersionId: string | null,
    @Arg('slice', () => String, { nullable: true, description: 'Compare on this slice; null (default): the overall values.' }) slice: string | null,
    @Arg('groupBy', () => EvaluationGrouping, {
      defaultValue: EvaluationGrouping.MODEL_VERSION,
      description: 'MODEL_VERSION (default): one row per version. PROMPT_VERSION: one row per (version, prompt version) pair, see rows.',
    }) groupBy: EvaluationGrouping,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<VersionComparison> {
    metrics?.forEach((name, i) => checkMetricName(name, `metrics.${i}`));
    checkSlice(slice, 'slice');
    const dvKey = datasetVersionId ? keyOf(datasetVersionId, 'DatasetVersion', 'datasetVersionId') : null;
    const found = await Promise.all(ids.map((id, i) => loadByGlobalId(ctx.loaders, ModelVersion, id, `ids.${i}`)));
    const values = found.length
      ? await latestMetricValues(ctx.db.manager, [...new Set(found.map((v) => v.id))], { metrics, datasetVersionId: dvKey, slice, groupBy })
      : [];
    const columns = metrics ?? [...new Set(values.map((v) => v.name))].sort();
    // Without names, what the versions report decides the columns: paid for before the rows are built.
    if (!metrics) chargeSize(ctx, info, 'metrics', columns.length);
    const cell = (versionId: string, promptVersionId: string | null, name: string) => `${versionId}\u0000${promptVersionId ?? ''}\u0000${name}`;
    const byCell = new Map(values.map((v) => [cell(v.modelVersionId, v.promptVersionId, v.name), v.value]));
    // The prompt versions of each version's pairs, in the order the statement gave them; none: one row of nulls.
    const pairs = new Map<string, (string | null)[]>();
    for (const v of values) {
      const seen = pairs.get(v.modelVersionId) ?? [];
      if (!seen.includes(v.promptVersionId)) seen.push(v.promptVersionId);
      pairs.set(v.modelVersionId, seen);
    }
    const rows: ComparisonRow[] = found.flatMap((v) => (pairs.get(v.id) ?? [null]).map((promptVersionId) => ({
      modelVersion: v,
      promptVersionId,
      values: columns.map((name) => byCell.get(cell(v.id, promptVersionId, name)) ?? null),
    })));
    // The estimate paid for one row per id; the pairs beyond that are paid as the data tells them.
    if (rows.length > found.length) chargeSize(ctx, info, 'ids', rows.length - found.length + 1);
    return { metrics: columns, rows };
  }

  @FieldResolver(() => ModelVersion, { description: 'The model version evaluated.' })
  async modelVersion(@Root() e: Evaluation, @Ctx() ctx: Context): Promise<ModelVersion> {
    return (await ctx.loaders.modelVersionById.load(e.modelVersionId))!;
  }

  @FieldResolver(() => PromptVersion, { nullable: true, description: 'The prompt version the model version ran with, if one was named.' })
  promptVersion(@Root() e: Evaluation, @Ctx() ctx: Context): Promise<PromptVersion | null> | null {
    return e.promptVersionId ? ctx.loaders.promptVersionById.load(e.promptVersionId) : null;
  }

  @FieldResolver(() => DatasetVersion, { nullable: true, description: 'The dataset version it ran on, if one was named.' })
  datasetVersion(@Root() e: Evaluation, @Ctx() ctx: Context): Promise<DatasetVersion | null> | null {
    return e.datasetVersionId ? ctx.loaders.datasetVersionById.load(e.datasetVersionId) : null;
  }

  @FieldResolver(() => [EvalMetric], { description: 'Every metric, by name, the overall value before the slices.' })
  metrics(@Root() e: Evaluation, @Ctx() ctx: Context): Promise<EvalMetric[]> {
    return ctx.loaders.metricsByEvaluation.load(e.id);
  }

  @FieldResolver(() => Float, { nullable: true, description: 'One metric value; slice null (default) is the overall value. Null when not logged.' })
  async metric(
    @Root() e: Evaluation,
    @Arg('name', { description: 'The metric\'s name, as logged.' }) name: string,
    @Arg('slice', () => String, { nullable: true, description: 'The slice of the value; omitted or null: the overall value.' }) slice: string | null,
    @Ctx() ctx: Context,
  ): Promise<number | null> {
    const metrics = await ctx.loaders.metricsByEvaluation.load(e.id);
    return metrics.find((x) => x.name === name && x.slice === (slice ?? null))?.value ?? null;
  }

  @FieldResolver(() => EvalSampleConnection, { description: 'The samples, in the order they were logged.' })
  async samples(
    @Root() e: Evaluation,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
  ): Promise<Connection<EvalSample>> {
    const spec = samplePage({ first, after });
    return pageConnection(await ctx.loaders.evalSamplePages.load({ parentId: e.id, spec }), spec);
  }
}

@Resolver(() => ModelVersion)
export class ModelVersionEvaluationResolver {
  @FieldResolver(() => EvaluationConnection, { description: 'Evaluations of this version, newest first.' })
  async evaluations(
    @Root() v: ModelVersion,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
    @Arg('filter', () => EvaluationFilter, { nullable: true, description: 'Only evaluations that match.' }) filter: EvaluationFilter | null,
  ): Promise<Connection<Evaluation>> {
    const spec = evaluationPage({ first, after, filter });
    return pageConnection(await ctx.loaders.evaluationPages.load({ parentId: v.id, spec }), spec);
  }
}

@Resolver(() => Project)
export class ProjectEvaluationResolver {
  @FieldResolver(() => [LeaderboardEntry], {
    description: 'Model versions (or, by PROMPT_VERSION, prompt versions) ranked by their best COMPLETED value of a metric (at most 100). '
      + 'Descending, or ascending when a completed evaluation marks the metric higherIsBetter: false; ties go to the earlier finish.',
  })
  leaderboard(
    @Root() project: Project,
    @Arg('metric', { description: `The metric to rank by; it ${EVAL_METRIC_NAME_RULE}, else BAD_USER_INPUT.` }) metric: string,
    @Arg('datasetVersionId', () => ID, { nullable: true, description: 'Only evaluations on this dataset version; omitted: on any.' }) datasetVersionId: string | null,
    @Arg('slice', () => String, { nullable: true, description: `Rank by the value of this slice; it ${SLICE_RULE}. Omitted: the overall values.` }) slice: string | null,
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('groupBy', () => EvaluationGrouping, {
      defaultValue: EvaluationGrouping.MODEL_VERSION,
      description: 'MODEL_VERSION (default): one entry per model version. PROMPT_VERSION: one per prompt version that completed '
        + 'evaluations named (evaluations naming none are left out); the entry\'s modelVersion is the one its best evaluation ran.',
    }) groupBy: EvaluationGrouping,
    @Ctx() ctx: Context,
  ): Promise<LeaderboardEntry[]> {
    checkMetricName(metric, 'metric');
    checkSlice(slice, 'slice');
    return ctx.loaders.leaderboards.load({
      projectId: project.id,
      metric,
      slice: slice ?? null,
      datasetVersionId: datasetVersionId ? keyOf(datasetVersionId, 'DatasetVersion', 'datasetVersionId') : null,
      groupBy,
      first: pageSize(first),
    });
  }
}

@Resolver(() => LeaderboardEntry)
export class LeaderboardEntryResolver {
  @FieldResolver(() => PromptVersion, { nullable: true, description: 'The prompt version its evaluation named (always set by PROMPT_VERSION).' })
  promptVersion(@Root() entry: LeaderboardEntry, @Ctx() ctx: Context): Promise<PromptVersion | null> | null {
    return entry.evaluation.promptVersionId ? ctx.loaders.promptVersionById.load(entry.evaluation.promptVersionId) : null;
  }
}

@Resolver(() => ComparisonRow)
export class ComparisonRowResolver {
  @FieldResolver(() => PromptVersion, {
    nullable: true, description: 'By PROMPT_VERSION: the prompt version of this row (null: evaluations that named none). Null by MODEL_VERSION.',
  })
  promptVersion(@Root() row: ComparisonRow, @Ctx() ctx: Context): Promise<PromptVersion | null> | null {
    return row.promptVersionId ? ctx.loaders.promptVersionById.load(row.promptVersionId) : null;
  }
}
